// A record whose leader states a length past its own record terminator would take in the start
// of the next record. The stream reader frames records by their terminator and refuses it there;
// a record_view made from bytes framed by the leader's length (as a caller holding records in
// a database would) refuses it by its own check of the data area.
#include <marcpipe/marc/iso2709_writer.hpp>

#include <string>
#include <vector>

#include "catch.hpp"
#include "support.hpp"

using namespace iso2709_test;

namespace {

std::string one_record(std::string const& id) {
    marc::record r{"00000nx  a22000003n 4500",
                   {marc::field{"001", id}, marc::field{"852", '0', '1', {{'b', "MAIN"}, {'h', "QA76 " + id}}}}};
    std::string out;
    marc::append_iso2709(r, out);
    return out;
}

}  // namespace

namespace {

// A's bytes then B's, with A's leader claiming both: the length ends on B's record terminator,
// and A's own fields, which its directory lists, are all intact.
std::string swallowing(std::string const& a, std::string const& b) {
    std::string out = a;
    std::string const claimed = std::to_string(a.size() + b.size());
    out.replace(0, 5, std::string(5 - claimed.size(), '0') + claimed);
    return out + b;
}

}  // namespace

TEST_CASE("a record view refuses a leader length that reaches past its record terminator", "[marc][record_view]") {
    std::string const a = one_record("221"), b = one_record("222");
    std::string const both = swallowing(a, b);
    marc::structure_problem problem;
    CHECK_FALSE(marc::record_view::parse(both, problem));
    CHECK(problem.code == marc::error_code::bad_record_length);
    CHECK(problem.offset == a.size() - 1);  // A's own record terminator
    CHECK(problem.detail == "record terminator before the end the leader states");
    CHECK_THROWS_AS(marc::record_view{both}, marc::marc_error);
    CHECK(marc::record_view::parse(a, problem));
}

TEST_CASE("the reader refuses such a record and reads the one after it", "[marc][iso2709]") {
    std::string const a = one_record("221"), b = one_record("222"), c = one_record("223");
    auto r = read_all(swallowing(a, b) + c);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems.front().record_number == 1);
    CHECK_THAT(r.problems.front().detail, Catch::Contains("the record terminator ends it after " + std::to_string(a.size())));
    CHECK(r.ids == std::vector<std::string>{"222", "223"});
}
