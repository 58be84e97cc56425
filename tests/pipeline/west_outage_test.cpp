// west-holdings while Alma is away: for less than --patience nothing is lost or reported; for
// longer the run stops naming what failed, and --resume finishes it.
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

// west-holdings at 300 calls a second, 8 at a time, with `more`, over the export into out.mrc.
std::vector<std::string> outage_args(west_setting const& s, std::vector<std::string> more) {
    std::vector<std::string> args{"--base-url", s.server.base_url(), "--rate",
                                  "300",        "--concurrency",     "8"};
    args.insert(args.end(), more.begin(), more.end());
    args.insert(args.end(), {"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"});
    return args;
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
    west_setting s{"west-outage", bibs, {"--latency-ms", "15"}};
    auto d = GENERATE(
        disturbance{
            "refused", {{"connections", "refuse"}}, "calls_refused", {{"connections", "serve"}}},
        disturbance{
            "dropped", {{"connections", "drop"}}, "calls_dropped", {{"connections", "serve"}}},
        disturbance{
            "503 storm", {{"fault-rate-503", "1"}}, "fault_503", {{"fault-rate-503", "0"}}});
    // Max attempts 2: were a failure of the network counted against a bib, the bib would be lost.
    child c{west, outage_args(s, {"--max-attempts", "2"}), env_with_key(), s.dir, "run"};
    bool const started = reached_bibs(c, s.dir / "out.mrc.journal", 50);
    s.server.configure(d.away);
    // Away until every call in flight met it, and then some seconds more.
    bool const met = c.wait_until([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds{20});
        return s.server.counters().get(d.counter) >= 8;
    });
    std::this_thread::sleep_for(std::chrono::seconds{3});
    s.server.configure(d.back);
    auto r = c.wait();
    INFO(d.name << ": " << r.err);
    REQUIRE(started);
    CHECK(met);
    // Only the catalogue's deleted bibs reported: no row for a refused, dropped or failed call.
    check_whole_export(s, r, s.dir / "out.mrc");
}

TEST_CASE("Alma away for longer than --patience: exit 3 naming what failed; --resume finishes identically",
          "[programs][west][outage][resume]") {
    std::size_t const bibs = 200;
    west_setting s{"west-patience", bibs, {"--latency-ms", "15"}};
    auto args = outage_args(s, {"--patience", "3s"});
    auto const first = stopped_midway(s, args, s.dir / "out.mrc", 50, {{"connections", "refuse"}});
    check_stopped_for_resume(first, "no call has succeeded for 3s", s.dir / "out.mrc");
    INFO(first.err);
    CHECK(first.err.find("onnect") != std::string::npos);  // curl's "Couldn't connect" or a reset
    CHECK(s.server.counters().get("calls_refused") > 0);

    s.server.configure({{"connections", "serve"}});
    args.push_back("--resume");
    check_whole_export(s, run(west, args, env_with_key(), s.dir, "second"), s.dir / "out.mrc");
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
}
