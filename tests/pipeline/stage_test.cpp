// Stages compose like range-v3 view closures: a segment of stages is a stage, stored and reused,
// and range-v3 views fit before and after one; modify(f) edits items as they pass.
#include <marcpipe/pipeline/stage.hpp>
#include <marcpipe/pipeline/transforms.hpp>

#include <range/v3/algorithm/any_of.hpp>
#include <range/v3/range/conversion.hpp>
#include <range/v3/view/filter.hpp>
#include <range/v3/view/take.hpp>
#include <range/v3/view/transform.hpp>

#include <string>
#include <vector>

#include "catch.hpp"

using marcpipe::marc::field;
using marcpipe::marc::record;
using marcpipe::marc::subfield;
namespace pipeline = marcpipe::pipeline;

namespace {

// A holdings record with a 583, or without one; Alma's IDs 22n (holding) and 99n (bib).
pipeline::holding_record holding(std::uint64_t n, bool with583) {
    record r{"     nx  a22     1n 4500", {field{"008", "1511020u    8   4001uueng0000000"}}};
    if (with583) r.fields().push_back(field{"583", '1', ' ', {subfield{'a', "committed to retain"}}});
    return pipeline::holding_record{n, "99" + std::to_string(n), "22" + std::to_string(n), std::move(r)};
}

std::vector<pipeline::holding_record> four_holdings() {
    return {holding(0, true), holding(1, false), holding(2, true), holding(3, true)};
}

// "001/004" of each record, as the rewrite leaves them.
std::vector<std::string> ids(auto&& records) {
    std::vector<std::string> out;
    for (auto&& h : records)
        out.push_back(std::string{h.record.control_value("001")} + "/" + std::string{h.record.control_value("004")});
    return out;
}

bool odd_bib(pipeline::holding_record const& h) { return h.bib_seq % 2 == 1; }
bool even_bib(pipeline::holding_record const& h) { return h.bib_seq % 2 == 0; }

}  // namespace

TEST_CASE("what is a stage and what is a range-v3 view closure", "[pipeline][stage]") {
    STATIC_REQUIRE(pipeline::pipeable_stage<decltype(pipeline::rewrite_001_004)>);
    STATIC_REQUIRE(pipeline::pipeable_stage<decltype(pipeline::require_field("583"))>);
    STATIC_REQUIRE(pipeline::pipeable_stage<decltype(pipeline::rewrite_001_004 | pipeline::require_field("583"))>);
    STATIC_REQUIRE(pipeline::pipeable_stage<decltype(ranges::views::filter(even_bib) | pipeline::rewrite_001_004)>);
    STATIC_REQUIRE(pipeline::view_closure<decltype(ranges::views::filter(even_bib))>);
    STATIC_REQUIRE_FALSE(pipeline::pipeable_stage<decltype(ranges::views::filter(even_bib))>);
    STATIC_REQUIRE_FALSE(pipeline::view_closure<decltype(pipeline::rewrite_001_004)>);
    STATIC_REQUIRE_FALSE(pipeline::pipeable_stage<std::vector<pipeline::holding_record>>);
}

TEST_CASE("a segment of stages is a stage that can be stored and used again", "[pipeline][stage]") {
    auto const west = pipeline::rewrite_001_004 | pipeline::require_field("583");
    auto first = four_holdings();
    CHECK(ids(first | west) == std::vector<std::string>{"220/990", "222/992", "223/993"});
    // The same segment again, on other input: nothing of the first run is left in it.
    std::vector<pipeline::holding_record> second{holding(7, false), holding(8, true)};
    CHECK(ids(second | west) == std::vector<std::string>{"228/998"});
    // A temporary container piped in is kept alive by the pipeline.
    CHECK(ids(four_holdings() | west) == std::vector<std::string>{"220/990", "222/992", "223/993"});
}

TEST_CASE("range-v3 view closures compose with stages on either side", "[pipeline][stage]") {
    auto const bib_id = [](pipeline::holding_record const& h) { return h.mms_id; };

    SECTION("view closure, then stages, then a view closure") {
        auto const segment = ranges::views::filter(even_bib) | pipeline::rewrite_001_004 |
                             pipeline::require_field("583") | ranges::views::transform(bib_id);
        STATIC_REQUIRE(pipeline::pipeable_stage<decltype(segment)>);
        auto input = four_holdings();
        CHECK((input | segment | ranges::to<std::vector>()) == std::vector<std::string>{"990", "992"});
        CHECK((four_holdings() | segment | ranges::to<std::vector>()) == std::vector<std::string>{"990", "992"});
    }
    SECTION("stage, then view closure, then stage") {
        auto const segment = pipeline::rewrite_001_004 | ranges::views::filter(odd_bib) | pipeline::require_field("583");
        CHECK(ids(four_holdings() | segment) == std::vector<std::string>{"223/993"});
    }
    SECTION("a segment composes with a view closure that is itself composed") {
        auto const views = ranges::views::filter(even_bib) | ranges::views::take(1);
        auto const segment = pipeline::rewrite_001_004 | views;
        CHECK(ids(four_holdings() | segment) == std::vector<std::string>{"220/990"});
        auto const reversed = views | pipeline::rewrite_001_004;
        CHECK(ids(four_holdings() | reversed) == std::vector<std::string>{"220/990"});
    }
    SECTION("segments compose with segments") {
        auto const ids_only = pipeline::rewrite_001_004 | ranges::views::filter(odd_bib);
        auto const kept = pipeline::require_field("583") | ids_only;
        CHECK(ids(four_holdings() | kept) == std::vector<std::string>{"223/993"});
    }
}

TEST_CASE("modify edits each item as it passes", "[pipeline][stage][modify]") {
    auto const mark_law = pipeline::modify([](pipeline::holding_record& h) {
        h.record.fields().push_back(field{"852", ' ', ' ', {subfield{'b', "LAW"}}});
    });
    auto got = four_holdings() | pipeline::require_field("583") | mark_law | ranges::to<std::vector>();
    REQUIRE(got.size() == 3);
    for (auto const& h : got) {
        REQUIRE(h.record.fields().size() == 3);
        CHECK(h.record.fields()[2] == field{"852", ' ', ' ', {subfield{'b', "LAW"}}});
    }

    SECTION("a container piped in by name sees its items changed") {
        std::vector<record> records{record{"", {field{"008", "x"}}}};
        for (auto& r : records | pipeline::modify([](record& r) { r.fields().clear(); })) CHECK(r.fields().empty());
        CHECK(records.front().fields().empty());
    }
    SECTION("a const container is left as it was: its items are copied") {
        std::vector<record> const records{record{"", {field{"008", "x"}}}};
        for (auto& r : records | pipeline::modify([](record& r) { r.fields().clear(); })) CHECK(r.fields().empty());
        CHECK(records.front().fields().size() == 1);
    }
}

namespace {
// The README's own stage, as written there.
template <typename Range>
marcpipe::coro::generator<pipeline::holding_record> every_other(Range upstream) {
    bool keep = true;
    for (auto& h : upstream) {
        if (keep) co_yield h;
        keep = !keep;
    }
}
}  // namespace

TEST_CASE("the README's stages: a filter, a segment, modify, and a generator of one's own", "[pipeline][stage]") {
    namespace marc = marcpipe::marc;
    auto const west = pipeline::rewrite_001_004 | pipeline::copy_oclc_number("014") | pipeline::require_field("583");
    auto const law_only = ranges::views::filter([](pipeline::holding_record const& h) {
        return ranges::any_of(h.record.find_all("852"),   // every 852: one per location
                              [](marc::field const& f) { return f.subfield_value('b') == "LAW"; });
    });
    auto const add_program = pipeline::modify([](pipeline::holding_record& h) {
        h.record.fields().push_back(marc::field{"583", '1', ' ', {marc::subfield{'f', "WEST"}}});
    });
    auto const halve = pipeline::stage{[](auto upstream) { return every_other(std::move(upstream)); }};

    std::vector<pipeline::holding_record> holdings;
    for (std::uint64_t n = 0; n < 6; ++n) {
        auto h = holding(n, n != 4);
        // Holding 1 is at two locations, MAIN first: its second 852 makes it LAW's too.
        if (n == 1) h.record.fields().push_back(field{"852", ' ', ' ', {subfield{'b', "MAIN"}}});
        h.record.fields().push_back(field{"852", ' ', ' ', {subfield{'b', n == 5 ? "MAIN" : "LAW"}}});
        holdings.push_back(std::move(h));
    }
    // LAW: 0-4; every other of those: 0, 2, 4; 4 has no 583 of its own but gets the program's.
    CHECK(ids(holdings | law_only | halve | add_program | west) == std::vector<std::string>{"220/990", "222/992", "224/994"});
}
