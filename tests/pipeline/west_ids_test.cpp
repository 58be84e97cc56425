// west-holdings and identifiers that are not what they claim: list lines, export 001s and
// server holding IDs that are not Alma IDs, or repeat one, reach no URL and are reported once.
#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/net/event_loop.hpp>

#include <alma_sets.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "catch.hpp"
#include "dry_run_output.hpp"
#include "reference_tool.hpp"
#include "west_program.hpp"

using marcpipe::testing::dry_run_value;
using namespace west_test;

namespace {

// The report of a run over the export with --holdings-source `source`, which must end with the
// problems reported (exit 1) and have asked for no path but Alma's.
std::string report_asking_alma_only(west_setting const& s, std::string const& source) {
    auto r = run(west,
                 s.args({"--holdings-source", source, "-o", "out.mrc", "--errors", "errors.csv",
                         "export.mrc"}),
                 env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(s.server.counters().get("unknown_paths") == 0);
    CHECK(s.server.counters().get("endpoint_other") == 0);
    return slurp(s.dir / "errors.csv");
}

}  // namespace

TEST_CASE("a list's lines that are not MMS IDs reach no URL, and a repeated MMS ID is fetched and written once",
          "[programs][west][ids]") {
    std::size_t const bibs = 30;
    west_setting s{"west-id-lines", bibs, {}, export_as::none};
    auto const live = bibs_with_holdings(s.cat, 5);
    REQUIRE(live.size() == 5);
    {
        std::ofstream ids{s.dir / "ids.txt", std::ios::binary};
        ids << "\xEF\xBB\xBF" << s.cat.mms_id(live[0]) << "\n"  // 1: a byte order mark, dropped
            << "..\n"                                           // 2
            << s.cat.mms_id(live[1]) << "\n"                    // 3
            << ".\n"                                            // 4
            << "abc\n"                                          // 5
            << " " << s.cat.mms_id(live[2]) << " \t\r\n"        // 6: blanks around it, dropped
            << "\n"                                             // 7: blank, passed over
            << s.cat.mms_id(live[3]) << "\n"                    // 8
            << s.cat.mms_id(live[1]) << "\n"                    // 9: line 3 again
            << s.cat.mms_id(live[4]) << "\n";                   // 10
    }
    auto r = run(west, s.args({"-o", "out.mrc", "--errors", "errors.csv", "ids.txt"}),
                 env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    auto const seen = s.server.counters();
    CHECK(seen.get("unknown_paths") == 0);
    CHECK(seen.get("endpoint_other") == 0);
    CHECK(seen.get("endpoint_holdings_list") == 5);  // one list per distinct bib
    auto asked = s.server.requests();
    for (auto b : live) CHECK(asked["/almaws/v1/bibs/" + s.cat.mms_id(b) + "/holdings"] == 1);

    auto const report = slurp(s.dir / "errors.csv");
    INFO(report);
    // One row per stretch of bad lines (lines 4 and 5 are one), one for the repeat, nothing else.
    CHECK(lines(report).size() == 1 + 3);
    for (char const* line : {"line 2 at byte ", "lines 4 to 5: no record from byte "})
        CHECK(rows_with(report, line).size() == 1);
    // The bytes of lines 1 to 8: four IDs with their line ends, the BOM, the blanks around line 6's
    // ID, and lines 2, 4, 5 and 7.
    auto const offset_9 = s.cat.mms_id(live[0]).size() + s.cat.mms_id(live[1]).size() +
                          s.cat.mms_id(live[2]).size() + s.cat.mms_id(live[3]).size() + 4 + 3 + 4 +
                          3 + 2 + 4 + 1;
    CHECK(rows_with(report, "line 9 at byte " + std::to_string(offset_9) + ": MMS ID " +
                                s.cat.mms_id(live[1]) + ", first met on line 3")
              .size() == 1);
    expected_holdings const listed{s.cat, [&](std::size_t b, pugi::xml_node) {
                                       return std::find(live.begin(), live.end(), b) != live.end();
                                   }};
    CHECK(marc21_difference(listed, s.dir / "out.mrc") == "");
}

TEST_CASE("an export whose 001 is not an MMS ID, or repeats one, is reported by record; no URL is built from it",
          "[programs][west][ids]") {
    std::size_t const bibs = 24;
    west_setting s{"west-id-001", bibs, {}, export_as::none};
    auto const source = GENERATE(as<std::string>{}, "list", "bibs");
    std::string bytes;
    std::vector<std::size_t> offsets;
    for (std::size_t b = 0; b < bibs; ++b) {
        marc::record r = s.cat.bib_record(b);
        if (b == 4) r.find("001")->value = "../x";
        if (b == 6) r.find("001")->value = ".";
        if (b == 9) r.find("001")->value = s.cat.mms_id(2);  // record 3's
        offsets.push_back(bytes.size());
        marc::append_iso2709(r, bytes);
    }
    std::ofstream{s.dir / "export.mrc", std::ios::binary} << bytes;
    auto const report = report_asking_alma_only(s, source);
    INFO(report);
    auto at = [&](std::size_t b) { return "record " + std::to_string(b + 1) + " at byte " + std::to_string(offsets[b]); };
    CHECK(rows_with(report, at(4) + ": 001 is not an MMS ID: \"\"../x\"\"").size() == 1);
    CHECK(rows_with(report, at(6) + ": 001 is not an MMS ID: \"\".\"\"").size() == 1);
    CHECK(rows_with(report,
                    at(9) + ": repeated MMS ID: " + s.cat.mms_id(2) + ", first met on record 3")
              .size() == 1);
    CHECK(rows_with(report, "export,").size() == 3);
    expected_holdings const delivered{
        s.cat, [](std::size_t b, pugi::xml_node) { return b != 4 && b != 6 && b != 9; }};
    CHECK(marc21_difference(delivered, s.dir / "out.mrc") == "");
}

TEST_CASE("a server's holding ID that is not an Alma ID, or a record of another holding, is a problem of its bib",
          "[programs][west][ids]") {
    std::size_t const bibs = 40;
    std::size_t const bad_every = 3, other_every = 4;
    west_setting s{"west-id-answers",
                   bibs,
                   {"--bad-holding-id-every", std::to_string(bad_every),
                    "--other-holding-record-every", std::to_string(other_every)}};
    auto const source = GENERATE(as<std::string>{}, "list", "bibs");
    auto const report = report_asking_alma_only(s, source);
    INFO(report);
    std::size_t bad_lists = 0, other_records = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (s.cat.deleted(b)) continue;
        if (b % bad_every == 0 && s.cat.holdings_count(b) > 0) {
            ++bad_lists;
            CHECK(rows_with(report, "holdings-list," + s.cat.mms_id(b) + ",..,200,,").size() == 1);
        }
        if (b % other_every == 0) {
            other_records += s.cat.holdings_count(b);
            for (std::size_t h = 0; h < s.cat.holdings_count(b); ++h)
                CHECK(rows_with(report, "holding-record," + s.cat.mms_id(b) + "," +
                                            s.cat.holding_id(b, h) +
                                            ",200,,\"the answer is the record of holding ID \"\"" +
                                            s.cat.holding_id(b, h + 1) + "\"\"")
                          .size() == 1);
        }
    }
    REQUIRE(bad_lists > 2);
    REQUIRE(other_records > 2);
    CHECK(rows_with(report, "holdings-list,").size() == bad_lists + deleted_ids(s.cat).size());
    CHECK(rows_with(report, "holding-record,").size() == other_records);
    // The other holdings of a bib whose list named ".." are delivered.
    expected_holdings const delivered{
        s.cat, [&](std::size_t b, pugi::xml_node) { return b % other_every != 0; }};
    CHECK(marc21_difference(delivered, s.dir / "out.mrc") == "");
}
