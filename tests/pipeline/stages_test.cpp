// The I/O stages against the loopback emulator: every holding once, in export order, problems
// reported, requests kept in flight, fatal stops surfacing as fatal_error.
#include <marcpipe/pipeline.hpp>
#include <marcpipe/run.hpp>

#include <launcher.hpp>
#include <catalogue.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catch.hpp"
#include "expected_holdings.hpp"
#include "support/emulator.hpp"

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;
namespace pipeline = marcpipe::pipeline;
using marcpipe::emulator::catalogue;
using marcpipe::testing::alma_setting;

namespace {

constexpr std::uint64_t seed = 7;

std::vector<pipeline::bib> catalogue_bibs(catalogue const& cat) {
    std::vector<pipeline::bib> out;
    for (std::size_t b = 0; b < cat.size(); ++b) out.emplace_back(b, cat.mms_id(b));
    return out;
}

// (mms_id, holding_id) of every holding the API can deliver, in export order.
std::vector<std::pair<std::string, std::string>> expected_ids(catalogue const& cat) {
    std::vector<std::pair<std::string, std::string>> out;
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (!cat.deleted(b))
            for (auto const& h : cat.holding_ids(b)) out.emplace_back(cat.mms_id(b), h);
    return out;
}

net::client_options options(double rate = 0,
                            std::string const& key = marcpipe::testing::test_api_key) {
    net::client_options o = alma::http_options(key);
    o.rate = rate;
    o.loop.max_in_flight = 32;
    o.retry.base_delay = std::chrono::milliseconds{20};
    o.retry.max_delay = std::chrono::milliseconds{200};
    o.retry.max_attempts = 8;
    o.seed = 1;
    return o;
}

// The emulator serving `bibs` bibs of this file's catalogue, and a run of the stages that asks it
// through a client of `o`.
struct stages_setting : alma_setting {
    stages_setting(std::size_t bibs, std::vector<std::string> more = {},
                   net::client_options const& o = options())
        : alma_setting{bibs, std::move(more), seed},
          http{o},
          client{http, server.base_url()},
          run{client} {}

    net::http_client http;
    alma::client client;
    pipeline::run run;
};

}  // namespace

TEST_CASE("every deliverable holding comes once, in export order, with 001/004 rewritten", "[pipeline][emulator]") {
    std::size_t const bibs = 300;
    stages_setting s{bibs, {"--latency-ms", "20", "--latency-jitter", "0.9"}};

    auto source = GENERATE(pipeline::holdings_source::list, pipeline::holdings_source::bibs);
    pipeline::holdings_ids_options ids_opt;
    ids_opt.source = source;

    std::vector<std::pair<std::string, std::string>> got;
    std::vector<std::string> records;
    for (auto& h : catalogue_bibs(s.cat) | pipeline::holdings_ids(s.run, ids_opt) |
                       pipeline::holdings_records(s.run) | pipeline::rewrite_001_004) {
        got.emplace_back(std::string{h.record.control_value("004")}, std::string{h.record.control_value("001")});
        CHECK(h.record.control_value("001") == h.holding_id);
        records.push_back(marcpipe::testing::listing(h.record));
    }
    CHECK(got == expected_ids(s.cat));
    // Each record whole, field for field, against the emulator's answer edited apart from the library.
    CHECK(marcpipe::testing::first_difference(
              marcpipe::testing::expected_holdings{s.cat}.listings(), records) == "");

    std::vector<std::string> deleted;
    s.run.problems().release_all([&](std::uint64_t seq, alma::problem const& p) {
        CHECK(p.where == alma::stage::holdings_list);
        CHECK(s.cat.mms_id(seq) == p.mms_id);
        if (source == pipeline::holdings_source::list) {
            CHECK(p.http_status == 400);
            CHECK(p.alma_code == "402203");
            CHECK_FALSE(p.tracking_id.empty());
        }
        deleted.push_back(p.mms_id);
    });
    std::vector<std::string> expected_deleted;
    for (std::size_t b = 0; b < bibs; ++b)
        if (s.cat.deleted(b)) expected_deleted.push_back(s.cat.mms_id(b));
    CHECK(deleted == expected_deleted);
    auto seen = s.server.counters();
    CHECK(seen.key_in_query == 0);
    if (source == pipeline::holdings_source::bibs)
        CHECK(seen.requests == static_cast<long>((bibs + 99) / 100 + s.cat.bulk_mode_lists(false) +
                                                 expected_ids(s.cat).size()));
    else
        CHECK(seen.requests == static_cast<long>(bibs + expected_ids(s.cat).size()));
    // Read-ahead keeps the connections busy, not one request at a time.
    CHECK(seen.max_in_flight > 16);
}

TEST_CASE("an unknown holding ID is reported with 402208 and the run goes on", "[pipeline][emulator]") {
    stages_setting s{50};
    std::size_t b = 0;
    while (s.cat.deleted(b) || s.cat.holdings_count(b) == 0) ++b;
    std::vector<pipeline::holding_ref> refs{
        {0, s.cat.mms_id(b), s.cat.holding_ids(b)[0]},
        {1, s.cat.mms_id(b), "22999999999993" + s.cat.institution_code()},
        {2, s.cat.mms_id(b), s.cat.holding_ids(b)[0]}};
    std::vector<std::uint64_t> delivered;
    for (auto& h : refs | pipeline::holdings_records(s.run)) delivered.push_back(h.bib_seq);
    CHECK(delivered == std::vector<std::uint64_t>{0, 2});
    int reported = 0;
    s.run.problems().release_all([&](std::uint64_t seq, alma::problem const& p) {
        ++reported;
        CHECK(seq == 1);
        CHECK(p.where == alma::stage::holding_record);
        CHECK(p.alma_code == "402208");
        CHECK(p.holding_id == refs[1].holding_id);
    });
    CHECK(reported == 1);
}

TEST_CASE("transient faults are retried: the same holdings arrive as without them", "[pipeline][emulator]") {
    std::size_t const bibs = 200;
    // A quarter of all calls fail: with 8 tries a call is lost once in 65,000, so one of the 460
    // calls here would now and then be; 12 tries make that about one in 17 million.
    auto retrying = options();
    retrying.retry.max_attempts = 12;
    stages_setting s{bibs,
                     {"--latency-ms", "5", "--fault-rate-500", "0.05", "--fault-rate-503", "0.05",
                      "--fault-rate-reset", "0.05", "--fault-rate-truncated", "0.05",
                      "--fault-rate-malformed", "0.05"},
                     retrying};
    std::vector<std::pair<std::string, std::string>> got;
    for (auto& h :
         catalogue_bibs(s.cat) | pipeline::holdings_ids(s.run) | pipeline::holdings_records(s.run))
        got.emplace_back(h.mms_id, h.holding_id);
    CHECK(got == expected_ids(s.cat));
    CHECK(s.server.counters().faults > 0);
}

TEST_CASE("a refused key stops the stages with fatal_error", "[pipeline][emulator]") {
    stages_setting s{40, {}, options(0, "l8xx-not-the-emulators-key-000000")};
    auto drain = [&] {
        for (auto& h : catalogue_bibs(s.cat) | pipeline::holdings_ids(s.run) |
                           pipeline::holdings_records(s.run))
            (void)h;
    };
    CHECK_THROWS_AS(drain(), alma::fatal_error);
    CHECK(s.run.stopped());
}

TEST_CASE("completion is reported in export order and never runs ahead of the consumer", "[pipeline][emulator]") {
    std::size_t const bibs = 120;
    stages_setting s{bibs, {"--latency-ms", "10", "--latency-jitter", "0.9"}};
    std::uint64_t consumed_bib = 0;
    bool consumed_any = false;
    std::uint64_t last_complete = 0;
    s.run.on_bibs_finished = [&](std::uint64_t n) {
        CHECK(n > last_complete);
        // Every bib before n has been consumed entirely: nothing consumed is at or after n
        // except records of bib n itself when it is only partly through.
        if (consumed_any) CHECK(consumed_bib <= n);
        last_complete = n;
    };
    for (auto& h : catalogue_bibs(s.cat) | pipeline::holdings_ids(s.run) |
                       pipeline::holdings_records(s.run)) {
        CHECK(h.bib_seq >= last_complete);
        consumed_bib = h.bib_seq;
        consumed_any = true;
    }
    CHECK(last_complete > bibs / 2);
}

TEST_CASE("the first bib's records go before the lists of later bibs", "[pipeline][emulator]") {
    // A low rate and a list window far wider than what it takes to keep the rate busy: every
    // list of the window is waiting for the limiter when the first bib's list comes back. The
    // count of requests, not the time, is checked; the low rate leaves a busy machine room (each
    // request more is 46 ms late).
    std::size_t const bibs = 120;
    stages_setting s{bibs, {"--latency-ms", "10"}, options(20)};
    pipeline::holdings_ids_options ids_opt;
    ids_opt.window = 64;
    std::size_t first = 0;
    while (s.cat.deleted(first) || s.cat.holdings_count(first) == 0) ++first;
    REQUIRE(first < 10);

    std::optional<std::uint64_t> requests_at_first;
    for (auto& h : catalogue_bibs(s.cat) | pipeline::holdings_ids(s.run, ids_opt) |
                       pipeline::holdings_records(s.run)) {
        CHECK(h.bib_seq == first);
        requests_at_first = s.http.stats().requests;
        break;
    }
    REQUIRE(requests_at_first);
    // The lists up to the first bib with holdings and its records, plus the few later lists the
    // limiter let go while those answers were on their way. Without priorities every list of the
    // window goes first: more than 64 requests.
    std::uint64_t const needed = first + 1 + s.cat.holdings_count(first);
    INFO("first bib with holdings: " << first << ", requests when its first record came: " << *requests_at_first);
    CHECK(*requests_at_first <= needed + 8);
}
