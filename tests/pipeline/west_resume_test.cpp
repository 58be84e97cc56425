// west-holdings stopped — a refused key, the daily threshold, kill -9, a signal — and resumed:
// the same bytes, and at most the calls that were in flight asked again.
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

TEST_CASE("a refused key stops with exit 3 and says what to do; --resume then finishes", "[programs][west][resume]") {
    std::size_t const bibs = 120;
    west_setting s{"west-key", bibs};
    auto args = s.args({"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"});
    std::string const wrong = "l8xx-wrong-key-fedcba9876543210";
    auto first = run(west, args, env_with_key(wrong), s.dir, "first");
    INFO(first.err);
    CHECK(first.status == 3);
    CHECK(first.err.find("UNAUTHORIZED") != std::string::npos);
    CHECK(first.err.find("--resume") != std::string::npos);
    CHECK(first.err.find(wrong) == std::string::npos);
    CHECK_FALSE(fs::exists(s.dir / "out.mrc"));

    args.push_back("--resume");
    check_whole_export(s, run(west, args, env_with_key(), s.dir, "second"), s.dir / "out.mrc");
}

TEST_CASE("the daily threshold stops with exit 3; resumed the next day the job finishes identically", "[programs][west][resume]") {
    std::size_t const bibs = 200;
    west_setting s{"west-daily", bibs, {"--latency-ms", "20"}};
    // One emulator for both days: a resumed run must ask the same Alma (the journal names its
    // base URL), and a reset starts the daily count again as the next day does.
    auto const args =
        s.args({"--concurrency", "4", "-o", "out.xml", "--errors", "errors.csv", "export.mrc"});
    {
        // The quota is the institution's: other integrations use it up while the run goes, which
        // no floor of the run's own (--keep-calls) can foresee. The run lasts 2 s at least
        // (460 calls of 20 ms, 4 at a time) against the moment its first checkpoint is seen.
        auto const first = stopped_midway(s, args, s.dir / "out.xml", 20, {{"daily", "1"}});
        check_stopped_for_resume(first, "DAILY_THRESHOLD", s.dir / "out.xml");
        CHECK(s.server.counters().get("daily_threshold") > 0);
    }
    auto second = resumed_next_day(s, args);
    check_whole_export(s, second, s.dir / "out.xml");
    INFO(second.err);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    // Only what was not finished was asked for again.
    CHECK(s.server.counters().requests < 200 + static_cast<long>(s.cat.deliverable_holdings()));
}

TEST_CASE("kill -9 at several points and --resume give byte-identical output", "[programs][west][resume]") {
    std::size_t const bibs = 300;
    std::size_t const concurrency = 8;
    west_setting s{"west-kill", bibs, {"--latency-ms", "15", "--latency-jitter", "0.8"}};
    struct variant {
        std::string format;
        std::string source;
    };
    auto [format, source] = GENERATE(variant{"out.mrc", "list"}, variant{"out.xml", "list"}, variant{"out.mrc", "bibs"});
    INFO(format << ", --holdings-source " << source);
    std::vector<std::string> args{"--base-url",
                                  s.server.base_url(),
                                  "--rate",
                                  "400",
                                  "--concurrency",
                                  std::to_string(concurrency),
                                  "--holdings-source",
                                  source,
                                  "-o",
                                  format,
                                  "--errors",
                                  "errors.csv",
                                  "export.mrc"};
    s.server.reset();

    // Kill points: before anything is saved, then after about a sixth, two fifths and two thirds
    // of the bibs. The test notices a point by polling the journal; the last point leaves a third
    // of the run (some 230 calls at 8 in flight and 15 ms each: 400 ms and more, however busy the
    // machine, since the emulator's latency is a sleep) to the run, against the few milliseconds
    // a loaded machine delays a waking process. Overshooting a point changes nothing checked.
    std::vector<std::size_t> kill_after_bibs{0, 50, 120, 200};
    auto journal = s.dir / (format + ".journal");
    int kills = 0;
    for (std::size_t i = 0; i < kill_after_bibs.size(); ++i) {
        auto resume_args = args;
        if (i > 0) resume_args.push_back("--resume");
        marcpipe::testing::child c{west, resume_args, env_with_key(), s.dir,
                                   "kill" + std::to_string(i)};
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
    auto last = run(west, args, env_with_key(), s.dir, "final");
    check_whole_export(s, last, s.dir / format);
    INFO(last.err);
    CHECK_FALSE(fs::exists(journal));

    // Each kill costs at most the requests that were in flight: every answer that had arrived
    // was in the answer log, whether or not its bib had reached the output.
    // In bulk mode a resumed run starts its groups of 100 where the last one stopped, which can
    // cost one more call per resumption.
    bool const bulk = source == "bibs";
    long const lists = bulk ? static_cast<long>((bibs + 99) / 100 + s.cat.bulk_mode_lists(false))
                            : static_cast<long>(bibs);
    long const needed = lists + static_cast<long>(s.cat.deliverable_holdings());
    long const per_kill = static_cast<long>(concurrency) + (bulk ? 1 : 0);
    auto seen = s.server.counters();
    CHECK(seen.requests >= needed);
    CHECK(seen.requests - needed <= kills * per_kill);
    std::printf("kill -9 and --resume (%s, %s): %d kills, %ld requests for %ld answers, %ld asked again\n",
                format.c_str(), source.c_str(), kills, seen.requests, needed, seen.requests - needed);
    CHECK(last.err.find("answers taken from the interrupted run") != std::string::npos);
    CHECK_FALSE(fs::exists(s.dir / (format + ".answers")));
    CHECK_FALSE(fs::exists(s.dir / (format + ".answers.old")));
}

TEST_CASE("an interrupted run (SIGTERM, Ctrl-C) saves its state, exits 3, and --resume finishes it", "[programs][west][resume]") {
    std::size_t const bibs = 200;
    west_setting s{"west-term", bibs, {"--latency-ms", "15", "--stall-seconds", "600"}};
    // A stall far longer than any test: a held call ends only when the client gives it up.
    std::vector<std::string> args{"--base-url", s.server.base_url(), "--rate",
                                  "300",        "--concurrency",     "8",
                                  "-o",         "out.mrc",           "export.mrc"};
    marcpipe::testing::child c{west, args, env_with_key(), s.dir, "first"};
    bool const reached = reached_bibs(c, s.dir / "out.mrc.journal", 50);
    // From here the emulator holds every call, so the run cannot end on its own before the signal
    // lands and is noticed (the program looks at its next tick, up to 500 ms later), however busy
    // the machine. Only the calls already answered can still complete: a few bibs at most.
    s.server.configure({{"fault-rate-stall", "1"}});
    c.kill(SIGTERM);
    auto first = c.wait();
    INFO(first.err);
    REQUIRE(reached);
    check_stopped_for_resume(first, "interrupted", s.dir / "out.mrc");
    s.server.configure({{"fault-rate-stall", "0"}});
    args.push_back("--resume");
    auto second = run(west, args, env_with_key(), s.dir, "second");
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
}

TEST_CASE("kill -9 at 20 random moments, each resumed: identical bytes, at most the calls in flight asked again",
          "[programs][west][resume][slow]") {
    std::size_t const bibs = 150;
    std::size_t const concurrency = 8;
    west_setting s{"west-kill-20",
                   bibs,
                   {"--latency-ms", "15", "--latency-jitter", "0.5", "--stall-seconds", "600"}};
    std::vector<std::string> const args{
        "--base-url", s.server.base_url(), "--rate",
        "300",        "--concurrency",     std::to_string(concurrency),
        "-o",         "out.mrc",           "--errors",
        "errors.csv", "export.mrc"};
    // The uninterrupted run: its bytes and its calls.
    s.server.reset();
    auto clean = run(west, args, env_with_key(), s.dir, "clean");
    REQUIRE(clean.status == 1);  // the catalogue's deleted bibs
    REQUIRE(output_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    std::string const clean_bytes = slurp(s.dir / "out.mrc");
    std::string const clean_report = slurp(s.dir / "errors.csv");
    long const clean_calls = s.server.counters().requests;

    // A fixed seed, so that a failure comes back with the same moments; MARCPIPE_KILL_SEED tries others.
    char const* given_seed = std::getenv("MARCPIPE_KILL_SEED");
    std::uint32_t const rng_seed = given_seed ? static_cast<std::uint32_t>(std::stoul(given_seed)) : 20250119;
    std::printf("kill -9 moments drawn with seed %u (MARCPIPE_KILL_SEED)\n", rng_seed);
    INFO("kill moments drawn with seed " << rng_seed);
    std::mt19937 rng{rng_seed};
    // A moment is a count of the calls the server has seen, not a time: the same seed kills at
    // the same points of the run however fast the machine is. The last moment leaves a tenth of
    // the calls to the run.
    REQUIRE(clean_calls >= 20);
    std::uniform_int_distribution<long> moment{1, clean_calls - clean_calls / 10};
    long largest = 0;
    int kills = 0;
    for (int k = 0; k < 20; ++k) {
        fs::remove(s.dir / "out.mrc");
        fs::remove(s.dir / "errors.csv");
        // A quarter of the kills land in the first tenth of the run, where nothing is finished yet.
        long const at = k % 4 == 0 ? 1 + moment(rng) / 10 : moment(rng);
        s.server.reset();
        {
            marcpipe::testing::child c{west, args, env_with_key(), s.dir,
                                       "kill" + std::to_string(k)};
            bool const reached = c.wait_until([&] { return s.server.counters().requests >= at; });
            // From here the server holds every new call, so the run cannot finish before the
            // signal lands, however long the machine takes to deliver it.
            s.server.configure({{"fault-rate-stall", "1"}});
            c.kill(SIGKILL);
            auto const killed = c.wait();
            s.server.configure({{"fault-rate-stall", "0"}});
            INFO("kill " << k << " after " << at << " calls: " << killed.err);
            REQUIRE(reached);
            CHECK(killed.status == -SIGKILL);
            ++kills;
        }
        auto resume_args = args;
        resume_args.push_back("--resume");
        auto resumed = run(west, resume_args, env_with_key(), s.dir, "resume" + std::to_string(k));
        INFO("kill " << k << " after " << at << " calls: " << resumed.err);
        CHECK(resumed.status == 1);
        CHECK(slurp(s.dir / "out.mrc") == clean_bytes);
        CHECK(without_tracking_ids(slurp(s.dir / "errors.csv")) ==
              without_tracking_ids(clean_report));
        long const repeated = s.server.counters().requests - clean_calls;
        CHECK(repeated <= static_cast<long>(concurrency));
        largest = std::max(largest, repeated);
    }
    CHECK(kills == 20);
    std::printf("kill -9 at 20 random moments of a run of %ld calls (%d landed): largest number of calls asked "
                "again: %ld (concurrency %zu)\n", clean_calls, kills, largest, concurrency);
}

TEST_CASE("a run that had finished but was stopped before its renames is finished by --resume without a call",
          "[programs][west][resume]") {
    std::size_t const bibs = 60;
    west_setting s{"west-renames", bibs, {"--latency-ms", "5"}};
    std::vector<std::string> const args{"--base-url", s.server.base_url(), "--rate",   "400",
                                        "-o",         "out.mrc",           "--errors", "errors.csv",
                                        "export.mrc"};
    // The job line a journal of this job carries, from a run killed once it has written one.
    std::string job_line;
    {
        marcpipe::testing::child c{west, args, env_with_key(), s.dir, "first"};
        c.wait_until([&] {
            std::ifstream in{s.dir / "out.mrc.journal",
                             std::ios::binary};  // not there yet: nothing
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
    auto clean = run(west, args_restart, env_with_key(), s.dir, "clean");
    REQUIRE(clean.status == 1);
    std::string const output = slurp(s.dir / "out.mrc");
    std::string const report = slurp(s.dir / "errors.csv");
    long const records = static_cast<long>(expected_holdings{s.cat}.size());
    long const problems = static_cast<long>(lines(report).size()) - 1;

    // The state a run leaves when it is stopped after its last journal line and before renaming.
    fs::rename(s.dir / "out.mrc", s.dir / "out.mrc.part");
    fs::rename(s.dir / "errors.csv", s.dir / "errors.csv.part");
    {
        std::ofstream j{s.dir / "out.mrc.journal", std::ios::binary};
        j << "marcpipe-journal 1\n"
          << job_line << "\n"
          << "finished bibs=18446744073709551615 output=" << output.size() << " report=" << report.size()
          << " records=" << records << " problems=" << problems << "\n";
    }
    s.server.reset();
    auto args_resume = args;
    args_resume.push_back("--resume");
    auto r = run(west, args_resume, env_with_key(), s.dir, "renames");
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find("the run had already finished: " + std::to_string(records) + " records") != std::string::npos);
    CHECK(slurp(s.dir / "out.mrc") == output);
    CHECK(slurp(s.dir / "errors.csv") == report);
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.part"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.journal"));
    CHECK(s.server.counters().requests == 0);
}

TEST_CASE("a run stopped and resumed still fetches and writes a repeated MMS ID once, and reports it once",
          "[programs][west][ids][resume]") {
    // The repeats come after the point where the first run stops; their first places come before
    // it. The resumed run must know those first places without asking Alma again.
    std::size_t const bibs = 60, repeated = 10;
    west_setting s{"west-id-resume", bibs, {"--daily", "70"}, export_as::none};
    {
        std::ofstream ids{s.dir / "ids.txt", std::ios::binary};
        for (std::size_t b = 0; b < bibs; ++b) ids << s.cat.mms_id(b) << "\n";
        for (std::size_t b = 0; b < repeated; ++b) ids << s.cat.mms_id(b) << "\n";
    }
    auto const args =
        s.args({"--concurrency", "4", "-o", "out.mrc", "--errors", "errors.csv", "ids.txt"});
    // One emulator for both days: a resumed run must ask the same Alma; a reset is the next day.
    {
        auto first = run(west, args, env_with_key(), s.dir, "first");
        INFO(first.err);
        REQUIRE(first.status == 3);
    }
    auto second = resumed_next_day(s, args);
    INFO(second.err);
    CHECK(second.status == 1);
    CHECK(second.err.find("resumed after bib") != std::string::npos);
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    auto const report = slurp(s.dir / "errors.csv");
    INFO(report);
    for (std::size_t b = 0; b < repeated; ++b)
        CHECK(rows_with(report, "line " + std::to_string(bibs + b + 1) + " at byte ").size() == 1);
    CHECK(rows_with(report, ", first met on line ").size() == repeated);
    CHECK(rows_with(report, "export,").size() == repeated);
    auto asked = s.server.requests();
    for (std::size_t b = 0; b < repeated; ++b)
        CHECK(asked["/almaws/v1/bibs/" + s.cat.mms_id(b) + "/holdings"] == 0);
}
