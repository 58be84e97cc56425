// marcxml_reader on small documents: the shapes MARCXML comes in, text taken exactly, and
// each kind of broken input reported at its record and byte.
#include <marcpipe/marc/marcxml_reader.hpp>
#include <pugixml.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support.hpp"

using namespace marcxml_test;
using Catch::Matchers::Contains;
using marc::error_code;
using marc::field;
using marc::record;
using marc::subfield;

namespace {

std::string const leader = "00000nx  a2200000un 4500";

record expected_holding() {
    return record{leader,
                  {field{"001", "2216"}, field{"004", "99123"},
                   field{"852", '0', ' ', {subfield{'b', "MAIN"}, subfield{'h', "QA76 .C65"}}}}};
}

// The body of expected_holding() with an element prefix ("" or "marc:").
std::string holding_body(std::string const& p) {
    return "<" + p + "leader>" + leader + "</" + p + "leader>" + "<" + p +
           "controlfield tag=\"001\">2216</" + p + "controlfield>" + "<" + p +
           "controlfield tag=\"004\">99123</" + p + "controlfield>" + "<" + p +
           "datafield tag=\"852\" ind1=\"0\" ind2=\" \">" + "<" + p + "subfield code=\"b\">MAIN</" +
           p + "subfield>" + "<" + p + "subfield code=\"h\">QA76 .C65</" + p + "subfield>" + "</" +
           p + "datafield>";
}

// A record of the leader and `fields`, as one line of a collection.
std::string in_record(std::string const& fields) {
    return "<record><leader>" + leader + "</leader>" + fields + "</record>\n";
}

}  // namespace

TEST_CASE("a record is read whatever namespace form the document uses", "[marcxml]") {
    std::string const slim = "http://www.loc.gov/MARC21/slim";
    auto const doc = GENERATE_COPY(values<std::string>({
        // default namespace on the collection
        "<?xml version=\"1.0\"?><collection xmlns=\"" + slim + "\"><record>" + holding_body("") +
            "</record></collection>",
        // prefix declared on the collection
        "<marc:collection xmlns:marc=\"" + slim + "\"><marc:record>" + holding_body("marc:") +
            "</marc:record></marc:collection>",
        // prefix declared on the record itself
        "<ns0:record xmlns:ns0=\"" + slim + "\">" + holding_body("ns0:") + "</ns0:record>",
        // a single record, default namespace
        "<record xmlns=\"" + slim + "\">" + holding_body("") + "</record>",
        // no namespace at all, as in Alma's holdings
        "<record>" + holding_body("") + "</record>",
        // Alma's wrapper around an un-namespaced record
        "<holding><holding_id>2216</holding_id><record>" + holding_body("") +
            "</record><suppress_from_publishing>false</suppress_from_publishing></holding>",
        // the default namespace undone on the record
        "<collection xmlns=\"" + slim + "\"><record xmlns=\"\">" + holding_body("") +
            "</record></collection>",
        // an OAI-PMH response: its own <record> is not a MARC record, the one inside is
        "<OAI-PMH xmlns=\"http://www.openarchives.org/OAI/2.0/\"><ListRecords><record><header>"
        "<identifier>oai:x:1</identifier></header><metadata><marc:record xmlns:marc=\"" +
            slim + "\">" + holding_body("marc:") +
            "</marc:record></metadata></record></ListRecords></OAI-PMH>",
    }));
    CAPTURE(doc);
    auto const records = read_strict(doc);
    REQUIRE(records.size() == 1);
    CHECK(records[0] == expected_holding());
}

TEST_CASE("text is taken exactly as the document has it", "[marcxml]") {
    auto const records = read_strict(
        "<collection>\n  <record>\n    <leader>     nam a22     4a 4500</leader>\n"
        "    <controlfield tag=\"001\">  ocm123 </controlfield>\n"
        "    <controlfield tag=\"008\"/>\n"
        "    <datafield tag=\"245\">\n"
        "      <subfield code=\"a\"> </subfield>\n"
        "      <subfield code=\"b\">\n  two lines \n</subfield>\n"
        "      <subfield code=\"c\"><![CDATA[<b>&amp;</b>]]> &amp; &lt;&gt;&quot;&apos; "
        "&#233;&#x1F600;</subfield>\n"
        "      <subfield code=\"d\">one<!-- a comment -->two<?pi x?>three</subfield>\n"
        "      <subfield code=\"e\"/>\n"
        "    </datafield>\n  </record>\n</collection>\n");
    REQUIRE(records.size() == 1);
    CHECK(records[0] ==
          record{"     nam a22     4a 4500",
                 {field{"001", "  ocm123 "}, field{"008", ""},
                  field{"245",
                        ' ',
                        ' ',
                        {subfield{'a', " "}, subfield{'b', "\n  two lines \n"},
                         subfield{'c', "<b>&amp;</b> & <>\"' \xC3\xA9\xF0\x9F\x98\x80"},
                         subfield{'d', "onetwothree"}, subfield{'e', ""}}}}});
}

TEST_CASE("text is taken exactly in plain runs of records too", "[marcxml]") {
    // No comment, CDATA or processing instruction: the reader parses such runs many records
    // at a time, and must keep whitespace just the same.
    auto const records = read_strict(
        "<collection>\n  <record>\n    <leader>     nam a22     4a 4500</leader>\n"
        "    <controlfield tag=\"001\">  ocm123 </controlfield>\n"
        "    <controlfield tag=\"003\"> </controlfield>\n"
        "    <datafield tag=\"245\" ind1=\" \" ind2=\"\t\">\n"
        "      <subfield code=\"a\"> </subfield>\n"
        "      <subfield code=\"b\">\n  two lines \n</subfield>\n"
        "      <subfield code=\"c\"> &amp; &lt;&gt; &#233; </subfield>\n"
        "      <subfield code=\" \">\t</subfield>\n"
        "    </datafield>\n  </record>\n  <record><leader>" +
        leader +
        "</leader></record>\n"
        "</collection>\n");
    REQUIRE(records.size() == 2);
    // ind2: attribute values normalise a tab to a space, as XML says.
    CHECK(records[0] == record{"     nam a22     4a 4500",
                               {field{"001", "  ocm123 "}, field{"003", " "},
                                field{"245",
                                      ' ',
                                      ' ',
                                      {subfield{'a', " "}, subfield{'b', "\n  two lines \n"},
                                       subfield{'c', " & <> \xC3\xA9 "}, subfield{' ', "\t"}}}}});
    CHECK(records[1].fields().empty());
}

TEST_CASE("line ends are normalised the way every XML parser does", "[marcxml]") {
    auto const records =
        read_strict("<record><leader>" + leader +
                    "</leader><datafield tag=\"500\" ind1=\" \" ind2=\" \">"
                    "<subfield code=\"a\">a\r\nb\rc&#13;d</subfield></datafield></record>");
    CHECK(records.at(0).fields().at(0).subfields.at(0).value == "a\nb\nc\rd");
}

TEST_CASE("unknown elements, foreign namespaces, comments and odd markup are passed over",
          "[marcxml]") {
    auto const records = read_strict(
        "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"utf-8\" standalone=\"yes\"?>\n"
        "<!DOCTYPE collection [ <!ELEMENT collection ANY> ]>\n"
        "<!-- <record> in a comment is no record -->\n"
        "<collection xmlns=\"http://www.loc.gov/MARC21/slim\" xmlns:x=\"urn:other\">\n"
        "<x:note>text &lt;record&gt; is no record</x:note>\n"
        "<![CDATA[ <record></record> ]]>\n"
        "<record type=\"Holdings\" x:comment=\"a > inside quotes, and '</record>'\">\n"
        "<!-- </record> --><?processing instruction > </record>?>\n"
        "<leader>" +
        leader +
        "</leader>\n"
        "<x:leader>not the leader</x:leader><x:controlfield tag=\"009\">ignored</x:controlfield>\n"
        "<controlfield tag=\"001\">2216</controlfield><controlfield "
        "tag=\"004\">99123</controlfield>\n"
        "<datafield tag=\"852\" ind1=\"0\" ind2=\" \"><x:subfield code=\"z\">ignored</x:subfield>"
        "<subfield code=\"b\">MAIN</subfield><unknown/><subfield code=\"h\">QA76 .C65</subfield>"
        "</datafield>\n<note>ignored</note>\n"
        "</record>\n</collection>\n");
    REQUIRE(records.size() == 1);
    CHECK(records[0] == expected_holding());
}

TEST_CASE("missing or empty indicators are blanks", "[marcxml]") {
    auto const records = read_strict(
        "<record><leader>" + leader +
        "</leader><datafield tag=\"852\"><subfield code=\"a\">x"
        "</subfield></datafield><datafield tag=\"866\" ind1=\"\" ind2=\"0\"/></record>");
    REQUIRE(records.at(0).fields().size() == 2);
    CHECK(records[0].fields()[0].ind1 == ' ');
    CHECK(records[0].fields()[0].ind2 == ' ');
    CHECK(records[0].fields()[1].ind1 == ' ');
    CHECK(records[0].fields()[1].ind2 == '0');
}

TEST_CASE("a record element already parsed by pugixml converts on its own", "[marcxml]") {
    pugi::xml_document doc;
    std::string const xml =
        "<holding><holding_id>2216</holding_id><record>" + holding_body("") + "</record></holding>";
    REQUIRE(doc.load_string(xml.c_str()));
    CHECK(marc::from_marcxml(doc.child("holding").child("record")) == expected_holding());

    std::string const prefixed =
        "<m:collection xmlns:m=\"http://www.loc.gov/MARC21/slim\"><m:record>" + holding_body("m:") +
        "</m:record></m:collection>";
    REQUIRE(doc.load_string(prefixed.c_str()));
    CHECK(marc::from_marcxml(doc.first_child().first_child()) == expected_holding());

    REQUIRE(doc.load_string("<holding><holding_id>1</holding_id></holding>"));
    CHECK_THROWS_AS(marc::from_marcxml(doc.child("holding").child("holding_id")), marc::marc_error);
}

TEST_CASE("a string holding one record converts to that record", "[marcxml]") {
    CHECK(marc::from_marcxml("<record>" + holding_body("") + "</record>") == expected_holding());
    CHECK_THROWS_AS(marc::from_marcxml(std::string{"<collection/>"}), marc::marc_error);
    CHECK_THROWS_AS(
        marc::from_marcxml("<collection><record>" + holding_body("") + "</record><record>" +
                           holding_body("") + "</record></collection>"),
        marc::marc_error);
}

TEST_CASE("an empty collection has no records and no problems", "[marcxml]") {
    for (std::string doc : {"<collection xmlns=\"http://www.loc.gov/MARC21/slim\"/>",
                            "<?xml version=\"1.0\"?>\n<collection>\n</collection>\n", ""}) {
        auto const r = read_all(doc);
        CHECK(r.records.empty());
        CHECK(r.problems.empty());
    }
}

TEST_CASE("broken records are reported at their record number and byte offset", "[marcxml]") {
    std::string const good = "<record>" + holding_body("") + "</record>\n";
    struct example {
        std::string bad;  // the second record of three
        std::string at;   // text the reported offset points at (within `bad`)
        error_code code;
        std::string says;
    };
    auto const e = GENERATE(values<example>({
        {in_record("<controlfield tag=\"001\">x</datafield>"), "datafield>",
         error_code::malformed_xml, "do not match"},
        {in_record("<controlfield tag=\"001\">a\x01z</controlfield>"), "\x01",
         error_code::malformed_xml, "U+0001"},
        {in_record("<controlfield tag=\"001\">caf\xE9</controlfield>"), "\xE9",
         error_code::invalid_utf8, "invalid UTF-8"},
        {in_record("<controlfield tag=\"001\">&#1;</controlfield>"), "&#1;",
         error_code::malformed_xml, "does not allow"},
        // ISO 2709's delimiters as references, in a value and in an attribute.
        {in_record("<datafield tag=\"852\"><subfield code=\"a\">a&#x1E;b</subfield></datafield>"),
         "&#x1E;", error_code::malformed_xml, "does not allow"},
        {in_record("<datafield tag=\"852\" ind1=\"&#x1f;\"/>"), "&#x1f;", error_code::malformed_xml,
         "does not allow"},
        {in_record("<controlfield tag=\"001\">&#29;&#0;</controlfield>"), "&#29;",
         error_code::malformed_xml, "does not allow"},
        {in_record("<controlfield tag=\"001\">&nbsp;</controlfield>"), "&nbsp;",
         error_code::malformed_xml, "undeclared entity"},
        {in_record("<controlfield tag=\"001\">AT&T</controlfield>"), "&T",
         error_code::malformed_xml, "reference"},
        {"<record><leader>short</leader></record>\n", "<leader>", error_code::bad_leader,
         "5 bytes, not 24"},
        {"<record><controlfield tag=\"001\">1</controlfield></record>\n", "<record>",
         error_code::bad_leader, "no leader"},
        {"<record><leader>" + leader + "</leader><leader>" + leader + "</leader></record>\n",
         "<leader>" + leader + "</leader></record>", error_code::bad_leader, "more than one"},
        {in_record("<controlfield>1</controlfield>"), "<controlfield>", error_code::not_marc,
         "without a tag"},
        {in_record("<datafield tag=\"42\"/>"), "<datafield", error_code::not_marc, "tag \"42\""},
        {in_record("<controlfield tag=\"245\">x</controlfield>"), "<controlfield",
         error_code::not_marc, "only 00X"},
        {in_record("<datafield tag=\"001\"/>"), "<datafield", error_code::not_marc,
         "00X tags are control fields"},
        {in_record("<datafield tag=\"245\" ind1=\"10\"/>"), "<datafield", error_code::bad_indicator,
         "ind1 \"10\""},
        {in_record("<datafield tag=\"245\"><subfield>x</subfield></datafield>"), "<subfield",
         error_code::bad_subfield, "without a code"},
        {in_record("<datafield tag=\"245\"><subfield code=\"ab\">x</subfield></datafield>"),
         "<subfield", error_code::bad_subfield, "code \"ab\""},
        {"<m:record><leader>" + leader + "</leader></m:record>\n", "<m:record",
         error_code::malformed_xml, "not declared"},
    }));
    CAPTURE(e.bad);
    std::string const doc = "<collection>\n" + good + e.bad + good + "</collection>\n";
    auto const r = read_all(doc);
    CHECK(r.records.size() == 2);
    REQUIRE(r.problems.size() == 1);
    auto const& p = r.problems[0];
    CHECK(p.code == e.code);
    CHECK(p.record_number == 2);
    CHECK(p.byte_offset == doc.find(e.bad) + e.bad.find(e.at));
    CHECK_THAT(p.detail, Contains(e.says));
    CHECK_THAT(p.message(), Contains("record 2 at byte " + std::to_string(p.byte_offset)));

    // Stopping on it: the first record comes out, then the problem is thrown.
    auto reader = marc::marcxml_reader::from_memory(doc);
    CHECK(reader.next());
    CHECK_THROWS_AS(reader.next(), marc::marc_error);
    // A caller that catches it may go on with the rest.
    CHECK(reader.next());
    CHECK_FALSE(reader.next());
}

TEST_CASE("a record that is never closed is reported and the next record is still read",
          "[marcxml]") {
    std::string const good = "<record>" + holding_body("") + "</record>\n";
    std::string const unclosed = "<record><leader>" + leader + "</leader>\n";
    SECTION("the next record starts") {
        std::string const doc = "<collection>\n" + good + unclosed + good + "</collection>\n";
        auto const r = read_all(doc);
        CHECK(r.records.size() == 2);
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].record_number == 2);
        CHECK(r.problems[0].code == error_code::malformed_xml);
        CHECK(r.problems[0].byte_offset == doc.rfind("<record>"));
        CHECK_THAT(r.problems[0].detail, Contains("is not closed"));
    }
    SECTION("the collection ends") {
        std::string const doc = "<collection>\n" + good + unclosed + "</collection>\n";
        auto const r = read_all(doc);
        CHECK(r.records.size() == 1);
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].record_number == 2);
        CHECK(r.problems[0].byte_offset == doc.find("</collection>"));
    }
    SECTION("the input ends") {
        std::string const doc = "<collection>\n" + good + unclosed;
        auto const r = read_all(doc);
        CHECK(r.records.size() == 1);
        REQUIRE(r.problems.size() == 1);
        CHECK(r.problems[0].record_number == 2);
        CHECK(r.problems[0].code == error_code::truncated_record);
        CHECK(r.problems[0].byte_offset == doc.size());
    }
}

TEST_CASE("a document cut short after a record is reported after that record", "[marcxml]") {
    std::string const doc = "<collection>\n<record>" + holding_body("") + "</record>\n";
    auto const r = read_all(doc);
    CHECK(r.records.size() == 1);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].code == error_code::truncated_record);
    CHECK_THAT(r.problems[0].detail, Contains("<collection>"));
    CHECK(r.problems[0].byte_offset == doc.size());
}

TEST_CASE("input that is not MARCXML says so", "[marcxml]") {
    struct example {
        std::string doc, says;
    };
    auto const e = GENERATE(values<example>({
        {"01234nam a2200289 a 4500", "not XML"},
        {"{\"holding_id\": \"2216\"}", "not XML"},
        {"<web_service_result xmlns=\"http://com/exlibris/urm/general/xmlbeans\"><errorsExist>true"
         "</errorsExist></web_service_result>",
         "no MARC <record> element in <web_service_result>"},
        {"<collection><datafield tag=\"952\"/></collection>", "no MARC <record>"},
        {"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><collection/>", "iso-8859-1"},
        {"\xFF\xFE<\0c\0", "UTF-16"},
    }));
    CAPTURE(e.doc);
    auto const r = read_all(e.doc);
    CHECK(r.records.empty());
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].code == error_code::not_marc);
    CHECK_THAT(r.problems[0].detail, Contains(e.says));
}

TEST_CASE("a record larger than the limit is reported and the reading goes on", "[marcxml]") {
    std::string big =
        "<record><leader>" + leader + "</leader><datafield tag=\"500\"><subfield code=\"a\">";
    big += std::string(300'000, 'x');
    big += "</subfield></datafield></record>\n";
    std::string const good = "<record>" + holding_body("") + "</record>\n";
    std::string const doc = "<collection>" + good + big + good + "</collection>";
    marc::marcxml_reader::options o;
    o.policy = marc::on_error::skip;
    o.max_record_bytes = 100'000;
    std::vector<marc::read_problem> problems;
    o.on_problem = [&](marc::read_problem const& p) { problems.push_back(p); };
    auto reader = marc::marcxml_reader::from_memory(doc, o);
    int n = 0;
    while (reader.next()) ++n;
    CHECK(n == 2);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].code == error_code::record_too_long);
    CHECK(problems[0].record_number == 2);
    CHECK(problems[0].byte_offset == doc.find(big));
    CHECK(reader.problems().empty());  // handed to the callback instead
    CHECK(reader.problem_count() == 1);
}

TEST_CASE("reading from a stream and from a file gives the same records as from memory",
          "[marcxml]") {
    auto const path = data_path("stanford-mhldDisplay.xml");
    auto const bytes = slurp(path);
    auto const from_memory = read_strict(bytes);
    REQUIRE(from_memory.size() == 42);

    std::istringstream in{bytes};
    auto stream_reader = marc::marcxml_reader::from_stream(in);
    std::vector<record> from_stream;
    while (auto r = stream_reader.next()) from_stream.push_back(std::move(*r));
    CHECK(from_stream == from_memory);

    auto file_reader = marc::marcxml_reader::from_file(path);
    std::vector<record> from_file;
    while (auto r = file_reader.next()) from_file.push_back(std::move(*r));
    CHECK(from_file == from_memory);

    CHECK_THROWS_AS(marc::marcxml_reader::from_file(data_path("no-such-file.xml")),
                    std::system_error);
}

TEST_CASE("reading into one reused record gives the same records as next()", "[marcxml]") {
    // Records of different shapes one after another: fewer and more fields and subfields,
    // control fields where data fields were, and a bad record in between.
    auto const bytes = slurp(data_path("stanford-mhldDisplay.xml")) +
                       slurp(data_path("ruby-marc-three-records-second-bad.xml")) +
                       slurp(data_path("marc-perl-batch-ns.xml"));
    auto const expected = read_all(bytes);
    REQUIRE(expected.records.size() == 42 + 2 + 10);

    marc::marcxml_reader::options o;
    o.policy = marc::on_error::skip;
    auto reader = marc::marcxml_reader::from_memory(bytes, o);
    record r;
    std::vector<record> got;
    while (reader.read(r)) got.push_back(r);
    CHECK(got == expected.records);
    CHECK(reader.problems().size() == expected.problems.size());
}

TEST_CASE("a run of stray markup between records is one problem naming the bytes it spans", "[marcxml]") {
    std::string const good = "<record>" + holding_body("") + "</record>\n";
    // 20,000 end tags that close nothing: each one a problem where no record is.
    std::string stray;
    for (int i = 0; i < 20'000; ++i) stray += "</x>";
    std::string const doc = "<collection>\n" + good + "</collection>\n" + stray;
    auto const r = read_all(doc);
    CHECK(r.records.size() == 1);
    REQUIRE(r.problems.size() == 1);
    auto const& p = r.problems[0];
    CHECK(p.code == error_code::unreadable_bytes);
    CHECK(p.record_number == 2);
    auto const first = doc.find("</x>");
    auto const last = doc.rfind("</x>");
    CHECK(p.byte_offset == first);
    CHECK_THAT(p.detail, Contains("from byte " + std::to_string(first) + " to byte " + std::to_string(last)) &&
                             Contains("20000 problems") && Contains("without a start tag"));
    // One bad end tag alone is still reported in its own words.
    auto const one = read_all("<collection>\n" + good + "</collection>\n</x>");
    REQUIRE(one.problems.size() == 1);
    CHECK(one.problems[0].code == error_code::malformed_xml);
}
