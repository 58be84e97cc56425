// The sources: bibs carry their records and byte offsets; a bad record, a record without 001 or a
// line that is not an MMS ID is a problem with its number and offset and reading goes on, or —
// strict, or with no problem log — the first one throws marc_error.
#include <marcpipe/pipeline/sources.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "support/files.hpp"

namespace alma = marcpipe::alma;
namespace marc = marcpipe::marc;
namespace pipeline = marcpipe::pipeline;

namespace {

pipeline::opened_input in_memory(std::string const& bytes) {
    return marc::detect(std::make_unique<marc::memory_source>(bytes));
}

// Two Alma holdings records as yaz-marcdump wrote them: `yaz-marcdump -p` puts record 1 at offset
// 0 and record 2 at offset 397, 742 bytes in all.
std::string two_records() {
    return marcpipe::testing::slurp(marcpipe::testing::data_root() / "iso2709" / "yaz-marcdump_alma-holdings.mrc");
}

// A record whose leader length is not a number: 24 bytes of leader, a field terminator and a
// record terminator, 26 bytes.
std::string const bad_record = std::string{"abcdenx  a22000251n 4500"} + "\x1e\x1d";

// (bib_seq, message) of every problem in the log.
std::vector<std::pair<std::uint64_t, std::string>> problems_in(alma::problem_log& log) {
    std::vector<std::pair<std::uint64_t, std::string>> out;
    log.release_all([&](std::uint64_t seq, alma::problem const& p) {
        CHECK(p.where == alma::stage::export_record);
        out.emplace_back(seq, p.message);
    });
    return out;
}

std::string marcxml(std::vector<std::string> const& records) {
    std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n";
    for (auto const& r : records) x += r;
    return x + "</collection>\n";
}

std::string xml_record(std::string const& leader, std::string const& id) {
    std::string r = "<record><leader>" + leader + "</leader>";
    if (!id.empty()) r += "<controlfield tag=\"001\">" + id + "</controlfield>";
    return r + "<datafield tag=\"245\" ind1=\"0\" ind2=\"0\"><subfield code=\"a\">T</subfield></datafield></record>\n";
}

}  // namespace

TEST_CASE("bibs of a MARC21 export carry their record and its byte offset", "[pipeline][sources]") {
    alma::problem_log log;
    auto bibs = pipeline::bibs(in_memory(two_records()), log) | ranges::to<std::vector>();
    REQUIRE(bibs.size() == 2);
    CHECK(bibs[0] == pipeline::bib{0, "22987654320006421", nullptr, 0});
    CHECK(bibs[1] == pipeline::bib{1, "22876543210005763", nullptr, 397});
    REQUIRE(bibs[0].record);
    CHECK(bibs[0].record->control_value("004") == "9912345670006421");
    CHECK(bibs[0].record->leader().substr(5, 2) == "nx");
    REQUIRE(bibs[1].record);
    CHECK(bibs[1].record->find("852")->subfield_value('b') == "KBL");
    CHECK(log.found() == 0);
}

TEST_CASE("a bad MARC21 record is a problem with its number and offset, and reading goes on", "[pipeline][sources]") {
    std::string const records = two_records();
    std::string const input = records.substr(0, 397) + bad_record + records.substr(397);

    alma::problem_log log;
    auto bibs = pipeline::bibs(in_memory(input), log) | ranges::to<std::vector>();
    REQUIRE(bibs.size() == 2);
    CHECK(bibs[0] == pipeline::bib{0, "22987654320006421", nullptr, 0});
    CHECK(bibs[1] == pipeline::bib{2, "22876543210005763", nullptr, 397 + 26});
    // Bib 1, the bad record: its number and where it starts.
    auto const only_the_bad_record = [](alma::problem_log& problems) {
        auto const found = problems_in(problems);
        REQUIRE(found.size() == 1);
        CHECK(found[0].first == 1);
        CHECK_THAT(found[0].second, Catch::Matchers::StartsWith("record 2 at byte 397: bad record length"));
    };
    only_the_bad_record(log);

    SECTION("marc_records reports it the same way") {
        alma::problem_log records_log;
        auto read = pipeline::marc_records(in_memory(input), records_log) | ranges::to<std::vector>();
        REQUIRE(read.size() == 2);
        CHECK(read[1].control_value("001") == "22876543210005763");
        only_the_bad_record(records_log);
    }
    SECTION("strict reading stops at it, naming record number and offset") {
        alma::problem_log unused;
        pipeline::source_options strict;
        strict.strict = true;
        std::vector<std::string> seen;
        try {
            for (auto const& b : pipeline::bibs(in_memory(input), unused, strict)) seen.push_back(b.mms_id);
            FAIL("no marc_error");
        } catch (marc::marc_error const& e) {
            CHECK(e.problem().record_number == 2);
            CHECK(e.problem().byte_offset == 397);
            CHECK(e.problem().code == marc::error_code::bad_record_length);
        }
        CHECK(seen == std::vector<std::string>{"22987654320006421"});
        CHECK(unused.found() == 0);
    }
    SECTION("without a problem log, reading is strict") {
        CHECK_THROWS_AS(pipeline::bibs(in_memory(input)) | ranges::to<std::vector>(), marc::marc_error);
        CHECK_THROWS_AS(pipeline::marc_records(in_memory(input)) | ranges::to<std::vector>(), marc::marc_error);
    }
}

TEST_CASE("a record without 001 is a problem of its position", "[pipeline][sources]") {
    std::string const records = two_records();
    // Record 1 with its 001 tag renamed 009: the record stays well formed, its MMS ID is gone.
    std::string first = records.substr(0, 397);
    REQUIRE(first.substr(24, 3) == "001");
    first.replace(24, 3, "009");

    alma::problem_log log;
    auto bibs = pipeline::bibs(in_memory(first + records.substr(397)), log) | ranges::to<std::vector>();
    REQUIRE(bibs.size() == 1);
    CHECK(bibs[0] == pipeline::bib{1, "22876543210005763", nullptr, 397});
    auto const found = problems_in(log);
    REQUIRE(found.size() == 1);
    CHECK(found[0] == std::pair<std::uint64_t, std::string>{0, "record 1 at byte 0: no 001: no MMS ID"});
}

TEST_CASE("MARCXML bibs carry their records; the filter for serials from the library guide works", "[pipeline][sources]") {
    std::string const input = marcxml({xml_record("00000nam a2200000 a 4500", "991"),
                                       xml_record("00000nas a2200000 a 4500", "992"),
                                       xml_record("00000nas a2200000 a 4500", ""),
                                       "<record><leader>short</leader></record>\n",
                                       xml_record("00000nas a2200000 a 4500", "995")});
    alma::problem_log log;
    auto serials = pipeline::bibs(in_memory(input), log) | ranges::views::filter([](pipeline::bib const& b) {
                       return b.record && b.record->leader()[7] == 's';
                   });
    std::vector<std::pair<std::uint64_t, std::string>> got;
    for (auto const& b : serials) {
        got.emplace_back(b.seq, b.mms_id);
        CHECK(b.byte_offset == pipeline::offset_unknown);
    }
    CHECK(got == std::vector<std::pair<std::uint64_t, std::string>>{{1, "992"}, {4, "995"}});
    auto const found = problems_in(log);
    REQUIRE(found.size() == 2);
    CHECK(found[0] == std::pair<std::uint64_t, std::string>{2, "record 3: no 001 (no MMS ID)"});
    CHECK(found[1].first == 3);
    CHECK_THAT(found[1].second, Catch::Matchers::StartsWith("record 4 at byte "));
    CHECK_THAT(found[1].second, Catch::Matchers::Contains("leader"));
}

TEST_CASE("an ID list: BOM dropped, bad lines reported with line number and byte offset", "[pipeline][sources]") {
    // Offsets by hand: the BOM and "991\r\n" take bytes 0-7, the blank line byte 8, "99 2\n" bytes
    // 9-13, "abc\n" bytes 14-17, "  993  \n" starts at byte 18.
    std::string const input = "\xEF\xBB\xBF" "991\r\n\n99 2\nabc\n  993  \n";
    alma::problem_log log;
    auto bibs = pipeline::bibs(in_memory(input), log) | ranges::to<std::vector>();
    REQUIRE(bibs.size() == 2);
    CHECK(bibs[0] == pipeline::bib{0, "991", nullptr, 0});
    CHECK(bibs[1] == pipeline::bib{3, "993", nullptr, 18});
    CHECK_FALSE(bibs[0].record);
    auto const found = problems_in(log);
    // Two bad lines in a row are one problem, at the first one's position.
    CHECK(found == std::vector<std::pair<std::uint64_t, std::string>>{
                       {1, "lines 3 to 4: no record from byte 9 to byte 17 (2 problems in it, the first: not MARC: "
                           "line 3 at byte 9: not an MMS ID: \"99 2\")"}});
    // One bad line alone is reported in its own words.
    alma::problem_log one;
    CHECK((pipeline::bibs(in_memory("991\nabc\n993\n"), one) | ranges::to<std::vector>()).size() == 2);
    CHECK(problems_in(one) ==
          std::vector<std::pair<std::uint64_t, std::string>>{{1, "line 2 at byte 4: not an MMS ID: \"abc\""}});

    SECTION("strict, the first bad line throws with its line number and offset") {
        pipeline::source_options strict;
        strict.strict = true;
        try {
            for (auto const& b : pipeline::bibs(in_memory(input), log, strict)) CHECK(b.mms_id == "991");
            FAIL("no marc_error");
        } catch (marc::marc_error const& e) {
            CHECK(e.problem().record_number == 3);
            CHECK(e.problem().byte_offset == 9);
        }
    }
    SECTION("with no log, likewise") {
        CHECK_THROWS_AS(pipeline::bibs(in_memory(input)) | ranges::to<std::vector>(), marc::marc_error);
    }
}

TEST_CASE("records | mms_ids(log) hands each record on with its bib; no 001 is a problem", "[pipeline][sources]") {
    std::vector<marc::record> records{marc::record{"00000nam a2200000 a 4500", {marc::field{"001", " 991 "}}},
                                      marc::record{"00000nas a2200000 a 4500", {marc::field{"008", "x"}}},
                                      marc::record{"00000nas a2200000 a 4500", {marc::field{"001", "993"}}}};
    alma::problem_log log;
    auto bibs = records | pipeline::mms_ids(log) | ranges::to<std::vector>();
    REQUIRE(bibs.size() == 2);
    CHECK(bibs[0].mms_id == "991");
    CHECK(bibs[1].seq == 2);
    REQUIRE(bibs[1].record);
    CHECK(*bibs[1].record == records[2]);
    CHECK(problems_in(log) == std::vector<std::pair<std::uint64_t, std::string>>{{1, "record 2: no 001 (no MMS ID)"}});
    CHECK_THROWS_AS(records | pipeline::mms_ids | ranges::to<std::vector>(), marc::marc_error);
}

TEST_CASE("a 001 or a line that is not an Alma ID, or repeats an earlier MMS ID, is a problem, not a bib",
          "[pipeline][sources][ids]") {
    SECTION("MARCXML: named by record number") {
        std::string const leader = "00000nam a2200000 a 4500";
        std::string const input = marcxml({xml_record(leader, "991"), xml_record(leader, "../x"),
                                           xml_record(leader, "."), xml_record(leader, "992"),
                                           xml_record(leader, "991"), xml_record(leader, "12345678901234567890")});
        alma::problem_log log;
        auto bibs = pipeline::bibs(in_memory(input), log) | ranges::to<std::vector>();
        REQUIRE(bibs.size() == 2);
        CHECK(bibs[0].mms_id == "991");
        CHECK(bibs[1].mms_id == "992");
        CHECK(bibs[1].seq == 3);
        CHECK(problems_in(log) ==
              std::vector<std::pair<std::uint64_t, std::string>>{
                  {1, "record 2: 001 is not an MMS ID: \"../x\""},
                  {2, "record 3: 001 is not an MMS ID: \".\""},
                  {4, "record 5: repeated MMS ID: 991, first met on record 1; its holdings are asked for and "
                      "written once, for the first"},
                  {5, "record 6: 001 is not an MMS ID: \"12345678901234567890\""}});
    }
    SECTION("an ID list: named by line and byte offset; blanks are spaces, tabs and CR only") {
        // Offsets by hand: "991\n" bytes 0-3, "..\n" 4-6, "\t992 \r\n" 7-13, "991\n" 14-17,
        // "\v993\n" 18-22, "0992\n" 23-27.
        std::string const input = "991\n..\n\t992 \r\n991\n\v993\n0992\n";
        alma::problem_log log;
        auto bibs = pipeline::bibs(in_memory(input), log) | ranges::to<std::vector>();
        REQUIRE(bibs.size() == 2);
        CHECK(bibs[0] == pipeline::bib{0, "991", nullptr, 0});
        CHECK(bibs[1] == pipeline::bib{2, "992", nullptr, 7});
        std::string const once = "; its holdings are asked for and written once, for the first";
        CHECK(problems_in(log) == std::vector<std::pair<std::uint64_t, std::string>>{
                                      {1, "line 2 at byte 4: not an MMS ID: \"..\""},
                                      {3, "line 4 at byte 14: MMS ID 991, first met on line 1" + once},
                                      {4, "line 5 at byte 18: not an MMS ID: \"\\x0B993\""},
                                      {5, "line 6 at byte 23: MMS ID 0992, first met on line 3" + once}});
    }
    SECTION("records | mms_ids: named by record number") {
        std::vector<marc::record> records{marc::record{"00000nam a2200000 a 4500", {marc::field{"001", "../x"}}},
                                          marc::record{"00000nam a2200000 a 4500", {marc::field{"001", "993"}}},
                                          marc::record{"00000nam a2200000 a 4500", {marc::field{"001", "993"}}}};
        alma::problem_log log;
        auto bibs = records | pipeline::mms_ids(log) | ranges::to<std::vector>();
        REQUIRE(bibs.size() == 1);
        CHECK(bibs[0].seq == 1);
        auto const found = problems_in(log);
        REQUIRE(found.size() == 2);
        CHECK(found[0] == std::pair<std::uint64_t, std::string>{0, "record 1: 001 is not an MMS ID: \"../x\""});
        CHECK(found[1].first == 2);
        CHECK_THAT(found[1].second, Catch::Matchers::StartsWith("record 3: repeated MMS ID: 993, first met on record 2"));
    }
}

TEST_CASE("an ID list with junk after it: one problem, and no line is kept whole", "[pipeline][sources]") {
    // 200,000 lines of letters, then 4 MB with no line end, then an ID: the junk is one problem
    // from its first byte to its last, and the ID after it is still read.
    std::string junk;
    for (int i = 0; i < 200'000; ++i) junk += "x" + std::to_string(i) + "\n";
    junk += std::string(4 << 20, 'y') + "\n";
    std::string const input = "991\n992\n" + junk + "993\n";
    alma::problem_log log;
    auto bibs = pipeline::bibs(in_memory(input), log) | ranges::to<std::vector>();
    REQUIRE(bibs.size() == 3);
    CHECK(bibs[2].mms_id == "993");
    CHECK(bibs[2].seq == 2 + 200'001);
    CHECK(bibs[2].byte_offset == input.size() - 4);
    auto const found = problems_in(log);
    REQUIRE(found.size() == 1);
    CHECK(found[0].first == 2);
    CHECK_THAT(found[0].second, Catch::Matchers::StartsWith("lines 3 to 200003: no record from byte 8 to byte " +
                                                            std::to_string(input.size() - 5)));
    CHECK_THAT(found[0].second, Catch::Matchers::Contains("200001 problems"));
}
