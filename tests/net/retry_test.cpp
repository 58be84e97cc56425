// net's own classification of results into success / transient / permanent / fatal (plain
// HTTP, nothing of Alma), and the backoff.
#include <chrono>
#include <marcpipe/net/classify.hpp>
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
