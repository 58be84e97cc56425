// Alma error bodies, as Alma and its API gateway really send them, read into alma_error.
#include <cstdlib>
#include <fstream>
#include <marcpipe/alma/error.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "catch.hpp"
#include "support/files.hpp"

using marcpipe::alma::parse_alma_error;

namespace {
std::string error_fixture(std::string const& name) {
    return marcpipe::testing::slurp(marcpipe::testing::data_root() / "alma-errors" / name);
}
}  // namespace

TEST_CASE("an Alma error with a tracking ID gives code, message and tracking ID", "[alma]") {
    auto e = parse_alma_error(error_fixture("pulibrary_error_402203_invalid_mmsid.xml"), 400);
    REQUIRE(e);
    CHECK(e->http_status == 400);
    CHECK(e->code == "402203");
    CHECK(e->message == "Input parameters mmsId 1234 is not valid.");
    CHECK(e->tracking_id == "E01-0212223205-P0XW8-AWAE584905282");
    CHECK(e->describe() ==
          "HTTP 400, Alma error 402203: Input parameters mmsId 1234 is not valid. (tracking ID "
          "E01-0212223205-P0XW8-AWAE584905282)");
}

TEST_CASE("a single-line error body parses the same way", "[alma]") {
    auto e = parse_alma_error(error_fixture("scriptotek_error_401664.xml"));
    REQUIRE(e);
    CHECK(e->code == "401664");
    CHECK(e->message == "Mandatory field is missing: library");
    CHECK(e->tracking_id == "E02-2807130150-8OWYS-AWAE533535741");
}

TEST_CASE("a gateway error has a code but no tracking ID", "[alma]") {
    auto e = parse_alma_error(error_fixture("gateway_error_UNAUTHORIZED.xml"), 400);
    REQUIRE(e);
    CHECK(e->code == "UNAUTHORIZED");
    CHECK(e->message == "API-key not defined or not configured to allow this API.");
    CHECK(e->tracking_id.empty());
}

TEST_CASE("the JSON form of a threshold error is read without a JSON library", "[alma]") {
    auto e = parse_alma_error(error_fixture("scriptotek_error_PER_SECOND_THRESHOLD.json"), 429);
    REQUIRE(e);
    CHECK(e->code == "PER_SECOND_THRESHOLD");
    CHECK(e->message ==
          "HTTP requests are more than allowed per second. See https://goo.gl/2x1c1M");
    CHECK(e->tracking_id.empty());
}

TEST_CASE("bodies that are not Alma errors give no alma_error", "[alma]") {
    CHECK_FALSE(parse_alma_error(""));
    CHECK_FALSE(parse_alma_error("   \r\n"));
    CHECK_FALSE(parse_alma_error("<html><body>502 Bad Gateway</body></html>"));
    CHECK_FALSE(parse_alma_error("Internal Server Error"));
    CHECK_FALSE(parse_alma_error("<web_service_result><errorList>"));  // cut off
    CHECK_FALSE(parse_alma_error("<holding><holding_id>22</holding_id></holding>"));
    CHECK_FALSE(parse_alma_error("{\"total_record_count\": 0}"));
}
