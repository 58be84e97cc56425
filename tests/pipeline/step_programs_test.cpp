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
#include "program.hpp"

namespace fs = std::filesystem;
using marcpipe::emulator::catalogue;
using marcpipe::emulator::emulator_process;
using marcpipe::testing::expected_holdings;
using marcpipe::testing::run;
using marcpipe::testing::slurp;

namespace {

// Its own catalogue, apart from west_holdings_test.cpp's (both build into one program).
constexpr std::uint64_t steps_seed = 23;
std::vector<std::string> const with_key{"ALMA_API_KEY=step-key"};

std::vector<std::string> flags(std::size_t bibs) {
    return {"--seed", std::to_string(steps_seed), "--bibs", std::to_string(bibs), "--api-key", "step-key"};
}

void write_ids(catalogue const& cat, fs::path const& path) {
    std::ofstream out{path};
    for (std::size_t b = 0; b < cat.size(); ++b) out << cat.mms_id(b) << "\n";
}

}  // namespace

TEST_CASE("holdings-ids then holdings-records give the rewritten records of every holding", "[programs][steps]") {
    std::size_t const bibs = 150;
    catalogue cat{steps_seed, bibs};
    emulator_process server{flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("steps");
    write_ids(cat, dir / "ids.txt");

    auto ids = run(MARCPIPE_HOLDINGS_IDS, {"--base-url", server.base_url(), "--rate", "1000", "-o", "pairs.tsv",
                                           "--errors", "ids-errors.csv", "ids.txt"},
                   with_key, dir, "ids");
    INFO(ids.err);
    CHECK(ids.status == 1);
    std::string expected_pairs;
    std::size_t deleted = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (cat.deleted(b)) {
            ++deleted;
            continue;
        }
        for (auto const& h : cat.holding_ids(b)) expected_pairs += h + "\t" + cat.mms_id(b) + "\n";
    }
    CHECK(slurp(dir / "pairs.tsv") == expected_pairs);
    auto report = slurp(dir / "ids-errors.csv");
    CHECK(static_cast<std::size_t>(std::count(report.begin(), report.end(), '\n')) == deleted + 1);

    auto records = run(MARCPIPE_HOLDINGS_RECORDS, {"--base-url", server.base_url(), "--rate", "1000", "-o",
                                                   "holdings.xml", "pairs.tsv"},
                       with_key, dir, "records");
    INFO(records.err);
    CHECK(records.status == 0);
    CHECK(marcpipe::testing::marcxml_difference(expected_holdings{cat}, dir / "holdings.xml") == "");

    // The same in one run.
    auto whole = run(MARCPIPE_WEST_HOLDINGS, {"--base-url", server.base_url(), "--rate", "1000", "-o", "whole.xml",
                                              "ids.txt"},
                     with_key, dir, "whole");
    CHECK(whole.status == 1);
    CHECK(slurp(dir / "whole.xml") == slurp(dir / "holdings.xml"));
    fs::remove_all(dir);
}

TEST_CASE("holdings-records reports an unknown holding and a malformed line, and goes on", "[programs][steps]") {
    catalogue cat{steps_seed, 30};
    emulator_process server{flags(30)};
    auto dir = marcpipe::testing::scratch_dir("steps-bad");
    std::size_t b = 0;
    while (cat.deleted(b) || cat.holdings_count(b) == 0) ++b;
    {
        std::ofstream pairs{dir / "pairs.tsv"};
        pairs << cat.holding_id(b, 0) << "\t" << cat.mms_id(b) << "\n"
              << "22999999999991" << cat.institution_code() << "\t" << cat.mms_id(b) << "\n"
              << "not a pair\n"
              << cat.holding_id(b, 0) << "\t" << cat.mms_id(b) << "\n"
              << "..\t" << cat.mms_id(b) << "\n";  // would ask for /bibs/{mms_id}/
    }
    auto r = run(MARCPIPE_HOLDINGS_RECORDS, {"--base-url", server.base_url(), "--format", "marc21", "-o", "out.mrc",
                                             "--errors", "errors.csv", "pairs.tsv"},
                 with_key, dir);
    INFO(r.err);
    CHECK(r.status == 1);
    // The malformed lines are rows of the report, like the holding Alma does not know.
    std::string const report = slurp(dir / "errors.csv");
    CHECK(report.find("line 3: expected holding_id<TAB>mms_id") != std::string::npos);
    CHECK(report.find("line 5: holding ID \"\"..\"\" is not an Alma ID") != std::string::npos);
    CHECK(server.counters().get("unknown_paths") == 0);
    CHECK(report.find(",402208,") != std::string::npos);
    CHECK(r.err.find("2 records written") != std::string::npos);
    // Both are the one good holding's record, as MARC21.
    expected_holdings const one{cat, [&](std::size_t bib, pugi::xml_node record) {
                                    return bib == b && record.find_child_by_attribute("controlfield", "tag", "001")
                                                               .text()
                                                               .get() == cat.holding_id(b, 0);
                                }};
    REQUIRE(one.size() == 1);
    if (auto want = one.marc21(dir)) CHECK(slurp(dir / "out.mrc") == *want + *want);
    fs::remove_all(dir);
}

TEST_CASE("a custom filter composed into the pipeline keeps exactly what it selects", "[programs][custom]") {
    // At Alma's own 25 calls a second (an example has no --rate): a few seconds.
    std::size_t const bibs = 80;
    catalogue cat{steps_seed, bibs};
    emulator_process server{flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("custom");
    write_ids(cat, dir / "ids.txt");
    // An example takes its settings from its arguments and the environment, at Alma's own pace.
    auto env = with_key;
    env.push_back("ALMA_BASE_URL=" + server.base_url());
    auto r = run(MARCPIPE_CUSTOM_FILTER, {"ids.txt", "out.xml", "LAW", "MUSIC"}, env, dir);
    INFO(r.err);
    CHECK(r.status == 1);  // the deleted bibs
    // The filter's choice made from each record's own 852 $b.
    expected_holdings const law_and_music{cat, [](std::size_t, pugi::xml_node record) {
                                              std::string_view const library =
                                                  record.find_child_by_attribute("datafield", "tag", "852")
                                                      .find_child_by_attribute("subfield", "code", "b")
                                                      .text()
                                                      .get();
                                              return library == "LAW" || library == "MUSIC";
                                          }};
    REQUIRE(law_and_music.size() > 0);
    REQUIRE(law_and_music.size() < expected_holdings{cat}.size());
    CHECK(marcpipe::testing::marcxml_difference(law_and_music, dir / "out.xml") == "");
    fs::remove_all(dir);
}
