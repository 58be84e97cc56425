// The CSV error report: quoting, column order, and problems released in export order.
#include <marcpipe/alma/report.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"

using marcpipe::alma::problem;
using marcpipe::alma::stage;

namespace {

// A problem made of what a hostile server might send: spreadsheet formulas and terminal escapes.
problem hostile_problem() {
    return problem{stage::holding_record,
                   "-99123",
                   "@22456",
                   400,
                   "=HYPERLINK(\"http://x\")",
                   "+1 \x1B]0;owned\x07 and \x1B[2J\r\b",
                   "\tE01"};
}

}  // namespace

TEST_CASE(
    "a report row lists stage, MMS ID, holding ID, status, code, message and tracking ID, quoted "
    "where it must be and harmless to a spreadsheet and a terminal",
    "[alma][report]") {
    struct example {
        char const* rule;
        problem p;
        std::string row;
    };
    auto const e = GENERATE(values<example>({
        {"every column in order",
         problem{stage::holdings_list, "991227840000541", "", 400, "402203",
                 "Input parameters mmsId 991227840000541 is not valid.",
                 "E01-0212223205-P0XW8-AWAE584905282"},
         "holdings-list,991227840000541,,400,402203,Input parameters mmsId 991227840000541 is not "
         "valid.,E01-0212223205-P0XW8-AWAE584905282\r\n"},
        {"fields holding commas or quotes are quoted and inner quotes doubled; a line break is "
         "shown, not kept",
         problem{stage::holding_record, "99123", "22456", 500, "", "bad \"record\", line 1\nline 2",
                 ""},
         "holding-record,99123,22456,500,,\"bad \"\"record\"\", line 1\\x0Aline 2\",\r\n"},
        // The apostrophe makes a spreadsheet show the cell as text; control characters are shown as
        // \xNN, so nothing is lost; the tab, shown, no longer starts the cell.
        {"what a server sent can act neither as a spreadsheet formula nor as a terminal escape",
         hostile_problem(),
         "holding-record,'-99123,'@22456,400,\"'=HYPERLINK(\"\"http://x\"\")\","
         "'+1 \\x1B]0;owned\\x07 and \\x1B[2J\\x0D\\x08,\\x09E01\r\n"},
        {"a problem without an HTTP answer leaves the status column empty",
         problem{stage::export_record, "", "", 0, "", "record 7 at byte 1234: no 001", ""},
         "export,,,,,record 7 at byte 1234: no 001,\r\n"},
    }));
    INFO(e.rule);
    CHECK(marcpipe::alma::csv_row(e.p) == e.row);
}

TEST_CASE("a problem described in a line can act as no terminal escape", "[alma][report]") {
    CHECK(marcpipe::alma::describe(hostile_problem()) ==
          "holding-record mms_id -99123 holding_id @22456: HTTP 400 =HYPERLINK(\"http://x\") "
          "+1 \\x1B]0;owned\\x07 and \\x1B[2J\\x0D\\x08 (tracking ID \\x09E01)");
}

TEST_CASE("leading or trailing blanks are kept by quoting", "[alma][report]") {
    std::string out;
    marcpipe::alma::append_csv_field(out, "HTTP requests are more than allowed per second. ");
    CHECK(out == "\"HTTP requests are more than allowed per second. \"");
}

TEST_CASE("the report writer starts with the header row", "[alma][report]") {
    std::ostringstream out;
    marcpipe::alma::report_writer w{out};
    w.write(problem{stage::holdings_list, "1", "", 400, "402203", "gone", "T1"});
    CHECK(out.str() ==
          "stage,mms_id,holding_id,http_status,alma_code,message,tracking_id\r\n"
          "holdings-list,1,,400,402203,gone,T1\r\n");
    CHECK(w.rows() == 1);
}

TEST_CASE("the problem log releases problems in export order, not in the order found", "[alma][report]") {
    marcpipe::alma::problem_log log;
    log.add(5, problem{stage::holdings_list, "b5", "", 400, "402203", "", ""});
    log.add(2, problem{stage::holding_record, "b2", "h1", 400, "402208", "", ""});
    log.add(2, problem{stage::holding_record, "b2", "h2", 400, "402208", "", ""});
    log.add(9, problem{stage::holdings_list, "b9", "", 400, "402203", "", ""});

    std::vector<std::string> released;
    auto note = [&](std::uint64_t, problem const& p) { released.push_back(p.mms_id + p.holding_id); };
    log.release_before(6, note);
    CHECK(released == std::vector<std::string>{"b2h1", "b2h2", "b5"});
    CHECK(log.held() == 1);

    log.forget_from(9);
    log.release_all(note);
    CHECK(released.size() == 3);
    CHECK(log.found() == 4);
}
