// record::find_all: every field of a tag, where find() gives only the first.
#include <marcpipe/marc/record.hpp>

#include <range/v3/range/conversion.hpp>
#include <range/v3/view/transform.hpp>

#include <string>
#include <vector>

#include "catch.hpp"

namespace marc = marcpipe::marc;

namespace {

// A holdings record with three locations, each its own 852, and other fields between them.
marc::record three_locations() {
    return marc::record{"00000nx  a22000003n 4500",
                        {marc::field{"001", "22123456780006421"},
                         marc::field{"852", '0', '1', {{'b', "MAIN"}, {'h', "QA76"}}},
                         marc::field{"583", '1', ' ', {{'a', "committed to retain"}}},
                         marc::field{"852", '0', '1', {{'b', "LAW"}}},
                         marc::field{"866", ' ', '0', {{'a', "v.1-10"}}},
                         marc::field{"852", '8', ' ', {{'b', "ANNEX"}}}}};
}

std::vector<std::string> libraries(marc::record const& r) {
    return r.find_all("852") |
           ranges::views::transform([](marc::field const& f) { return std::string{f.subfield_value('b')}; }) |
           ranges::to<std::vector>();
}

}  // namespace

TEST_CASE("find_all gives every field of a tag in record order", "[marc][record]") {
    marc::record const r = three_locations();
    CHECK(libraries(r) == std::vector<std::string>{"MAIN", "LAW", "ANNEX"});
    CHECK(r.find("852")->subfield_value('b') == "MAIN");  // find() stops at the first
    CHECK(ranges::distance(r.find_all("583")) == 1);
    CHECK(ranges::distance(r.find_all("001")) == 1);
    CHECK(ranges::empty(r.find_all("035")));
    CHECK(ranges::empty(marc::record{}.find_all("852")));
}

TEST_CASE("fields found by find_all on a record can be edited in place", "[marc][record]") {
    marc::record r = three_locations();
    for (marc::field& f : r.find_all("852")) f.ind1 = '1';
    std::string inds;
    for (auto const& f : r.fields()) inds += f.ind1;
    CHECK(inds == " 111 1");  // 001, 852, 583 (its own 1), 852, 866, 852 (8 before)
}
