// Reading Alma Analytics answers (alma/analytics.hpp): the rowset found by its namespace whatever
// prefix it carries, headings from the schema of the first page, null cells left out, pending
// answers, and headings matched loosely. The answers are written by hand in Alma's shape.
#include <marcpipe/alma/analytics.hpp>

#include "catch.hpp"

namespace analytics_test {

namespace alma = marcpipe::alma;

// Alma writes the rowset as `rowset:rowset` with the same namespace as the default of its rows.
constexpr char const* first_page = R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<report><QueryResult><ResumptionToken>B7F6D2C1</ResumptionToken><IsFinished>false</IsFinished><ResultXml>
<rowset:rowset xmlns:saw-sql="urn:saw-sql" xmlns:rowset="urn:schemas-microsoft-com:xml-analysis:rowset" xmlns="urn:schemas-microsoft-com:xml-analysis:rowset">
<xsd:schema xmlns:xsd="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:schemas-microsoft-com:xml-analysis:rowset">
<xsd:complexType name="Row"><xsd:sequence>
<xsd:element minOccurs="0" maxOccurs="1" name="Column0" type="xsd:string" saw-sql:columnHeading="0"/>
<xsd:element minOccurs="0" maxOccurs="1" name="Column1" type="xsd:string" saw-sql:columnHeading="Holding Id"/>
<xsd:element minOccurs="0" maxOccurs="1" name="Column2" type="xsd:string" saw-sql:columnHeading="MMS Id"/>
<xsd:element minOccurs="0" maxOccurs="1" name="Column3" type="xsd:string" saw-sql:columnHeading="Title"/>
</xsd:sequence></xsd:complexType></xsd:schema>
<Row><Column0>0</Column0><Column1>22123450000541</Column1><Column2>99123450000541</Column2><Column3>A, "b" &amp; Œ</Column3></Row>
<Row><Column0>0</Column0><Column1>22123460000541</Column1><Column2>99123450000541</Column2></Row>
</rowset:rowset></ResultXml></QueryResult></report>)";

TEST_CASE("an Analytics page: token, rows by the schema's headings, a null cell absent", "[alma][analytics]") {
    auto page = alma::parse_analytics_page(first_page);
    REQUIRE(page);
    CHECK(page->token == "B7F6D2C1");
    CHECK_FALSE(page->finished);
    CHECK(page->headings.at("Column1") == "Holding Id");
    CHECK(page->headings.at("Column3") == "Title");
    REQUIRE(page->rows.size() == 2);
    CHECK(page->rows[0].at("Column2") == "99123450000541");
    CHECK(page->rows[0].at("Column3") == "A, \"b\" & Œ");
    CHECK(page->rows[1].count("Column3") == 0);  // null: no element
}

TEST_CASE("the rowset is read by namespace, not by prefix", "[alma][analytics]") {
    std::string other_prefix = first_page;
    for (std::string from : {"rowset:rowset", "xmlns:rowset="})
        for (auto at = other_prefix.find(from); at != std::string::npos; at = other_prefix.find(from))
            other_prefix.replace(at, from.size(), from == "xmlns:rowset=" ? "xmlns:rs=" : "rs:rowset");
    auto page = alma::parse_analytics_page(other_prefix);
    REQUIRE(page);
    CHECK(page->rows.size() == 2);

    // Rows in another namespace are not the report's.
    std::string wrong = first_page;
    auto const ns = std::string{"xmlns=\"urn:schemas-microsoft-com:xml-analysis:rowset\""};
    wrong.replace(wrong.find(ns), ns.size(), "xmlns=\"urn:other\"");
    auto other = alma::parse_analytics_page(wrong);
    REQUIRE(other);
    CHECK(other->rows.empty());
}

TEST_CASE("a page after the first: no token, no schema; a pending answer; an unreadable one", "[alma][analytics]") {
    auto next = alma::parse_analytics_page(
        R"(<report><QueryResult><IsFinished>true</IsFinished><ResultXml><rowset:rowset xmlns:rowset="urn:schemas-microsoft-com:xml-analysis:rowset" xmlns="urn:schemas-microsoft-com:xml-analysis:rowset"><Row><Column0>0</Column0><Column1>1</Column1></Row></rowset:rowset></ResultXml></QueryResult></report>)");
    REQUIRE(next);
    CHECK_FALSE(next->token);
    CHECK(next->finished);
    CHECK(next->headings.empty());
    CHECK(next->rows.size() == 1);

    auto pending = alma::parse_analytics_page(
        "<report><QueryResult><ResumptionToken>T</ResumptionToken><IsFinished>false</IsFinished><ResultXml></ResultXml>"
        "</QueryResult></report>");
    REQUIRE(pending);
    CHECK(pending->rows.empty());
    CHECK_FALSE(pending->finished);

    std::string cut = first_page;
    cut.resize(cut.size() / 2);
    CHECK_FALSE(alma::parse_analytics_page(cut));
    CHECK_FALSE(alma::parse_analytics_page("<report><QueryResult/></report>"));  // no IsFinished
    CHECK_FALSE(alma::parse_analytics_page("<holdings/>"));
}

TEST_CASE("headings match without regard to case, spaces or underscores", "[alma][analytics]") {
    CHECK(alma::heading_key("MMS Id") == alma::heading_key("mms_id"));
    CHECK(alma::heading_key("MMS ID") == alma::heading_key("MmsId"));
    CHECK(alma::heading_key("Holding Id") != alma::heading_key("MMS Id"));
    alma::analytics_row row{{{"Holding Id", "221"}, {"MMS Id", "991"}}};
    CHECK(row.value("holding_id") == "221");
    CHECK(row.value("mms id") == "991");
    CHECK_FALSE(row.value("Title"));
}

TEST_CASE("a report path is URL-encoded; a token page names no path", "[alma][analytics]") {
    alma::endpoints urls{"https://api-na.hosted.exlibrisgroup.com"};
    CHECK(alma::analytics_report_url(urls, "/shared/Example University/Reports/WEST, 2026", 1000) ==
          "https://api-na.hosted.exlibrisgroup.com/almaws/v1/analytics/reports?path=%2Fshared%2FExample%20University"
          "%2FReports%2FWEST%2C%202026&limit=1000&col_names=true");
    CHECK(alma::analytics_token_url(urls, "B7F6", 1000) ==
          "https://api-na.hosted.exlibrisgroup.com/almaws/v1/analytics/reports?token=B7F6&limit=1000");
}

}  // namespace analytics_test
