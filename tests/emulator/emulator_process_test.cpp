// Tests of the loopback Alma emulator: the server as a process — started, stopped, its knobs turned while it runs — its
// connections, latency, faults and counters, and the load it takes.
#include "catch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "emulator_client.hpp"

using namespace emulator_test;

TEST_CASE("the emulator prints its port, answers, and stops with its launcher", "[emulator]") {
    pid_t pid = 0;
    {
        emulator_process alma{{"--bibs", "10"}};
        pid = alma.pid();
        CHECK(alma.port() > 0);
        CHECK(alma.base_url() == "http://127.0.0.1:" + std::to_string(alma.port()));
        auto res = client(alma).Get("/_emulator/counters");
        REQUIRE(res);
        CHECK(res->status == 200);
    }
    CHECK(::kill(pid, 0) != 0);  // reaped: the pid is gone
}

TEST_CASE("the emulator stops when its stdin closes, so it never outlives its parent",
          "[emulator]") {
    emulator_process alma{{"--bibs", "10"}};
    REQUIRE(alma.counters().requests == 0);  // serving, so it has read its stdin and waits
    CHECK_FALSE(alma.exited_within(std::chrono::milliseconds{0}));
    alma.close_stdin();
    CHECK(alma.exited_within(std::chrono::seconds{60}));
}

TEST_CASE("SIGTERM stops the emulator at once, even with calls stalled", "[emulator]") {
    // Several stalled calls, each polling for its client, widen the moment in which a handler
    // could wake during the shutdown; none may be answered.
    constexpr int stalled = 8;
    alma_setting s{50, {"--fault-rate-stall", "1", "--stall-seconds", "600"}, 1};
    std::atomic<int> answered{0};  // Catch2 assertions belong on the test's own thread
    std::vector<std::thread> callers;
    for (int i = 0; i < stalled; ++i)
        callers.emplace_back([&] {
            auto cli = client(s.server);
            cli.set_read_timeout(600);
            if (cli.Get(holdings_path(s.cat.mms_id(0)), auth())) ++answered;
        });
    REQUIRE(
        s.server.counters_when([](auto const& c) { return c.in_flight == stalled; }).in_flight ==
        stalled);
    auto start = std::chrono::steady_clock::now();
    s.server.stop();
    // "At once" is against the stall: the server must not wait for its held calls.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{60});
    for (auto& t : callers) t.join();
    CHECK(answered == 0);
}

TEST_CASE("a bad flag makes the launcher throw instead of hanging", "[emulator]") {
    CHECK_THROWS(emulator_process{{"--no-such-flag"}});
    CHECK_THROWS(emulator_process{{"--connections", "sometimes"}});
}

TEST_CASE("counters see concurrent requests and reset to zero", "[emulator]") {
    // A latency longer than any test: the calls wait at the server until all eight are there,
    // then turning the latency down lets them go, however slowly this machine started them.
    alma_setting s{50, {"--latency-ms", "600000"}, 1};
    auto path = live_holdings_path(s.cat);
    std::vector<std::thread> clients;
    std::atomic<int> ok{0};
    for (int i = 0; i < 8; ++i)
        clients.emplace_back([&] {
            auto cli = client(s.server);
            cli.set_read_timeout(600);
            if (auto res = cli.Get(path, auth()); res && res->status == 200) ++ok;
        });
    auto waiting = s.server.counters_when([](auto const& c) { return c.in_flight == 8; });
    s.server.configure({{"latency-ms", "0"}});
    for (auto& t : clients) t.join();
    CHECK(waiting.in_flight == 8);
    CHECK(ok == 8);
    auto seen = s.server.counters();
    CHECK(seen.requests == 8);
    CHECK(seen.max_in_flight == 8);
    CHECK(seen.in_flight == 0);
    CHECK(seen.max_per_rolling_second >= 1);  // all eight in one second only on an idle machine
    CHECK(seen.max_per_rolling_second <= 8);
    CHECK(seen.status(200) == 8);

    CHECK(seen.get("endpoint_holdings_list") == 8);
    CHECK(s.server.requests() == std::map<std::string, long>{{path, 8}});

    s.server.reset();
    CHECK(s.server.requests().empty());
    seen = s.server.counters();
    CHECK(seen.requests == 0);
    CHECK(seen.max_in_flight == 0);
    CHECK(seen.status(200) == 0);
}

TEST_CASE("the request log names each resource and the endpoint counters add up", "[emulator]") {
    alma_setting s{80, {}, 2};
    auto cli = client(s.server);
    auto bib =
        find_bib(s.cat, [&](auto b) { return !s.cat.deleted(b) && s.cat.holdings_count(b) > 0; });
    auto list = holdings_path(s.cat.mms_id(bib));
    auto one = list + "/" + s.cat.holding_id(bib, 0);
    auto bibs = "/almaws/v1/bibs?mms_id=" + s.cat.mms_id(bib) + "&view=full&expand=p_avail";
    for (auto const& p : {list, one, one, bibs}) REQUIRE(cli.Get(p, auth()));
    auto seen = s.server.counters();
    CHECK(seen.get("endpoint_holdings_list") == 1);
    CHECK(seen.get("endpoint_holding") == 2);
    CHECK(seen.get("endpoint_bibs") == 1);
    CHECK(s.server.requests() ==
          std::map<std::string, long>{
              {list, 1}, {one, 2}, {"/almaws/v1/bibs?mms_id=" + s.cat.mms_id(bib), 1}});
}

TEST_CASE("with --close-rate 1 every answer says Connection: close", "[emulator]") {
    alma_setting s{50, {"--close-rate", "1"}, 1};
    auto res = client(s.server).Get(holdings_path(s.cat.mms_id(0)), auth());
    REQUIRE(res);
    CHECK(res->get_header_value("Connection") == "close");
}

TEST_CASE("with --gzip, answers to clients that accept gzip come compressed", "[emulator]") {
    alma_setting s{50, {"--gzip"}, 1};
    auto cli = client(s.server);
    auto path = live_holdings_path(s.cat);
    auto plain = cli.Get(path, auth());
    REQUIRE(plain);
    CHECK_FALSE(plain->has_header("Content-Encoding"));
    cli.set_decompress(true);
    auto packed = cli.Get(
        path, httplib::Headers{{"Accept-Encoding", "gzip"}, {"Authorization", "apikey " + key}});
    REQUIRE(packed);
    CHECK(packed->get_header_value("Content-Encoding") == "gzip");
    CHECK(packed->body == plain->body);  // httplib inflated it
    CHECK(s.server.counters().get("gzip_sent") == 1);
}

TEST_CASE("knobs can be turned while the server runs", "[emulator]") {
    alma_setting s{50, {"--fault-rate-503", "1", "--daily", "2"}, 1};
    auto cli = client(s.server);
    auto path = live_holdings_path(s.cat);
    CHECK(cli.Get(path, auth())->status == 503);
    CHECK(cli.Get(path, auth())->status == 503);
    CHECK(cli.Get(path, auth())->status == 429);  // daily threshold reached
    s.server.configure({{"fault-rate-503", "0"}, {"daily", "0"}});
    CHECK(cli.Get(path, auth())->status == 200);
    s.server.configure({{"api-key", "l8xx-another-key"}});
    CHECK(cli.Get(path, auth())->status == 400);
    CHECK(cli.Get(path, {{"Authorization", "apikey l8xx-another-key"}})->status == 200);
    CHECK_THROWS(s.server.configure({{"no-such-knob", "1"}}));
    CHECK_THROWS(s.server.configure({{"fault-rate-500", "0.7"}, {"fault-rate-reset", "0.7"}}));
    CHECK_THROWS(s.server.configure({{"latency-ms", "fast"}}));
}

TEST_CASE("switched to refuse, the server resets every API call on its own port, then serves again",
          "[emulator]") {
    alma_setting s{50, {}, 1};
    auto path = live_holdings_path(s.cat);
    auto kept = client(s.server);
    kept.set_keep_alive(true);
    REQUIRE(kept.Get(path, auth())->status == 200);

    s.server.configure({{"connections", "refuse"}});
    auto refused = client(s.server).Get(path, auth());
    REQUIRE_FALSE(refused);
    CHECK(refused.error() != httplib::Error::Connection);  // connected, then reset: the port is held
    CHECK_FALSE(client(s.server).Get(path, auth()));
    CHECK_FALSE(kept.Get(path, auth()));  // a kept-alive connection meets the same end
    auto seen = s.server.counters();      // the control endpoints still answer
    CHECK(seen.get("calls_refused") >= 3);
    CHECK(seen.requests == 1);  // refused calls never reach the gateway

    s.server.configure({{"connections", "serve"}});
    CHECK(client(s.server).Get(path, auth())->status == 200);
    CHECK(s.server.counters().requests == 2);
}

TEST_CASE("switched to drop, a call is held unanswered until its client gives up or the switch goes "
          "back", "[emulator]") {
    alma_setting s{50, {"--connections", "drop"}, 1};
    auto path = live_holdings_path(s.cat);

    auto impatient = client(s.server);
    impatient.set_read_timeout(0, 300'000);
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(impatient.Get(path, auth()));
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds{300});  // held

    std::atomic<bool> answered{false};
    std::thread patient([&] {
        auto cli = client(s.server);
        cli.set_read_timeout(600);
        answered = static_cast<bool>(cli.Get(path, auth()));
    });
    auto seen = s.server.counters_when([](auto const& c) { return c.get("calls_dropped") == 2; });
    CHECK(seen.get("calls_dropped") == 2);
    s.server.configure({{"connections", "serve"}});
    patient.join();
    CHECK_FALSE(answered);  // a dropped call stays unanswered
    CHECK(client(s.server).Get(path, auth())->status == 200);
    CHECK(s.server.counters().requests == 1);
}

TEST_CASE("latency is the mean plus or minus the jitter", "[emulator]") {
    alma_setting s{50, {}, 1};
    auto cli = client(s.server);
    cli.set_keep_alive(true);
    auto path = live_holdings_path(s.cat);
    auto timed = [&] {
        auto start = std::chrono::steady_clock::now();
        REQUIRE(cli.Get(path, auth()));
        return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count();
    };
    // What a call costs without latency on this machine (sanitizers make it slow).
    double overhead = 0;
    for (int i = 0; i < 3; ++i) overhead = std::max(overhead, timed());

    s.server.configure({{"latency-ms", "200"}, {"latency-jitter", "0.5"}});
    for (int i = 0; i < 12; ++i) {
        auto ms = timed();
        INFO("call took " << ms << " ms, overhead " << overhead << " ms");
        CHECK(ms >= 100);  // the server waits at least the mean less the jitter
    }
    // How much longer a call took is the machine's business (a busy one adds to every call); the
    // upper bound is on what the server drew, which no load on this machine can blur.
    auto seen = s.server.counters();
    CHECK(seen.get("latency_min_ms") >= 100);
    CHECK(seen.get("latency_max_ms") <= 300);
    CHECK(seen.get("latency_max_ms") - seen.get("latency_min_ms") > 20);  // jittered, not constant
}

TEST_CASE("each fault kind fails the call the way the network or gateway would", "[emulator]") {
    catalogue cat{1, 50};
    auto bib = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) > 0; });
    auto path = holdings_path(cat.mms_id(bib));

    SECTION("500 and 503: the gateway's answer, with the calls left") {
        for (std::string const code : {"500", "503"}) {
            alma_setting s{50, {"--fault-rate-" + code, "1"}, 1};
            auto res = client(s.server).Get(path, auth());
            REQUIRE(res);
            CHECK(std::to_string(res->status) == code);
            CHECK(res->has_header("X-Exl-Api-Remaining"));
            CHECK(s.server.counters().fault(code) == 1);
        }
    }
    SECTION("reset: the connection closes with no answer") {
        alma_setting s{50, {"--fault-rate-reset", "1"}, 1};
        auto res = client(s.server).Get(path, auth());
        CHECK_FALSE(res);
        auto seen = s.server.counters();
        CHECK(seen.fault("reset") == 1);
        CHECK(seen.status(200) == 0);
    }
    SECTION("truncated: fewer bytes than Content-Length, then close") {
        alma_setting s{50, {"--fault-rate-truncated", "1"}, 1};
        auto res = client(s.server).Get(path, auth());
        CHECK_FALSE(res);
        CHECK(s.server.counters().fault("truncated") == 1);
    }
    SECTION("malformed: a 200 whose XML does not parse") {
        alma_setting s{50, {"--fault-rate-malformed", "1"}, 1};
        auto cli = client(s.server);
        for (int i = 0; i < 10; ++i) {
            auto res = cli.Get(path, auth());
            REQUIRE(res);
            CHECK(res->status == 200);
            pugi::xml_document doc;
            CHECK_FALSE(doc.load_buffer(res->body.data(), res->body.size()));
        }
    }
    SECTION("stall: held until the client gives up") {
        alma_setting s{50, {"--fault-rate-stall", "1", "--stall-seconds", "600"}, 1};
        auto cli = client(s.server);
        cli.set_read_timeout(0, 500'000);
        auto start = std::chrono::steady_clock::now();
        CHECK_FALSE(cli.Get(path, auth()));
        CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds{300});  // not the stall
        auto seen = s.server.counters_when([](auto const& c) { return c.in_flight == 0; });
        CHECK(seen.fault("stall") == 1);
        CHECK(seen.get("stalls_abandoned") == 1);
        CHECK(seen.in_flight == 0);
    }
    SECTION("stall: answered after the stall when the client waits") {
        alma_setting s{50, {"--fault-rate-stall", "1", "--stall-seconds", "0.3"}, 1};
        auto res = client(s.server).Get(path, auth());
        REQUIRE(res);
        CHECK(res->status == 200);
    }
}

TEST_CASE("faults are transient: a retried call gets through", "[emulator]") {
    alma_setting s{50,
                   {"--fault-seed", "4", "--fault-rate-500", "0.15", "--fault-rate-503", "0.15",
                    "--fault-rate-reset", "0.15", "--fault-rate-truncated", "0.15",
                    "--fault-rate-malformed", "0.15"},
                   1};
    auto bib =
        find_bib(s.cat, [&](auto b) { return !s.cat.deleted(b) && s.cat.holdings_count(b) > 0; });
    auto path = holdings_path(s.cat.mms_id(bib));
    int failures = 0;
    for (int call = 0; call < 20; ++call) {
        bool done = false;
        for (int attempt = 0; attempt < 40 && !done; ++attempt) {
            auto res = client(s.server).Get(path, auth());
            pugi::xml_document doc;
            done = res && res->status == 200 && doc.load_buffer(res->body.data(), res->body.size());
            failures += !done;
        }
        CHECK(done);
    }
    CHECK(failures > 10);
    auto seen = s.server.counters();
    for (auto kind : {"500", "503", "reset", "truncated", "malformed"}) {
        INFO(kind);
        CHECK(seen.fault(kind) > 0);
    }
}

namespace {

// 256 keep-alive clients hammering one resource for `seconds`; returns the answers.
long load(emulator_process const& alma, std::string const& path, int connections, double seconds,
          long& failures) {
    std::atomic<long> ok{0}, bad{0};
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int i = 0; i < connections; ++i)
        clients.emplace_back([&] {
            auto cli = client(alma);
            cli.set_keep_alive(true);
            while (!stop) {
                auto res = cli.Get(path, auth());
                ++(res && res->status == 200 ? ok : bad);
            }
        });
    std::this_thread::sleep_for(std::chrono::duration<double>{seconds});
    stop = true;
    for (auto& t : clients) t.join();
    failures = bad;
    return ok;
}

// Processor time a process has used (user and system), from /proc/PID/stat.
double cpu_seconds(pid_t pid) {
    std::ifstream in{"/proc/" + std::to_string(pid) + "/stat"};
    std::string stat{std::istreambuf_iterator<char>{in}, {}};
    // Fields after the command name, which is in parentheses and may hold spaces.
    std::istringstream fields{stat.substr(stat.rfind(')') + 2)};
    std::string field;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> field; ++i)
        if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace

TEST_CASE("the emulator serves 256 connections at once and thousands of requests a second",
          "[emulator][slow]") {
    catalogue cat{1, 1000};
    auto bib = find_bib(cat, [&](auto b) { return !cat.deleted(b) && cat.holdings_count(b) > 0; });
    auto path = holdings_path(cat.mms_id(bib)) + "/" + cat.holding_id(bib, 0);
    long failures = 0;

    SECTION("unthrottled: at least 2,000 requests per second of its processor time") {
        // Counted against the server's own processor time, not the clock: on a busy machine the
        // server waits for a core, which says nothing about what it costs per request.
        alma_setting s{1000, {}, 1};
        auto cpu_before = cpu_seconds(s.server.pid());
        auto start = std::chrono::steady_clock::now();
        auto answered = load(s.server, path, 256, 2.0, failures);
        std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;
        auto cpu = cpu_seconds(s.server.pid()) - cpu_before;
        WARN("256 connections: " << answered / elapsed.count() << " requests/s, "
                                 << answered / cpu << " per processor second");
        CHECK(failures == 0);
        REQUIRE(cpu > 0);
        CHECK(static_cast<double>(answered) / cpu >= 2000);  // the emulator is always optimised
        CHECK(s.server.counters().get("client_ports") == 256);  // every connection kept alive
    }
    SECTION("with latency: all 256 requests are in flight at once") {
        // Held at the server until all 256 are there, then let go: no start-up race to win.
        alma_setting s{1000, {"--latency-ms", "600000"}, 1};
        std::atomic<long> ok{0};
        std::vector<std::thread> clients;
        for (int i = 0; i < 256; ++i)
            clients.emplace_back([&] {
                auto cli = client(s.server);
                cli.set_read_timeout(600);
                if (auto res = cli.Get(path, auth()); res && res->status == 200) ++ok;
            });
        auto waiting = s.server.counters_when([](auto const& c) { return c.in_flight == 256; },
                                              std::chrono::seconds{300});
        s.server.configure({{"latency-ms", "0"}});
        for (auto& t : clients) t.join();
        CHECK(waiting.in_flight == 256);
        CHECK(ok == 256);
        CHECK(s.server.counters().max_in_flight == 256);
    }
}
