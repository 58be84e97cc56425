// west-holdings --west and --set: the WEST file from an export, a list or a set, resumed on a
// later day; a set read page by page and saved for a resume.
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

// ---- --west and --set ---------------------------------------------------------------------

namespace {

// What the --west preset must deliver from an export: the holdings with a 583, each with its
// bib's OCLC number in 035, and which rows the checks must report, in report order, as
// "holding_id rule" — worked out from the catalogue's own flags and its XML.
struct west_expectation {
    std::vector<std::string> rows;       // every failure, in the order the report lists them
    std::vector<std::string> failing;    // holding IDs with at least one failure
};

expected_holdings west_expected(catalogue const& cat, west_expectation& w, bool strict) {
    return expected_holdings{cat, [&cat, &w, strict](std::size_t b, pugi::xml_node record) {
                                 if (!record.find_child_by_attribute("datafield", "tag", "583")) return false;
                                 if (auto number = cat.oclc_number(b)) add_oclc_035(record, *number);
                                 std::string const holding = record.find_child_by_attribute("controlfield", "tag", "001")
                                                                 .text()
                                                                 .get();
                                 auto const pos = cat.find_holding(holding);
                                 std::vector<std::string> rules;
                                 using flaw = catalogue::west_flaw;
                                 switch (cat.flaw(pos->bib, pos->holding)) {
                                     case flaw::bad_583c: rules.push_back("583$c"); break;
                                     case flaw::d_before_c: rules.push_back("583$d<$c"); break;
                                     case flaw::no_583f: rules.push_back("583$f"); break;
                                     default: break;
                                 }
                                 bool oclc = false;
                                 for (auto f : record.children("datafield"))
                                     if (std::string{f.attribute("tag").value()} == "035" &&
                                         std::string{f.find_child_by_attribute("subfield", "code", "a").text().get()}
                                                 .rfind("(OCoLC)", 0) == 0)
                                         oclc = true;
                                 if (!oclc) rules.push_back("oclc-number");
                                 if (cat.flaw(pos->bib, pos->holding) == flaw::no_852b) rules.push_back("852$b");
                                 for (auto const& r : rules) w.rows.push_back(holding + " " + r);
                                 if (!rules.empty()) w.failing.push_back(holding);
                                 return !(strict && !rules.empty());
                             }};
}

// The report's west-check rows as "holding_id rule".
std::vector<std::string> west_rows(std::string const& csv) {
    std::vector<std::string> out;
    for (auto const& cols : marcpipe::testing::csv_records(csv))
        if (cols.at(0) == "west-check") out.push_back(cols.at(2) + " " + cols.at(5).substr(0, cols.at(5).find(':')));
    return out;
}

// The --west file from the export (into from-export/) and from `input` (into NAME/, its report in
// errors.csv): the same bytes, the catalogue's 583 holdings, and the report's failures. The
// counters then hold the second run's calls.
void same_file_as_from_export(west_setting const& s, std::string const& name,
                              std::vector<std::string> input) {
    auto from_export = west_preset_run(s.server, s.dir, "from-export", {"export.mrc"});
    INFO(from_export.err);
    CHECK(from_export.status == 1);
    CHECK(s.server.counters().get("endpoint_bibs") == 0);  // an export brings its bibs' records
    s.server.reset();
    input.insert(input.begin(), {"--errors", "errors.csv"});
    auto other = west_preset_run(s.server, s.dir, name, input);
    INFO(other.err);
    CHECK(other.status == 1);
    std::string const file = "UCB.alma.archived.20260401.mrc";
    CHECK(slurp(s.dir / name / file) == slurp(s.dir / "from-export" / file));
    west_expectation w;
    CHECK(marc21_difference(west_expected(s.cat, w, false), s.dir / name / file) == "");
    CHECK(west_rows(slurp(s.dir / "errors.csv")) == w.rows);
}

std::string set_of(catalogue const& cat, marcpipe::emulator::set_kind k) { return marcpipe::emulator::set_id(cat, k); }

}  // namespace

TEST_CASE("--west writes SYMBOL.alma.archived.DATE.mrc: 583 holdings with the bib's OCLC number, failures reported and kept",
          "[programs][west][west-preset]") {
    std::size_t const bibs = 400;
    west_setting s{"west-preset", bibs};
    fs::create_directories(s.dir / "out");
    auto const strict = GENERATE(false, true);
    auto args = s.args({"--west", "UCB", "-o", "out/", "--errors", "errors.csv", "export.mrc"});
    if (strict) args.push_back("--west-strict");
    auto r = run(west, args, env_on_day("20260315"), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    fs::path const file = s.dir / "out" / "UCB.alma.archived.20260315.mrc";
    REQUIRE(fs::exists(file));
    CHECK(std::distance(fs::directory_iterator{s.dir / "out"}, fs::directory_iterator{}) == 1);

    west_expectation w;
    auto const expected = west_expected(s.cat, w, strict);
    CHECK(marc21_difference(expected, file) == "");
    // The catalogue has failures of every kind among its 583 holdings, and mostly passing ones.
    CHECK(w.failing.size() >= 4);
    CHECK(w.failing.size() * 5 < expected.size() + (strict ? w.failing.size() : 0));
    CHECK(west_rows(slurp(s.dir / "errors.csv")) == w.rows);
}

TEST_CASE("--west resumed on a later day finishes the file dated the day the run started", "[programs][west][west-preset][resume]") {
    std::size_t const bibs = 200;
    west_setting s{"west-preset-resume", bibs, {"--daily", "150"}};
    auto const args =
        s.args({"--concurrency", "4", "--west", "UCB", "--errors", "errors.csv", "export.mrc"});
    // One emulator for both days: a resumed run must ask the same Alma; a reset is the next day.
    {
        auto first = run(west, args, env_on_day("20260315"), s.dir, "first");
        INFO(first.err);
        REQUIRE(first.status == 3);
        CHECK(fs::exists(s.dir / "UCB.alma.archived.20260315.mrc.journal"));
    }
    auto second = resumed_next_day(s, args, env_on_day("20260316"));
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    west_expectation w;
    CHECK(marc21_difference(west_expected(s.cat, w, false),
                            s.dir / "UCB.alma.archived.20260315.mrc") == "");
    CHECK_FALSE(fs::exists(s.dir / "UCB.alma.archived.20260316.mrc"));
    CHECK_FALSE(fs::exists(s.dir / "UCB.alma.archived.20260315.mrc.journal"));
    CHECK(west_rows(slurp(s.dir / "errors.csv")) == w.rows);
}

TEST_CASE("--west refuses an output file name and a symbol that cannot be one", "[programs][west][west-preset]") {
    auto dir = marcpipe::testing::scratch_dir("west-preset-usage");
    std::ofstream{dir / "ids.txt"} << "99100401214533759\n";
    // Each with what its message must name: the option or the value at fault.
    for (auto const& [args, named] : std::vector<std::pair<std::vector<std::string>, std::string>>{
             {{"--base-url", "http://127.0.0.1:9", "--west", "UCB", "-o", "mine.mrc", "ids.txt"}, "'mine.mrc'"},
             {{"--base-url", "http://127.0.0.1:9", "--west", "../UCB", "ids.txt"}, "'../UCB'"},
             {{"--base-url", "http://127.0.0.1:9", "--west", "UCB", "-o", "nodir/", "ids.txt"}, "nodir/"},
             {{"--base-url", "http://127.0.0.1:9", "--west-strict", "ids.txt"}, "--west-strict requires --west"},
             {{"--base-url", "http://127.0.0.1:9", "--set", "123", "ids.txt"}, "--set"},
             // Nothing listens there: exit 2 shows no call was made.
             {{"--base-url", "http://127.0.0.1:9", "--set", "123", "-o", "nodir/out.mrc"}, "nodir/out.mrc"},
             {{"--base-url", "http://127.0.0.1:9"}, "--set"}}) {
        auto r = run(west, args, env_with_key(), dir);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find(named) != std::string::npos);
    }
}

TEST_CASE("--set reads a set of bibs page by page: the same output as a list of its MMS IDs", "[programs][west][set]") {
    std::size_t const bibs = 400;
    west_setting s{"west-set", bibs, {}, export_as::none};
    using marcpipe::emulator::set_kind;
    auto const ids = marcpipe::emulator::set_mms_ids(s.cat, set_kind::slice);
    REQUIRE(ids.size() > 100);  // more than one page
    {
        std::ofstream list{s.dir / "ids.txt"};
        for (auto const& id : ids) list << id << "\n";
    }
    auto from_list = run(west, s.args({"-o", "list.mrc", "--errors", "list.csv", "ids.txt"}),
                         env_with_key(), s.dir, "list");
    INFO(from_list.err);
    s.server.reset();
    auto from_set = run(
        west,
        s.args({"-o", "set.mrc", "--errors", "set.csv", "--set", set_of(s.cat, set_kind::slice)}),
        env_with_key(), s.dir, "set");
    INFO(from_set.err);
    CHECK(from_set.status == from_list.status);
    CHECK(slurp(s.dir / "set.mrc") == slurp(s.dir / "list.mrc"));
    // The same rows; only the emulator's tracking IDs differ from call to call.
    CHECK(report_mms_ids(slurp(s.dir / "set.csv")) == report_mms_ids(slurp(s.dir / "list.csv")));
    CHECK_FALSE(report_mms_ids(slurp(s.dir / "set.csv")).empty());  // the slice has deleted bibs
    auto const seen = s.server.counters();
    CHECK(seen.get("endpoint_set") == 1);
    CHECK(seen.get("endpoint_set_members") == static_cast<long>((ids.size() + 99) / 100));
    CHECK_FALSE(fs::exists(s.dir / "set.mrc.set-members"));  // gone once the run has finished
    // Every bib of the slice (every third bib from the second) and no other.
    expected_holdings const slice{s.cat, [](std::size_t b, pugi::xml_node) { return b % 3 == 1; }};
    CHECK(marc21_difference(slice, s.dir / "set.mrc") == "");
}

TEST_CASE("--set of items or of no set is refused with exit 2 before any holdings call", "[programs][west][set]") {
    std::size_t const bibs = 100;
    west_setting s{"west-set-refused", bibs, {}, export_as::none};
    using marcpipe::emulator::set_kind;
    for (std::string const& set :
         {set_of(s.cat, set_kind::items), std::string{"11999999999990000"}}) {
        auto r = run(west, {"--base-url", s.server.base_url(), "-o", "out.mrc", "--set", set},
                     env_with_key(), s.dir);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("set " + set) != std::string::npos);
        CHECK_FALSE(fs::exists(s.dir / "out.mrc"));
        CHECK_FALSE(fs::exists(s.dir / "out.mrc.journal"));
    }
    auto const seen = s.server.counters();
    CHECK(seen.get("endpoint_holdings_list") == 0);
    CHECK(seen.get("endpoint_holding") == 0);
    CHECK(seen.get("endpoint_bibs") == 0);
    CHECK(seen.get("endpoint_set") == 2);
}

TEST_CASE("--set resumed reads the members saved by the first run and asks nothing about the set",
          "[programs][west][set][resume]") {
    std::size_t const bibs = 300;
    west_setting s{"west-set-resume", bibs, {"--daily", "150"}, export_as::none};
    using marcpipe::emulator::set_kind;
    auto const args = s.args({"--concurrency", "4", "-o", "out.mrc", "--errors", "errors.csv",
                              "--set", set_of(s.cat, set_kind::all_bibs)});
    // One emulator for both days: a resumed run must ask the same Alma; a reset is the next day.
    {
        auto first = run(west, args, env_with_key(), s.dir, "first");
        INFO(first.err);
        REQUIRE(first.status == 3);
        CHECK(fs::exists(s.dir / "out.mrc.set-members"));
    }
    auto second = resumed_next_day(s, args);
    INFO(second.err);
    // The set holds no deleted bibs, so nothing is lost.
    CHECK(second.status == 0);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    auto const seen = s.server.counters();
    CHECK(seen.get("endpoint_set") == 0);
    CHECK(seen.get("endpoint_set_members") == 0);
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.set-members"));
}

TEST_CASE("--west with --set fetches the bibs' records, so the file is the one the export gives", "[programs][west][set][west-preset]") {
    std::size_t const bibs = 250;
    west_setting s{"west-set-preset", bibs};
    // The set leaves out the bibs deleted since the export, which have no holdings to write.
    same_file_as_from_export(s, "from-set",
                             {"--set", set_of(s.cat, marcpipe::emulator::set_kind::all_bibs)});
    std::string const name = "UCB.alma.archived.20260401.mrc";
    auto const members =
        marcpipe::emulator::set_mms_ids(s.cat, marcpipe::emulator::set_kind::all_bibs);
    CHECK(s.server.counters().get("endpoint_bibs") ==
          static_cast<long>((members.size() + 99) / 100));
    CHECK_FALSE(fs::exists(s.dir / "from-set" / (name + ".set-members")));
}

TEST_CASE("--west with a list of MMS IDs fetches the bibs' records, 100 a call: the file the export gives",
          "[programs][west][west-preset]") {
    std::size_t const bibs = 250;
    west_setting s{"west-list-preset", bibs};
    write_id_list(s.cat, s.dir / "ids.txt");
    same_file_as_from_export(s, "from-list", {"ids.txt"});
    CHECK(s.server.counters().get("endpoint_bibs") == static_cast<long>((bibs + 99) / 100));
}

TEST_CASE("holdings-ids --set lists the holdings of a set's bibs as it does from their IDs", "[programs][set]") {
    std::size_t const bibs = 300;
    west_setting s{"holdings-ids-set", bibs, {}, export_as::none};
    using marcpipe::emulator::set_kind;
    {
        std::ofstream list{s.dir / "ids.txt"};
        for (auto const& id : marcpipe::emulator::set_mms_ids(s.cat, set_kind::slice))
            list << id << "\n";
    }
    auto from_list = run(MARCPIPE_HOLDINGS_IDS, s.args({"ids.txt"}), env_with_key(), s.dir, "list");
    auto from_set = run(MARCPIPE_HOLDINGS_IDS, s.args({"--set", set_of(s.cat, set_kind::slice)}),
                        env_with_key(), s.dir, "set");
    INFO(from_set.err);
    CHECK(from_set.status == from_list.status);
    CHECK(from_set.out == from_list.out);
    std::string expected;
    for (std::size_t b = 1; b < bibs; b += 3)
        if (!s.cat.deleted(b))
            for (auto const& h : s.cat.holding_ids(b))
                expected += h + "\t" + s.cat.mms_id(b) + "\n";
    CHECK(from_set.out == expected);
    auto refused = run(MARCPIPE_HOLDINGS_IDS,
                       {"--base-url", s.server.base_url(), "--set", set_of(s.cat, set_kind::items)},
                       env_with_key(), s.dir, "refused");
    CHECK(refused.status == 2);
    CHECK(refused.out.empty());
    // No members file is left behind in the temporary directory.
    for (auto const& e : fs::directory_iterator{fs::temp_directory_path()})
        CHECK(e.path().filename().string().rfind("holdings-ids-set-", 0) != 0);
}
