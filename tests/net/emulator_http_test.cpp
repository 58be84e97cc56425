// The HTTP engine against the loopback Alma emulator: what the server sees (concurrency, rate,
// where the key travels) and how the client copes with every kind of fault the gateway produces.
// The server is Alma, so the client runs with Alma's options (alma/http_policy.hpp); an answer
// whose body cannot be read is the Alma client's to judge (tests/alma/client_emulator_test.cpp).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <marcpipe/alma/http_policy.hpp>
#include <marcpipe/coro/task.hpp>
#include <marcpipe/net/http_client.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "catalogue.hpp"
#include "catch.hpp"
#include "launcher.hpp"
#include "support/child.hpp"
#include "support/emulator.hpp"

using namespace marcpipe::net;
using marcpipe::coro::task;
using marcpipe::emulator::emulator_process;
using marcpipe::testing::alma_setting;
using marcpipe::testing::test_api_key;
using namespace std::chrono_literals;

namespace {

// The catalogue these tests were written against.
std::size_t const bibs = 500;
std::uint64_t const seed = 1;

// Holdings-list URLs of bibs that exist (not deleted) in the emulator's catalogue.
std::vector<std::string> holdings_urls(alma_setting const& s, std::size_t count) {
    std::vector<std::string> urls;
    for (std::size_t i = 0; urls.size() < count; i = (i + 1) % s.cat.size())
        if (!s.cat.deleted(i))
            urls.push_back(s.server.base_url() + "/almaws/v1/bibs/" + s.cat.mms_id(i) +
                           "/holdings");
    return urls;
}

client_options fast_retries(double rate, std::size_t in_flight) {
    client_options o = marcpipe::alma::http_options(test_api_key);
    o.rate = rate;
    o.loop.max_in_flight = in_flight;
    o.retry.max_attempts = 12;
    o.retry.base_delay = 5ms;
    o.retry.max_delay = 80ms;
    o.seed = 7;
    return o;
}

struct fetched {
    std::vector<result> results;
    double seconds = 0;
};

task<void> fetch_worker(http_client& http, std::vector<std::string> const& urls, std::size_t& next,
                        std::vector<result>& results) {
    while (next < urls.size()) {
        std::size_t i = next++;
        results[i] = co_await http.get(urls[i]);
    }
}

// Fetches every URL with `workers` coroutines sharing the client, as a pipeline stage would.
fetched fetch_all(http_client& http, std::vector<std::string> const& urls, std::size_t workers) {
    fetched out;
    out.results.assign(urls.size(),
                       tl::unexpected(transport_error(CURLE_FAILED_INIT, "never fetched")));
    std::size_t next = 0;
    auto begin = std::chrono::steady_clock::now();
    for (std::size_t w = 0; w < workers; ++w)
        http.loop().spawn(fetch_worker(http, urls, next, out.results));
    http.loop().run();
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
    return out;
}

std::size_t count_class(fetched const& f, outcome_class c) {
    return static_cast<std::size_t>(std::count_if(
        f.results.begin(), f.results.end(),
        [c](result const& r) { return marcpipe::alma::examine_answer(r).kind == c; }));
}

// Turns the server's knobs once its counters show `ready`, from a thread of its own while the
// test's client runs: the test waits for an event at the server rather than for a guessed time.
// Joins when it goes out of scope.
template <class Ready>
std::jthread configure_when(emulator_process const& alma, Ready ready,
                            std::map<std::string, std::string> knobs) {
    return std::jthread([&alma, ready, knobs = std::move(knobs)] {
        try {
            alma.counters_when(ready);
            alma.configure(knobs);
        } catch (std::exception const&) {
            // The server is gone; the test's own checks will say so.
        }
    });
}

// The server started with a latency far beyond any test holds every call; once `n` are in
// flight at once the latency becomes `then_ms`, which releases them. The server then sees n
// calls together however slowly this machine starts them.
std::jthread release_when_in_flight(emulator_process const& alma, long n, std::string then_ms) {
    return configure_when(
        alma, [n](auto const& c) { return c.in_flight >= n; }, {{"latency-ms", then_ms}});
}

std::string const held = "600000";  // ms: a latency no test waits out

void require_no_key_in(std::string const& text) {
    INFO(text);
    REQUIRE(text.find(test_api_key) == std::string::npos);
}

}  // namespace

TEST_CASE("the server sees exactly the configured number of requests in flight", "[net]") {
    std::size_t const n = GENERATE(4, 16);
    loop_backend const backend = GENERATE(loop_backend::poll, loop_backend::epoll);
    alma_setting s{bibs, {"--latency-ms", held, "--latency-jitter", "0.5"}, seed};
    client_options o = fast_retries(0, n);
    o.loop.backend = backend;
    http_client http(o);
    // The first n calls meet at the server; the rest keep a latency that would show any call
    // over the cap.
    auto release = release_when_in_flight(s.server, static_cast<long>(n), "40");
    fetched f = fetch_all(http, holdings_urls(s, 12 * n), 64);
    CHECK(count_class(f, outcome_class::success) == 12 * n);
    auto seen = s.server.counters();
    CHECK(seen.max_in_flight == static_cast<long>(n));
    CHECK(seen.requests == static_cast<long>(12 * n));
    CHECK(seen.key_in_query == 0);
    CHECK(seen.unauthorized == 0);
}

TEST_CASE("the library's default keeps 48 requests in flight, as the programs do", "[net]") {
    // 48, not the 16 it was: at 25 calls a second and 0.8 s an answer, 16 in flight made 19.5
    // calls a second, 48 made 23.6 (serial-holdings against the emulator, 913 calls).
    alma_setting s{bibs, {"--latency-ms", held}, seed};
    client_options o = marcpipe::alma::http_options(test_api_key);
    o.rate = 0;  // every call may start at once: only the cap in flight holds them back
    http_client http(o);
    auto release = release_when_in_flight(s.server, 48, "40");
    fetched f = fetch_all(http, holdings_urls(s, 96), 96);
    CHECK(count_class(f, outcome_class::success) == 96);
    CHECK(s.server.counters().max_in_flight == 48);
    CHECK(loop_options{}.max_in_flight == default_max_in_flight);
}

TEST_CASE("over 2,000 requests no rolling second holds more than the rate", "[net][slow]") {
    alma_setting s{
        bibs, {"--per-second", "200", "--latency-ms", "5", "--latency-jitter", "1"}, seed};
    http_client http(fast_retries(200, 32));
    fetched f = fetch_all(http, holdings_urls(s, 2000), 64);
    CHECK(count_class(f, outcome_class::success) == 2000);
    auto seen = s.server.counters();
    CHECK(seen.requests == 2000);
    CHECK(seen.max_per_rolling_second <= 200);
    CHECK(seen.sent_429 == 0);
    CHECK(http.stats().retries == 0);
    // 2,000 at 200/s is ten windows: never fewer. Not needlessly many either, counted by the
    // server rather than timed: a limiter that paced at half the rate would never have had more
    // than 100 calls in a second, whatever the machine's speed.
    CHECK(f.seconds >= 9.0);
    CHECK(seen.max_per_rolling_second > 100);
    std::printf(
        "rate test: 2000 requests in %.2f s (%.1f/s), server's busiest rolling second: %ld\n",
        f.seconds, 2000 / f.seconds, seen.max_per_rolling_second);
}

TEST_CASE("connections reset under the rate limit: curl's own resends are counted, and no 429", "[net][slow]") {
    // A reset on a kept-alive connection makes curl send the request again by itself. Those
    // resends count against Alma's limit like any request, so the limiter must see them.
    alma_setting s{bibs,
                   {"--per-second", "50", "--latency-ms", "5", "--latency-jitter", "1",
                    "--fault-rate-reset", "0.15", "--fault-seed", "5"},
                   seed};
    http_client http(fast_retries(50, 16));
    fetched f = fetch_all(http, holdings_urls(s, 400), 32);
    CHECK(count_class(f, outcome_class::success) == 400);
    auto seen = s.server.counters();
    CHECK(seen.fault("reset") > 0);
    CHECK(seen.max_per_rolling_second <= 50);
    CHECK(seen.sent_429 == 0);
    if (event_loop::sees_sends) CHECK(seen.requests == static_cast<long>(http.stats().requests));
    std::printf("resets under the limit: %ld requests seen, %llu sent (%llu resent by curl), %ld resets, "
                "busiest rolling second %ld\n",
                seen.requests, static_cast<unsigned long long>(http.stats().requests),
                static_cast<unsigned long long>(http.stats().resent), seen.fault("reset"),
                seen.max_per_rolling_second);
}

TEST_CASE("every kind of transient fault is retried to success", "[net]") {
    struct kind {
        char const* flag;
        char const* counter;
    };
    auto k =
        GENERATE(kind{"--fault-rate-500", "500"}, kind{"--fault-rate-503", "503"},
                 kind{"--fault-rate-reset", "reset"}, kind{"--fault-rate-truncated", "truncated"},
                 kind{"--fault-rate-stall", "stall"});
    INFO("fault kind " << k.counter);
    bool const stall = std::string(k.counter) == "stall";
    alma_setting s{bibs, {k.flag, "0.3", "--fault-seed", "11", "--stall-seconds", "600"}, seed};
    client_options o = fast_retries(0, 8);
    // A stalled answer must be given up on, then retried. A second is a thousand loopback
    // calls, so on a busy machine too only the stalls run into it; each stall costs that
    // second, hence fewer URLs.
    if (stall) o.loop.total_timeout = 1s;
    http_client http(o);
    std::vector<std::string> urls = holdings_urls(s, stall ? 20 : 60);
    fetched f = fetch_all(http, urls, 8);
    CHECK(count_class(f, outcome_class::success) == urls.size());
    for (result const& r : f.results) {
        REQUIRE(r);
        CHECK(r->status == 200);
        CHECK(r->body.find("<holdings") != std::string::npos);
    }
    auto seen = s.server.counters();
    long faults = seen.fault(k.counter);
    CHECK(faults > 0);
    CHECK(http.stats().retries > 0);
    CHECK(http.stats().retries <= static_cast<std::uint64_t>(faults));
    CHECK(http.stats().transient == http.stats().retries);
    // Every retry reached the server and nothing else was sent. curl itself resends once when a
    // reused keep-alive connection dies before any byte of the answer; that is counted too.
    if (event_loop::sees_sends) {
        CHECK(seen.requests == static_cast<long>(http.stats().requests));
        CHECK(seen.requests == static_cast<long>(urls.size() + http.stats().retries + http.stats().resent));
    } else if (std::string(k.counter) != "reset") {
        CHECK(seen.requests == static_cast<long>(urls.size() + http.stats().retries));
    }
    CHECK_FALSE(http.stopped());
}

TEST_CASE("compressed answers are asked for and decoded, over reused connections", "[net]") {
    alma_setting s{bibs, {"--gzip"}, seed};
    http_client http(fast_retries(0, 4));
    fetched f = fetch_all(http, holdings_urls(s, 80), 4);
    CHECK(count_class(f, outcome_class::success) == 80);
    for (result const& r : f.results) {
        REQUIRE(r);
        CHECK(r->header_value("Content-Encoding") == std::string_view("gzip"));
        CHECK(r->body.rfind("<?xml", 0) == 0);
    }
    auto seen = s.server.counters();
    CHECK(seen.get("gzip_sent") == 80);
    CHECK(seen.get("client_ports") <= 4);  // keep-alive: no connection per request
}

TEST_CASE("a 400 with an Alma error code is returned at once, not retried", "[net]") {
    alma_setting s{bibs, {}, seed};
    http_client http(fast_retries(0, 4));
    std::vector<std::string> urls{s.server.base_url() + "/almaws/v1/bibs/991234567890123/holdings",
                                  s.server.base_url() + "/almaws/v1/bibs/notanumber/holdings"};
    fetched f = fetch_all(http, urls, 2);
    for (result const& r : f.results) {
        REQUIRE(r);
        CHECK(r->status == 400);
        verdict v = marcpipe::alma::examine_answer(r);
        CHECK(v.kind == outcome_class::permanent);
        CHECK_FALSE(v.tracking_id.empty());
    }
    CHECK(marcpipe::alma::examine_answer(f.results[0]).code == "402203");
    CHECK(marcpipe::alma::examine_answer(f.results[1]).code == "402204");
    CHECK(http.stats().requests == 2);
    CHECK(http.stats().retries == 0);
    CHECK(s.server.counters().requests == 2);
    CHECK_FALSE(http.stopped());
}

TEST_CASE("a bad key stops the whole run at once with a clear reason", "[net]") {
    alma_setting s{bibs, {"--latency-ms", "20"}, seed};
    client_options o = fast_retries(0, 4);
    o.auth = marcpipe::alma::api_key_header("l8xx-wrong-key-0000");
    http_client http(o);
    std::vector<std::string> urls = holdings_urls(s, 200);
    fetched f = fetch_all(http, urls, 16);
    CHECK(http.stopped());
    CHECK(http.stop_reason().find("UNAUTHORIZED") != std::string::npos);
    CHECK(http.stop_reason().find("l8xx-wrong-key-0000") == std::string::npos);
    CHECK(count_class(f, outcome_class::fatal) == urls.size());
    CHECK(count_class(f, outcome_class::success) == 0);
    // The gateway answers at once; what was already in flight is all the server saw, so the
    // run stopped rather than worked through the 200.
    CHECK(s.server.counters().requests <= 4);
    for (result const& r : f.results)
        if (!r) require_no_key_in(r.error().message);
}

TEST_CASE("the daily threshold stops the run and X-Exl-Api-Remaining is exposed", "[net]") {
    alma_setting s{bibs, {"--daily", "30"}, seed};
    http_client http(fast_retries(0, 1));
    fetched first = fetch_all(http, holdings_urls(s, 10), 1);
    CHECK(count_class(first, outcome_class::success) == 10);
    REQUIRE(http.stats().quota_remaining);
    CHECK(*http.stats().quota_remaining == 20);
    fetched rest = fetch_all(http, holdings_urls(s, 40), 1);
    CHECK(count_class(rest, outcome_class::success) == 20);
    CHECK(http.stopped());
    CHECK(http.stop_reason().find("DAILY_THRESHOLD") != std::string::npos);
    CHECK(s.server.counters().requests == 31);
}

TEST_CASE("before the first count of calls left, a share floor lets one second's calls go, an exact one a single call",
          "[net][quota]") {
    // Answers take 1.5 s, longer than the 25 calls of a second take to start: whether they all
    // start before the first answer shows in how many the server holds at once.
    alma_setting s{bibs, {"--latency-ms", "1500", "--latency-jitter", "0"}, seed};
    auto const urls = holdings_urls(s, 25);

    client_options share = fast_retries(25, 32);
    share.keep_quota = quota_keep{};  // a tenth of what the first answer counts
    http_client wave(share);
    fetched f = fetch_all(wave, urls, 25);
    CHECK(count_class(f, outcome_class::success) == 25);
    CHECK(s.server.counters().max_in_flight == 25);
    CHECK(wave.floor().first_seen());

    s.server.reset();
    client_options exact = fast_retries(25, 32);
    exact.keep_quota = quota_keep{.calls = 100};
    http_client alone(exact);
    fetched g = fetch_all(alone, urls, 25);
    CHECK(count_class(g, outcome_class::success) == 25);
    // The first call went alone; the other 24 after its answer: two answers' latency at least,
    // which the emulator spends asleep, so no speed of the machine makes it shorter.
    CHECK(s.server.counters().max_in_flight == 24);
    CHECK(g.seconds >= 2 * 1.5);
}

TEST_CASE("the key travels in the Authorization header and never in a query string", "[net]") {
    alma_setting s{bibs, {}, seed};
    http_client http(fast_retries(0, 8));
    fetched f = fetch_all(http, holdings_urls(s, 100), 8);
    CHECK(count_class(f, outcome_class::success) == 100);
    auto seen = s.server.counters();
    CHECK(seen.key_in_query == 0);
    CHECK(seen.unauthorized == 0);  // so the header did carry the right key

    // A URL that carries a key in its query is refused before anything is sent.
    std::string leaky =
        s.server.base_url() + "/almaws/v1/bibs/991234567890123/holdings?apikey=" + test_api_key;
    fetched refused = fetch_all(http, {leaky}, 1);
    REQUIRE_FALSE(refused.results[0]);
    require_no_key_in(refused.results[0].error().message);
    CHECK(refused.results[0].error().message.find("apikey=REDACTED") != std::string::npos);
    CHECK(s.server.counters().requests == 100);
}

TEST_CASE("a stalled answer runs into the timeout and is tried past max_attempts until the patience "
          "runs out; then the client stops, naming the timeout", "[net]") {
    alma_setting s{bibs, {"--fault-rate-stall", "1", "--stall-seconds", "600"}, seed};
    client_options o = fast_retries(0, 2);
    o.loop.total_timeout = 300ms;
    o.retry.max_attempts = 2;
    o.retry.patience = 2s;
    http_client http(o);
    fetched f = fetch_all(http, holdings_urls(s, 1), 1);
    REQUIRE_FALSE(f.results[0]);
    CHECK(f.results[0].error().code == CURLE_ABORTED_BY_CALLBACK);
    CHECK(http.stopped());
    CHECK(http.stop_reason().find("no call has succeeded for 2s") != std::string::npos);
    CHECK(http.stop_reason().find("imeout") != std::string::npos);
    // A timeout says nothing of the request: more tries than max_attempts, none given up.
    CHECK(http.stats().requests > 2);
    CHECK(http.stats().outages >= 2);
    CHECK(http.stats().gave_up == 0);
    CHECK(f.seconds >= 1.9);  // the patience, as the loop's clock counts it
    // That it stopped for the patience and not at the stall's end (600 s) the stop reason above
    // says; no bound on the time taken, which a busy machine only lengthens.
    require_no_key_in(http.stop_reason());
}

TEST_CASE("an answer trickling three bytes a second is dropped by the low-speed limit and retried as an "
          "outage until the patience runs out", "[net]") {
    alma_setting s{bibs, {"--fault-rate-trickle", "1"}, seed};
    client_options o = fast_retries(0, 2);
    o.loop.low_speed_time = 1s;  // under 100 bytes/s for a second
    o.retry.max_attempts = 2;
    o.retry.patience = 4s;
    http_client http(o);
    fetched f = fetch_all(http, holdings_urls(s, 1), 1);
    REQUIRE_FALSE(f.results[0]);
    CHECK(http.stopped());
    CHECK(http.stop_reason().find("imeout") != std::string::npos);
    // Each try is dropped after about a second, not after the minutes a trickle would take, and
    // a timeout says nothing of the request: more tries than max_attempts.
    CHECK(http.stats().requests > 2);
    CHECK(s.server.counters().fault("trickle") == static_cast<long>(http.stats().requests));
    // The holdings list is over 300 bytes: a trickle would take minutes per attempt.
    CHECK(f.seconds < 60.0);
}

TEST_CASE("endless answers on every slot are cut by the budget for bodies in flight, each retried a "
          "bounded number of times", "[net]") {
    alma_setting s{bibs, {"--fault-rate-endless", "1"}, seed};
    client_options o = fast_retries(0, 8);
    o.loop.max_response_bytes = std::size_t{16} << 20;
    o.loop.bodies_in_flight_bytes = std::size_t{2} << 20;  // eight 16 MiB caps would be 128 MiB
    o.retry.max_attempts = 3;
    http_client http(o);
    fetched f = fetch_all(http, holdings_urls(s, 8), 8);
    for (auto const& r : f.results) {
        REQUIRE_FALSE(r);
        CHECK(r.error().code == CURLE_OUT_OF_MEMORY);
    }
    CHECK(http.loop().bodies().peak() <= o.loop.bodies_in_flight_bytes);
    CHECK(http.loop().bodies().used() == 0);
    CHECK(http.stats().requests == 8 * 3);
    CHECK(http.stats().gave_up == 8);
    CHECK(s.server.counters().fault("endless") == 8 * 3);
}

TEST_CASE("429 PER_SECOND_THRESHOLD slows the limiter down and every request still succeeds",
          "[net][slow]") {
    // The institution's budget is 20/s but the client was told 40/s (another integration uses
    // the rest, as happens in production).
    alma_setting s{bibs, {"--per-second", "20"}, seed};
    http_client http(fast_retries(40, 16));
    fetched f = fetch_all(http, holdings_urls(s, 100), 16);
    CHECK(count_class(f, outcome_class::success) == 100);
    auto seen = s.server.counters();
    CHECK(seen.sent_429 > 0);
    CHECK(http.stats().slowdowns > 0);
    CHECK(http.limiter().current_limit() < 40);
    // After slowing down the client stops provoking 429s: far fewer than the requests it made.
    CHECK(seen.sent_429 < 60);
}

TEST_CASE("an Alma that goes away and comes back: calls fail as connection errors and are retried to "
          "success", "[net]") {
    alma_setting s{bibs, {"--connections", "refuse"}, seed};
    client_options o = fast_retries(0, 4);
    o.retry.max_attempts = 1000;  // patience enough for any wait below
    o.retry.max_delay = 50ms;
    http_client http(o);
    auto comes_back =
        configure_when(s.server, [](auto const& c) { return c.get("calls_refused") >= 8; },
                       {{"connections", "serve"}});
    std::vector<std::string> urls = holdings_urls(s, 20);
    fetched f = fetch_all(http, urls, 4);
    comes_back.join();
    CHECK(count_class(f, outcome_class::success) == urls.size());
    auto seen = s.server.counters();
    CHECK(seen.get("calls_refused") >= 8);
    CHECK(http.stats().retries > 0);
    CHECK(http.stats().gave_up == 0);
    CHECK(seen.status(200) == static_cast<long>(urls.size()));
    CHECK_FALSE(http.stopped());
}

TEST_CASE("http-get-many prints STATUS BYTES URL in input order and a summary", "[net]") {
    alma_setting s{bibs, {"--latency-ms", held, "--latency-jitter", "0.5"}, seed};
    auto release = release_when_in_flight(s.server, 6, "50");
    std::vector<std::string> urls = holdings_urls(s, 40);
    urls.insert(urls.begin() + 5, s.server.base_url() + "/almaws/v1/bibs/991234567890123/holdings");
    std::string input;
    for (auto const& u : urls) input += u + '\n';
    auto const r =
        marcpipe::testing::run("/usr/bin/env",
                               {std::string{"ALMA_API_KEY="} + test_api_key, MARCPIPE_HTTP_GET_MANY,
                                "--concurrency", "6", "--rate", "400"},
                               input);
    CHECK(r.status == 1);  // one URL answered 400
    auto const got = marcpipe::testing::lines(r.out);
    REQUIRE(got.size() == urls.size());
    for (std::size_t i = 0; i < urls.size(); ++i) {
        std::istringstream fields(got[i]);
        std::string st, bytes, url;
        fields >> st >> bytes >> url;
        CHECK(url == urls[i]);
        CHECK(st == (i == 5 ? "400" : "200"));
        CHECK(std::stoul(bytes) > 0);
    }
    std::string const& summary = r.err;
    CHECK(summary.find("requests 41, retries 0, errors 1") != std::string::npos);
    require_no_key_in(summary);
    CHECK(s.server.counters().max_in_flight == 6);
}
