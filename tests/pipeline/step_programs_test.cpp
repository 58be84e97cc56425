// The per-step programs (holdings-ids, holdings-records) and the custom-filter example, end to
// end against the emulator: run in stages they give what west-holdings gives in one run, and
// that is what expected_holdings.hpp works out without the library.
#include <catalogue.hpp>
#include <launcher.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "catch.hpp"
#include "expected_holdings.hpp"
#include "support/child.hpp"
#include "west_program.hpp"

using namespace west_test;

namespace {

// Its own catalogue, apart from the west_*_test.cpp files' (all build into one program).
constexpr std::uint64_t steps_seed = 23;
std::vector<std::string> const with_key = env_with_key();

}  // namespace

TEST_CASE("holdings-ids then holdings-records give the rewritten records of every holding", "[programs][steps]") {
    std::size_t const bibs = 150;
    west_setting s{"steps", bibs, {}, export_as::none, steps_seed};
    write_id_list(s.cat, s.dir / "ids.txt");

    auto ids = run(MARCPIPE_HOLDINGS_IDS,
                   s.args({"-o", "pairs.tsv", "--errors", "ids-errors.csv", "ids.txt"}), with_key,
                   s.dir, "ids");
    INFO(ids.err);
    CHECK(ids.status == 1);
    std::string expected_pairs;
    std::size_t deleted = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (s.cat.deleted(b)) {
            ++deleted;
            continue;
        }
        for (auto const& h : s.cat.holding_ids(b))
            expected_pairs += h + "\t" + s.cat.mms_id(b) + "\n";
    }
    CHECK(slurp(s.dir / "pairs.tsv") == expected_pairs);
    auto report = slurp(s.dir / "ids-errors.csv");
    CHECK(static_cast<std::size_t>(std::count(report.begin(), report.end(), '\n')) == deleted + 1);

    auto records = run(MARCPIPE_HOLDINGS_RECORDS, s.args({"-o", "holdings.xml", "pairs.tsv"}),
                       with_key, s.dir, "records");
    INFO(records.err);
    CHECK(records.status == 0);
    CHECK(marcpipe::testing::marcxml_difference(expected_holdings{s.cat}, s.dir / "holdings.xml") ==
          "");

    // The same in one run.
    auto whole = run(MARCPIPE_WEST_HOLDINGS, s.args({"-o", "whole.xml", "ids.txt"}), with_key,
                     s.dir, "whole");
    CHECK(whole.status == 1);
    CHECK(slurp(s.dir / "whole.xml") == slurp(s.dir / "holdings.xml"));
}

TEST_CASE("holdings-records reports an unknown holding and a malformed line, and goes on", "[programs][steps]") {
    west_setting s{"steps-bad", 30, {}, export_as::none, steps_seed};
    std::size_t b = 0;
    while (s.cat.deleted(b) || s.cat.holdings_count(b) == 0) ++b;
    {
        std::ofstream pairs{s.dir / "pairs.tsv"};
        pairs << s.cat.holding_id(b, 0) << "\t" << s.cat.mms_id(b) << "\n"
              << "22999999999991" << s.cat.institution_code() << "\t" << s.cat.mms_id(b) << "\n"
              << "not a pair\n"
              << s.cat.holding_id(b, 0) << "\t" << s.cat.mms_id(b) << "\n"
              << "..\t" << s.cat.mms_id(b) << "\n";  // would ask for /bibs/{mms_id}/
    }
    auto r = run(MARCPIPE_HOLDINGS_RECORDS,
                 {"--base-url", s.server.base_url(), "--format", "marc21", "-o", "out.mrc",
                  "--errors", "errors.csv", "pairs.tsv"},
                 with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    // The malformed lines are rows of the report, like the holding Alma does not know.
    std::string const report = slurp(s.dir / "errors.csv");
    CHECK(report.find("line 3: expected holding_id<TAB>mms_id") != std::string::npos);
    CHECK(report.find("line 5: holding ID \"\"..\"\" is not an Alma ID") != std::string::npos);
    CHECK(s.server.counters().get("unknown_paths") == 0);
    CHECK(report.find(",402208,") != std::string::npos);
    CHECK(r.err.find("2 records written") != std::string::npos);
    // Both are the one good holding's record, as MARC21.
    expected_holdings const one{
        s.cat, [&](std::size_t bib, pugi::xml_node record) {
            return bib == b &&
                   record.find_child_by_attribute("controlfield", "tag", "001").text().get() ==
                       s.cat.holding_id(b, 0);
        }};
    REQUIRE(one.size() == 1);
    if (auto want = one.marc21(s.dir)) CHECK(slurp(s.dir / "out.mrc") == *want + *want);
}

TEST_CASE("a custom filter composed into the pipeline keeps exactly what it selects", "[programs][custom]") {
    // At Alma's own 25 calls a second (an example has no --rate): a few seconds.
    std::size_t const bibs = 80;
    west_setting s{"custom", bibs, {}, export_as::none, steps_seed};
    write_id_list(s.cat, s.dir / "ids.txt");
    // An example takes its settings from its arguments and the environment, at Alma's own pace.
    auto env = with_key;
    env.push_back("ALMA_BASE_URL=" + s.server.base_url());
    auto r = run(MARCPIPE_CUSTOM_FILTER, {"ids.txt", "out.xml", "LAW", "MUSIC"}, env, s.dir);
    INFO(r.err);
    CHECK(r.status == 1);  // the deleted bibs
    // The filter's choice made from each record's own 852 $b.
    expected_holdings const law_and_music{s.cat, [](std::size_t, pugi::xml_node record) {
                                              std::string_view const library =
                                                  record.find_child_by_attribute("datafield", "tag", "852")
                                                      .find_child_by_attribute("subfield", "code", "b")
                                                      .text()
                                                      .get();
                                              return library == "LAW" || library == "MUSIC";
                                          }};
    REQUIRE(law_and_music.size() > 0);
    REQUIRE(law_and_music.size() < expected_holdings{s.cat}.size());
    CHECK(marcpipe::testing::marcxml_difference(law_and_music, s.dir / "out.xml") == "");
}
