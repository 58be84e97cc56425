// WEST's rules on single records (west/west_checks.hpp), and what a report row shows of a
// value found. Expected values are written out by hand.
#include <marcpipe/west/west_checks.hpp>

#include <string>
#include <vector>

#include "catch.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace west_checks_test {

namespace pipeline = marcpipe::pipeline;
using marcpipe::marc::field;
using marcpipe::marc::record;
using marcpipe::marc::subfield;
using pipeline::west_failure;

namespace {

field commitment(std::string c = "20190115", std::string d = "20351231") {
    return field{"583", '1', ' ', {{'a', "committed to retain"}, {'c', c}, {'d', d}, {'f', "WEST"}, {'5', "CU-MAIN"}}};
}

record holding(std::vector<field> extra) {
    std::vector<field> f{field{"001", "22123"}, field{"004", "99123"},
                         field{"035", ' ', ' ', {{'a', "(OCoLC)ocm00012345"}}}};
    f.insert(f.end(), extra.begin(), extra.end());
    f.push_back(field{"852", '0', ' ', {{'b', "MAIN"}}});
    return record{"     nx  a22     1n 4500", f};
}

}  // namespace

TEST_CASE("valid_yyyymmdd takes calendar dates only", "[pipeline][west]") {
    for (auto ok : {"20190115", "20200229", "20000229", "19991231", "20351231"}) CHECK(pipeline::valid_yyyymmdd(ok));
    for (auto bad : {"20190229", "19000229", "20191301", "20190100", "20190431", "2019011", "201901155", "2019-1-15",
                     "", "0000010l"})
        CHECK_FALSE(pipeline::valid_yyyymmdd(bad));
}

TEST_CASE("the commitment checked is the 583 that says 'committed to retain'", "[pipeline][west]") {
    pipeline::west_checker check;
    // A completeness review before the commitment, with no $d: not the one checked.
    field review{"583", '1', ' ', {{'a', "completeness reviewed"}, {'c', "20200101"}, {'f', "WEST"}}};
    CHECK(check.check(holding({review, commitment()})).empty());
    // Case does not matter; a second commitment with a bad date is not the first.
    field upper{"583", '1', ' ', {{'a', "Committed to retain"}, {'c', "20190115"}, {'d', "20351231"}, {'f', "WEST"}}};
    CHECK(check.check(holding({upper, commitment("2019")})).empty());
    // No commitment at all: the first 583 is checked and its $a named.
    CHECK(check.check(holding({review})) ==
          std::vector<west_failure>{{"583$a", "completeness reviewed"}, {"583$d", "no $d"}});
    // $d equal to $c passes; a day before does not.
    CHECK(check.check(holding({commitment("20200229", "20200229")})).empty());
    CHECK(check.check(holding({commitment("20200229", "20200228")})) ==
          std::vector<west_failure>{{"583$d<$c", "$c 20200229 $d 20200228"}});
}

TEST_CASE("the OCLC number's place is fixed by the first record that has one, or up front", "[pipeline][west]") {
    record in_014{"     nx  a22     1n 4500",
                  {field{"001", "22124"}, field{"004", "99124"}, field{"014", '1', ' ', {{'a', "ocm00012345"}, {'b', "OCoLC"}}},
                   commitment(), field{"852", '0', ' ', {{'b', "MAIN"}}}}};
    pipeline::west_checker by_file;
    CHECK(by_file.check(in_014).empty());
    CHECK(by_file.check(holding({commitment()})) ==
          std::vector<west_failure>{{"oclc-place", "in 035, not in 014 as the records before it"}});
    pipeline::west_checker fixed{pipeline::oclc_place::f035};
    CHECK(fixed.check(in_014) == std::vector<west_failure>{{"oclc-place", "in 014, not in 035 as the records before it"}});
    // A cancelled number (035 $z) or a bare prefix is no number.
    record cancelled = holding({commitment()});
    cancelled.fields()[2] = field{"035", ' ', ' ', {{'z', "(OCoLC)1"}, {'a', "(OCoLC)"}}};
    CHECK(pipeline::west_checker{}.check(cancelled) ==
          std::vector<west_failure>{{"oclc-number", "no 035 (OCoLC) or 014"}});
}

TEST_CASE("a report row is one CSV line whatever the record holds", "[pipeline][west]") {
    west_failure const f{"583$c", std::string{"2019\x01\r\n\"15\",x"}};
    CHECK(pipeline::west_csv_row(7, "22\x7f", "99 ", f) ==
          "7,22\\x7F,\"99 \",583$c,\"2019\\x01\\x0D\\x0A\"\"15\"\",x\"\r\n");
    CHECK(pipeline::west_csv_file_cell("a,b.mrc") == "\"a,b.mrc\",");
    // Long values are cut, never inside a UTF-8 character.
    std::string const long_value(150, 'x');
    auto const shown = pipeline::printable(long_value + "\xc3\xa6\xc3\xa6", 151);
    CHECK(shown == long_value + "\xc3\xa6...");
}

}  // namespace west_checks_test
