// Reading Alma's answers about sets (alma/sets.hpp): a set's content type and size, and pages of
// members. The answers are written by hand in the shape Alma sends (<set> with <content desc>,
// <members total_record_count> with <member link>).
#include <marcpipe/alma/client.hpp>
#include <marcpipe/alma/sets.hpp>

#include "catch.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace sets_test {

namespace alma = marcpipe::alma;

TEST_CASE("a set's content type, name and size", "[alma][sets]") {
    auto s = alma::parse_set(
        R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<set link="https://api-na.hosted.exlibrisgroup.com/almaws/v1/conf/sets/1234567890000541">
  <id>1234567890000541</id>
  <name>WEST 2026</name>
  <type desc="Itemized">ITEMIZED</type>
  <content desc="All Titles">BIB_MMS</content>
  <private desc="No">false</private>
  <number_of_members link="https://api-na.hosted.exlibrisgroup.com/almaws/v1/conf/sets/1234567890000541/members">250</number_of_members>
</set>)");
    REQUIRE(s);
    CHECK(s->id == "1234567890000541");
    CHECK(s->name == "WEST 2026");
    CHECK(s->content == "BIB_MMS");
    CHECK(s->content_desc == "All Titles");
    CHECK(s->members == 250);
    CHECK_FALSE(alma::parse_set("<set><id>1</id></set>"));  // no content: cannot tell what it holds
    CHECK_FALSE(alma::parse_set("<members total_record_count=\"0\"/>"));
}

TEST_CASE("a page of set members, an empty page, and a page that cannot be read", "[alma][sets]") {
    auto page = alma::parse_set_members(
        R"(<members total_record_count="101"><member link="https://x/almaws/v1/bibs/991227840000541"><id>991227840000541</id><description>What do you do, dear? /</description></member><member link="https://x/almaws/v1/bibs/991227850000541"><id> 991227850000541
</id></member></members>)");
    REQUIRE(page);
    CHECK(page->total == 101);
    CHECK(page->ids == std::vector<std::string>{"991227840000541", "991227850000541"});
    auto empty = alma::parse_set_members(R"(<members total_record_count="0"/>)");
    REQUIRE(empty);
    CHECK(empty->ids.empty());
    CHECK_FALSE(alma::parse_set_members("<members><member><id>1</id></member></members>"));  // no count
    CHECK_FALSE(alma::parse_set_members(R"(<members total_record_count="1"><member><id/></member></members>)"));
    CHECK_FALSE(alma::parse_set_members(R"(<members total_record_count="1"><member>)"));
}

TEST_CASE("the set URLs", "[alma][sets]") {
    alma::endpoints const urls{"https://api-eu.hosted.exlibrisgroup.com/"};
    CHECK(urls.set("1234567890000541") == "https://api-eu.hosted.exlibrisgroup.com/almaws/v1/conf/sets/1234567890000541");
    CHECK_THROWS_AS(urls.set_members("12 3", 200, 100), std::invalid_argument);  // no URL with a space
}

}  // namespace sets_test
