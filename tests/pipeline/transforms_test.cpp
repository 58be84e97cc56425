// The stages that need no network: the 001/004 rewrite, the OCLC number copied from the bib, and
// the require_field and require_fields filters.
#include <marcpipe/pipeline/transforms.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/transform.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"

using marcpipe::marc::field;
using marcpipe::marc::record;
using marcpipe::marc::subfield;
namespace pipeline = marcpipe::pipeline;

namespace {
std::vector<std::string> tags(record const& r) {
    std::vector<std::string> t;
    for (auto const& f : r.fields()) t.push_back(f.tag);
    return t;
}
record holding_without_ids() {
    return record{"     nx  a22     1n 4500",
                  {field{"008", "1511020u    8   4001uueng0000000"}, field{"005", "20231124095020.0"},
                   field{"583", '1', ' ', {subfield{'a', "committed to retain"}}},
                   field{"852", 'X', ' ', {subfield{'b', "MAIN"}, subfield{'h', "Purchased with the $500 fund"}}}}};
}
marcpipe::coro::generator<pipeline::holding_record> holdings(std::vector<record> records) {
    std::uint64_t n = 0;
    for (auto& r : records) {
        pipeline::holding_record h{n, "99" + std::to_string(n), "22" + std::to_string(n), std::move(r)};
        ++n;
        co_yield h;
    }
}
}  // namespace

TEST_CASE("a record without 001/004 gets 001 first and 004 right after it", "[pipeline][rewrite]") {
    record r = holding_without_ids();
    pipeline::rewrite_001_004(r, "22163771200002204", "991227840000541");
    CHECK(tags(r) == std::vector<std::string>{"001", "004", "008", "005", "583", "852"});
    CHECK(r.control_value("001") == "22163771200002204");
    CHECK(r.control_value("004") == "991227840000541");
    CHECK(r.fields()[5] == holding_without_ids().fields()[3]);
    CHECK(r.leader() == "     nx  a22     1n 4500");
}

TEST_CASE("legacy 001 and 004 are replaced where they stand", "[pipeline][rewrite]") {
    record r{"00384nx  a2200145ui 4500",
             {field{"001", "h449730-47bibsys_ubo"}, field{"004", "000631221-47bibsys_ubo"},
              field{"007", "ta"}, field{"008", "1511020l"}, field{"009", "kat"}, field{"005", "2018"}}};
    pipeline::rewrite_001_004(r, "221", "991");
    CHECK(tags(r) == std::vector<std::string>{"001", "004", "007", "008", "009", "005"});
    CHECK(r.control_value("001") == "221");
    CHECK(r.control_value("004") == "991");
}

TEST_CASE("only a legacy 001, or only a legacy 004, is completed by the other", "[pipeline][rewrite]") {
    record only001{"", {field{"001", "legacy"}, field{"008", "x"}}};
    pipeline::rewrite_001_004(only001, "221", "991");
    CHECK(tags(only001) == std::vector<std::string>{"001", "004", "008"});

    record only004{"", {field{"008", "x"}, field{"004", "legacy"}, field{"852", ' ', ' '}}};
    pipeline::rewrite_001_004(only004, "221", "991");
    CHECK(tags(only004) == std::vector<std::string>{"001", "008", "004", "852"});
    CHECK(only004.control_value("004") == "991");
}

TEST_CASE("control fields out of tag order keep their order; repeated 001/004 are dropped", "[pipeline][rewrite]") {
    record r{"", {field{"008", "x"}, field{"001", "old"}, field{"005", "y"}, field{"001", "older"},
                  field{"004", "a"}, field{"004", "b"}, field{"003", "NO-OsBA"}}};
    pipeline::rewrite_001_004(r, "221", "991");
    CHECK(tags(r) == std::vector<std::string>{"008", "001", "005", "004", "003"});
    CHECK(r.control_value("001") == "221");
    CHECK(r.control_value("004") == "991");
}

TEST_CASE("piped, the rewrite uses each holdings record's own IDs", "[pipeline][rewrite]") {
    std::vector<std::string> seen;
    for (auto& h : holdings({holding_without_ids(), holding_without_ids()}) | pipeline::rewrite_001_004)
        seen.push_back(std::string{h.record.control_value("001")} + "/" +
                       std::string{h.record.control_value("004")});
    CHECK(seen == std::vector<std::string>{"220/990", "221/991"});
}

TEST_CASE("require_field keeps only the records that have the tag", "[pipeline][filter]") {
    record without583 = holding_without_ids();
    without583.fields().erase(without583.fields().begin() + 2);
    std::vector<std::string> kept;
    for (auto& h : holdings({holding_without_ids(), without583, holding_without_ids()}) |
                       pipeline::rewrite_001_004 | pipeline::require_field("583"))
        kept.push_back(h.holding_id);
    CHECK(kept == std::vector<std::string>{"220", "222"});

    std::vector<record> plain{holding_without_ids(), without583};
    auto with852 = plain | pipeline::require_field("852") | ranges::to<std::vector>();
    CHECK(with852.size() == 2);
    auto with583 = plain | pipeline::require_field("583") | ranges::to<std::vector>();
    CHECK(with583.size() == 1);
}

TEST_CASE("require_fields keeps the records that have every tag given, and all with none", "[pipeline][filter]") {
    record without583 = holding_without_ids();
    without583.fields().erase(without583.fields().begin() + 2);
    std::vector<record> plain{holding_without_ids(), without583};
    CHECK((plain | pipeline::require_fields({"852", "583"}) | ranges::to<std::vector>()).size() == 1);
    CHECK((plain | pipeline::require_fields({"852"}) | ranges::to<std::vector>()).size() == 2);
    CHECK((plain | pipeline::require_fields({"852", "245"}) | ranges::to<std::vector>()).empty());
    CHECK((plain | pipeline::require_fields({}) | ranges::to<std::vector>()).size() == 2);
}

namespace {
// A bib as Alma exports it: a cancelled OCLC number in $z, another system's number first, then
// the OCLC number with OCLC's own prefix.
std::shared_ptr<record const> bib_with_oclc() {
    return std::make_shared<record const>(record{
        "00000nas a2200000 a 4500",
        {field{"001", "991227840000541"}, field{"035", ' ', ' ', {subfield{'z', "(OCoLC)111"}}},
         field{"035", ' ', ' ', {subfield{'a', "(DE-599)ZDB123"}}},
         field{"035", ' ', ' ', {subfield{'a', "(OCoLC)ocm00012345"}}},
         field{"245", '0', '0', {subfield{'a', "A serial"}}}}});
}
pipeline::holding_record holding_of(std::shared_ptr<record const> bib, record r = holding_without_ids()) {
    return pipeline::holding_record{0, "991227840000541", "22163771200002204", std::move(r), std::move(bib)};
}
}  // namespace

TEST_CASE("the bib's OCLC number is the first 035 $a starting (OCoLC), prefix kept", "[pipeline][oclc]") {
    CHECK(pipeline::oclc_number(*bib_with_oclc()) == "(OCoLC)ocm00012345");
    CHECK(pipeline::oclc_number(record{"", {field{"035", ' ', ' ', {subfield{'z', "(OCoLC)111"}}}}}) == "");
    CHECK(pipeline::oclc_number(record{"", {field{"035", ' ', ' ', {subfield{'a', "(OCoLC)"}}}}}) == "");
    CHECK(pipeline::oclc_number(record{"", {field{"024", ' ', ' ', {subfield{'a', "(OCoLC)1"}}}}}) == "");
}

TEST_CASE("copy_oclc_number adds 035 $a in tag order, once", "[pipeline][oclc]") {
    auto holdings = std::vector{holding_of(bib_with_oclc())};
    auto got = holdings | pipeline::rewrite_001_004 | pipeline::copy_oclc_number() | ranges::to<std::vector>();
    REQUIRE(got.size() == 1);
    record const& r = got[0].record;
    CHECK(tags(r) == std::vector<std::string>{"001", "004", "008", "005", "035", "583", "852"});
    CHECK(r.fields()[4] == field{"035", ' ', ' ', {subfield{'a', "(OCoLC)ocm00012345"}}});

    // Once there, it is not added again; another number beside it stays.
    auto again = got | pipeline::copy_oclc_number() | ranges::to<std::vector>();
    CHECK(tags(again[0].record) == tags(r));
    record with_other = holding_without_ids();
    with_other.fields().insert(with_other.fields().begin() + 2, field{"035", ' ', ' ', {subfield{'a', "(OCoLC)999"}}});
    auto beside = std::vector{holding_of(bib_with_oclc(), with_other)} | pipeline::copy_oclc_number() |
                  ranges::to<std::vector>();
    CHECK(tags(beside[0].record) == std::vector<std::string>{"008", "005", "035", "035", "583", "852"});
    CHECK(beside[0].record.fields()[3].subfield_value('a') == "(OCoLC)ocm00012345");
}

TEST_CASE("copy_oclc_number(\"014\") writes a Linkage Number: ind1 1, $a the number, $b OCoLC", "[pipeline][oclc]") {
    auto got = std::vector{holding_of(bib_with_oclc())} | pipeline::rewrite_001_004 | pipeline::copy_oclc_number("014") |
               ranges::to<std::vector>();
    record const& r = got[0].record;
    CHECK(tags(r) == std::vector<std::string>{"001", "004", "008", "005", "014", "583", "852"});
    CHECK(r.fields()[4] == field{"014", '1', ' ', {subfield{'a', "ocm00012345"}, subfield{'b', "OCoLC"}}});
    auto again = got | pipeline::copy_oclc_number("014") | ranges::to<std::vector>();
    CHECK(tags(again[0].record) == tags(r));
}

TEST_CASE("copy_oclc_number leaves a holding alone when its bib has no OCLC number or is not known", "[pipeline][oclc]") {
    auto without = std::make_shared<record const>(record{"", {field{"035", ' ', ' ', {subfield{'z', "(OCoLC)1"}}}}});
    auto got = std::vector{holding_of(without), holding_of(nullptr)} | pipeline::copy_oclc_number() |
               ranges::to<std::vector>();
    REQUIRE(got.size() == 2);
    CHECK(got[0].record == holding_without_ids());
    CHECK(got[1].record == holding_without_ids());
    CHECK_THROWS_AS(pipeline::copy_oclc_number("001"), std::invalid_argument);
    CHECK_THROWS_AS(pipeline::copy_oclc_number("35"), std::invalid_argument);
}
