// alma::client against a small hostile server: a redirect is not followed but the problem says
// where it pointed (key redacted, controls shown), and an error body full of terminal escapes and
// spreadsheet formulas is reported so that neither a terminal nor a spreadsheet acts on it.
#include <httplib.h>

#include <chrono>
#include <marcpipe/alma/client.hpp>
#include <marcpipe/coro/sync_wait.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "catch.hpp"
#include "support/serving.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace hostile_server_test {

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;
using namespace std::chrono_literals;

namespace {

std::string const hostile_key = "l8xx-hostile-server-test";

// A loopback server on its own thread whose answers are whatever the test gives it.
class hostile_server {
public:
    hostile_server() {
        // A redirect to another host, as a captured gateway or a proxy might send, with the key
        // in the query and a terminal escape in the path.
        server_.Get("/almaws/v1/bibs/1/holdings", [](httplib::Request const&, httplib::Response& res) {
            res.status = 302;
            res.set_header("Location", "https://elsewhere.example/almaws/v1/bibs/1/holdings?apikey=" + hostile_key +
                                           "&x=%1B[2J\x1b[2J");
        });
        server_.Get("/almaws/v1/bibs/2/holdings", [](httplib::Request const&, httplib::Response& res) {
            res.status = 400;
            res.set_content(
                "<web_service_result xmlns=\"http://com/exlibris/urm/general/xmlbeans\"><errorsExist>true"
                "</errorsExist><errorList><error><errorCode>=HYPERLINK(\"http://x\")</errorCode>"
                "<errorMessage>&#x1B;]0;owned&#x7;gone&#xD;&#x1B;[2K</errorMessage>"
                "<trackingId>@E01\x1b[31m</trackingId></error></errorList></web_service_result>",
                "application/xml");
        });
        serving_.emplace(server_);
    }
    hostile_server(hostile_server const&) = delete;
    hostile_server& operator=(hostile_server const&) = delete;
    std::string base_url() const { return serving_->url(); }

private:
    httplib::Server server_;
    std::optional<marcpipe::testing::serving> serving_;
};

alma::problem failed_list(std::string const& mms_id) {
    hostile_server server;
    net::client_options o = alma::http_options(hostile_key);
    o.rate = 0;
    o.retry.max_attempts = 1;
    net::http_client http(o);
    alma::client client(http, server.base_url());
    auto listed = marcpipe::coro::sync_wait(client.holdings_list(mms_id), [&] { http.loop().run_once(100ms); });
    REQUIRE_FALSE(listed);
    return listed.error();
}

bool has_control(std::string const& s) {
    for (char c : s)
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return true;
    return false;
}

}  // namespace

TEST_CASE("a redirect is not followed, and the problem says where it pointed, key hidden", "[alma][hostile]") {
    alma::problem const p = failed_list("1");
    CHECK(p.http_status == 302);
    CHECK(p.message ==
          "HTTP 302 redirect, not followed: Location "
          "https://elsewhere.example/almaws/v1/bibs/1/holdings?apikey=REDACTED&x=%1B[2J\\x1B[2J");
}

TEST_CASE("an error body of escapes and formulas reaches neither a terminal nor a spreadsheet as such",
          "[alma][hostile]") {
    alma::problem const p = failed_list("2");
    CHECK(p.http_status == 400);
    std::string const line = alma::describe(p);
    std::string const row = alma::csv_row(p);
    CAPTURE(line, row);
    CHECK_FALSE(has_control(line));
    CHECK_FALSE(has_control(row.substr(0, row.size() - 2)));  // the row's own CRLF aside
    CHECK(line.find("\\x1B]0;owned\\x07gone\\x0D\\x1B[2K") != std::string::npos);
    CHECK(line.find("(tracking ID @E01\\x1B[31m)") != std::string::npos);
    CHECK(row == "holdings-list,2,,400,\"'=HYPERLINK(\"\"http://x\"\")\",\\x1B]0;owned\\x07gone\\x0D\\x1B[2K,"
                 "'@E01\\x1B[31m\r\n");
}

}  // namespace hostile_server_test
