// Text from a server, a key file or a CA bundle, checked where it enters: a problem as it may be
// shown (key scrubbed, long text cut), bidirectional controls escaped, an undeclared entity in a
// holdings record refused, a byte-order mark left out of the key, a bundle without a certificate
// refused.
#include <marcpipe/alma/client.hpp>
#include <marcpipe/alma/holdings.hpp>
#include <marcpipe/alma/report.hpp>
#include <marcpipe/net/ca_bundle.hpp>
#include <marcpipe/net/printable.hpp>
#include <marcpipe/net/url.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "catch.hpp"
#include "support/files.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace text_safety_unit_test {

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;

namespace {

using marcpipe::testing::scratch_file;

}  // namespace

TEST_CASE("every field of a problem as shown is scrubbed of the key, whichever field the server put it in",
          "[alma][report][text]") {
    std::string const key = "l8xx0123456789abcdef0123";
    alma::problem const p{alma::stage::holding_record, "99" + key, "22", 400, "402208 " + key,
                          "asked with apikey=" + key, "E01-1 " + key};
    auto const shown = alma::shown(p, [&](std::string_view t) { return net::printable(net::scrub(t, key)); });
    CHECK(shown == alma::problem{alma::stage::holding_record, "99REDACTED", "22", 400, "402208 REDACTED",
                                 "asked with apikey=REDACTED", "E01-1 REDACTED"});
}

TEST_CASE("a field longer than 1 KiB is cut there, at a character, and the cut is said", "[alma][report][text]") {
    CHECK(alma::cut_for_showing(std::string(1024, 'x')) == std::string(1024, 'x'));
    CHECK(alma::cut_for_showing(std::string(5 << 20, 'x')) == std::string(1024, 'x') + " [cut: 5242880 bytes in all]");
    // An 'é' (C3 A9) across the cut is left out whole; so is an escape \xNN.
    std::string const accented = std::string(1023, 'x') + "\xC3\xA9" + std::string(10, 'y');
    CHECK(alma::cut_for_showing(accented) == std::string(1023, 'x') + " [cut: 1035 bytes in all]");
    std::string const escaped = std::string(1022, 'x') + "\\x1B" + std::string(10, 'y');
    CHECK(alma::cut_for_showing(escaped) == std::string(1022, 'x') + " [cut: 1036 bytes in all]");
}

TEST_CASE("bidirectional embeddings, overrides and isolates are shown escaped; other text passes", "[net][text]") {
    CHECK(net::printable("a\xE2\x80\xAE" "b") == "a\\xE2\\x80\\xAEb");          // U+202E
    CHECK(net::printable("\xE2\x80\xAA\xE2\x81\xA6\xE2\x81\xA9") ==             // U+202A, U+2066, U+2069
          "\\xE2\\x80\\xAA\\xE2\\x81\\xA6\\xE2\\x81\\xA9");
    CHECK(net::printable("\xE2\x80\x94 \xE2\x80\xAF \xE2\x81\xA5") == "\xE2\x80\x94 \xE2\x80\xAF \xE2\x81\xA5");  // dash, U+202F, U+2065
}

TEST_CASE("an undeclared entity in a holdings record is refused, as in an export", "[alma][holdings][text]") {
    std::string const body =
        "<holding><holding_id>22</holding_id><record><leader>00000nx  a2200000zi 4500</leader>"
        "<controlfield tag=\"001\">22</controlfield><datafield tag=\"852\" ind1=\"0\" ind2=\" \">"
        "<subfield code=\"b\">MAIN</subfield><subfield code=\"z\">&lol9;</subfield></datafield></record></holding>";
    auto const parsed = alma::parse_holding_record(body);
    REQUIRE(!parsed);
    CHECK(parsed.error().message() == "malformed XML: undeclared entity &lol9; at byte " +
                                          std::to_string(body.find("&lol9;")));
    CHECK(parsed.error().final);
    // The five entities and character references pass, &#x1E; too (the writers replace it).
    std::string fine = body;
    fine.replace(body.find("&lol9;"), 6, "&amp;&lt;&#x41;&#x1E;");
    REQUIRE(alma::parse_holding_record(fine));
}

TEST_CASE("a key file's UTF-8 byte-order mark is not part of the key", "[alma][client][text]") {
    auto const path = scratch_file("bom-key", "\xEF\xBB\xBF" "abc-key\r\n");
    CHECK(alma::load_api_key(path.string()) == "abc-key");
}

TEST_CASE("a refused key's hint names where the key came from", "[alma][text]") {
    net::result r{net::response{}};
    r->status = 400;
    r->body = "<web_service_result><errorList><error><errorCode>UNAUTHORIZED</errorCode>"
              "<errorMessage>API-key not defined or not configured to allow this API.</errorMessage>"
              "</error></errorList></web_service_result>";
    auto const options = alma::http_options("k", alma::api_key_origin(std::string{"keys/alma.txt"}));
    auto const v = options.classify(r);
    CHECK(v.kind == net::outcome_class::fatal);
    CHECK(v.reason.find("check the API key file keys/alma.txt and") != std::string::npos);
    CHECK(v.reason.find("ALMA_API_KEY") == std::string::npos);
    CHECK(options.auth.origin == "the API key file keys/alma.txt");
}

TEST_CASE("a CA bundle without a PEM certificate is unfit; one with a certificate is not", "[net][text]") {
    auto const notes = scratch_file("notes.pem", "the proxy's CA\n");
    auto const cert = scratch_file("ca.pem",
                                   "# a comment\n-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n"
                                   "-----END CERTIFICATE-----\n");
    CHECK(net::check_ca_bundle(notes.string()) ==
          "the CA bundle " + notes.string() +
              " holds no PEM certificate (-----BEGIN CERTIFICATE----- ...); TLS could verify nothing with it");
    CHECK(net::check_ca_bundle(cert.string()) == std::nullopt);
    CHECK(net::check_ca_bundle("/nonexistent/ca.pem")->starts_with("cannot read the CA bundle /nonexistent/ca.pem"));
}

}  // namespace text_safety_unit_test
