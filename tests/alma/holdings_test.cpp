// Parsing Alma's answers: the holdings list, a holdings record, and holding IDs in AVA $8.
#include <marcpipe/alma/holdings.hpp>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include "catch.hpp"
#include "test_data.hpp"

namespace alma = marcpipe::alma;

namespace {
std::string fixture(std::string const& name) {
    return marcpipe_test::slurp(marcpipe_test::data_root() / "alma" / name);
}
}  // namespace

TEST_CASE("a holdings list gives every holding ID", "[alma][holdings]") {
    auto ids = alma::parse_holdings_list(fixture("pulibrary_holdings_list_1holding.xml"));
    REQUIRE(ids);
    CHECK(*ids == std::vector<std::string>{"224991060000541"});

    auto many = alma::parse_holdings_list(
        "<holdings total_record_count=\"3\">"
        "<holding><holding_id>221</holding_id></holding>"
        "<holding>\n  <holding_id>\n    222\n  </holding_id>\n</holding>"
        "<holding><library>MAIN</library><holding_id>223</holding_id></holding>"
        "<bib_data><mms_id>99</mms_id></bib_data></holdings>");
    REQUIRE(many);
    CHECK(*many == std::vector<std::string>{"221", "222", "223"});
}

TEST_CASE("a bib with no holdings is a normal, empty answer", "[alma][holdings]") {
    auto ids = alma::parse_holdings_list(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><holdings total_record_count=\"0\"/>");
    REQUIRE(ids);
    CHECK(ids->empty());
}

TEST_CASE("a list shorter than its own count is a truncated answer", "[alma][holdings]") {
    auto ids = alma::parse_holdings_list(
        "<holdings total_record_count=\"2\"><holding><holding_id>221</holding_id></holding></holdings>");
    REQUIRE_FALSE(ids);
    CHECK(ids.error().message().find("total_record_count=2") != std::string::npos);
}

namespace {
// A holdings list of n holdings, IDs 1..n, counted in total_record_count when `counted`.
std::string holdings_list_of(std::size_t n, bool counted = true) {
    std::string body = counted ? "<holdings total_record_count=\"" + std::to_string(n) + "\">" : "<holdings>";
    for (std::size_t i = 1; i <= n; ++i)
        body += "<holding link=\"x\"><holding_id>" + std::to_string(i) + "</holding_id></holding>";
    return body + "</holdings>";
}
}  // namespace

TEST_CASE("a bib with more than 10,000 holdings is refused for good, naming the count", "[alma][holdings]") {
    auto const most = alma::parse_holdings_list(holdings_list_of(10'000));
    REQUIRE(most);
    CHECK(most->size() == 10'000);
    for (bool counted : {true, false}) {
        auto const over = alma::parse_holdings_list(holdings_list_of(10'001, counted));
        REQUIRE_FALSE(over);
        CHECK(over.error().final);  // the same answer again would say the same: not retried
        CHECK_THAT(over.error().message(), Catch::Contains("10001 holdings") && Catch::Contains("10000"));
    }
    // A count alone that says more is enough (the list may be a first page).
    auto const said = alma::parse_holdings_list(
        "<holdings total_record_count=\"500000\"><holding><holding_id>1</holding_id></holding></holdings>");
    REQUIRE_FALSE(said);
    CHECK(said.error().final);
    CHECK_THAT(said.error().message(), Catch::Contains("500000 holdings"));
    // A garbled answer is not final: it is asked for again.
    auto const cut = alma::parse_holdings_list("<holdings><holding><holding_id>1</holding_id>");
    REQUIRE_FALSE(cut);
    CHECK_FALSE(cut.error().final);
}

TEST_CASE("a body cut short or not a holdings list is an error with its byte offset", "[alma][holdings]") {
    auto cut = alma::parse_holdings_list("<holdings total_record_count=\"1\"><holding><holding_id>22");
    REQUIRE_FALSE(cut);
    CHECK(cut.error().offset > 0);
    CHECK(cut.error().message().find("malformed XML") != std::string::npos);

    auto error_body = alma::parse_holdings_list(fixture("../alma-errors/pulibrary_error_402203_invalid_mmsid.xml"));
    REQUIRE_FALSE(error_body);
    CHECK(error_body.error().what.find("web_service_result") != std::string::npos);

    CHECK_FALSE(alma::parse_holdings_list(""));
}

TEST_CASE("a pretty-printed holdings record gives its holding ID and MARC record", "[alma][holdings]") {
    auto h = alma::parse_holding_record(fixture("scriptotek_holding_record.xml"));
    REQUIRE(h);
    CHECK(h->holding_id == "22163771200002204");
    auto const& r = h->record;
    CHECK(r.leader() == "00384nx  a2200145ui 4500");
    std::vector<std::string> tags;
    for (auto const& f : r.fields()) tags.push_back(f.tag);
    // 005 after 008/009, as Alma keeps it.
    CHECK(tags == std::vector<std::string>{"001", "004", "007", "008", "009", "005", "014", "035", "852", "876"});
    CHECK(r.control_value("001") == "h449730-47bibsys_ubo");
    auto const* f852 = r.find("852");
    REQUIRE(f852);
    CHECK(f852->ind1 == '1');
    CHECK(f852->subfield_value('h') == "839.82");
    CHECK(f852->subfield_value('i') == "Vol:Ban");
}

TEST_CASE("a compact holdings record with 583s and no 001/004 parses the same way", "[alma][holdings]") {
    auto h = alma::parse_holding_record(fixture("kbdk_holding_583.xml"));
    REQUIRE(h);
    CHECK(h->holding_id == "222078730910005763");
    CHECK(h->record.leader() == "00204nx  a22000851n 4500");
    CHECK_FALSE(h->record.has("001"));
    int n583 = 0;
    for (auto const& f : h->record.fields()) n583 += f.tag == "583";
    CHECK(n583 == 2);
}

TEST_CASE("elements of <holding> other than <record> are ignored, known or not", "[alma][holdings]") {
    auto h = alma::parse_holding_record(
        "<holding><holding_id>22</holding_id><future_element a=\"1\"><x/></future_element>"
        "<record><leader>     nx  a22     1n 4500</leader>"
        "<controlfield tag=\"008\">1511020</controlfield></record><after/></holding>");
    REQUIRE(h);
    CHECK(h->record.leader() == "     nx  a22     1n 4500");
    REQUIRE(h->record.fields().size() == 1);
}

TEST_CASE("a subfield or control field that is a single blank keeps its blank", "[alma][holdings]") {
    auto h = alma::parse_holding_record(
        "<holding><holding_id>22</holding_id><record><leader>     nx  a22     1n 4500</leader>"
        "<controlfield tag=\"006\"> </controlfield>"
        "<datafield tag=\"852\" ind1=\"0\" ind2=\" \"><subfield code=\"h\"> </subfield></datafield>"
        "</record></holding>");
    REQUIRE(h);
    REQUIRE(h->record.fields().size() == 2);
    CHECK(h->record.control_value("006") == " ");
    CHECK(h->record.fields()[1].subfield_value('h') == " ");
}

TEST_CASE("a holding without <record> or cut short is an error", "[alma][holdings]") {
    CHECK_FALSE(alma::parse_holding_record("<holding><holding_id>22</holding_id></holding>"));
    auto cut = alma::parse_holding_record(fixture("scriptotek_holding_record.xml").substr(0, 700));
    REQUIRE_FALSE(cut);
    CHECK(cut.error().offset > 0);
}

TEST_CASE("bulk bibs give each bib's AVA fields: $8, $a and $0", "[alma][holdings]") {
    auto bibs = alma::parse_bibs_availability(
        "<bibs total_record_count=\"2\">"
        "<bib><mms_id>991</mms_id><title>A</title><record><leader>     nam a22     7i 4500</leader>"
        "<controlfield tag=\"001\">991</controlfield>"
        "<datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\">A</subfield></datafield>"
        "<datafield tag=\"AVA\" ind1=\" \" ind2=\" \"><subfield code=\"b\">MAIN</subfield>"
        "<subfield code=\"8\">222</subfield><subfield code=\"a\">01INST</subfield><subfield code=\"0\">991</subfield></datafield>"
        "<datafield tag=\"AVA\" ind1=\" \" ind2=\" \"><subfield code=\"8\"> 221 </subfield>"
        "<subfield code=\"a\">01INST</subfield></datafield>"
        "</record></bib>"
        "<bib><mms_id>992</mms_id><record><controlfield tag=\"001\">992</controlfield></record></bib>"
        "</bibs>");
    REQUIRE(bibs);
    REQUIRE(bibs->size() == 2);
    CHECK((*bibs)[0].mms_id == "991");
    REQUIRE((*bibs)[0].fields.size() == 2);
    CHECK((*bibs)[0].fields[0].holding_id == "222");
    CHECK((*bibs)[0].fields[0].institution == "01INST");
    CHECK((*bibs)[0].fields[0].bib_id == "991");
    CHECK((*bibs)[0].fields[1].holding_id == "221");
    CHECK((*bibs)[0].fields[1].bib_id.empty());
    auto seen = alma::holdings_from_availability((*bibs)[0], "01INST");
    CHECK(seen.complete);
    CHECK(seen.holding_ids == std::vector<std::string>{"221", "222"});
    CHECK((*bibs)[1].mms_id == "992");
    CHECK((*bibs)[1].fields.empty());
    // No AVA at all: no holdings, or holdings without items; availability cannot tell which.
    CHECK_FALSE(alma::holdings_from_availability((*bibs)[1]).complete);
}

namespace {
alma::bib_availability availability(std::vector<alma::availability_field> fields) {
    return alma::bib_availability{"9911", std::move(fields)};
}
}  // namespace

TEST_CASE("availability vouches for a bib's holdings only when every AVA of it has $8", "[alma][holdings]") {
    SECTION("an AVA without $8 (items in a temporary location) leaves the bib to the holdings list") {
        auto seen = alma::holdings_from_availability(availability({{"2201", "01A", "9911"}, {"", "01A", "9911"}}), "01A");
        CHECK_FALSE(seen.complete);
        CHECK(seen.holding_ids == std::vector<std::string>{"2201"});  // a lower bound
    }
    SECTION("a related record's AVA ($0 names another bib) is not this bib's holding") {
        auto seen = alma::holdings_from_availability(availability({{"2201", "01A", "9911"}, {"2299", "01A", "9922"}}), "01A");
        CHECK(seen.complete);
        CHECK(seen.holding_ids == std::vector<std::string>{"2201"});
        CHECK_FALSE(alma::holdings_from_availability(availability({{"2299", "01A", "9922"}}), "01A").complete);
        CHECK(alma::holdings_from_availability(availability({{"2201", "01A", "9911"}, {"", "01A", "9922"}}), "01A").complete);
    }
    SECTION("other institutions' AVA") {
        alma::bib_availability const nz = availability({{"2201", "01A", "9911"}, {"2288", "01B", "9911"}, {"", "01B", ""}});
        // Without an institution the bib cannot be vouched for: whose holdings are they?
        CHECK_FALSE(alma::holdings_from_availability(nz).complete);
        auto own = alma::holdings_from_availability(nz, "01A");
        CHECK(own.complete);
        CHECK(own.holding_ids == std::vector<std::string>{"2201"});
        auto other = alma::holdings_from_availability(nz, "01B");
        CHECK_FALSE(other.complete);
        CHECK_FALSE(alma::holdings_from_availability(nz, "01C").complete);  // none of ours
    }
    SECTION("an AVA of another institution never vouches, even when it is all the bib has") {
        // A Network Zone key: this institution's holdings have no items, another's have.
        alma::bib_availability const only_other = availability({{"2288", "01B", "9911"}});
        auto unknown = alma::holdings_from_availability(only_other);
        CHECK_FALSE(unknown.complete);
        CHECK(unknown.holding_ids.empty());  // not even as a lower bound
        CHECK_FALSE(alma::holdings_from_availability(only_other, "01A").complete);
        // Without an institution no AVA naming one can be told from this run's own.
        CHECK_FALSE(alma::holdings_from_availability(availability({{"2201", "01A", "9911"}})).complete);
        CHECK(alma::holdings_from_availability(availability({{"2201", "01A", "9911"}}), "01A").complete);
        // An AVA naming no institution, beside this institution's, might be one of its holdings.
        CHECK_FALSE(
            alma::holdings_from_availability(availability({{"2201", "01A", "9911"}, {"2202", "", "9911"}}), "01A")
                .complete);
    }
    SECTION("holding IDs come in ascending numeric order, each once") {
        auto seen = alma::holdings_from_availability(
            availability({{"22100", "", ""}, {"2299", "", ""}, {"22100", "", ""}, {"221000", "", ""}}));
        CHECK(seen.complete);
        CHECK(seen.holding_ids == std::vector<std::string>{"2299", "22100", "221000"});
    }
}

TEST_CASE("holding IDs sort by numeric value, other IDs after them", "[alma][holdings]") {
    std::vector<std::string> ids{"h7", "10", "9", "0009", "221", "", "22", "h10"};
    alma::sort_holding_ids(ids);
    CHECK(ids == std::vector<std::string>{"0009", "9", "10", "22", "221", "", "h10", "h7"});
}

TEST_CASE("bulk bibs with no match is an empty list", "[alma][holdings]") {
    auto bibs = alma::parse_bibs_availability(fixture("pulibrary_bibs_empty_total0.xml"));
    REQUIRE(bibs);
    CHECK(bibs->empty());
}
