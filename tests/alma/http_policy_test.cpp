// Alma's classification of answers, its key header and its quota header, over net's generic ones.
#include <chrono>
#include <marcpipe/alma/http_policy.hpp>
#include <string>
#include <vector>

#include "catch.hpp"

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;
using net::outcome_class;

namespace {
std::string alma_body(std::string const& code, bool with_tracking = true) {
    std::string body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>"
        "<web_service_result "
        "xmlns=\"http://com/exlibris/urm/general/xmlbeans\"><errorsExist>true</errorsExist>"
        "<errorList><error><errorCode>" +
        code + "</errorCode><errorMessage>message for " + code + "</errorMessage>";
    if (with_tracking) body += "<trackingId>E01-TEST</trackingId>";
    return body + "</error></errorList></web_service_result>";
}
net::result http(long status, std::string body = {}, std::vector<net::header> headers = {}) {
    return net::response(status, std::move(headers), std::move(body));
}
net::result failure(CURLcode code) {
    return tl::unexpected(net::transport_error(code, curl_easy_strerror(code)));
}
}  // namespace

TEST_CASE("DAILY_THRESHOLD and UNAUTHORIZED are fatal under Alma's classification, not under net's",
          "[alma][policy]") {
    long status = GENERATE(400L, 403L, 429L);
    std::string code = GENERATE(as<std::string>{}, "DAILY_THRESHOLD", "UNAUTHORIZED");
    net::result r = http(status, alma_body(code, false));
    CHECK(net::classify(r) != outcome_class::fatal);
    net::verdict v = alma::examine_answer(r);
    CHECK(v.kind == outcome_class::fatal);
    CHECK(v.code == code);
    CHECK(v.reason.find(code) != std::string::npos);
    CHECK(v.reason.find(code == "UNAUTHORIZED" ? "API key" : "daily API threshold") !=
          std::string::npos);
}

TEST_CASE("a 400 with an Alma DAILY_THRESHOLD body: permanent to net, fatal to Alma",
          "[alma][policy]") {
    net::result r = http(400, alma_body("DAILY_THRESHOLD", false));
    CHECK(net::classify(r) == outcome_class::permanent);
    CHECK(alma::examine_answer(r).kind == outcome_class::fatal);
    CHECK(alma::http_options("k").classify(r).kind == outcome_class::fatal);
    CHECK(net::client_options{}.classify(r).kind == outcome_class::permanent);
}

TEST_CASE("PER_SECOND_THRESHOLD is transient and slows the limiter, whatever the status",
          "[alma][policy]") {
    long status = GENERATE(429L, 400L);
    net::verdict v = alma::examine_answer(http(status, alma_body("PER_SECOND_THRESHOLD", false)));
    CHECK(v.kind == outcome_class::transient);
    CHECK(v.over_rate);
    CHECK(v.code == "PER_SECOND_THRESHOLD");
    CHECK(v.tracking_id.empty());
}

TEST_CASE("an Alma error is read once and handed on: code, message, tracking ID",
          "[alma][policy]") {
    net::verdict v = alma::examine_answer(http(400, alma_body("402203")));
    CHECK(v.kind == outcome_class::permanent);
    CHECK(v.code == "402203");
    CHECK(v.message == "message for 402203");
    CHECK(v.tracking_id == "E01-TEST");
    CHECK(v.reason == "HTTP 400, Alma error 402203: message for 402203 (tracking ID E01-TEST)");
}

TEST_CASE("without an Alma code, net's verdict stands", "[alma][policy]") {
    long status = GENERATE(500L, 502L, 503L, 504L);
    CHECK(alma::examine_answer(http(status)).kind == outcome_class::transient);
    CHECK(alma::examine_answer(http(status, "<html><body>Bad Gateway</body></html>")).kind ==
          outcome_class::transient);
    CHECK(alma::examine_answer(http(500, alma_body("401652"))).kind == outcome_class::transient);
    CHECK(alma::examine_answer(http(401)).kind == outcome_class::fatal);
    CHECK(alma::examine_answer(failure(CURLE_RECV_ERROR)).kind == outcome_class::transient);
    CHECK(alma::examine_answer(failure(CURLE_PEER_FAILED_VERIFICATION)).kind ==
          outcome_class::fatal);
    // A 2xx is not judged here: alma::client judges it by reading it.
    CHECK(alma::examine_answer(http(200, "<holdings><holding>")).kind == outcome_class::success);
    CHECK(alma::unreadable_answer("cut off").kind == outcome_class::transient);
}

TEST_CASE("Alma's http options send the key in the Authorization header and read the quota header",
          "[alma][policy]") {
    net::client_options o = alma::http_options("l8xx-secret");
    CHECK(o.auth.name == "Authorization");
    CHECK(o.auth.value == "apikey l8xx-secret");
    CHECK(o.quota_header == "X-Exl-Api-Remaining");
    net::http_client http(o);
    CHECK(http.scrub("key l8xx-secret in a message") == "key REDACTED in a message");
    CHECK(alma::http_options("").auth.name.empty());
}
