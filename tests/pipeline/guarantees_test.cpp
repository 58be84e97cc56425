// The README's headline guarantees, checked where users meet them, through west-holdings: at its
// default rate it keeps under Alma's 25 calls a second; and however a run is stopped (the daily
// threshold, a refused key, --patience, SIGTERM, SIGINT, SIGHUP) the resumed run asks again at
// most the calls that were in flight and writes the bytes an uninterrupted run writes. What the
// server saw comes from the emulator's counters and request log, not from the program.
#include <catalogue.hpp>
#include <launcher.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "catch.hpp"
#include "expected_holdings.hpp"
#include "program.hpp"
#include "west_setting.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace guarantees_test {

namespace fs = std::filesystem;
using marcpipe::testing::expected_holdings;
using marcpipe::testing::marc21_difference;
using marcpipe::testing::run;
using marcpipe::testing::slurp;
using marcpipe::testing::west_setting;

namespace {

std::string const west = MARCPIPE_WEST_HOLDINGS;
std::vector<std::string> const env{std::string{"ALMA_API_KEY="} + marcpipe::testing::test_api_key};

// How many of the calls in `second` had been asked for in `first` too (counted as often as the
// second run asked them): what a resumed run asked again.
long asked_again(std::map<std::string, long> const& first, std::map<std::string, long> const& second) {
    long n = 0;
    for (auto const& [resource, times] : second)
        if (first.count(resource)) n += times;
    return n;
}

// How many calls the request log holds: those that passed the gateway (key, thresholds).
long calls(std::map<std::string, long> const& asked) {
    long n = 0;
    for (auto const& entry : asked) n += entry.second;
    return n;
}

// One way to stop a run: what the test does once the run has made its first calls, the words the
// run's message must hold, and what the test undoes before the resumed run.
struct stop_kind {
    char const* name;
    std::vector<std::string> more_args;
    std::function<void(marcpipe::emulator::emulator_process const&, marcpipe::testing::child&)> stop;
    char const* said;
    std::map<std::string, std::string> undo;
};

}  // namespace

TEST_CASE("at its default rate west-holdings keeps under Alma's 25 calls a second and meets no 429",
          "[programs][west][rate]") {
    std::string const source = GENERATE(std::string{"list"}, std::string{"bibs"});
    INFO("--holdings-source " << source);
    // 100 bibs make some 300 calls in list mode and 220 in bulk mode: 9-12 s at 25 a second, while
    // the emulator answers in 5 ms, so nothing but the program's rate limiter paces them.
    west_setting s{"west-rate", 100, {"--per-second", "25", "--latency-ms", "5"}};
    auto r = run(west,
                 {"--base-url", s.server.base_url(), "--holdings-source", source, "-o", "out.mrc", "--errors",
                  "errors.csv", "export.mrc"},
                 env, s.dir);
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    auto const seen = s.server.counters();
    CHECK(seen.requests > 4 * 25);  // long enough that the limiter, not the start, is what is measured
    CHECK(seen.max_per_rolling_second <= 25);
    CHECK(seen.sent_429 == 0);
    std::printf("default rate, --holdings-source %s: %ld calls, at most %ld in a rolling second, %ld answered 429\n",
                source.c_str(), seen.requests, seen.max_per_rolling_second, seen.sent_429);
}

TEST_CASE("each kind of stop, resumed: at most the calls in flight asked again, and the bytes of an uninterrupted run",
          "[programs][west][resume]") {
    using marcpipe::emulator::emulator_process;
    using marcpipe::testing::child;
    // Calls held by the emulator far beyond the test, so that a signal's run cannot finish before
    // the signal is noticed; only the calls already answered complete.
    auto hold_then = [](int sig) {
        return [sig](emulator_process const& alma, child& c) {
            alma.configure({{"fault-rate-stall", "1"}});
            c.kill(sig);
        };
    };
    auto const kind = GENERATE_COPY(
        stop_kind{"daily threshold", {},
                  [](emulator_process const& alma, child&) { alma.configure({{"daily", "1"}}); }, "DAILY_THRESHOLD",
                  {{"daily", "0"}}},
        stop_kind{"refused key", {},
                  [](emulator_process const& alma, child&) {
                      alma.configure({{"api-key", "l8xx-another-key-00000000000000"}});
                  },
                  "UNAUTHORIZED", {{"api-key", marcpipe::testing::test_api_key}}},
        stop_kind{"--patience, connections refused", {"--patience", "2s"},
                  [](emulator_process const& alma, child&) { alma.configure({{"connections", "refuse"}}); },
                  "no call has succeeded for 2s", {{"connections", "serve"}}},
        stop_kind{"--patience, calls dropped", {"--patience", "2s"},
                  [](emulator_process const& alma, child&) { alma.configure({{"connections", "drop"}}); },
                  "no call was answered for 2s", {{"connections", "serve"}}},
        stop_kind{"SIGTERM", {}, hold_then(SIGTERM), "interrupted", {{"fault-rate-stall", "0"}}},
        stop_kind{"SIGINT (Ctrl-C)", {}, hold_then(SIGINT), "interrupted", {{"fault-rate-stall", "0"}}},
        stop_kind{"SIGHUP", {}, hold_then(SIGHUP), "interrupted", {{"fault-rate-stall", "0"}}});
    INFO(kind.name);
    std::size_t const bibs = 150;
    long const concurrency = 8;
    west_setting s{"west-stop", bibs, {"--latency-ms", "10", "--stall-seconds", "600"}};
    std::vector<std::string> args = s.args({"--concurrency", std::to_string(concurrency), "-o", "out.mrc", "--errors",
                                            "errors.csv", "export.mrc"});
    args.insert(args.end(), kind.more_args.begin(), kind.more_args.end());

    // The uninterrupted run: the bytes to compare with.
    auto clean = run(west, args, env, s.dir, "clean");
    INFO(clean.err);
    REQUIRE(clean.status == s.clean_status());
    REQUIRE(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    std::string const clean_bytes = slurp(s.dir / "out.mrc");
    std::string const clean_report = slurp(s.dir / "errors.csv");
    long const clean_calls = calls(s.server.requests());
    fs::remove(s.dir / "out.mrc");
    fs::remove(s.dir / "errors.csv");

    // Stopped once the server has seen a third of the calls: a count, not a time, decides.
    s.server.reset();
    {
        child c{west, args, env, s.dir, "first"};
        bool const reached = c.wait_until([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds{2});
            return calls(s.server.requests()) >= clean_calls / 3;
        });
        kind.stop(s.server, c);
        auto first = c.wait();
        INFO(first.err);
        REQUIRE(reached);
        CHECK(first.status == 3);
        CHECK(first.err.find(kind.said) != std::string::npos);
        CHECK(first.err.find("--resume") != std::string::npos);
        CHECK_FALSE(fs::exists(s.dir / "out.mrc"));
    }
    auto const first_asked = s.server.requests();
    long const first_calls = calls(first_asked);
    s.server.configure(kind.undo);
    s.server.reset();

    args.push_back("--resume");
    auto second = run(west, args, env, s.dir, "second");
    INFO(second.err);
    CHECK(second.status == s.clean_status());
    CHECK(slurp(s.dir / "out.mrc") == clean_bytes);
    // The report's rows but their tracking IDs, which Alma draws afresh for every answer.
    auto rows_without_tracking = [](std::string text) {
        std::string out;
        for (std::size_t at = 0; at < text.size();) {
            auto eol = text.find('\n', at);
            auto row = text.substr(at, eol - at);
            out += row.substr(0, row.rfind(',')) + "\n";
            at = eol == std::string::npos ? text.size() : eol + 1;
        }
        return out;
    };
    CHECK(rows_without_tracking(slurp(s.dir / "errors.csv")) == rows_without_tracking(clean_report));
    auto const second_asked = s.server.requests();
    long const again = asked_again(first_asked, second_asked);
    CHECK(again <= concurrency);
    CHECK(first_calls + calls(second_asked) - again == clean_calls);
    std::printf("stopped by %s after %ld of %ld calls: %ld asked again on --resume (concurrency %ld)\n", kind.name,
                first_calls, clean_calls, again, concurrency);
}

}  // namespace guarantees_test
