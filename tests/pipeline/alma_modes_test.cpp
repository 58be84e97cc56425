// What real Alma does that the other program tests do not reach, each modelled by an emulator knob
// and met by west-holdings: the gateway's errors in JSON whatever format was asked for, 502 and 504
// from the load balancer, bulk calls slower than single-record calls, a bib left out of the bulk
// answer while it has holdings, and a set edited while it is paged. The output is checked against
// the emulator's catalogue (expected_holdings.hpp), or against list mode's output.
#include <alma_sets.hpp>
#include <catalogue.hpp>
#include <launcher.hpp>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "expected_holdings.hpp"
#include "program.hpp"
#include "west_setting.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace alma_modes_test {

namespace fs = std::filesystem;
using marcpipe::testing::expected_holdings;
using marcpipe::testing::marc21_difference;
using marcpipe::testing::run;
using marcpipe::testing::slurp;
using marcpipe::testing::west_setting;

namespace {

std::string const west = MARCPIPE_WEST_HOLDINGS;
std::vector<std::string> with_key(std::string const& key = marcpipe::testing::test_api_key) {
    return {"ALMA_API_KEY=" + key};
}

// The MMS IDs the report names (its second column), one a line, the header left out.
std::string reported_bibs(std::string const& csv) {
    std::string out;
    for (std::size_t at = csv.find('\n'); at != std::string::npos && at + 1 < csv.size();) {
        auto const from = csv.find(',', at) + 1;
        out += csv.substr(from, csv.find(',', from) - from) + "\n";
        at = csv.find('\n', at + 1);
    }
    return out;
}

// The catalogue's deleted bibs, one a line: what a whole run's report names.
std::string deleted_bibs(marcpipe::emulator::catalogue const& cat) {
    std::string out;
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (cat.deleted(b)) out += cat.mms_id(b) + "\n";
    return out;
}

}  // namespace

TEST_CASE("the gateway's errors in JSON are read like its XML ones: key, per-second and daily thresholds",
          "[programs][west][alma-modes]") {
    west_setting s{"west-json-errors", 120, {"--json-gateway-errors", "--per-second", "25"}};
    // A refused key: UNAUTHORIZED read from the JSON body, a stop to resume, not a problem per bib.
    auto refused = run(west, s.args({"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"}),
                       with_key("l8xx-wrong-key-fedcba9876543210"), s.dir, "refused");
    INFO(refused.err);
    CHECK(refused.status == 3);
    CHECK(refused.err.find("UNAUTHORIZED") != std::string::npos);
    CHECK(s.server.counters().status(400) > 0);

    // Too fast for the per-second threshold: every 429 is waited out and retried, none reported.
    s.server.reset();
    auto fast = run(west,
                    {"--base-url", s.server.base_url(), "--rate", "60", "-o", "fast.mrc", "--errors", "fast.csv",
                     "export.mrc"},
                    with_key(), s.dir, "fast");
    INFO(fast.err);
    CHECK(fast.status == s.clean_status());
    CHECK(s.server.counters().sent_429 > 0);
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "fast.mrc") == "");
    CHECK(reported_bibs(slurp(s.dir / "fast.csv")) == deleted_bibs(s.cat));

    // The daily threshold, met mid-run (other integrations used the quota up): DAILY_THRESHOLD
    // read from the JSON body, a stop to resume.
    s.server.reset();
    marcpipe::testing::child c{west,
                               {"--base-url", s.server.base_url(), "--rate", "20", "-o", "daily.mrc", "--errors",
                                "daily.csv", "export.mrc"},
                               with_key(), s.dir, "daily"};
    bool const started = c.wait_until([&] { return s.server.counters().requests >= 10; });
    s.server.configure({{"daily", "1"}});
    auto daily = c.wait();
    INFO(daily.err);
    REQUIRE(started);
    CHECK(daily.status == 3);
    CHECK(daily.err.find("DAILY_THRESHOLD") != std::string::npos);
    CHECK(s.server.counters().get("daily_threshold") > 0);
}

TEST_CASE("502 and 504 from the load balancer are retried: nothing lost, nothing reported",
          "[programs][west][alma-modes]") {
    west_setting s{"west-502-504", 150, {"--fault-rate-502", "0.1", "--fault-rate-504", "0.1"}};
    auto r = run(west, s.args({"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"}), with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    CHECK(reported_bibs(slurp(s.dir / "errors.csv")) == deleted_bibs(s.cat));
    auto const seen = s.server.counters();
    CHECK(seen.fault("502") > 0);
    CHECK(seen.fault("504") > 0);
    std::printf("502/504 at 10%% each: %ld and %ld answered, output whole\n", seen.fault("502"), seen.fault("504"));
}

TEST_CASE("bulk calls slower than single calls (--latency-bulk-ms): bulk mode gives list mode's bytes",
          "[programs][west][alma-modes][bulk]") {
    west_setting s{"west-slow-bulk", 250, {"--latency-ms", "5", "--latency-bulk-ms", "600"}};
    auto bulk = run(west,
                    s.args({"--holdings-source", "bibs", "-o", "bulk.mrc", "--errors", "bulk.csv", "export.mrc"}),
                    with_key(), s.dir, "bulk");
    INFO(bulk.err);
    CHECK(bulk.status == s.clean_status());
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "bulk.mrc") == "");
    CHECK(reported_bibs(slurp(s.dir / "bulk.csv")) == deleted_bibs(s.cat));
    // The knob is per endpoint: the bulk calls took 600 ms, the others 5.
    auto const seen = s.server.counters();
    CHECK(seen.get("endpoint_bibs") == 3);
    CHECK(seen.get("latency_max_ms") == 600);
    CHECK(seen.get("latency_min_ms") == 5);
}

TEST_CASE("a bib left out of the bulk answer while it has holdings keeps them: bulk mode gives list mode's bytes",
          "[programs][west][alma-modes][bulk]") {
    west_setting s{"west-bulk-omits", 250, {"--bulk-omits-every", "7"}};
    auto list = run(west, s.args({"-o", "list.mrc", "--errors", "list.csv", "export.mrc"}), with_key(), s.dir, "list");
    INFO(list.err);
    CHECK(list.status == s.clean_status());
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "list.mrc") == "");
    s.server.reset();
    auto bulk = run(west,
                    s.args({"--holdings-source", "bibs", "-o", "bulk.mrc", "--errors", "bulk.csv", "export.mrc"}),
                    with_key(), s.dir, "bulk");
    INFO(bulk.err);
    CHECK(bulk.status == list.status);
    bool const same_bytes = slurp(s.dir / "bulk.mrc") == slurp(s.dir / "list.mrc");
    CHECK(same_bytes);
    CHECK(reported_bibs(slurp(s.dir / "bulk.csv")) == deleted_bibs(s.cat));
    // Each bib left out costs its holdings list, as a deleted one does; no more.
    std::size_t omitted = 0;
    for (std::size_t b = 0; b < s.cat.size(); b += 7) omitted += !s.cat.deleted(b) && s.cat.holdings_count(b) > 0;
    REQUIRE(omitted > 10);
    auto const seen = s.server.counters();
    CHECK(seen.get("endpoint_holdings_list") <=
          static_cast<long>(s.cat.bulk_mode_lists(false) + omitted));
}

TEST_CASE("a set edited while it is paged is read again: the output is the set as it now is, no member skipped or twice",
          "[programs][west][alma-modes][set]") {
    using marcpipe::emulator::set_kind;
    // After the first page of 100 the set loses its first member: every later page is shifted.
    west_setting s{"west-set-edited", 250, {"--set-change-after-pages", "1"}, marcpipe::testing::export_as::none};
    auto const now = marcpipe::emulator::set_mms_ids(s.cat, set_kind::all_bibs, 1);
    REQUIRE(now.size() > 200);  // three pages
    auto r = run(west,
                 s.args({"-o", "set.mrc", "--errors", "set.csv", "--set",
                         marcpipe::emulator::set_id(s.cat, set_kind::all_bibs)}),
                 with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 0);  // the set holds no deleted bib
    std::size_t first_member = 0;
    while (s.cat.deleted(first_member)) ++first_member;
    expected_holdings const members{s.cat, [&](std::size_t b, pugi::xml_node) { return b != first_member; }};
    CHECK(marc21_difference(members, s.dir / "set.mrc") == "");
    // Read twice: two pages that did not agree, then the three of the set as it now is.
    CHECK(s.server.counters().get("endpoint_set_members") == 5);
    CHECK(s.server.counters().get("endpoint_holdings_list") == static_cast<long>(now.size()));
}

TEST_CASE("a set that keeps changing while it is paged stops the run with exit 3 before any holdings call",
          "[programs][west][alma-modes][set]") {
    using marcpipe::emulator::set_kind;
    // From the first page on, every page served takes one more member out: no reading agrees.
    west_setting s{"west-set-churn", 250, {"--set-change-after-pages", "1", "--set-churn"},
                   marcpipe::testing::export_as::none};
    auto r = run(west, s.args({"-o", "set.mrc", "--set", marcpipe::emulator::set_id(s.cat, set_kind::all_bibs)}),
                 with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 3);
    CHECK(r.err.find("changed while it was read, 3 times") != std::string::npos);
    CHECK(r.err.find("run the command again") != std::string::npos);
    auto const seen = s.server.counters();
    CHECK(seen.get("endpoint_set_members") == 6);  // each reading stopped at its second page
    CHECK(seen.get("endpoint_holdings_list") == 0);
    CHECK_FALSE(fs::exists(s.dir / "set.mrc"));
    CHECK_FALSE(fs::exists(s.dir / "set.mrc.set-members"));
}

}  // namespace alma_modes_test
