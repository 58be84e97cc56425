// URL checks and redaction: plain http only to loopback, and no API key in anything printed.
#include <marcpipe/net/printable.hpp>
#include <marcpipe/net/url.hpp>
#include <string>

#include "catch.hpp"

using namespace marcpipe::net;

TEST_CASE("loopback hosts are 127.0.0.0/8, ::1 and localhost", "[net]") {
    for (char const* host : {"127.0.0.1", "127.45.6.7", "localhost", "LocalHost", "::1", "[::1]"}) {
        INFO(host);
        CHECK(is_loopback_host(host));
    }
    for (char const* host :
         {"128.0.0.1", "10.0.0.1", "127.0.0", "127.0.0.1.example.org", "127.0.0.256",
          "localhost.example.org", "api-eu.hosted.exlibrisgroup.com"}) {
        INFO(host);
        CHECK_FALSE(is_loopback_host(host));
    }
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

TEST_CASE("a short key is scrubbed only as a whole token, a long one wherever it is", "[net]") {
    // A test server's key of three letters must not garble the words it is part of.
    CHECK(scrub("abcdef and abc, (abc) xabc", "abc") == "abcdef and REDACTED, (REDACTED) xabc");
    CHECK(scrub("Authorization: apikey abc", "abc") == "Authorization: apikey REDACTED");
    CHECK(scrub("apikey=abcdef&x=1", "abc") == "apikey=REDACTED&x=1");
    // Sixteen characters and more: replaced even inside a longer word.
    std::string const key = "0123456789abcdef";
    CHECK(scrub("x" + key + "y", key) == "xREDACTEDy");
}

TEST_CASE("text from a server is printed with its control characters shown, never acting", "[net]") {
    using marcpipe::net::printable;
    CHECK(printable("plain text, \"quoted\" and \xC3\xA9t\xC3\xA9 \xE2\x82\xAC") ==
          "plain text, \"quoted\" and \xC3\xA9t\xC3\xA9 \xE2\x82\xAC");
    CHECK(printable("\x1B]0;title\x07\x1B[2J\r\b\x7F") == "\\x1B]0;title\\x07\\x1B[2J\\x0D\\x08\\x7F");
    // C1 controls as UTF-8 (U+009B is CSI), and bytes that are not UTF-8.
    CHECK(printable("a\xC2\x9B" "2Jb\xFF\xC3") == "a\\xC2\\x9B2Jb\\xFF\\xC3");
    // Shown once, shown for good: printing printed text changes nothing.
    CHECK(printable(printable("\x1B[31m")) == "\\x1B[31m");
}
