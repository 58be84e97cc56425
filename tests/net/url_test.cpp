// URL checks and redaction: plain http only to loopback, and no API key in anything printed.
#include <marcpipe/net/url.hpp>
#include <string>

#include "catch.hpp"

using namespace marcpipe::net;

TEST_CASE("loopback hosts are 127.0.0.0/8, ::1 and localhost", "[net]") {
    CHECK(is_loopback_host("127.0.0.1"));
    CHECK(is_loopback_host("127.45.6.7"));
    CHECK(is_loopback_host("localhost"));
    CHECK(is_loopback_host("LocalHost"));
    CHECK(is_loopback_host("::1"));
    CHECK(is_loopback_host("[::1]"));
    CHECK_FALSE(is_loopback_host("128.0.0.1"));
    CHECK_FALSE(is_loopback_host("10.0.0.1"));
    CHECK_FALSE(is_loopback_host("127.0.0"));
    CHECK_FALSE(is_loopback_host("127.0.0.1.example.org"));
    CHECK_FALSE(is_loopback_host("127.0.0.256"));
    CHECK_FALSE(is_loopback_host("localhost.example.org"));
    CHECK_FALSE(is_loopback_host("api-eu.hosted.exlibrisgroup.com"));
}

TEST_CASE("plain http is refused for anything but a loopback host", "[net]") {
    CHECK_FALSE(check_url("https://api-eu.hosted.exlibrisgroup.com/almaws/v1/bibs/99123"));
    CHECK_FALSE(check_url("http://127.0.0.1:8080/almaws/v1/bibs/99123"));
    CHECK_FALSE(check_url("http://localhost:8080/x"));
    CHECK_FALSE(check_url("http://[::1]:8080/x"));
    auto refused =
        check_url("http://api-eu.hosted.exlibrisgroup.com/almaws/v1/bibs?apikey=l8xx-secret");
    REQUIRE(refused);
    CHECK(refused->find("loopback") != std::string::npos);
    CHECK(refused->find("l8xx-secret") == std::string::npos);
    CHECK(check_url("ftp://127.0.0.1/x"));
    CHECK(check_url("not a url at all"));
}

TEST_CASE("redaction hides the apikey query parameter and nothing else", "[net]") {
    CHECK(redact("https://h/almaws/v1/bibs?mms_id=1&apikey=l8xx-secret&view=full") ==
          "https://h/almaws/v1/bibs?mms_id=1&apikey=REDACTED&view=full");
    CHECK(redact("https://h/x?APIKEY=abc") == "https://h/x?APIKEY=REDACTED");
    CHECK(redact("https://h/x?apikey=abc#frag") == "https://h/x?apikey=REDACTED#frag");
    CHECK(redact("https://h/x?mms_id=99") == "https://h/x?mms_id=99");
    CHECK(redact("https://h/x") == "https://h/x");
    CHECK(has_key_in_query("https://h/x?a=1&apikey=k"));
    CHECK_FALSE(has_key_in_query("https://h/x?a=1&notapikey=k"));
}

TEST_CASE("scrubbing removes the key from free text in every form it may take", "[net]") {
    std::string const key = "l8xx0123456789abcdef";
    std::string text = "GET https://h/x?apikey=" + key + " failed; Authorization: apikey " + key +
                       "; raw " + key + " end";
    std::string clean = scrub(text, key);
    CHECK(clean.find(key) == std::string::npos);
    CHECK(clean.find("apikey=REDACTED") != std::string::npos);
    CHECK(clean.find("apikey REDACTED") != std::string::npos);
    CHECK(scrub("nothing secret here", key) == "nothing secret here");
}
