// alma::client against the loopback Alma emulator: an answer that cannot be read is asked for
// again within the HTTP client's one retry budget, and then becomes a problem; an Alma error
// becomes a problem with its code at once.
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <marcpipe/alma/client.hpp>
#include <marcpipe/coro/sync_wait.hpp>
#include <string>
#include <thread>
#include <vector>

#include "catalogue.hpp"
#include "catch.hpp"
#include "support/emulator.hpp"
#include "support/serving.hpp"

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;
using marcpipe::testing::alma_setting;
using marcpipe::testing::test_api_key;
using namespace std::chrono_literals;

namespace {

net::client_options quick(int max_attempts) {
    net::client_options o = alma::http_options(test_api_key);
    o.rate = 0;
    o.retry.max_attempts = max_attempts;
    o.retry.base_delay = 2ms;
    o.retry.max_delay = 20ms;
    o.seed = 3;
    return o;
}

// MMS IDs of bibs the emulator has (not deleted since the export).
std::vector<std::string> live_bibs(marcpipe::emulator::catalogue const& cat, std::size_t count) {
    std::vector<std::string> ids;
    for (std::size_t i = 0; ids.size() < count; ++i)
        if (!cat.deleted(i)) ids.push_back(cat.mms_id(i));
    return ids;
}

template <typename T>
T wait(net::http_client& http, marcpipe::coro::task<T> call) {
    return marcpipe::coro::sync_wait(std::move(call), [&] { http.loop().run_once(100ms); });
}

}  // namespace

TEST_CASE("an answer that can never be read is asked for max_attempts times, then is a problem",
          "[alma][emulator]") {
    int const attempts = GENERATE(1, 3);
    alma_setting s{200, {"--fault-rate-malformed", "1"}, 1};
    net::http_client http(quick(attempts));
    alma::client client(http, s.server.base_url());
    std::vector<std::string> ids = live_bibs(s.cat, 2);
    for (std::string const& id : ids) {
        alma::outcome<std::vector<std::string>> listed = wait(http, client.holdings_list(id));
        REQUIRE_FALSE(listed);
        CHECK(listed.error().mms_id == id);
        CHECK(listed.error().http_status == 200);
        CHECK(listed.error().alma_code.empty());
        CHECK(listed.error().message.rfind("the answer could not be read: ", 0) == 0);
    }
    auto seen = s.server.counters();
    CHECK(seen.fault("malformed") == static_cast<long>(ids.size()) * attempts);
    CHECK(seen.requests == static_cast<long>(ids.size()) * attempts);
    CHECK(http.stats().requests == ids.size() * attempts);
    CHECK(http.stats().gave_up == ids.size());
    CHECK_FALSE(http.stopped());
}

TEST_CASE("answers cut off or garbled now and then are asked for again and read",
          "[alma][emulator]") {
    alma_setting s{200, {"--fault-rate-malformed", "0.3", "--fault-seed", "9"}, 1};
    net::http_client http(quick(12));
    alma::client client(http, s.server.base_url());
    std::uint64_t calls = 0;
    for (std::string const& id : live_bibs(s.cat, 40)) {
        ++calls;
        alma::outcome<std::vector<std::string>> listed = wait(http, client.holdings_list(id));
        REQUIRE(listed);
        if (listed->empty()) continue;
        ++calls;
        alma::outcome<alma::holding> record =
            wait(http, client.holding_record(id, listed->front()));
        REQUIRE(record);
    }
    auto seen = s.server.counters();
    long const faults = seen.fault("malformed");
    CHECK(faults > 0);
    // Each unreadable answer cost one more request and nothing else was asked again. (A garbled
    // answer now and then still reads as the answer, so there may be fewer retries than faults.)
    CHECK(http.stats().retries > 0);
    CHECK(http.stats().retries <= static_cast<std::uint64_t>(faults));
    CHECK(http.stats().requests == calls + http.stats().retries);
    CHECK(seen.requests == static_cast<long>(http.stats().requests));
    CHECK(http.stats().gave_up == 0);
}

TEST_CASE("an Alma error is a problem with its code and tracking ID, asked for once",
          "[alma][emulator]") {
    alma_setting s{200, {}, 1};
    net::http_client http(quick(5));
    alma::client client(http, s.server.base_url());
    alma::outcome<std::vector<std::string>> listed =
        wait(http, client.holdings_list("991234567890123"));
    REQUIRE_FALSE(listed);
    CHECK(listed.error().http_status == 400);
    CHECK(listed.error().alma_code == "402203");
    CHECK_FALSE(listed.error().tracking_id.empty());
    CHECK_FALSE(listed.error().message.empty());
    CHECK(s.server.counters().requests == 1);
    CHECK(http.stats().requests == 1);
}

TEST_CASE("a wrong key stops the client: Alma's UNAUTHORIZED is fatal", "[alma][emulator]") {
    alma_setting s{200, {}, 1};
    net::client_options o = quick(5);
    o.auth = alma::api_key_header("l8xx-wrong-key");
    net::http_client http(o);
    alma::client client(http, s.server.base_url());
    alma::outcome<std::vector<std::string>> listed =
        wait(http, client.holdings_list(live_bibs(s.cat, 1).front()));
    REQUIRE_FALSE(listed);
    CHECK(listed.error().alma_code == "UNAUTHORIZED");
    CHECK(http.stopped());
    CHECK(http.stop_reason().find("UNAUTHORIZED") != std::string::npos);
    CHECK(http.stop_reason().find("l8xx-wrong-key") == std::string::npos);
    CHECK(s.server.counters().requests == 1);
}

TEST_CASE("the client asks for nothing with an ID that is not an Alma ID", "[alma][emulator][ids]") {
    alma_setting s{200, {}, 1};
    net::http_client http(quick(5));
    alma::client client(http, s.server.base_url());
    auto const mms = live_bibs(s.cat, 1).front();
    auto listed = wait(http, client.holdings_list(".."));
    REQUIRE_FALSE(listed);
    CHECK(listed.error().where == alma::stage::holdings_list);
    CHECK(listed.error().message == "MMS ID \"..\" is not an Alma ID (1 to 19 digits); not asked for");
    auto record = wait(http, client.holding_record(mms, ".."));
    REQUIRE_FALSE(record);
    CHECK(record.error().mms_id == mms);
    CHECK(record.error().holding_id == "..");
    CHECK(record.error().message == "holding ID \"..\" is not an Alma ID (1 to 19 digits); not asked for");
    auto bulk = wait(http, client.bibs_availability({mms, "\xEF\xBB\xBF" "991"}));
    REQUIRE_FALSE(bulk);
    CHECK(bulk.error().mms_id == "\\xEF\\xBB\\xBF991");
    CHECK(s.server.counters().requests == 0);
    CHECK(http.stats().requests == 0);
}

TEST_CASE("a holdings record that carries another holding's ID is a problem, asked for once", "[alma][emulator][ids]") {
    alma_setting s{200, {"--other-holding-record-every", "1"}, 1};
    std::size_t b = 0;
    while (s.cat.deleted(b) || s.cat.holdings_count(b) == 0) ++b;
    net::http_client http(quick(5));
    alma::client client(http, s.server.base_url());
    auto record = wait(http, client.holding_record(s.cat.mms_id(b), s.cat.holding_id(b, 0)));
    REQUIRE_FALSE(record);
    CHECK(record.error().where == alma::stage::holding_record);
    CHECK(record.error().holding_id == s.cat.holding_id(b, 0));
    CHECK(record.error().http_status == 200);
    CHECK(record.error().message == "the answer is the record of holding ID \"" +
                                        s.cat.holding_id(b, 1) +
                                        "\", not of the holding asked for");
    CHECK(s.server.counters().requests == 1);
}

TEST_CASE("a bib with more than 10,000 holdings is one problem naming them, asked for once", "[alma]") {
    // A server of one answer: a holdings list of 10,001 holdings, every time it is asked.
    std::string list = "<holdings total_record_count=\"10001\">";
    for (int i = 1; i <= 10'001; ++i)
        list += "<holding link=\"x\"><holding_id>22" + std::to_string(1000000 + i) + "</holding_id></holding>";
    list += "</holdings>";
    std::atomic<int> asked{0};
    httplib::Server server;
    server.Get("/almaws/v1/bibs/991/holdings", [&](httplib::Request const&, httplib::Response& res) {
        ++asked;
        res.set_content(list, "application/xml");
    });
    marcpipe::testing::serving on{server};

    net::http_client http(quick(3));
    alma::client client(http, on.url());
    alma::outcome<std::vector<std::string>> listed = wait(http, client.holdings_list("991"));
    REQUIRE_FALSE(listed);
    CHECK(listed.error().where == alma::stage::holdings_list);
    CHECK(listed.error().mms_id == "991");
    CHECK_THAT(listed.error().message, Catch::Contains("10001 holdings"));
    CHECK(asked == 1);  // the same answer again would say the same
}
