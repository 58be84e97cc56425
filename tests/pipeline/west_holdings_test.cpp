// west-holdings end to end, against the loopback emulator: the output is exactly the catalogue's
// deliverable holdings with 001/004 rewritten, whatever faults the API throws in, and a run
// killed at any point and resumed gives the same bytes. What the output must hold is worked out
// apart from the library (expected_holdings.hpp); the library's writer only makes the input.
#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/net/event_loop.hpp>

#include <bib_export.hpp>
#include <alma_sets.hpp>
#include <catalogue.hpp>
#include <launcher.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "dry_run_output.hpp"
#include "expected_holdings.hpp"
#include "program.hpp"
#include "reference_tool.hpp"
#include "west_setting.hpp"

namespace fs = std::filesystem;
namespace marc = marcpipe::marc;
using marcpipe::emulator::catalogue;
using marcpipe::emulator::emulator_process;
using marcpipe::testing::dry_run_value;
using marcpipe::testing::emulator_flags;
using marcpipe::testing::expected_holdings;
using marcpipe::testing::marc21_difference;
using marcpipe::testing::marcxml_difference;
using marcpipe::testing::run;
using marcpipe::testing::slurp;
using marcpipe::testing::write_export;

namespace {

constexpr char const* key = marcpipe::testing::test_api_key;
constexpr std::uint64_t seed = marcpipe::testing::test_seed;
std::string const west = MARCPIPE_WEST_HOLDINGS;

// The catalogue's MMS IDs as a list, one a line, in catalogue order.
void write_id_list(catalogue const& cat, fs::path const& path) {
    std::ofstream ids{path};
    for (std::size_t b = 0; b < cat.size(); ++b) ids << cat.mms_id(b) << "\n";
}

// "" when the output file (MARC21 or MARCXML by its suffix) holds exactly the expected records.
std::string output_difference(expected_holdings const& expected, fs::path const& output) {
    return output.extension() == ".xml" ? marcxml_difference(expected, output)
                                        : marc21_difference(expected, output);
}

std::vector<std::string> env_with_key(std::string const& k = key) { return {"ALMA_API_KEY=" + k}; }

std::vector<std::string> lines(std::string const& text) {
    std::vector<std::string> out;
    std::istringstream in{text};
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
}

// MMS IDs of the catalogue's deleted bibs, as the error report must list them.
std::vector<std::string> deleted_ids(catalogue const& cat) {
    std::vector<std::string> out;
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (cat.deleted(b)) out.push_back(cat.mms_id(b));
    return out;
}

std::vector<std::string> report_mms_ids(std::string const& csv) {
    std::vector<std::string> ids;
    auto rows = lines(csv);
    for (std::size_t i = 1; i < rows.size(); ++i) {
        auto const& row = rows[i];
        auto a = row.find(',');
        auto b = row.find(',', a + 1);
        ids.push_back(row.substr(a + 1, b - a - 1));
    }
    return ids;
}

// How many bibs the journal says are finished (0 while it has no checkpoint yet).
std::size_t journal_bibs_done(fs::path const& journal) {
    std::ifstream in{journal, std::ios::binary};  // not written yet, or gone at the end: nothing done
    std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    // The run is writing while the test reads: a line without its end may be cut anywhere.
    text.resize(text.rfind('\n') + 1);
    std::size_t done = 0;
    for (auto const& line : lines(text)) {
        auto at = line.find(" bibs=");
        if (line.rfind("done ", 0) == 0 && at != std::string::npos) done = std::stoul(line.substr(at + 6));
    }
    return done;
}

// AddressSanitizer's shadow memory and quarantine inflate the resident set many times over.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool under_asan = true;
#else
constexpr bool under_asan = false;
#endif
#else
constexpr bool under_asan = false;
#endif

}  // namespace

TEST_CASE("west-holdings delivers every holding once, in export order, with 001/004 rewritten", "[programs][west][yaz]") {
    std::size_t const bibs = 240;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "5", "--latency-jitter", "0.9"})};
    auto dir = marcpipe::testing::scratch_dir("west-clean");
    auto xml_input = GENERATE(false, true);
    fs::path input = dir / (xml_input ? "export.xml" : "export.mrc");
    write_export(cat, input, xml_input);

    auto r = run(west, {"--base-url", server.base_url(), "--rate", "500", "--concurrency", "16", "-o", "out.mrc",
                        "--errors", "errors.csv", input.string()},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);  // the deleted bibs are reported, the rest delivered
    expected_holdings const expected{cat};
    CHECK(marc21_difference(expected, dir / "out.mrc") == "");
    if (auto yaz = marcpipe_test::yaz_marcdump_for_comparison()) {
        auto check = run(yaz->string(), {"-n", "out.mrc"}, {}, dir, "yaz");
        CHECK(check.status == 0);
        CHECK(check.err == "");  // the reference tool reads the whole file without a complaint
        CHECK(check.out == "");
    }
    auto report = slurp(dir / "errors.csv");
    CHECK(lines(report).front() == "stage,mms_id,holding_id,http_status,alma_code,message,tracking_id\r");
    CHECK(report_mms_ids(report) == deleted_ids(cat));
    CHECK(report.find(",400,402203,") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out.mrc.journal"));
    CHECK_FALSE(fs::exists(dir / "out.mrc.part"));
    CHECK(r.err.find(std::to_string(expected.size()) + " holdings records written") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("a list of MMS IDs and the MARCXML output format give the same holdings", "[programs][west][yaz]") {
    std::size_t const bibs = 150;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "3"})};
    auto dir = marcpipe::testing::scratch_dir("west-xml");
    {
        std::ofstream ids{dir / "ids.txt"};
        for (std::size_t b = 0; b < bibs; ++b) ids << cat.mms_id(b) << (b % 7 == 0 ? "\r\n" : "\n");
    }
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "500", "-o", "out.xml", "ids.txt"}, env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    expected_holdings const expected{cat};
    CHECK(marcxml_difference(expected, dir / "out.xml") == "");
    // The reference tool reads the MARCXML output without a complaint, into the expected MARC21.
    if (auto yaz = marcpipe_test::yaz_marcdump_for_comparison()) {
        auto converted = run(yaz->string(), {"-i", "marcxml", "-o", "marc", "out.xml"}, {}, dir, "yaz");
        CHECK(converted.status == 0);
        CHECK(converted.err == "");
        std::ofstream{dir / "yaz.mrc", std::ios::binary} << converted.out;
        CHECK(marc21_difference(expected, dir / "yaz.mrc") == "");
    }
    fs::remove_all(dir);
}

TEST_CASE("--require 583 keeps only the holdings WEST wants", "[programs][west]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-583");
    write_export(cat, dir / "export.mrc", false);
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "--require", "583", "-o", "west.mrc",
                        "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    expected_holdings const with_583{cat, [](std::size_t, pugi::xml_node record) {
                                         return bool(record.find_child_by_attribute("datafield", "tag", "583"));
                                     }};
    CHECK(marc21_difference(with_583, dir / "west.mrc") == "");
    CHECK(with_583.size() > 0);
    CHECK(with_583.size() < expected_holdings{cat}.size());
    fs::remove_all(dir);
}

TEST_CASE("transient faults change nothing in the output", "[programs][west][faults]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(
        bibs, {"--latency-ms", "3", "--fault-seed", "5", "--fault-rate-500", "0.02", "--fault-rate-503", "0.02",
               "--fault-rate-reset", "0.02", "--fault-rate-truncated", "0.02", "--fault-rate-malformed", "0.02"})};
    auto dir = marcpipe::testing::scratch_dir("west-faults");
    write_export(cat, dir / "export.mrc", false);
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "-o", "out.mrc", "--errors", "errors.csv",
                        "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    auto seen = server.counters();
    for (char const* kind : {"500", "503", "reset", "truncated", "malformed"}) CHECK(seen.fault(kind) > 0);
    fs::remove_all(dir);
}

TEST_CASE("10% of each transient fault kind changes nothing in the output", "[programs][west][faults][slow]") {
    // Two runs of 200 bibs make some 900 calls: about 90 faults of the kind, over twice the 40 asked.
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    auto kind = GENERATE(std::string{"500"}, std::string{"503"}, std::string{"reset"}, std::string{"truncated"},
                         std::string{"malformed"}, std::string{"stall"});
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "3", "--fault-seed", "9", "--fault-rate-" + kind,
                                                  "0.1", "--stall-seconds", "1"})};
    auto dir = marcpipe::testing::scratch_dir("west-faults10");
    write_export(cat, dir / "export.mrc", false);
    for (char const* format : {"out.mrc", "out.xml"}) {
        auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "-o", format, "--errors", "errors.csv",
                            "export.mrc"},
                     env_with_key(), dir);
        INFO(kind << ": " << r.err);
        CHECK(r.status == 1);
        CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    }
    CHECK(server.counters().fault(kind) > 40);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    CHECK(marcxml_difference(expected_holdings{cat}, dir / "out.xml") == "");
    fs::remove_all(dir);
}

TEST_CASE("a refused key stops with exit 3 and says what to do; --resume then finishes", "[programs][west][resume]") {
    std::size_t const bibs = 120;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-key");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "1000", "-o", "out.mrc",
                                  "--errors", "errors.csv", "export.mrc"};
    std::string const wrong = "l8xx-wrong-key-fedcba9876543210";
    auto first = run(west, args, env_with_key(wrong), dir, "first");
    INFO(first.err);
    CHECK(first.status == 3);
    CHECK(first.err.find("UNAUTHORIZED") != std::string::npos);
    CHECK(first.err.find("--resume") != std::string::npos);
    CHECK(first.err.find(wrong) == std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out.mrc"));

    args.push_back("--resume");
    auto second = run(west, args, env_with_key(), dir, "second");
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    fs::remove_all(dir);
}

TEST_CASE("the daily threshold stops with exit 3; resumed the next day the job finishes identically", "[programs][west][resume]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    auto dir = marcpipe::testing::scratch_dir("west-daily");
    write_export(cat, dir / "export.mrc", false);
    // One emulator for both days: a resumed run must ask the same Alma (the journal names its
    // base URL), and a reset starts the daily count again as the next day does.
    emulator_process alma{emulator_flags(bibs, {"--latency-ms", "20"})};
    std::vector<std::string> args{"--base-url", alma.base_url(), "--rate", "1000", "--concurrency", "4",
                                  "-o", "out.xml", "--errors", "errors.csv", "export.mrc"};
    {
        // The quota is the institution's: other integrations use it up while the run goes, which
        // no floor of the run's own (--keep-calls) can foresee. The run lasts 2 s at least
        // (460 calls of 20 ms, 4 at a time) against the moment its first checkpoint is seen.
        marcpipe::testing::child c{west, args, env_with_key(), dir, "first"};
        bool const reached = c.wait_until([&] { return journal_bibs_done(dir / "out.xml.journal") >= 20; });
        alma.configure({{"daily", "1"}});
        auto first = c.wait();
        INFO(first.err);
        REQUIRE(reached);
        CHECK(first.status == 3);
        CHECK(alma.counters().get("daily_threshold") > 0);
        CHECK(first.err.find("DAILY_THRESHOLD") != std::string::npos);
        CHECK(first.err.find("--resume") != std::string::npos);
        CHECK(fs::exists(dir / "out.xml.journal"));
    }
    alma.reset();
    alma.configure({{"daily", "0"}});
    args.push_back("--resume");
    auto second = run(west, args, env_with_key(), dir, "second");
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    CHECK(marcxml_difference(expected_holdings{cat}, dir / "out.xml") == "");
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    // Only what was not finished was asked for again.
    CHECK(alma.counters().requests < 200 + static_cast<long>(cat.deliverable_holdings()));
    fs::remove_all(dir);
}

TEST_CASE("kill -9 at several points and --resume give byte-identical output", "[programs][west][resume]") {
    std::size_t const bibs = 300;
    std::size_t const concurrency = 8;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "15", "--latency-jitter", "0.8"})};
    struct variant {
        std::string format;
        std::string source;
    };
    auto [format, source] = GENERATE(variant{"out.mrc", "list"}, variant{"out.xml", "list"}, variant{"out.mrc", "bibs"});
    INFO(format << ", --holdings-source " << source);
    auto dir = marcpipe::testing::scratch_dir("west-kill");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> args{"--base-url",    server.base_url(), "--rate", "400", "--concurrency",
                                  std::to_string(concurrency), "--holdings-source", source, "-o", format,
                                  "--errors",      "errors.csv",      "export.mrc"};
    server.reset();

    // Kill points: before anything is saved, then after about a sixth, two fifths and two thirds
    // of the bibs. The test notices a point by polling the journal; the last point leaves a third
    // of the run (some 230 calls at 8 in flight and 15 ms each: 400 ms and more, however busy the
    // machine, since the emulator's latency is a sleep) to the run, against the few milliseconds
    // a loaded machine delays a waking process. Overshooting a point changes nothing checked.
    std::vector<std::size_t> kill_after_bibs{0, 50, 120, 200};
    auto journal = dir / (format + ".journal");
    int kills = 0;
    for (std::size_t i = 0; i < kill_after_bibs.size(); ++i) {
        auto resume_args = args;
        if (i > 0) resume_args.push_back("--resume");
        marcpipe::testing::child c{west, resume_args, env_with_key(), dir, "kill" + std::to_string(i)};
        bool const reached = c.wait_until([&] {
            return kill_after_bibs[i] == 0 ? fs::exists(journal) : journal_bibs_done(journal) >= kill_after_bibs[i];
        });
        c.kill(SIGKILL);
        auto f = c.wait();
        INFO("run " << i << " to be killed after " << kill_after_bibs[i] << " bibs: " << f.err);
        REQUIRE(reached);
        if (f.status == -SIGKILL) ++kills;
    }
    CHECK(kills == static_cast<int>(kill_after_bibs.size()));
    args.push_back("--resume");
    auto last = run(west, args, env_with_key(), dir, "final");
    INFO(last.err);
    CHECK(last.status == 1);
    CHECK(output_difference(expected_holdings{cat}, dir / format) == "");
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    CHECK_FALSE(fs::exists(journal));

    // Each kill costs at most the requests that were in flight: every answer that had arrived
    // was in the answer log, whether or not its bib had reached the output.
    // In bulk mode a resumed run starts its groups of 100 where the last one stopped, which can
    // cost one more call per resumption.
    bool const bulk = source == "bibs";
    long const lists = bulk ? static_cast<long>((bibs + 99) / 100 + cat.bulk_mode_lists(false))
                            : static_cast<long>(bibs);
    long const needed = lists + static_cast<long>(cat.deliverable_holdings());
    long const per_kill = static_cast<long>(concurrency) + (bulk ? 1 : 0);
    auto seen = server.counters();
    CHECK(seen.requests >= needed);
    CHECK(seen.requests - needed <= kills * per_kill);
    std::printf("kill -9 and --resume (%s, %s): %d kills, %ld requests for %ld answers, %ld asked again\n",
                format.c_str(), source.c_str(), kills, seen.requests, needed, seen.requests - needed);
    CHECK(last.err.find("answers taken from the interrupted run") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / (format + ".answers")));
    CHECK_FALSE(fs::exists(dir / (format + ".answers.old")));
    fs::remove_all(dir);
}

TEST_CASE("an interrupted run (SIGTERM, Ctrl-C) saves its state, exits 3, and --resume finishes it", "[programs][west][resume]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    // A stall far longer than any test: a held call ends only when the client gives it up.
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "15", "--stall-seconds", "600"})};
    auto dir = marcpipe::testing::scratch_dir("west-term");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "300", "--concurrency", "8", "-o",
                                  "out.mrc", "export.mrc"};
    marcpipe::testing::child c{west, args, env_with_key(), dir, "first"};
    bool const reached = c.wait_until([&] { return journal_bibs_done(dir / "out.mrc.journal") >= 50; });
    // From here the emulator holds every call, so the run cannot end on its own before the signal
    // lands and is noticed (the program looks at its next tick, up to 500 ms later), however busy
    // the machine. Only the calls already answered can still complete: a few bibs at most.
    server.configure({{"fault-rate-stall", "1"}});
    c.kill(SIGTERM);
    auto first = c.wait();
    INFO(first.err);
    REQUIRE(reached);
    CHECK(first.status == 3);
    CHECK(first.err.find("interrupted") != std::string::npos);
    CHECK(first.err.find("--resume") != std::string::npos);
    CHECK_FALSE(fs::exists(dir / "out.mrc"));
    server.configure({{"fault-rate-stall", "0"}});
    args.push_back("--resume");
    auto second = run(west, args, env_with_key(), dir, "second");
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    fs::remove_all(dir);
}

// The switch that takes the server away, the counter of the calls it met, and the switch back.
struct disturbance {
    char const* name;
    std::map<std::string, std::string> away;
    char const* counter;
    std::map<std::string, std::string> back;
};

TEST_CASE("Alma unreachable or failing for some seconds mid-run: nothing lost, nothing reported, output identical",
          "[programs][west][outage]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    auto d = GENERATE(disturbance{"refused", {{"connections", "refuse"}}, "calls_refused", {{"connections", "serve"}}},
                      disturbance{"dropped", {{"connections", "drop"}}, "calls_dropped", {{"connections", "serve"}}},
                      disturbance{"503 storm", {{"fault-rate-503", "1"}}, "fault_503", {{"fault-rate-503", "0"}}});
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "15"})};
    auto dir = marcpipe::testing::scratch_dir("west-outage");
    write_export(cat, dir / "export.mrc", false);
    // Max attempts 2: were a failure of the network counted against a bib, the bib would be lost.
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "300", "--concurrency", "8",
                                  "--max-attempts", "2", "-o", "out.mrc", "--errors", "errors.csv", "export.mrc"};
    marcpipe::testing::child c{west, args, env_with_key(), dir, "run"};
    bool const started = c.wait_until([&] { return journal_bibs_done(dir / "out.mrc.journal") >= 50; });
    server.configure(d.away);
    // Away until every call in flight met it, and then some seconds more.
    bool const met = c.wait_until([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        return server.counters().get(d.counter) >= 8;
    });
    std::this_thread::sleep_for(std::chrono::seconds{3});
    server.configure(d.back);
    auto r = c.wait();
    INFO(d.name << ": " << r.err);
    REQUIRE(started);
    CHECK(met);
    CHECK(r.status == 1);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    // Only the catalogue's deleted bibs: no row for a refused, dropped or failed call.
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    fs::remove_all(dir);
}

TEST_CASE("Alma away for longer than --patience: exit 3 naming what failed; --resume finishes identically",
          "[programs][west][outage][resume]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "15"})};
    auto dir = marcpipe::testing::scratch_dir("west-patience");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "300", "--concurrency", "8",
                                  "--patience", "3s", "-o", "out.mrc", "--errors", "errors.csv", "export.mrc"};
    marcpipe::testing::child c{west, args, env_with_key(), dir, "first"};
    bool const started = c.wait_until([&] { return journal_bibs_done(dir / "out.mrc.journal") >= 50; });
    server.configure({{"connections", "refuse"}});
    auto first = c.wait();
    INFO(first.err);
    REQUIRE(started);
    CHECK(first.status == 3);
    CHECK(first.err.find("no call has succeeded for 3s") != std::string::npos);
    CHECK(first.err.find("onnect") != std::string::npos);  // curl's "Couldn't connect" or a reset
    CHECK(first.err.find("--resume") != std::string::npos);
    CHECK(fs::exists(dir / "out.mrc.journal"));
    CHECK_FALSE(fs::exists(dir / "out.mrc"));
    CHECK(server.counters().get("calls_refused") > 0);

    server.configure({{"connections", "serve"}});
    args.push_back("--resume");
    auto second = run(west, args, env_with_key(), dir, "second");
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    fs::remove_all(dir);
}

TEST_CASE("--patience takes 90s, 10m, 1h or seconds within 1s..24h; anything else is a usage error",
          "[programs][west]") {
    auto dir = marcpipe::testing::scratch_dir("west-patience-usage");
    for (char const* bad : {"0", "25h", "1.5m", "-3s", "ten", "inf"}) {
        auto r = run(west, {"--base-url", "http://127.0.0.1:9", "--patience", bad, "-o", "out.mrc", "ids.txt"},
                     env_with_key(), dir);
        INFO(bad << ": " << r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("--patience") != std::string::npos);
    }
    fs::remove_all(dir);
}

TEST_CASE("export records without 001 or broken are reported with their number; the others go on", "[programs][west]") {
    std::size_t const bibs = 40;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-badexport");
    std::string bytes;
    for (std::size_t b = 0; b < bibs; ++b) {
        marc::record r = cat.bib_record(b);
        if (b == 5) r.fields().erase(r.fields().begin());  // no 001
        std::string one;
        marc::append_iso2709(r, one);
        if (b == 9) one[one.size() - 2] = 'x';  // the field terminator before the record's end
        bytes += one;
    }
    {
        std::ofstream out{dir / "export.mrc", std::ios::binary};
        out << bytes;
    }
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "-o", "out.mrc", "--errors", "errors.csv",
                        "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    auto report = slurp(dir / "errors.csv");
    CHECK(report.find("export,,,,,record 6 at byte") != std::string::npos);
    CHECK(report.find("no 001") != std::string::npos);
    CHECK(report.find("export,,,,,record 10 at byte") != std::string::npos);
    // Every other bib's holdings are there.
    expected_holdings const others{cat, [](std::size_t b, pugi::xml_node) { return b != 5 && b != 9; }};
    CHECK(marc21_difference(others, dir / "out.mrc") == "");
    fs::remove_all(dir);
}

TEST_CASE("the API key never appears in any output, report or message", "[programs][west]") {
    std::size_t const bibs = 60;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-secret");
    write_export(cat, dir / "export.mrc", false);
    {
        std::ofstream k{dir / "key.txt"};
        k << key << "\n";
    }
    auto r = run(west, {"--base-url", server.base_url(), "--api-key-file", "key.txt", "--rate", "1000", "--progress",
                        "-o", "out.mrc", "--errors", "errors.csv", "export.mrc"},
                 {"ALMA_API_KEY="}, dir);
    CHECK(r.status == 1);
    for (auto const& text : {r.err, r.out, slurp(dir / "out.mrc"), slurp(dir / "errors.csv")})
        CHECK(text.find(key) == std::string::npos);
    CHECK(server.counters().key_in_query == 0);
    fs::remove_all(dir);
}

TEST_CASE("usage and configuration errors exit 2 with a message", "[programs][west]") {
    auto dir = marcpipe::testing::scratch_dir("west-usage");
    {
        std::ofstream ids{dir / "ids.txt"};
        ids << "991\n";
    }
    auto no_key = run(west, {"--region", "eu", "ids.txt"}, {"ALMA_API_KEY="}, dir, "a");
    CHECK(no_key.status == 2);
    CHECK(no_key.err.find("ALMA_API_KEY") != std::string::npos);
    auto no_place = run(west, {"ids.txt"}, env_with_key(), dir, "b");
    CHECK(no_place.status == 2);
    CHECK(no_place.err.find("--region") != std::string::npos);
    auto bad_region = run(west, {"--region", "mars", "ids.txt"}, env_with_key(), dir, "c");
    CHECK(bad_region.status == 2);
    CHECK(bad_region.err.find("region 'mars'") != std::string::npos);
    auto plain_http = run(west, {"--base-url", "http://example.org", "ids.txt"}, env_with_key(), dir, "d");
    CHECK(plain_http.status == 2);
    CHECK(plain_http.err.find("http://example.org") != std::string::npos);
    auto unknown = run(west, {"--frobnicate", "ids.txt"}, env_with_key(), dir, "e");
    CHECK(unknown.status == 2);
    CHECK(unknown.err.find("--frobnicate") != std::string::npos);
    auto missing = run(west, {"--region", "na", "no-such-file.mrc"}, env_with_key(), dir, "f");
    CHECK(missing.status == 2);
    CHECK(missing.err.find("no-such-file.mrc") != std::string::npos);
    auto resume_stdout = run(west, {"--region", "na", "--resume", "ids.txt"}, env_with_key(), dir, "g");
    CHECK(resume_stdout.status == 2);
    CHECK(resume_stdout.err.find("--resume") != std::string::npos);
    {
        std::ofstream text{dir / "notes.txt"};
        text << "Holdings to send to WEST this year\n";
    }
    auto not_an_export = run(west, {"--region", "na", "notes.txt"}, env_with_key(), dir, "j");
    CHECK(not_an_export.status == 2);
    CHECK(not_an_export.err.find("notes.txt is neither MARC21, MARCXML nor a list of MMS IDs") != std::string::npos);
    auto help = run(west, {"--help"}, {}, dir, "h");
    CHECK(help.status == 0);
    CHECK(help.out.find("--holdings-source") != std::string::npos);
    auto version = run(west, {"--version"}, {}, dir, "i");
    CHECK(version.status == 0);
    CHECK(version.out.find("west-holdings") != std::string::npos);
    fs::remove_all(dir);
}

TEST_CASE("bulk mode asks for 100 bibs a call and delivers the same holdings", "[programs][west][bulk]") {
    std::size_t const bibs = 250;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-bulk");
    write_export(cat, dir / "export.mrc", false);
    server.reset();
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "--holdings-source", "bibs", "-o", "out.mrc",
                        "--errors", "errors.csv", "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    CHECK(server.counters().requests ==
          static_cast<long>(3 + cat.bulk_mode_lists(false) + cat.deliverable_holdings()));
    fs::remove_all(dir);
}

TEST_CASE("20,000 bibs go through in bounded memory", "[programs][west][slow][memory]") {
    // Far more bibs than every read-ahead window holds, at the fastest --rate a program takes.
    std::size_t const bibs = 20'000;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-memory");
    write_export(cat, dir / "export.mrc", false);
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "--concurrency", "64", "-o", "out.mrc",
                        "--errors", "errors.csv", "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    if (under_asan)
        WARN("peak RSS under AddressSanitizer: " << r.max_rss_kb << " kB (the 64 MB bound is checked without it)");
    else
        CHECK(r.max_rss_kb <= 64 * 1024);
    std::size_t deliverable = cat.deliverable_holdings();
    CHECK(r.err.find(std::to_string(deliverable) + " holdings records written") != std::string::npos);
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == deleted_ids(cat));
    fs::remove_all(dir);
}

namespace {

// The OCLC number rule of the WEST stage, done on the expected XML with plain pugixml: an
// 035 __ $a NUMBER before the first field whose tag sorts after 035, unless an 035 already
// has that $a.
void add_oclc_035(pugi::xml_node record, std::string const& number) {
    pugi::xml_node after;
    for (auto field : record.children()) {
        std::string const tag = field.attribute("tag").value();
        if (tag.empty()) continue;  // the leader
        if (tag == "035" && std::string{field.find_child_by_attribute("subfield", "code", "a").text().get()} == number)
            return;
        if (!after && tag > "035") after = field;
    }
    auto f = after ? record.insert_child_before("datafield", after) : record.append_child("datafield");
    f.append_attribute("tag") = "035";
    f.append_attribute("ind1") = " ";
    f.append_attribute("ind2") = " ";
    auto a = f.append_child("subfield");
    a.append_attribute("code") = "a";
    a.text().set(number.c_str());
}

}  // namespace

TEST_CASE("the README's own tool: serials held by one library, with their bib's OCLC number; kill -9 and --resume",
          "[programs][readme][resume]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "10"})};
    auto dir = marcpipe::testing::scratch_dir("serial-holdings");
    write_export(cat, dir / "export.mrc", false);
    std::string const library = "LAW";
    std::string const tool = MARCPIPE_SERIAL_HOLDINGS;

    // What the tool must write, from the catalogue: leader/07 and 852 $b decide, 035 is added.
    expected_holdings const expected{cat, [&](std::size_t b, pugi::xml_node record) {
        auto const f852 = record.find_child_by_attribute("datafield", "tag", "852");
        if (!cat.serial(b) || std::string{f852.find_child_by_attribute("subfield", "code", "b").text().get()} != library)
            return false;
        if (auto number = cat.oclc_number(b)) add_oclc_035(record, *number);
        return true;
    }};
    REQUIRE(expected.size() >= 5);
    // Lists of every serial bib, then records of all their holdings: the filter on 852 comes after.
    long needed = 0, problems = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (!cat.serial(b)) continue;
        needed += 1 + (cat.deleted(b) ? 0 : static_cast<long>(cat.holdings_count(b)));
        problems += cat.deleted(b) ? 1 : 0;
    }

    std::vector<std::string> const args{server.base_url(), "export.mrc", library, "out.xml"};
    server.reset();
    {
        // Killed once 40 answers are kept, more than can be in flight: often before the first
        // bib is finished, when only the answer log holds what the run achieved.
        marcpipe::testing::child c{tool, args, env_with_key(), dir, "killed"};
        bool const reached = c.wait_until([&] {
            std::ifstream in{dir / "out.xml.answers", std::ios::binary};
            std::string const text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
            return std::count(text.begin(), text.end(), '\n') >= 40;
        });
        c.kill(SIGKILL);
        auto f = c.wait();
        INFO(f.err);
        REQUIRE(reached);
        CHECK(f.status == -SIGKILL);
    }
    auto resume_args = args;
    resume_args.push_back("--resume");
    auto last = run(tool, resume_args, env_with_key(), dir, "resumed");
    INFO(last.err);
    CHECK(last.status == (problems ? 1 : 0));
    CHECK(marcxml_difference(expected, dir / "out.xml") == "");
    CHECK(last.err.find(std::to_string(expected.size()) + " holdings records written") != std::string::npos);
    auto const repeated = server.counters().requests - needed;
    std::printf("serial-holdings: %zu records, %ld calls needed, %ld asked again after kill -9\n", expected.size(),
                needed, repeated);
    CHECK(repeated >= 0);
    CHECK(repeated <= static_cast<long>(marcpipe::net::default_max_in_flight));  // the calls in flight at the kill
    CHECK_FALSE(fs::exists(dir / "out.xml.journal"));
    fs::remove_all(dir);
}

TEST_CASE("the README shows serial-holdings.cpp as it is built", "[readme]") {
    fs::path const root = fs::path{MARCPIPE_SOURCE_ROOT};
    std::string const readme = slurp(root / "README.md");
    std::string const source = slurp(root / "examples" / "serial-holdings.cpp");
    // From the first #include to the end: the part a reader copies.
    std::string const code = source.substr(source.find("#include"));
    CHECK(readme.find(code) != std::string::npos);
}

namespace {
// A report's rows without their last column: Alma (and the emulator) give every answer a
// tracking ID of its own, so a call asked again has a new one.
std::vector<std::string> without_tracking_ids(std::string const& csv) {
    std::vector<std::string> rows = lines(csv);
    for (auto& row : rows) row.resize(row.rfind(','));
    return rows;
}
}  // namespace

TEST_CASE("kill -9 at 20 random moments, each resumed: identical bytes, at most the calls in flight asked again",
          "[programs][west][resume][slow]") {
    std::size_t const bibs = 150;
    std::size_t const concurrency = 8;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "15", "--latency-jitter", "0.5"})};
    auto dir = marcpipe::testing::scratch_dir("west-kill-20");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> const args{"--base-url", server.base_url(), "--rate", "300", "--concurrency",
                                        std::to_string(concurrency), "-o", "out.mrc", "--errors", "errors.csv",
                                        "export.mrc"};
    // The uninterrupted run: its bytes, its calls and how long it takes.
    server.reset();
    auto const started = std::chrono::steady_clock::now();
    auto clean = run(west, args, env_with_key(), dir, "clean");
    double const seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    REQUIRE(clean.status == 1);  // the catalogue's deleted bibs
    REQUIRE(output_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    std::string const clean_bytes = slurp(dir / "out.mrc");
    std::string const clean_report = slurp(dir / "errors.csv");
    long const clean_calls = server.counters().requests;

    // A fixed seed, so that a failure comes back with the same moments; MARCPIPE_KILL_SEED tries others.
    char const* given_seed = std::getenv("MARCPIPE_KILL_SEED");
    std::uint32_t const rng_seed = given_seed ? static_cast<std::uint32_t>(std::stoul(given_seed)) : 20250119;
    std::printf("kill -9 moments drawn with seed %u (MARCPIPE_KILL_SEED)\n", rng_seed);
    INFO("kill moments drawn with seed " << rng_seed);
    std::mt19937 rng{rng_seed};
    std::uniform_real_distribution<double> moment{0.0, seconds};
    long largest = 0;
    int kills = 0;
    for (int k = 0; k < 20; ++k) {
        fs::remove(dir / "out.mrc");
        fs::remove(dir / "errors.csv");
        // A quarter of the kills land in the first tenth of the run, where nothing is finished yet.
        double const at = k % 4 == 0 ? moment(rng) / 10 : moment(rng);
        server.reset();
        {
            marcpipe::testing::child c{west, args, env_with_key(), dir, "kill" + std::to_string(k)};
            std::this_thread::sleep_for(std::chrono::duration<double>{at});
            c.kill(SIGKILL);
            if (c.wait().status != -SIGKILL) continue;  // finished first: nothing to resume
            ++kills;
        }
        auto resume_args = args;
        resume_args.push_back("--resume");
        auto resumed = run(west, resume_args, env_with_key(), dir, "resume" + std::to_string(k));
        INFO("kill " << k << " at " << at << " s: " << resumed.err);
        CHECK(resumed.status == 1);
        CHECK(slurp(dir / "out.mrc") == clean_bytes);
        CHECK(without_tracking_ids(slurp(dir / "errors.csv")) == without_tracking_ids(clean_report));
        long const repeated = server.counters().requests - clean_calls;
        CHECK(repeated <= static_cast<long>(concurrency));
        largest = std::max(largest, repeated);
    }
    CHECK(kills >= 15);  // a busy machine may let a run finish before its moment now and then
    std::printf("kill -9 at 20 random moments of a %.2f s run (%d landed): largest number of calls asked again: %ld "
                "(concurrency %zu)\n", seconds, kills, largest, concurrency);
    fs::remove_all(dir);
}

TEST_CASE("a run that had finished but was stopped before its renames is finished by --resume without a call",
          "[programs][west][resume]") {
    std::size_t const bibs = 60;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--latency-ms", "5"})};
    auto dir = marcpipe::testing::scratch_dir("west-renames");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> const args{"--base-url", server.base_url(), "--rate", "400", "-o",
                                        "out.mrc",    "--errors",        "errors.csv", "export.mrc"};
    // The job line a journal of this job carries, from a run killed once it has written one.
    std::string job_line;
    {
        marcpipe::testing::child c{west, args, env_with_key(), dir, "first"};
        c.wait_until([&] {
            std::ifstream in{dir / "out.mrc.journal", std::ios::binary};  // not there yet: nothing
            std::string const text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
            if (std::count(text.begin(), text.end(), '\n') >= 2) job_line = lines(text)[1];
            return !job_line.empty();
        });
        c.kill(SIGKILL);
        c.wait();
    }
    REQUIRE(job_line.rfind("job ", 0) == 0);
    // Over the killed run's journal: only --restart starts over.
    auto args_restart = args;
    args_restart.push_back("--restart");
    auto clean = run(west, args_restart, env_with_key(), dir, "clean");
    REQUIRE(clean.status == 1);
    std::string const output = slurp(dir / "out.mrc");
    std::string const report = slurp(dir / "errors.csv");
    long const records = static_cast<long>(expected_holdings{cat}.size());
    long const problems = static_cast<long>(lines(report).size()) - 1;

    // The state a run leaves when it is stopped after its last journal line and before renaming.
    fs::rename(dir / "out.mrc", dir / "out.mrc.part");
    fs::rename(dir / "errors.csv", dir / "errors.csv.part");
    {
        std::ofstream j{dir / "out.mrc.journal", std::ios::binary};
        j << "marcpipe-journal 1\n"
          << job_line << "\n"
          << "finished bibs=18446744073709551615 output=" << output.size() << " report=" << report.size()
          << " records=" << records << " problems=" << problems << "\n";
    }
    server.reset();
    auto args_resume = args;
    args_resume.push_back("--resume");
    auto r = run(west, args_resume, env_with_key(), dir, "renames");
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("the run had already finished: " + std::to_string(records) + " records") != std::string::npos);
    CHECK(slurp(dir / "out.mrc") == output);
    CHECK(slurp(dir / "errors.csv") == report);
    CHECK_FALSE(fs::exists(dir / "out.mrc.part"));
    CHECK_FALSE(fs::exists(dir / "out.mrc.journal"));
    CHECK(server.counters().requests == 0);
    fs::remove_all(dir);
}

namespace {

// The rows of a CSV report (its header left out) that contain `text`.
std::vector<std::string> rows_with(std::string const& csv, std::string const& text) {
    std::vector<std::string> out;
    auto rows = lines(csv);
    for (std::size_t i = 1; i < rows.size(); ++i)
        if (rows[i].find(text) != std::string::npos) out.push_back(rows[i]);
    return out;
}

// The first `n` bibs of the catalogue that Alma knows and that have holdings.
std::vector<std::size_t> bibs_with_holdings(catalogue const& cat, std::size_t n) {
    std::vector<std::size_t> out;
    for (std::size_t b = 0; b < cat.size() && out.size() < n; ++b)
        if (!cat.deleted(b) && cat.holdings_count(b) > 0) out.push_back(b);
    return out;
}

}  // namespace

TEST_CASE("a list's lines that are not MMS IDs reach no URL, and a repeated MMS ID is fetched and written once",
          "[programs][west][ids]") {
    std::size_t const bibs = 30;
    catalogue cat{seed, bibs};
    auto const live = bibs_with_holdings(cat, 5);
    REQUIRE(live.size() == 5);
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-id-lines");
    {
        std::ofstream ids{dir / "ids.txt", std::ios::binary};
        ids << "\xEF\xBB\xBF" << cat.mms_id(live[0]) << "\n"  // 1: a byte order mark, dropped
            << "..\n"                                         // 2
            << cat.mms_id(live[1]) << "\n"                    // 3
            << ".\n"                                          // 4
            << "abc\n"                                        // 5
            << " " << cat.mms_id(live[2]) << " \t\r\n"        // 6: blanks around it, dropped
            << "\n"                                           // 7: blank, passed over
            << cat.mms_id(live[3]) << "\n"                    // 8
            << cat.mms_id(live[1]) << "\n"                    // 9: line 3 again
            << cat.mms_id(live[4]) << "\n";                   // 10
    }
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "-o", "out.mrc", "--errors", "errors.csv",
                        "ids.txt"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    auto const seen = server.counters();
    CHECK(seen.get("unknown_paths") == 0);
    CHECK(seen.get("endpoint_other") == 0);
    CHECK(seen.get("endpoint_holdings_list") == 5);  // one list per distinct bib
    auto asked = server.requests();
    for (auto b : live) CHECK(asked["/almaws/v1/bibs/" + cat.mms_id(b) + "/holdings"] == 1);

    auto const report = slurp(dir / "errors.csv");
    INFO(report);
    // One row per stretch of bad lines (lines 4 and 5 are one), one for the repeat, nothing else.
    CHECK(lines(report).size() == 1 + 3);
    for (char const* line : {"line 2 at byte ", "lines 4 to 5: no record from byte "})
        CHECK(rows_with(report, line).size() == 1);
    // The bytes of lines 1 to 8: four IDs with their line ends, the BOM, the blanks around line 6's
    // ID, and lines 2, 4, 5 and 7.
    auto const offset_9 = cat.mms_id(live[0]).size() + cat.mms_id(live[1]).size() + cat.mms_id(live[2]).size() +
                          cat.mms_id(live[3]).size() + 4 + 3 + 4 + 3 + 2 + 4 + 1;
    CHECK(rows_with(report, "line 9 at byte " + std::to_string(offset_9) + ": MMS ID " + cat.mms_id(live[1]) +
                                ", first met on line 3")
              .size() == 1);
    expected_holdings const listed{cat, [&](std::size_t b, pugi::xml_node) {
                                       return std::find(live.begin(), live.end(), b) != live.end();
                                   }};
    CHECK(marc21_difference(listed, dir / "out.mrc") == "");
    fs::remove_all(dir);
}

TEST_CASE("an export whose 001 is not an MMS ID, or repeats one, is reported by record; no URL is built from it",
          "[programs][west][ids]") {
    std::size_t const bibs = 24;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-id-001");
    auto const source = GENERATE(as<std::string>{}, "list", "bibs");
    std::string bytes;
    std::vector<std::size_t> offsets;
    for (std::size_t b = 0; b < bibs; ++b) {
        marc::record r = cat.bib_record(b);
        if (b == 4) r.find("001")->value = "../x";
        if (b == 6) r.find("001")->value = ".";
        if (b == 9) r.find("001")->value = cat.mms_id(2);  // record 3's
        offsets.push_back(bytes.size());
        marc::append_iso2709(r, bytes);
    }
    std::ofstream{dir / "export.mrc", std::ios::binary} << bytes;
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "--holdings-source", source, "-o", "out.mrc",
                        "--errors", "errors.csv", "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(server.counters().get("unknown_paths") == 0);
    CHECK(server.counters().get("endpoint_other") == 0);
    auto const report = slurp(dir / "errors.csv");
    INFO(report);
    auto at = [&](std::size_t b) { return "record " + std::to_string(b + 1) + " at byte " + std::to_string(offsets[b]); };
    CHECK(rows_with(report, at(4) + ": 001 is not an MMS ID: \"\"../x\"\"").size() == 1);
    CHECK(rows_with(report, at(6) + ": 001 is not an MMS ID: \"\".\"\"").size() == 1);
    CHECK(rows_with(report, at(9) + ": repeated MMS ID: " + cat.mms_id(2) + ", first met on record 3").size() == 1);
    CHECK(rows_with(report, "export,").size() == 3);
    expected_holdings const delivered{cat, [](std::size_t b, pugi::xml_node) { return b != 4 && b != 6 && b != 9; }};
    CHECK(marc21_difference(delivered, dir / "out.mrc") == "");
    fs::remove_all(dir);
}

TEST_CASE("a server's holding ID that is not an Alma ID, or a record of another holding, is a problem of its bib",
          "[programs][west][ids]") {
    std::size_t const bibs = 40;
    std::size_t const bad_every = 3, other_every = 4;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs, {"--bad-holding-id-every", std::to_string(bad_every),
                                                  "--other-holding-record-every", std::to_string(other_every)})};
    auto dir = marcpipe::testing::scratch_dir("west-id-answers");
    write_export(cat, dir / "export.mrc", false);
    auto const source = GENERATE(as<std::string>{}, "list", "bibs");
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "--holdings-source", source, "-o", "out.mrc",
                        "--errors", "errors.csv", "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(server.counters().get("unknown_paths") == 0);
    CHECK(server.counters().get("endpoint_other") == 0);
    auto const report = slurp(dir / "errors.csv");
    INFO(report);
    std::size_t bad_lists = 0, other_records = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (cat.deleted(b)) continue;
        if (b % bad_every == 0 && cat.holdings_count(b) > 0) {
            ++bad_lists;
            CHECK(rows_with(report, "holdings-list," + cat.mms_id(b) + ",..,200,,").size() == 1);
        }
        if (b % other_every == 0) {
            other_records += cat.holdings_count(b);
            for (std::size_t h = 0; h < cat.holdings_count(b); ++h)
                CHECK(rows_with(report, "holding-record," + cat.mms_id(b) + "," + cat.holding_id(b, h) +
                                            ",200,,\"the answer is the record of holding ID \"\"" +
                                            cat.holding_id(b, h + 1) + "\"\"")
                          .size() == 1);
        }
    }
    REQUIRE(bad_lists > 2);
    REQUIRE(other_records > 2);
    CHECK(rows_with(report, "holdings-list,").size() == bad_lists + deleted_ids(cat).size());
    CHECK(rows_with(report, "holding-record,").size() == other_records);
    // The other holdings of a bib whose list named ".." are delivered.
    expected_holdings const delivered{cat, [&](std::size_t b, pugi::xml_node) { return b % other_every != 0; }};
    CHECK(marc21_difference(delivered, dir / "out.mrc") == "");
    fs::remove_all(dir);
}

TEST_CASE("a run stopped and resumed still fetches and writes a repeated MMS ID once, and reports it once",
          "[programs][west][ids][resume]") {
    // The repeats come after the point where the first run stops; their first places come before
    // it. The resumed run must know those first places without asking Alma again.
    std::size_t const bibs = 60, repeated = 10;
    catalogue cat{seed, bibs};
    auto dir = marcpipe::testing::scratch_dir("west-id-resume");
    {
        std::ofstream ids{dir / "ids.txt", std::ios::binary};
        for (std::size_t b = 0; b < bibs; ++b) ids << cat.mms_id(b) << "\n";
        for (std::size_t b = 0; b < repeated; ++b) ids << cat.mms_id(b) << "\n";
    }
    std::vector<std::string> args{"--rate", "1000", "--concurrency", "4", "-o", "out.mrc", "--errors", "errors.csv",
                                  "ids.txt"};
    // One emulator for both days: a resumed run must ask the same Alma; a reset is the next day.
    emulator_process alma{emulator_flags(bibs, {"--daily", "70"})};
    args.insert(args.begin(), {"--base-url", alma.base_url()});
    {
        auto first = run(west, args, env_with_key(), dir, "first");
        INFO(first.err);
        REQUIRE(first.status == 3);
    }
    alma.reset();
    alma.configure({{"daily", "0"}});
    args.push_back("--resume");
    auto second = run(west, args, env_with_key(), dir, "second");
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    auto const report = slurp(dir / "errors.csv");
    INFO(report);
    for (std::size_t b = 0; b < repeated; ++b)
        CHECK(rows_with(report, "line " + std::to_string(bibs + b + 1) + " at byte ").size() == 1);
    CHECK(rows_with(report, ", first met on line ").size() == repeated);
    CHECK(rows_with(report, "export,").size() == repeated);
    auto asked = alma.requests();
    for (std::size_t b = 0; b < repeated; ++b) CHECK(asked["/almaws/v1/bibs/" + cat.mms_id(b) + "/holdings"] == 0);
    fs::remove_all(dir);
}

// ---- bulk mode's gaps and the daily quota ---------------------------------------------------

namespace {


// Calls a run makes in list mode for the catalogue's first `n` bibs: one list call per bib, one
// call per holding of each live bib.
long list_mode_calls(catalogue const& cat, std::size_t n) {
    long calls = 0;
    for (std::size_t b = 0; b < n; ++b) calls += 1 + (cat.deleted(b) ? 0 : static_cast<long>(cat.holdings_count(b)));
    return calls;
}

}  // namespace

TEST_CASE("bulk mode on availability with gaps gives list mode's bytes with fewer calls", "[programs][west][bulk]") {
    std::size_t const bibs = 400;
    catalogue cat{seed, bibs, 0, 0.1};
    // The gaps this test is about are all there (and without an institution code, availability
    // vouches for nothing).
    REQUIRE(cat.bibs_availability_leaves_open(true) < cat.bibs_availability_leaves_open(false));
    std::size_t temporary = 0, no_items = 0, related = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        temporary += cat.gap(b) == catalogue::availability_gap::temporary_location;
        no_items += cat.gap(b) == catalogue::availability_gap::no_items;
        related += cat.related_record_availability(b).has_value();
    }
    REQUIRE(temporary > 0);
    REQUIRE(no_items > 0);
    REQUIRE(related > 0);
    emulator_process server{emulator_flags(bibs, {"--availability-gaps", "0.1"})};
    auto dir = marcpipe::testing::scratch_dir("west-bulk-gaps");
    write_export(cat, dir / "export.mrc", false);
    auto west_run = [&](std::string const& out, std::vector<std::string> more) {
        std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "1000", "-o", out,
                                      "--errors", out + ".csv", "export.mrc"};
        args.insert(args.end(), more.begin(), more.end());
        server.reset();
        auto r = run(west, args, env_with_key(), dir, out);
        INFO(r.err);
        CHECK(r.status == 1);  // the deleted bibs
        CHECK(report_mms_ids(slurp(dir / (out + ".csv"))) == deleted_ids(cat));
        return std::make_pair(r, server.counters().requests);
    };
    auto [list, list_calls] = west_run("list.mrc", {});
    auto [bulk, bulk_calls] = west_run("bulk.mrc", {"--holdings-source", "bibs"});
    auto [own, own_calls] =
        west_run("own.mrc", {"--holdings-source", "bibs", "--institution", cat.availability_institution()});

    CHECK(marc21_difference(expected_holdings{cat}, dir / "list.mrc") == "");
    CHECK(slurp(dir / "bulk.mrc") == slurp(dir / "list.mrc"));
    CHECK(slurp(dir / "own.mrc") == slurp(dir / "list.mrc"));
    long const holdings = static_cast<long>(cat.deliverable_holdings());
    long const groups = static_cast<long>((bibs + 99) / 100);
    CHECK(list_calls == static_cast<long>(bibs) + holdings);
    CHECK(bulk_calls == groups + static_cast<long>(cat.bulk_mode_lists(false)) + holdings);
    CHECK(own_calls == groups + static_cast<long>(cat.bulk_mode_lists(true)) + holdings);
    // Without --institution no AVA can say it is this institution's: bulk mode saves calls only with it.
    CHECK(own_calls < list_calls);
    CHECK(bulk.err.find(std::to_string(cat.bulk_mode_lists(false)) +
                        " bibs asked for their holdings list") != std::string::npos);
    CHECK(own.err.find(std::to_string(cat.bulk_mode_lists(true)) +
                       " bibs asked for their holdings list") != std::string::npos);
    CHECK(list.err.find("asked for their holdings list") == std::string::npos);
    std::printf("bulk vs list on a catalogue with gaps (%zu bibs, %ld holdings): list %ld calls, bibs %ld calls "
                "(%zu bibs listed), bibs --institution %ld calls (%zu listed)\n",
                bibs, holdings, list_calls, bulk_calls, cat.bibs_availability_leaves_open(false), own_calls,
                cat.bibs_availability_leaves_open(true));
    fs::remove_all(dir);
}

TEST_CASE("--dry-run estimates the calls of a run from availability alone", "[programs][west][quota]") {
    std::size_t const bibs = 250;
    long const daily = 100'000;
    auto gaps = GENERATE(std::string{"0"}, std::string{"0.1"});
    INFO("--availability-gaps " << gaps);
    catalogue cat{seed, bibs, 0, std::stod(gaps)};
    emulator_process server{emulator_flags(bibs, {"--availability-gaps", gaps, "--daily", std::to_string(daily)})};
    auto dir = marcpipe::testing::scratch_dir("west-dry-run");
    write_export(cat, dir / "export.mrc", false);
    // With the institution, whose AVA the estimate may take for the run's holdings.
    std::vector<std::string> const base{"--base-url", server.base_url(),           "--rate", "1000",
                                        "--institution", cat.availability_institution(), "export.mrc"};
    auto with = [&](std::vector<std::string> more) {
        more.insert(more.begin(), base.begin(), base.end());
        return more;
    };

    auto dry = run(west, with({"--dry-run"}), env_with_key(), dir, "dry");
    INFO(dry.out << dry.err);
    CHECK(dry.status == 0);
    long const groups = static_cast<long>((bibs + 99) / 100);
    auto seen = server.counters();
    CHECK(seen.requests == groups);
    CHECK(seen.get("endpoint_bibs") == groups);
    CHECK(dry_run_value(dry.out, "bibs") == static_cast<long>(bibs));
    CHECK(dry_run_value(dry.out, "bibs Alma no longer knows") == static_cast<long>(deleted_ids(cat).size()));
    CHECK(dry_run_value(dry.out, "bibs whose availability cannot vouch for their holdings") ==
          static_cast<long>(cat.bibs_availability_leaves_open(true)));
    CHECK(dry_run_value(dry.out, "calls left today") == daily - groups);
    CHECK(dry_run_value(dry.out, "calls to keep") == (daily - groups + 9) / 10);
    long const list_estimate = dry_run_value(dry.out, "calls a full run needs, --holdings-source list");
    long const bulk_estimate = dry_run_value(dry.out, "calls a full run needs, --holdings-source bibs");

    server.reset();
    auto list = run(west, with({"-o", "list.mrc"}), env_with_key(), dir, "list");
    CHECK(list.status == 1);
    long const list_calls = server.counters().requests;
    server.reset();
    auto bulk = run(west, with({"-o", "bulk.mrc", "--holdings-source", "bibs"}), env_with_key(), dir, "bulk");
    CHECK(bulk.status == 1);
    long const bulk_calls = server.counters().requests;
    CHECK(list_calls == list_mode_calls(cat, bibs));
    if (gaps == "0") {
        // Every holding has an AVA with $8: the only bibs left open have no holdings at all,
        // whose cost the estimate knows.
        CHECK(list_estimate == list_calls);
        CHECK(bulk_estimate == bulk_calls);
    } else {
        CHECK(list_estimate < list_calls);  // holdings availability cannot see are missing from it
        CHECK(bulk_estimate < bulk_calls);
    }
    CHECK(list_estimate <= list_calls);
    CHECK(bulk_estimate <= bulk_calls);
    std::printf("--dry-run (gaps %s): estimate list %ld / bibs %ld calls; the runs made list %ld / bibs %ld\n",
                gaps.c_str(), list_estimate, bulk_estimate, list_calls, bulk_calls);
    fs::remove_all(dir);
}

// west-holdings --west UCB, dated 20260401, into dir/NAME/; `input` says what to read.
marcpipe::testing::finished west_preset_run(emulator_process const& server, fs::path const& dir,
                                            std::string const& name, std::vector<std::string> const& input) {
    fs::create_directories(dir / name);
    auto env = env_with_key();
    env.push_back("MARCPIPE_TODAY=20260401");
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "1000", "--west", "UCB", "-o", name + "/"};
    args.insert(args.end(), input.begin(), input.end());
    return run(west, args, env, dir, name);
}

TEST_CASE("--dry-run with --west from a list counts the calls for the bibs' records", "[programs][west][quota][west-preset]") {
    // No availability gaps: the estimate is exact, so it must equal the calls the run makes.
    std::size_t const bibs = 250;
    catalogue cat{seed, bibs, 0, 0.0};
    emulator_process server{emulator_flags(bibs, {"--availability-gaps", "0"})};
    auto dir = marcpipe::testing::scratch_dir("west-dry-run-list");
    write_id_list(cat, dir / "ids.txt");
    auto dry = west_preset_run(server, dir, "dry", {"--dry-run", "--institution", cat.availability_institution(), "ids.txt"});
    INFO(dry.out << dry.err);
    CHECK(dry.status == 0);
    long const estimate = dry_run_value(dry.out, "calls a full run needs, --holdings-source list");
    server.reset();
    auto full = west_preset_run(server, dir, "full", {"ids.txt"});
    INFO(full.err);
    CHECK(full.status == 1);
    long const made = server.counters().requests;
    // The records: one call per 100 bibs, on top of what a run without --west makes.
    CHECK(made == list_mode_calls(cat, bibs) + static_cast<long>((bibs + 99) / 100));
    CHECK(estimate == made);
    fs::remove_all(dir);
}

TEST_CASE("--dry-run exits 3 and says how many bibs fit when today's calls do not suffice", "[programs][west][quota]") {
    std::size_t const bibs = 250;
    long const daily = 300;
    catalogue cat{seed, bibs, 0, 0};
    emulator_process server{emulator_flags(bibs, {"--availability-gaps", "0", "--daily", std::to_string(daily)})};
    auto dir = marcpipe::testing::scratch_dir("west-dry-run-short");
    write_export(cat, dir / "export.mrc", false);
    auto dry = run(west, {"--base-url", server.base_url(), "--dry-run", "--institution", cat.availability_institution(),
                          "export.mrc"},
                   env_with_key(), dir);
    INFO(dry.out << dry.err);
    CHECK(dry.status == 3);
    long const left = daily - 3;
    long const budget = left - (left + 9) / 10;
    std::size_t fit = 0;
    while (fit < bibs && list_mode_calls(cat, fit + 1) <= budget) ++fit;
    CHECK(dry.out.find("the first " + std::to_string(fit) + " of " + std::to_string(bibs) + " bibs would fit") !=
          std::string::npos);
    CHECK(server.counters().get("daily_threshold") == 0);

    auto enough = run(west, {"--base-url", server.base_url(), "--dry-run", "--keep-calls", "0", "--holdings-source",
                             "bibs", "--institution", cat.availability_institution(), "--max-attempts", "1", "export.mrc"},
                      env_with_key(), dir, "enough");
    INFO(enough.out << enough.err);
    // Bulk mode needs a call per 100 bibs, a holdings list for each bib whose availability cannot
    // vouch for its holdings (here: the bibs without holdings) and for each bib the bulk answer
    // leaves out (the deleted ones), and one per holding: more than the 294 calls left.
    long const bulk_needed = static_cast<long>((bibs + 99) / 100 + cat.bulk_mode_lists(true) +
                                               cat.deliverable_holdings());
    CHECK(dry_run_value(enough.out, "calls a full run needs, --holdings-source bibs") == bulk_needed);
    CHECK(bulk_needed > daily - 6);
    CHECK(enough.status == 3);
    fs::remove_all(dir);
}

TEST_CASE("--keep-calls stops the run before the day's last calls, and --resume finishes it", "[programs][west][quota][resume]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    long const needed = list_mode_calls(cat, bibs);
    long const daily = needed / 2 + 60;  // half the run fits, and the 60 calls to keep
    long const keep = 60;
    emulator_process server{emulator_flags(bibs, {"--daily", std::to_string(daily), "--latency-ms", "5"})};
    auto dir = marcpipe::testing::scratch_dir("west-keep-calls");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate",     "1000",       "--concurrency",
                                  "8",          "-o",              "out.mrc",    "--errors",   "errors.csv",
                                  "--keep-calls", std::to_string(keep),        "export.mrc"};

    // An undisturbed run, for the bytes to compare with.
    fs::create_directory(dir / "whole");
    fs::copy_file(dir / "export.mrc", dir / "whole" / "export.mrc");
    server.configure({{"daily", "0"}});
    auto whole = run(west, args, env_with_key(), dir / "whole", "whole");
    REQUIRE(whole.status == 1);

    server.configure({{"daily", std::to_string(daily)}});
    server.reset();
    auto first = run(west, args, env_with_key(), dir, "first");
    INFO(first.err);
    CHECK(first.status == 3);
    auto seen = server.counters();
    CHECK(seen.get("daily_threshold") == 0);
    CHECK(seen.get("daily_used") <= daily - keep);
    CHECK(seen.get("daily_used") >= daily - keep - 8 - 1);  // it went as far as the floor allows
    CHECK(first.err.find("--resume") != std::string::npos);
    CHECK(first.err.find("day rolls over") != std::string::npos);
    CHECK(first.err.find("bibs finished and saved") != std::string::npos);
    CHECK(fs::exists(dir / "out.mrc.journal"));
    CHECK_FALSE(fs::exists(dir / "out.mrc"));

    // Alma's day rolls over: the quota is back.
    server.configure({{"daily", std::to_string(10 * needed)}});
    server.reset();
    args.push_back("--resume");
    auto last = run(west, args, env_with_key(), dir, "last");
    INFO(last.err);
    CHECK(last.status == 1);
    CHECK(server.counters().get("daily_threshold") == 0);
    CHECK(slurp(dir / "out.mrc") == slurp(dir / "whole" / "out.mrc"));
    CHECK(report_mms_ids(slurp(dir / "errors.csv")) == report_mms_ids(slurp(dir / "whole" / "errors.csv")));
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    std::printf("--keep-calls %ld with %ld calls a day: stopped after %ld calls, no DAILY_THRESHOLD; --resume "
                "finished\n",
                keep, daily, seen.get("daily_used"));
    fs::remove_all(dir);
}

TEST_CASE("without --keep-calls a tenth of the day's calls is kept", "[programs][west][quota]") {
    std::size_t const bibs = 120;
    catalogue cat{seed, bibs};
    long const daily = list_mode_calls(cat, bibs) / 2;
    emulator_process server{emulator_flags(bibs, {"--daily", std::to_string(daily)})};
    auto dir = marcpipe::testing::scratch_dir("west-keep-default");
    write_export(cat, dir / "export.mrc", false);
    auto r = run(west, {"--base-url", server.base_url(), "--rate", "1000", "--concurrency", "8", "-o", "out.mrc",
                        "export.mrc"},
                 env_with_key(), dir);
    INFO(r.err);
    CHECK(r.status == 3);
    auto seen = server.counters();
    CHECK(seen.get("daily_threshold") == 0);
    // A tenth of what the first answer said was left; up to 8 calls (--concurrency, within the
    // first second's 1000) may have been counted before it.
    long const kept_least = (daily - 8 + 9) / 10, kept_most = (daily + 9) / 10;
    CHECK(seen.get("daily_used") <= daily - kept_least);
    CHECK(seen.get("daily_used") >= daily - kept_most - 8 - 1);
    fs::remove_all(dir);
}

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
    for (auto const& row : lines(csv)) {
        if (row.rfind("west-check,", 0) != 0) continue;
        std::vector<std::string> cols;
        std::istringstream in{row};
        for (std::string c; std::getline(in, c, ',');) cols.push_back(c);
        out.push_back(cols.at(2) + " " + cols.at(5).substr(0, cols.at(5).find(':')));
    }
    return out;
}

std::string set_of(catalogue const& cat, marcpipe::emulator::set_kind k) { return marcpipe::emulator::set_id(cat, k); }

}  // namespace

TEST_CASE("--west writes SYMBOL.alma.archived.DATE.mrc: 583 holdings with the bib's OCLC number, failures reported and kept",
          "[programs][west][west-preset]") {
    std::size_t const bibs = 400;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-preset");
    write_export(cat, dir / "export.mrc", false);
    fs::create_directories(dir / "out");
    auto const strict = GENERATE(false, true);
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "1000", "--west", "UCB", "-o", "out/",
                                  "--errors", "errors.csv", "export.mrc"};
    if (strict) args.push_back("--west-strict");
    auto env = env_with_key();
    env.push_back("MARCPIPE_TODAY=20260315");
    auto r = run(west, args, env, dir);
    INFO(r.err);
    CHECK(r.status == 1);
    fs::path const file = dir / "out" / "UCB.alma.archived.20260315.mrc";
    REQUIRE(fs::exists(file));
    CHECK(std::distance(fs::directory_iterator{dir / "out"}, fs::directory_iterator{}) == 1);

    west_expectation w;
    auto const expected = west_expected(cat, w, strict);
    CHECK(marc21_difference(expected, file) == "");
    // The catalogue has failures of every kind among its 583 holdings, and mostly passing ones.
    CHECK(w.failing.size() >= 4);
    CHECK(w.failing.size() * 5 < expected.size() + (strict ? w.failing.size() : 0));
    CHECK(west_rows(slurp(dir / "errors.csv")) == w.rows);
    fs::remove_all(dir);
}

TEST_CASE("--west resumed on a later day finishes the file dated the day the run started", "[programs][west][west-preset][resume]") {
    std::size_t const bibs = 200;
    catalogue cat{seed, bibs};
    auto dir = marcpipe::testing::scratch_dir("west-preset-resume");
    write_export(cat, dir / "export.mrc", false);
    std::vector<std::string> args{"--rate", "1000", "--concurrency", "4", "--west", "UCB", "--errors", "errors.csv",
                                  "export.mrc"};
    // One emulator for both days: a resumed run must ask the same Alma; a reset is the next day.
    emulator_process alma{emulator_flags(bibs, {"--daily", "150"})};
    {
        auto first_args = args;
        first_args.insert(first_args.begin(), {"--base-url", alma.base_url()});
        auto env = env_with_key();
        env.push_back("MARCPIPE_TODAY=20260315");
        auto first = run(west, first_args, env, dir, "first");
        INFO(first.err);
        REQUIRE(first.status == 3);
        CHECK(fs::exists(dir / "UCB.alma.archived.20260315.mrc.journal"));
    }
    alma.reset();
    alma.configure({{"daily", "0"}});
    args.insert(args.begin(), {"--base-url", alma.base_url(), "--resume"});
    auto env = env_with_key();
    env.push_back("MARCPIPE_TODAY=20260316");
    auto second = run(west, args, env, dir, "second");
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    west_expectation w;
    CHECK(marc21_difference(west_expected(cat, w, false), dir / "UCB.alma.archived.20260315.mrc") == "");
    CHECK_FALSE(fs::exists(dir / "UCB.alma.archived.20260316.mrc"));
    CHECK_FALSE(fs::exists(dir / "UCB.alma.archived.20260315.mrc.journal"));
    CHECK(west_rows(slurp(dir / "errors.csv")) == w.rows);
    fs::remove_all(dir);
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
    fs::remove_all(dir);
}

TEST_CASE("--set reads a set of bibs page by page: the same output as a list of its MMS IDs", "[programs][west][set]") {
    std::size_t const bibs = 400;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-set");
    using marcpipe::emulator::set_kind;
    auto const ids = marcpipe::emulator::set_mms_ids(cat, set_kind::slice);
    REQUIRE(ids.size() > 100);  // more than one page
    {
        std::ofstream list{dir / "ids.txt"};
        for (auto const& id : ids) list << id << "\n";
    }
    auto from_list = run(west, {"--base-url", server.base_url(), "--rate", "1000", "-o", "list.mrc", "--errors",
                                "list.csv", "ids.txt"},
                         env_with_key(), dir, "list");
    INFO(from_list.err);
    server.reset();
    auto from_set = run(west, {"--base-url", server.base_url(), "--rate", "1000", "-o", "set.mrc", "--errors",
                               "set.csv", "--set", set_of(cat, set_kind::slice)},
                        env_with_key(), dir, "set");
    INFO(from_set.err);
    CHECK(from_set.status == from_list.status);
    CHECK(slurp(dir / "set.mrc") == slurp(dir / "list.mrc"));
    // The same rows; only the emulator's tracking IDs differ from call to call.
    CHECK(report_mms_ids(slurp(dir / "set.csv")) == report_mms_ids(slurp(dir / "list.csv")));
    CHECK_FALSE(report_mms_ids(slurp(dir / "set.csv")).empty());  // the slice has deleted bibs
    auto const seen = server.counters();
    CHECK(seen.get("endpoint_set") == 1);
    CHECK(seen.get("endpoint_set_members") == static_cast<long>((ids.size() + 99) / 100));
    CHECK_FALSE(fs::exists(dir / "set.mrc.set-members"));  // gone once the run has finished
    // Every bib of the slice (every third bib from the second) and no other.
    expected_holdings const slice{cat, [](std::size_t b, pugi::xml_node) { return b % 3 == 1; }};
    CHECK(marc21_difference(slice, dir / "set.mrc") == "");
    fs::remove_all(dir);
}

TEST_CASE("--set of items or of no set is refused with exit 2 before any holdings call", "[programs][west][set]") {
    std::size_t const bibs = 100;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-set-refused");
    using marcpipe::emulator::set_kind;
    for (std::string const& set : {set_of(cat, set_kind::items), std::string{"11999999999990000"}}) {
        auto r = run(west, {"--base-url", server.base_url(), "-o", "out.mrc", "--set", set}, env_with_key(), dir);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("set " + set) != std::string::npos);
        CHECK_FALSE(fs::exists(dir / "out.mrc"));
        CHECK_FALSE(fs::exists(dir / "out.mrc.journal"));
    }
    auto const seen = server.counters();
    CHECK(seen.get("endpoint_holdings_list") == 0);
    CHECK(seen.get("endpoint_holding") == 0);
    CHECK(seen.get("endpoint_bibs") == 0);
    CHECK(seen.get("endpoint_set") == 2);
    fs::remove_all(dir);
}

TEST_CASE("--set resumed reads the members saved by the first run and asks nothing about the set",
          "[programs][west][set][resume]") {
    std::size_t const bibs = 300;
    catalogue cat{seed, bibs};
    auto dir = marcpipe::testing::scratch_dir("west-set-resume");
    using marcpipe::emulator::set_kind;
    std::vector<std::string> args{"--rate", "1000", "--concurrency", "4", "-o", "out.mrc", "--errors", "errors.csv",
                                  "--set", set_of(cat, set_kind::all_bibs)};
    // One emulator for both days: a resumed run must ask the same Alma; a reset is the next day.
    emulator_process alma{emulator_flags(bibs, {"--daily", "150"})};
    {
        auto first_args = args;
        first_args.insert(first_args.begin(), {"--base-url", alma.base_url()});
        auto first = run(west, first_args, env_with_key(), dir, "first");
        INFO(first.err);
        REQUIRE(first.status == 3);
        CHECK(fs::exists(dir / "out.mrc.set-members"));
    }
    alma.reset();
    alma.configure({{"daily", "0"}});
    args.insert(args.begin(), {"--base-url", alma.base_url(), "--resume"});
    auto second = run(west, args, env_with_key(), dir, "second");
    INFO(second.err);
    // The set holds no deleted bibs, so nothing is lost.
    CHECK(second.status == 0);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    CHECK(marc21_difference(expected_holdings{cat}, dir / "out.mrc") == "");
    auto const seen = alma.counters();
    CHECK(seen.get("endpoint_set") == 0);
    CHECK(seen.get("endpoint_set_members") == 0);
    CHECK_FALSE(fs::exists(dir / "out.mrc.set-members"));
    fs::remove_all(dir);
}

TEST_CASE("--west with --set fetches the bibs' records, so the file is the one the export gives", "[programs][west][set][west-preset]") {
    std::size_t const bibs = 250;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-set-preset");
    write_export(cat, dir / "export.mrc", false);
    auto from_export = west_preset_run(server, dir, "from-export", {"export.mrc"});
    INFO(from_export.err);
    CHECK(from_export.status == 1);
    server.reset();
    auto const set = set_of(cat, marcpipe::emulator::set_kind::all_bibs);
    auto from_set = west_preset_run(server, dir, "from-set", {"--errors", "errors.csv", "--set", set});
    INFO(from_set.err);
    CHECK(from_set.status == 1);
    std::string const name = "UCB.alma.archived.20260401.mrc";
    // The set leaves out the bibs deleted since the export, which have no holdings to write.
    CHECK(slurp(dir / "from-set" / name) == slurp(dir / "from-export" / name));
    west_expectation w;
    CHECK(marc21_difference(west_expected(cat, w, false), dir / "from-set" / name) == "");
    CHECK(west_rows(slurp(dir / "errors.csv")) == w.rows);
    auto const members = marcpipe::emulator::set_mms_ids(cat, marcpipe::emulator::set_kind::all_bibs);
    CHECK(server.counters().get("endpoint_bibs") == static_cast<long>((members.size() + 99) / 100));
    CHECK_FALSE(fs::exists(dir / "from-set" / (name + ".set-members")));
    fs::remove_all(dir);
}

TEST_CASE("--west with a list of MMS IDs fetches the bibs' records, 100 a call: the file the export gives",
          "[programs][west][west-preset]") {
    std::size_t const bibs = 250;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("west-list-preset");
    write_export(cat, dir / "export.mrc", false);
    write_id_list(cat, dir / "ids.txt");
    auto from_export = west_preset_run(server, dir, "from-export", {"export.mrc"});
    INFO(from_export.err);
    CHECK(from_export.status == 1);
    CHECK(server.counters().get("endpoint_bibs") == 0);  // an export brings its bibs' records
    server.reset();
    auto from_list = west_preset_run(server, dir, "from-list", {"--errors", "errors.csv", "ids.txt"});
    INFO(from_list.err);
    CHECK(from_list.status == 1);
    std::string const name = "UCB.alma.archived.20260401.mrc";
    CHECK(slurp(dir / "from-list" / name) == slurp(dir / "from-export" / name));
    west_expectation w;
    CHECK(marc21_difference(west_expected(cat, w, false), dir / "from-list" / name) == "");
    CHECK(west_rows(slurp(dir / "errors.csv")) == w.rows);
    CHECK(server.counters().get("endpoint_bibs") == static_cast<long>((bibs + 99) / 100));
    fs::remove_all(dir);
}

TEST_CASE("holdings-ids --set lists the holdings of a set's bibs as it does from their IDs", "[programs][set]") {
    std::size_t const bibs = 300;
    catalogue cat{seed, bibs};
    emulator_process server{emulator_flags(bibs)};
    auto dir = marcpipe::testing::scratch_dir("holdings-ids-set");
    using marcpipe::emulator::set_kind;
    {
        std::ofstream list{dir / "ids.txt"};
        for (auto const& id : marcpipe::emulator::set_mms_ids(cat, set_kind::slice)) list << id << "\n";
    }
    auto from_list = run(MARCPIPE_HOLDINGS_IDS, {"--base-url", server.base_url(), "--rate", "1000", "ids.txt"},
                         env_with_key(), dir, "list");
    auto from_set = run(MARCPIPE_HOLDINGS_IDS,
                        {"--base-url", server.base_url(), "--rate", "1000", "--set", set_of(cat, set_kind::slice)},
                        env_with_key(), dir, "set");
    INFO(from_set.err);
    CHECK(from_set.status == from_list.status);
    CHECK(from_set.out == from_list.out);
    std::string expected;
    for (std::size_t b = 1; b < bibs; b += 3)
        if (!cat.deleted(b))
            for (auto const& h : cat.holding_ids(b)) expected += h + "\t" + cat.mms_id(b) + "\n";
    CHECK(from_set.out == expected);
    auto refused = run(MARCPIPE_HOLDINGS_IDS,
                       {"--base-url", server.base_url(), "--set", set_of(cat, set_kind::items)}, env_with_key(), dir,
                       "refused");
    CHECK(refused.status == 2);
    CHECK(refused.out.empty());
    // No members file is left behind in the temporary directory.
    for (auto const& e : fs::directory_iterator{fs::temp_directory_path()})
        CHECK(e.path().filename().string().rfind("holdings-ids-set-", 0) != 0);
    fs::remove_all(dir);
}
