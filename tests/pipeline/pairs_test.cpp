// The pairs of an Analytics report (pipeline/pairs.hpp, pairs_source.hpp): the exported file read
// as CSV or UTF-16 tab-separated text, refusals naming the line, and the pairs as a source stage
// composed like the list route, against the emulator's report.
#include <marcpipe/alma/analytics.hpp>
#include <marcpipe/pipeline/pairs.hpp>
#include <marcpipe/pipeline/pairs_source.hpp>
#include <marcpipe/pipeline.hpp>
#include <marcpipe/run/run.hpp>

#include <alma_analytics.hpp>
#include <catalogue.hpp>
#include <launcher.hpp>

#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "support/emulator.hpp"

namespace pairs_test {

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;
namespace pipeline = marcpipe::pipeline;
namespace emu = marcpipe::emulator;

std::string refusal(std::string const& text) {
    try {
        pipeline::read_pairs_text(text, "f.csv", {}, "p");
    } catch (pipeline::pairs_error const& e) {
        return e.what();
    }
    return "";
}

TEST_CASE("a CSV export: byte-order mark, quoted commas, quotes and line breaks, duplicates once, ascending",
          "[pipeline][pairs]") {
    std::string const csv =
        "\xEF\xBB\xBF\"Title\",Holding Id,MMS_ID\r\n"
        "\"A, \"\"b\"\"\nsecond line\",22300000000541,99100000000541\r\n"
        "x,22200000000541,99100000000541\r\n"
        ",22300000000541,99100000000541\r\n"
        "y,22400000000541,99000000000541\n";
    auto p = pipeline::read_pairs_text(csv, "f.csv", {}, "p");
    CHECK(p.rows() == 4);
    CHECK(p.pairs() == 3);
    CHECK(p.bibs() == std::vector<std::string>{"99100000000541", "99000000000541"});
    CHECK(*p.holdings_of("99100000000541") == std::vector<std::string>{"22200000000541", "22300000000541"});
    CHECK(pipeline::looks_like_pairs_export(csv));
    CHECK_FALSE(pipeline::looks_like_pairs_export("22200000000541\t99100000000541\n"));

    // Lines are counted as a text editor counts them: the quoted line break makes the row after it line 4.
    std::string rounded = csv;
    rounded.replace(rounded.find("x,22200000000541,99100000000541"), 31, "x,22200000000541,9.91E+13");
    CHECK(pipeline::detail::trim_line(refusal(rounded)).starts_with("p: f.csv line 4: the MMS ID 9.91E+13 is a number a spreadsheet"));
    CHECK(refusal("MMS Id,Holding Id\n991,221\n992\n").starts_with("p: f.csv line 3: 1 cells, too few"));
    CHECK(refusal("MMS Id,Holding Id\n991,22-1\n").starts_with("p: f.csv line 2: "));
    CHECK(refusal("Title,MMS Id\nx,991\n").find("has no \"Holding Id\" column (its headings: \"Title\", \"MMS Id\")") !=
          std::string::npos);
    CHECK(refusal("MMS Id,Holding Id\n\"991,221\n").starts_with("p: f.csv line 2: a quoted field is not closed"));
}

TEST_CASE("the emulator's UTF-16 tab-separated export and its CSV give the report's pairs", "[pipeline][pairs]") {
    emu::catalogue cat{7, 80};
    auto const want = emu::analytics_pairs(cat);
    for (bool csv : {true, false}) {
        auto p = pipeline::read_pairs_text(emu::analytics_export(cat, csv), "x", {}, "p");
        std::vector<std::pair<std::string, std::string>> got;
        for (auto const& mms : p.bibs())
            for (auto const& h : *p.holdings_of(mms)) got.emplace_back(mms, h);
        auto sorted = want;
        // The emulator lists a bib's holdings in Alma's order; the pairs keep them ascending.
        for (auto b = sorted.begin(); b != sorted.end();) {
            auto e = std::find_if(b, sorted.end(), [&](auto const& x) { return x.first != b->first; });
            std::sort(b, e);
            b = e;
        }
        CHECK(got == sorted);
    }
}

TEST_CASE("pairs(run, p) | holdings_records: the report's holdings, as a library composes the list route",
          "[pipeline][pairs][emulator]") {
    marcpipe::testing::alma_setting s{80, {"--analytics-pending", "1"}, 7};
    net::client_options o = alma::http_options(marcpipe::testing::test_api_key);
    o.rate = 0;
    net::http_client http{o};
    alma::client client{http, s.server.base_url()};
    alma::analytics_reading seen;
    alma::analytics_options quick;
    quick.first_pause = std::chrono::milliseconds{10};
    auto pairs = std::make_shared<pipeline::report_pairs const>(pipeline::read_report_pairs(
        client, emu::analytics_report_path(emu::analytics_report::holdings), {}, seen, quick));
    CHECK(seen.polls == 1);
    CHECK(seen.headings == std::vector<std::string>{"Title", "Holding Id", "MMS Id"});
    pipeline::run run{client};
    std::vector<std::pair<std::string, std::string>> got;
    for (auto& h : pipeline::pairs(run, pairs) | pipeline::holdings_records(run) | pipeline::rewrite_001_004)
        got.emplace_back(std::string{h.record.control_value("004")}, std::string{h.record.control_value("001")});
    std::vector<std::pair<std::string, std::string>> want;
    for (auto const& mms : pairs->bibs())
        for (auto const& h : *pairs->holdings_of(mms)) want.emplace_back(mms, h);
    CHECK(got == want);
    CHECK(got.size() == emu::analytics_pairs(s.cat).size());
    CHECK(s.server.counters().get("endpoint_holdings_list") == 0);
}

TEST_CASE("read_report_ahead: records are asked for while the next page comes, and none twice",
          "[pipeline][pairs][emulator]") {
    // 600 bibs: over 1,000 rows, two pages. Every answer takes 300 ms, so the records of the
    // first page's pairs reach the server while the second page is on its way.
    marcpipe::testing::alma_setting s{600, {"--latency-ms", "300", "--latency-jitter", "0"}, 7};
    net::client_options o = alma::http_options(marcpipe::testing::test_api_key);
    o.rate = 0;
    net::http_client http{o};
    alma::client client{http, s.server.base_url()};
    pipeline::run run{client};
    alma::analytics_reading seen;
    alma::analytics_options quick;
    quick.first_pause = std::chrono::milliseconds{10};
    auto pairs = std::make_shared<pipeline::report_pairs const>(pipeline::read_report_ahead(
        run, emu::analytics_report_path(emu::analytics_report::holdings), {}, seen, {}, quick));
    REQUIRE(s.server.counters().get("endpoint_analytics") == 1 + 2);  // one pending answer, two pages
    CHECK(s.server.counters().get("endpoint_holding") > 0);  // asked before the report was whole

    std::vector<std::pair<std::string, std::string>> got;
    for (auto& h : pipeline::pairs(run, pairs) | pipeline::holdings_records(run) | pipeline::rewrite_001_004)
        got.emplace_back(std::string{h.record.control_value("004")}, std::string{h.record.control_value("001")});
    auto const want = emu::analytics_pairs(s.cat);
    CHECK(got.size() == want.size());
    CHECK(std::set(got.begin(), got.end()) == std::set(want.begin(), want.end()));
    CHECK(s.server.counters().get("endpoint_holding") == static_cast<long>(want.size()));  // none asked twice
    CHECK(run.problems().held() == 0);
}

}  // namespace pairs_test
