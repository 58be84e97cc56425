// The stages that need no network: the 001/004 rewrite and the require_field filter.
#include <marcpipe/pipeline/transforms.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/transform.hpp>

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
