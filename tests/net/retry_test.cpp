// net's own classification of results into success / transient / permanent / fatal (plain
// HTTP, nothing of Alma), outages among the transient ones, the backoff, the pace under a storm
// of failures, and the durations --patience takes.
#include <chrono>
#include <deque>
#include <marcpipe/net/classify.hpp>
#include <marcpipe/net/duration.hpp>
#include <marcpipe/net/rate_limiter.hpp>
#include <marcpipe/net/retry.hpp>
#include <random>
#include <string>

#include "catch.hpp"

using namespace marcpipe::net;
using std::chrono::milliseconds;

namespace {
// An Alma error body: net must read it as any other body, without its code.
std::string alma_body(std::string const& code) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
           "<web_service_result xmlns=\"http://com/exlibris/urm/general/xmlbeans\">"
           "<errorsExist>true</errorsExist><errorList><error><errorCode>" +
           code + "</errorCode><errorMessage>message for " + code +
           "</errorMessage></error></errorList></web_service_result>";
}
result http(long status, std::string body = {}, std::vector<header> headers = {}) {
    return response(status, std::move(headers), std::move(body));
}
result failure(CURLcode code) {
    return tl::unexpected(transport_error(code, curl_easy_strerror(code)));
}
std::vector<header> xml() { return {header("Content-Type", "application/xml;charset=UTF-8")}; }
}  // namespace

TEST_CASE("a 2xx is a success whatever its body holds: only the caller knows what it asked for",
          "[net]") {
    CHECK(classify(http(200, "<holdings total_record_count=\"0\"/>", xml())) ==
          outcome_class::success);
    CHECK(classify(http(204)) == outcome_class::success);
    CHECK(classify(http(200, "<holdings><holding><holding_id>22", xml())) ==
          outcome_class::success);
}

TEST_CASE("server errors and gateway trouble are transient", "[net]") {
    long status = GENERATE(500L, 502L, 503L, 504L, 408L);
    CHECK(classify(http(status)) == outcome_class::transient);
    CHECK(classify(http(status, alma_body("420033"), xml())) == outcome_class::transient);
}

TEST_CASE("network failures are transient", "[net]") {
    CURLcode code = GENERATE(CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT, CURLE_RECV_ERROR,
                             CURLE_SEND_ERROR, CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE,
                             CURLE_WEIRD_SERVER_REPLY, CURLE_BAD_CONTENT_ENCODING);
    CHECK(classify(failure(code)) == outcome_class::transient);
}

TEST_CASE("a server or network that is down is an outage; a garbled answer or a 408 is not",
          "[net]") {
    long status = GENERATE(500L, 502L, 503L, 504L);
    CHECK(examine(http(status)).outage);
    CHECK(examine(http(status, alma_body("420033"), xml())).outage);
    CURLcode code = GENERATE(CURLE_OPERATION_TIMEDOUT, CURLE_COULDNT_CONNECT,
                             CURLE_COULDNT_RESOLVE_HOST, CURLE_RECV_ERROR, CURLE_SEND_ERROR,
                             CURLE_GOT_NOTHING, CURLE_PARTIAL_FILE, CURLE_SSL_CONNECT_ERROR);
    verdict v = examine(failure(code));
    CHECK(v.kind == outcome_class::transient);
    CHECK(v.outage);
    for (result const& r :
         {http(408), http(429), http(200), http(400), http(501), failure(CURLE_WEIRD_SERVER_REPLY),
          failure(CURLE_BAD_CONTENT_ENCODING), failure(CURLE_PEER_FAILED_VERIFICATION)})
        CHECK_FALSE(examine(r).outage);
    CHECK(examine(failure(CURLE_PEER_FAILED_VERIFICATION)).kind == outcome_class::fatal);
}

TEST_CASE("a 429 is transient and slows the limiter", "[net]") {
    verdict v = examine(http(429));
    CHECK(v.kind == outcome_class::transient);
    CHECK(v.over_rate);
}

TEST_CASE("other 4xx are permanent", "[net]") {
    CHECK(classify(http(400)) == outcome_class::permanent);
    CHECK(classify(http(403)) == outcome_class::permanent);
    CHECK(classify(http(404)) == outcome_class::permanent);
    CHECK(classify(http(501)) == outcome_class::permanent);
    CHECK(classify(failure(CURLE_FILESIZE_EXCEEDED)) == outcome_class::permanent);
    CHECK(classify(failure(CURLE_UNSUPPORTED_PROTOCOL)) == outcome_class::permanent);
}

TEST_CASE("refused credentials and an unverified certificate are fatal", "[net]") {
    CHECK(classify(http(401)) == outcome_class::fatal);
    CHECK(classify(failure(CURLE_PEER_FAILED_VERIFICATION)) == outcome_class::fatal);
    CHECK(classify(failure(CURLE_SSL_CACERT_BADFILE)) == outcome_class::fatal);
}

TEST_CASE("net knows nothing of Alma: its error codes are bodies like any other", "[net]") {
    // Under Alma's classification (alma/http_policy.hpp) the first three are fatal and the last
    // slows down; here only the status counts.
    CHECK(classify(http(400, alma_body("DAILY_THRESHOLD"), xml())) == outcome_class::permanent);
    CHECK(classify(http(400, alma_body("UNAUTHORIZED"), xml())) == outcome_class::permanent);
    CHECK(classify(http(403, alma_body("UNAUTHORIZED"), xml())) == outcome_class::permanent);
    verdict v = examine(http(400, alma_body("PER_SECOND_THRESHOLD"), xml()));
    CHECK(v.kind == outcome_class::permanent);
    CHECK_FALSE(v.over_rate);
    CHECK(v.code.empty());
    CHECK(v.reason == "HTTP 400");
}

TEST_CASE("Retry-After is read as seconds or as an HTTP date", "[net]") {
    CHECK(parse_retry_after("3") == milliseconds(3000));
    CHECK(parse_retry_after(" 0 ") == milliseconds(0));
    auto now = std::chrono::system_clock::from_time_t(1445412480);  // Wed, 21 Oct 2015 07:28:00 GMT
    CHECK(parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now) == milliseconds(10'000));
    CHECK(parse_retry_after("Wed, 21 Oct 2015 07:27:00 GMT", now) == milliseconds(0));
    CHECK_FALSE(parse_retry_after("soon"));
    CHECK_FALSE(parse_retry_after(""));
    verdict v = examine(http(503, "", {header("retry-after", "2")}));
    CHECK(v.retry_after == milliseconds(2000));
}

TEST_CASE("backoff is full jitter under a doubling cap, with Retry-After as a floor", "[net]") {
    retry_policy policy;
    policy.base_delay = milliseconds(100);
    policy.max_delay = milliseconds(1000);
    policy.max_retry_after = milliseconds(5000);
    std::mt19937_64 rng(42);
    for (int attempt = 1; attempt <= 8; ++attempt) {
        long long cap = std::min(1000LL, 100LL << (attempt - 1));
        long long seen_max = 0, seen_min = cap;
        for (int i = 0; i < 2000; ++i) {
            auto d = policy.backoff(attempt, std::nullopt, rng).count();
            REQUIRE(d >= 0);
            REQUIRE(d <= cap);
            seen_max = std::max<long long>(seen_max, d);
            seen_min = std::min<long long>(seen_min, d);
        }
        // Full jitter spreads over the whole range, not just near the cap.
        CHECK(seen_max > cap * 9 / 10);
        CHECK(seen_min < cap / 10);
    }
    CHECK(policy.backoff(1, milliseconds(3000), rng) == milliseconds(3000));
    CHECK(policy.backoff(1, milliseconds(60'000), rng) == milliseconds(5000));
}

namespace {
// A client on a simulated clock, a tick a millisecond: it starts a call whenever the limiter
// allows (retries and new calls alike), each call ends 200 ms later, failing as an outage when
// `fails(t)` says so, and a failure in a storm slows the limiter as http_client does.
struct paced_run {
    std::size_t starts = 0;
    std::size_t slowdowns = 0;
    std::vector<std::size_t> starts_per_second;
};
template <class Fails>
paced_run simulate(std::chrono::seconds length, Fails fails) {
    using namespace std::chrono_literals;
    rolling_window window(rate_options{25});
    failure_storm storm;
    std::deque<rolling_window::time_point> ending;
    paced_run run;
    run.starts_per_second.resize(static_cast<std::size_t>(length.count()));
    rolling_window::time_point const t0{};
    for (auto t = t0; t < t0 + length; t += 1ms) {
        while (!ending.empty() && ending.front() <= t) {
            ending.pop_front();
            bool const outage = fails(t - t0);
            if (storm.note(t, outage)) {
                ++run.slowdowns;
                window.slow_down(t);
            }
        }
        if (window.try_start(t)) {
            ++run.starts;
            ++run.starts_per_second[static_cast<std::size_t>((t - t0) / 1s)];
            ending.push_back(t + 200ms);
        }
    }
    return run;
}
std::size_t starts_between(paced_run const& r, std::size_t from, std::size_t to) {
    std::size_t n = 0;
    for (std::size_t s = from; s < to; ++s) n += r.starts_per_second[s];
    return n;
}
}  // namespace

TEST_CASE("8% of calls failing at random leaves the pace alone: at least 0.95 of the rate",
          "[net]") {
    using namespace std::chrono_literals;
    std::mt19937_64 rng(8);
    std::bernoulli_distribution eight_percent(0.08);
    paced_run r = simulate(120s, [&](auto) { return eight_percent(rng); });
    paced_run calm = simulate(120s, [](auto) { return false; });
    INFO("starts with 8% failing: " << r.starts << ", with none: " << calm.starts);
    CHECK(r.slowdowns == 0);
    CHECK(r.starts == calm.starts);
    CHECK(r.starts >= static_cast<std::size_t>(0.95 * 25 * 120));
}

TEST_CASE("a storm of outages slows the pace as a 429 does, and it recovers after", "[net]") {
    using namespace std::chrono_literals;
    // Seconds 10 to 30: every call fails (a 503 storm, or the network gone).
    paced_run r = simulate(60s, [](auto at) { return at >= 10s && at < 30s; });
    std::size_t const before = starts_between(r, 0, 10);
    std::size_t const storm_settled = starts_between(r, 15, 30);
    std::size_t const recovered = starts_between(r, 45, 60);
    INFO("starts: " << before << " in 0-10 s, " << storm_settled << " in 15-30 s, " << recovered
                    << " in 45-60 s");
    CHECK(r.slowdowns > 0);
    CHECK(before >= static_cast<std::size_t>(0.95 * 25 * 10));
    // Halved once a window down to one a second: far below half the rate.
    CHECK(storm_settled < 25 * 15 / 4);
    CHECK(recovered >= static_cast<std::size_t>(0.95 * 25 * 15));
}

TEST_CASE("a burst of failures in one instant is no storm", "[net]") {
    using namespace std::chrono_literals;
    failure_storm storm;
    auto t = failure_storm::clock::time_point{};
    for (int i = 0; i < 40; ++i) {
        t += 40ms;
        CHECK_FALSE(storm.note(t, false));
    }
    // Every open connection breaks at once: 30 failures within 10 ms.
    for (int i = 0; i < 30; ++i)
        CHECK_FALSE(storm.note(t + std::chrono::milliseconds(i / 3), true));
    // Still failing two seconds on, and most calls fail: now it is one.
    bool storm_seen = false;
    for (int i = 0; i < 60; ++i) storm_seen = storm.note(t + 40ms * i, true) || storm_seen;
    CHECK(storm_seen);
}

TEST_CASE("durations are read as 90s, 10m, 1h or seconds, and nothing else", "[net]") {
    using namespace std::chrono_literals;
    CHECK(parse_duration("90s") == 90s);
    CHECK(parse_duration("10m") == 600s);
    CHECK(parse_duration("1h") == 3600s);
    CHECK(parse_duration("45") == 45s);
    CHECK(parse_duration("0") == 0s);
    for (char const* bad : {"", "s", "m", "-5s", "+5", "1.5m", "10 m", " 10m", "10ms", "1h30m",
                            "inf", "nan", "1e3", "10d", "99999999999999999999", "9999999999999h"})
        CHECK_FALSE(parse_duration(bad));
    CHECK(check_patience("90s").empty());
    CHECK(check_patience("24h").empty());
    CHECK(check_patience("1").empty());
    CHECK(check_patience("0s").find("between 1s and 24h") != std::string::npos);
    CHECK(check_patience("25h").find("between 1s and 24h") != std::string::npos);
    CHECK(check_patience("ten").find("'ten' is not a duration") != std::string::npos);
    CHECK(describe_duration(600s) == "10m");
    CHECK(describe_duration(90s) == "1m30s");
    CHECK(describe_duration(3s) == "3s");
    CHECK(describe_duration(5400s) == "1h30m");
}
