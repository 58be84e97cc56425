// The Analytics route end to end against the emulator: west-holdings --analytics PATH (the
// report through the API) and --pairs FILE (its CSV or UTF-16 tab-separated export) give the
// output list mode gives over the same bibs, with one call per holding, the report's pages, and a
// holdings list only for the bibs no pair names; every quirk of the emulator's report is met;
// what cannot be used is refused before any holdings call; kill -9 while the report is read and
// after, then --resume.
#include <unistd.h>

#include <alma_analytics.hpp>
#include <alma_sets.hpp>
#include <catalogue.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <launcher.hpp>
#include <set>
#include <string>
#include <vector>

#include <marcpipe/alma/analytics.hpp>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/files.hpp"
#include "support/emulator.hpp"

// A namespace of its own: the unity builds compile this file together with the other program tests.
namespace analytics_route {

namespace fs = std::filesystem;
namespace emu = marcpipe::emulator;
using marcpipe::testing::run;
using marcpipe::testing::slurp;

namespace {

std::string const west = MARCPIPE_WEST_HOLDINGS;
std::string const holdings_records = MARCPIPE_HOLDINGS_RECORDS;
std::vector<std::string> const with_key{std::string{"ALMA_API_KEY="} + marcpipe::testing::test_api_key};
using setting = marcpipe::testing::west_setting;

std::string const report = emu::analytics_report_path(emu::analytics_report::holdings);

bool has(std::string const& text, std::string const& part) { return text.find(part) != std::string::npos; }

void write_file(fs::path const& p, std::string const& bytes) {
    std::ofstream out{p, std::ios::binary};
    out << bytes;
}

// What list mode writes for the export (the reference every route must match byte for byte).
std::string list_mode_output(setting& s, std::vector<std::string> input = {"export.mrc"}, int status = -1) {
    std::vector<std::string> a{"--no-progress", "-o", "list.mrc"};
    a.insert(a.end(), input.begin(), input.end());
    auto r = run(west, s.args(a), with_key, s.dir, "list");
    INFO(r.err);
    REQUIRE(r.status == (status < 0 ? s.clean_status() : status));
    s.server.reset();
    return slurp(s.dir / "list.mrc");
}

// The calls a pairs run must make over the export: one per holding of a bib with a pair, and for
// each bib without one its holdings list and then a call per holding it lists.
struct expected_calls {
    long lists = 0, records = 0;
};
expected_calls calls_over_export(emu::catalogue const& cat) {
    std::set<std::string> paired;
    for (auto const& [mms, holding] : emu::analytics_pairs(cat)) paired.insert(mms);
    expected_calls e;
    for (std::size_t b = 0; b < cat.size(); ++b) {
        if (paired.count(cat.mms_id(b))) {
            e.records += static_cast<long>(cat.holdings_count(b));
        } else {
            ++e.lists;
            if (!cat.deleted(b)) e.records += static_cast<long>(cat.holdings_count(b));
        }
    }
    return e;
}

long analytics_calls(emu::emulator_process const& server) { return server.counters().get("endpoint_analytics"); }
long report_readings(emu::emulator_process const& server) {
    long n = 0;
    for (auto const& [resource, count] : server.requests())
        if (has(resource, "/analytics/reports?path=")) n += count;
    return n;
}

// west-holdings over the export into out.mrc by `route` (--analytics PATH or --pairs FILE, with
// --resume for a resumed run), logged as `tag`: list mode's bytes (`reference`), with a clean
// run's exit status.
marcpipe::testing::finished route_over_export(setting& s, std::vector<std::string> const& route,
                                              std::string const& reference,
                                              std::string const& tag) {
    std::vector<std::string> a{"--no-progress"};
    a.insert(a.end(), route.begin(), route.end());
    a.insert(a.end(), {"-o", "out.mrc", "export.mrc"});
    auto r = run(west, s.args(a), with_key, s.dir, tag);
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    CHECK(slurp(s.dir / "out.mrc") == reference);
    return r;
}

// west-holdings --analytics over the export, as route_over_export.
marcpipe::testing::finished analytics_over_export(setting& s, std::string const& reference) {
    return route_over_export(s, {"--analytics", report}, reference, "run");
}

// The run stopped or killed before, resumed (--resume) by `route`: it finishes as
// route_over_export.
marcpipe::testing::finished resumed_over_export(setting& s, std::vector<std::string> route,
                                                std::string const& reference) {
    route.insert(route.begin(), "--resume");
    return route_over_export(s, route, reference, "second");
}

// Files left beside the output (anything but the export and the reference).
std::vector<std::string> beside(fs::path const& dir) {
    std::vector<std::string> names;
    for (auto const& e : fs::directory_iterator(dir)) {
        auto n = e.path().filename().string();
        if (n != "export.mrc" && n != "list.mrc" && n.rfind("pairs.", 0) != 0 && n.rfind("run", 0) != 0 &&
            n.rfind("list", 0) != 0 && n.rfind("first", 0) != 0 && n.rfind("second", 0) != 0)
            names.push_back(n);
    }
    return names;
}

}  // namespace

TEST_CASE("--analytics over an export: list mode's output, a call per holding, a list only for bibs without a pair",
          "[analytics][programs]") {
    // 600 bibs: more than 1,000 report rows, so two pages, the schema on the first only; the
    // token comes with the first answer, a pending one.
    setting s{"analytics-export", 600};
    auto const reference = list_mode_output(s);
    auto const r = analytics_over_export(s, reference);
    INFO(r.err);
    auto const rows = emu::analytics_rows(s.cat, emu::analytics_report::holdings).size();
    REQUIRE(rows > 1000);
    auto const seen = s.server.counters();
    auto const want = calls_over_export(s.cat);
    CHECK(seen.get("endpoint_analytics") == 1 + 2);  // one pending answer, two pages
    CHECK(seen.get("endpoint_holdings_list") == want.lists);
    CHECK(seen.get("endpoint_holding") == want.records);
    CHECK(seen.get("daily_used") == seen.requests);  // Analytics calls count against the quota too
    CHECK(has(r.err, std::to_string(rows) + " rows"));
    CHECK(has(r.err, std::to_string(want.lists) + " of the input's 600 bibs had no pair"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.analytics-pairs"));  // gone with the finished run
}

TEST_CASE("--analytics alone: the report's bibs in first-seen order, each holding once", "[analytics][programs]") {
    setting s{"analytics-alone", 200};
    // The reference: list mode over the report's bibs as a list of MMS IDs (every holding of a
    // bib in the report has items, so its list and its pairs agree).
    std::string ids;
    std::set<std::string> listed;
    for (auto const& [mms, holding] : emu::analytics_pairs(s.cat))
        if (listed.insert(mms).second) ids += mms + "\n";
    write_file(s.dir / "ids.txt", ids);
    auto const reference = list_mode_output(s, {"ids.txt"}, 0);  // the report has no deleted bib
    auto r = run(west, s.args({"--no-progress", "--analytics", report, "-o", "out.mrc"}), with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(slurp(s.dir / "out.mrc") == reference);
    CHECK(s.server.counters().get("endpoint_holdings_list") == 0);
    CHECK(s.server.counters().get("endpoint_holding") == static_cast<long>(emu::analytics_pairs(s.cat).size()));
}

TEST_CASE("--pairs: the CSV and the UTF-16 tab-separated export give list mode's output; holdings-records reads them",
          "[analytics][programs]") {
    setting s{"analytics-pairs", 200};
    auto const reference = list_mode_output(s);
    for (bool csv : {true, false}) {
        std::string const name = csv ? "pairs.csv" : "pairs.txt";
        write_file(s.dir / name, emu::analytics_export(s.cat, csv));
        INFO(name);
        auto const r = route_over_export(s, {"--pairs", name}, reference, "run");
        INFO(r.err);
        CHECK(analytics_calls(s.server) == 0);
        CHECK(s.server.counters().get("endpoint_holdings_list") == calls_over_export(s.cat).lists);
        s.server.reset();
    }
    // holdings-records over the export file: the same records as --analytics with no export.
    auto a = run(west, s.args({"--no-progress", "--analytics", report, "-o", "alone.mrc"}), with_key, s.dir);
    REQUIRE(a.status == 0);
    auto h = run(holdings_records, s.args({"pairs.txt", "-o", "records.mrc"}), with_key, s.dir);
    INFO(h.err);
    CHECK(h.status == 0);
    CHECK(slurp(s.dir / "records.mrc") == slurp(s.dir / "alone.mrc"));
}

TEST_CASE("a pairs file a spreadsheet rounded, or with a short line or a bad ID, is refused naming the line",
          "[analytics][programs]") {
    setting s{"analytics-rounded", 60};
    std::string csv = emu::analytics_export(s.cat, true);
    // Line 4 (the header is line 1; no title of the first bibs holds a line break).
    auto const pairs = emu::analytics_pairs(s.cat);
    REQUIRE(pairs.size() > 3);
    struct damage {
        std::string from, to, says;
    };
    auto const rows = emu::analytics_rows(s.cat, emu::analytics_report::holdings);
    std::string const mms = rows[2].mms_id;
    std::string const rounded = mms.substr(0, 1) + "." + mms.substr(1, 14) + "E+" + std::to_string(mms.size() - 1);
    for (auto const& d : {damage{"," + mms + "\r\n", "," + rounded + "\r\n", "spreadsheet"},
                          damage{"," + rows[2].holding_id + "," + mms + "\r\n", "," + rows[2].holding_id + "\r\n", "too few"},
                          damage{"," + mms + "\r\n", "," + mms.substr(0, 5) + "x\r\n", "MMS ID"}}) {
        std::string bad = csv;
        // The third data row: after the header and two rows.
        std::size_t at = 0;
        for (int line = 0; line < 3; ++line) at = bad.find("\r\n", at) + 2;
        auto const end = bad.find("\r\n", at) + 2;
        std::string row = bad.substr(at, end - at);
        REQUIRE(has(row, d.from));
        row.replace(row.find(d.from), d.from.size(), d.to);
        bad.replace(at, end - at, row);
        write_file(s.dir / "pairs.csv", bad);
        auto r = run(west, s.args({"--no-progress", "--pairs", "pairs.csv", "-o", "out.mrc", "export.mrc"}), with_key,
                     s.dir);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(has(r.err, "pairs.csv line 4"));
        CHECK(has(r.err, d.says));
        CHECK(s.server.counters().requests == 0);
        CHECK(beside(s.dir).empty());
    }
    auto both = run(west, s.args({"--pairs", "pairs.csv", "--analytics", report, "-o", "out.mrc", "export.mrc"}),
                    with_key, s.dir);
    CHECK(both.status == 2);
    CHECK(s.server.counters().requests == 0);
}

TEST_CASE("an unknown report path, and a report without a holding column, are refused with nothing left beside",
          "[analytics][programs]") {
    setting s{"analytics-refused", 60};
    auto r = run(west, s.args({"--no-progress", "--analytics", "/shared/Nowhere/Reports/None", "-o", "out.mrc", "export.mrc"}),
                 with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(has(r.err, "/shared/Nowhere/Reports/None"));
    CHECK(has(r.err, "420031"));
    CHECK(has(r.err, "Invalid report path"));
    CHECK(beside(s.dir).empty());
    CHECK(s.server.counters().get("endpoint_holding") == 0);

    auto t = run(west,
                 s.args({"--no-progress", "--analytics", emu::analytics_report_path(emu::analytics_report::titles), "-o",
                         "out.mrc", "export.mrc"}),
                 with_key, s.dir);
    INFO(t.err);
    CHECK(t.status == 2);
    CHECK(has(t.err, "\"Title\", \"MMS Id\""));
    CHECK(has(t.err, "--analytics-columns"));
    CHECK(beside(s.dir).empty());
    CHECK(s.server.counters().get("endpoint_holding") == 0);
}

TEST_CASE("--analytics-columns names other headings, matched loosely", "[analytics][programs]") {
    setting s{"analytics-columns", 120};
    auto const reference = list_mode_output(s);
    auto r = run(west,
                 s.args({"--no-progress", "--analytics", emu::analytics_report_path(emu::analytics_report::renamed),
                         "--analytics-columns", "bib_record, HOLDINGS RECORD", "-o", "out.mrc", "export.mrc"}),
                 with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    CHECK(slurp(s.dir / "out.mrc") == reference);
}

TEST_CASE("an empty first answer is asked for again; a report that is empty is said so, and every bib listed",
          "[analytics][programs]") {
    setting s{"analytics-empty", 120, {"--analytics-spurious-empty", "1"}};
    auto const reference = list_mode_output(s);
    analytics_over_export(s, reference);
    CHECK(report_readings(s.server) == 2);
    CHECK(s.server.counters().get("endpoint_holdings_list") == calls_over_export(s.cat).lists);
    s.server.reset();

    auto e = run(west,
                 s.args({"--no-progress", "--analytics", emu::analytics_report_path(emu::analytics_report::empty), "-o",
                         "empty.mrc", "export.mrc"}),
                 with_key, s.dir);
    INFO(e.err);
    CHECK(e.status == s.clean_status());
    CHECK(has(e.err, "the report is empty"));
    CHECK(slurp(s.dir / "empty.mrc") == reference);
    CHECK(report_readings(s.server) == 2);  // believed the second time
    CHECK(s.server.counters().get("endpoint_holdings_list") == 120);
}

TEST_CASE("a lost page: the report is read again from the start, at most three times more", "[analytics][programs]") {
    setting s{"analytics-lost", 600, {"--analytics-lost-pages", "1"}};
    auto const reference = list_mode_output(s);
    analytics_over_export(s, reference);
    CHECK(report_readings(s.server) == 2);
    CHECK(s.server.counters().get("endpoint_holding") == calls_over_export(s.cat).records);

    s.server.configure({{"analytics-lost-pages", "100"}});
    s.server.reset();
    auto lost = run(west, s.args({"--no-progress", "--analytics", report, "-o", "lost.mrc", "export.mrc"}), with_key,
                    s.dir);
    INFO(lost.err);
    CHECK(lost.status == 3);
    CHECK(has(lost.err, "lost"));
    CHECK(report_readings(s.server) == 4);
    CHECK(s.server.counters().get("endpoint_holding") == 0);
    CHECK_FALSE(fs::exists(s.dir / "lost.mrc.analytics-pairs"));
}

TEST_CASE("a report still computed after --patience stops the run (exit 3)", "[analytics][programs]") {
    setting s{"analytics-pending", 60, {"--analytics-pending", "100"}};
    auto r = run(west, s.args({"--no-progress", "--patience", "1s", "--analytics", report, "-o", "out.mrc", "export.mrc"}),
                 with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == 3);
    CHECK(has(r.err, "still being computed"));
    CHECK(s.server.counters().get("endpoint_holding") == 0);
}

TEST_CASE("the emulator's report endpoint: limit validation, unknown and spent tokens are Alma errors",
          "[analytics][emulator]") {
    setting s{"analytics-endpoint", 30, {"--analytics-pending", "0"}};
    httplib::Client http{s.server.base_url()};
    httplib::Headers const key{{"Authorization", std::string{"apikey "} + marcpipe::testing::test_api_key}};
    auto const path = marcpipe::alma::percent_encoded(report);
    for (std::string limit : {"30", "0", "1025", "x"}) {
        auto res = http.Get("/almaws/v1/analytics/reports?path=" + path + "&limit=" + limit, key);
        REQUIRE(res);
        CHECK(res->status == 400);
        CHECK(has(res->body, "web_service_result"));
    }
    auto first = http.Get("/almaws/v1/analytics/reports?path=" + path + "&limit=25", key);
    REQUIRE(first);
    auto const open = first->body.find("<ResumptionToken>") + 17;
    std::string const token = first->body.substr(open, first->body.find('<', open) - open);
    CHECK(has(first->body, "xsd:schema"));
    CHECK(has(first->body, "<rowset:rowset"));
    auto next = http.Get("/almaws/v1/analytics/reports?token=" + token + "&limit=1000", key);
    REQUIRE(next);
    CHECK(next->status == 200);
    CHECK_FALSE(has(next->body, "ResumptionToken"));  // only in the first answer
    CHECK_FALSE(has(next->body, "xsd:schema"));       // only on the first page
    CHECK(has(next->body, "<IsFinished>true</IsFinished>"));
    auto spent = http.Get("/almaws/v1/analytics/reports?token=" + token + "&limit=1000", key);
    REQUIRE(spent);
    CHECK(spent->status == 400);
    auto unknown = http.Get("/almaws/v1/analytics/reports?token=NOPE&limit=25", key);
    REQUIRE(unknown);
    CHECK(unknown->status == 400);
}

TEST_CASE("--set decides the bibs: pairs of other bibs skipped and counted", "[analytics][programs]") {
    setting s{"analytics-set", 150};
    std::string const set = emu::set_id(s.cat, emu::set_kind::slice);
    auto l = run(west, s.args({"--no-progress", "--set", set, "-o", "list.mrc"}), with_key, s.dir, "list");
    REQUIRE(l.status <= 1);
    s.server.reset();
    auto r = run(west, s.args({"--no-progress", "--set", set, "--analytics", report, "-o", "out.mrc"}), with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == l.status);
    CHECK(slurp(s.dir / "out.mrc") == slurp(s.dir / "list.mrc"));
    auto const members = emu::set_mms_ids(s.cat, emu::set_kind::slice);
    std::set<std::string> const in_set(members.begin(), members.end());
    long skipped = 0;
    for (auto const& [mms, holding] : emu::analytics_pairs(s.cat)) skipped += in_set.count(mms) ? 0 : 1;
    CHECK(has(r.err, std::to_string(skipped) + " pairs skipped"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.set-members"));
}

TEST_CASE("--dry-run reads the report and prints the calls the run needs", "[analytics][programs]") {
    setting s{"analytics-dry", 200};
    auto r = run(west, s.args({"--dry-run", "--analytics", report, "export.mrc"}), with_key, s.dir);
    INFO(r.out << r.err);
    CHECK(r.status == 0);
    auto const want = calls_over_export(s.cat);
    long paired_records = 0;
    std::set<std::string> paired;
    for (auto const& [mms, holding] : emu::analytics_pairs(s.cat)) ++paired_records, paired.insert(mms);
    CHECK(has(r.out, "holdings records: " + std::to_string(paired_records) + "\n"));
    CHECK(has(r.out, "bibs without a pair (a holdings list each, then their holdings' records): " +
                         std::to_string(want.lists) + "\n"));
    CHECK(has(r.out, "calls a full run needs: at least " + std::to_string(1 + paired_records + want.lists) + "\n"));
    CHECK(has(r.out, "calls left today: "));
    auto const seen = s.server.counters();
    CHECK(seen.get("endpoint_analytics") == 2);
    CHECK(seen.get("endpoint_holding") == 0);
    CHECK(seen.get("endpoint_holdings_list") == 0);
}

TEST_CASE("the report's calls count against the day: --keep-calls stops while it is read, --resume finishes",
          "[analytics][programs][quota][resume]") {
    // 600 bibs: the report is two pages. A day of 20 calls with 19 to keep leaves room for the
    // report's first call only, so the run stops before its second page and before any holding.
    setting s{"analytics-keep-calls", 600};
    auto const reference = list_mode_output(s);
    s.server.configure({{"daily", "20"}});
    s.server.reset();
    auto first = run(west, s.args({"--no-progress", "--keep-calls", "19", "--analytics", report, "-o", "out.mrc",
                                   "export.mrc"}),
                     with_key, s.dir, "first");
    INFO(first.err);
    CHECK(first.status == 3);
    CHECK(analytics_calls(s.server) >= 1);
    CHECK(s.server.counters().get("daily_used") <= 1);
    CHECK(s.server.counters().get("daily_threshold") == 0);
    CHECK(s.server.counters().get("endpoint_holding") == 0);
    CHECK_FALSE(fs::exists(s.dir / "out.mrc"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.analytics-pairs"));  // a report half read is not kept

    // Alma's day rolls over: the resumed run reads the report whole and finishes the job.
    s.server.configure({{"daily", "0"}});
    s.server.reset();
    auto const last = resumed_over_export(s, {"--analytics", report}, reference);
    INFO(last.err);
    CHECK(report_readings(s.server) == 1);
}

TEST_CASE("kill -9 while the report is read, then --resume: read again, the same output", "[analytics][programs][resume]") {
    setting s{"analytics-kill-reading", 200, {"--analytics-pending", "3"}};
    auto const reference = list_mode_output(s);
    {
        marcpipe::testing::child c{west, s.args({"--no-progress", "--analytics", report, "-o", "out.mrc", "export.mrc"}),
                                   with_key, s.dir, "first"};
        REQUIRE(c.wait_until([&] { return analytics_calls(s.server) >= 2; }));  // polling: pauses of 1 s, 2 s
        c.kill(SIGKILL);
        c.wait();
    }
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.analytics-pairs"));
    CHECK(s.server.counters().get("endpoint_holding") == 0);
    s.server.configure({{"analytics-pending", "0"}});
    s.server.reset();
    auto const r = resumed_over_export(s, {"--analytics", report}, reference);
    INFO(r.err);
    CHECK(report_readings(s.server) == 1);
}

TEST_CASE("kill -9 after the report was read, then --resume: the saved pairs, the report not read again",
          "[analytics][programs][resume]") {
    setting s{"analytics-kill-after", 200};
    auto const reference = list_mode_output(s);
    s.server.configure({{"latency-ms", "40"}});
    {
        marcpipe::testing::child c{
            west, s.args({"--no-progress", "--concurrency", "2", "--analytics", report, "-o", "out.mrc", "export.mrc"}),
            with_key, s.dir, "first"};
        REQUIRE(c.wait_until([&] { return s.server.counters().get("endpoint_holding") >= 40; }));
        c.kill(SIGKILL);
        c.wait();
    }
    REQUIRE(fs::exists(s.dir / "out.mrc.analytics-pairs"));
    s.server.configure({{"latency-ms", "0"}});
    s.server.reset();
    auto const r = resumed_over_export(s, {"--analytics", report}, reference);
    INFO(r.err);
    CHECK(analytics_calls(s.server) == 0);
    CHECK(has(r.err, "(saved pairs)"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.analytics-pairs"));
}

}  // namespace analytics_route

namespace analytics_route {

TEST_CASE("kill -9 in a --pairs run, the file then changed: --resume takes the pairs saved, not the file",
          "[analytics][programs][resume]") {
    setting s{"pairs-kill-changed", 200};
    auto const reference = list_mode_output(s);
    write_file(s.dir / "pairs.csv", emu::analytics_export(s.cat, true));
    s.server.configure({{"latency-ms", "40"}});
    {
        marcpipe::testing::child c{
            west, s.args({"--no-progress", "--concurrency", "2", "--pairs", "pairs.csv", "-o", "out.mrc", "export.mrc"}),
            with_key, s.dir, "first"};
        REQUIRE(c.wait_until([&] { return s.server.counters().get("endpoint_holding") >= 40; }));
        c.kill(SIGKILL);
        c.wait();
    }
    REQUIRE(fs::exists(s.dir / "out.mrc.analytics-pairs"));
    // The file now lacks one holding of the last bib that has two pairs: read again, it would
    // leave that holding out (its bib has a pair, so no holdings list is asked for).
    auto const pairs = emu::analytics_pairs(s.cat);
    std::size_t dropped = pairs.size();
    for (std::size_t i = pairs.size() - 1; i > 0 && dropped == pairs.size(); --i)
        if (pairs[i].first == pairs[i - 1].first) dropped = i;
    REQUIRE(dropped < pairs.size());
    std::string changed = "MMS Id,Holding Id\n";
    for (std::size_t i = 0; i < pairs.size(); ++i)
        if (i != dropped) changed += pairs[i].first + "," + pairs[i].second + "\n";
    write_file(s.dir / "pairs.csv", changed);
    s.server.configure({{"latency-ms", "0"}});
    auto const r = resumed_over_export(s, {"--pairs", "pairs.csv"}, reference);
    INFO(r.err);
    CHECK(has(r.err, "pairs file pairs.csv (saved pairs)"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.analytics-pairs"));
}

}  // namespace analytics_route
