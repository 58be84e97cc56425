// Records in the plain shape are read by a scan of their own (marcxml_plain.hpp); these tests
// hold that scan to the records a whole-document pugixml parse gives, on real files and on
// every variation of the shape the scan accepts or hands back.
#include <filesystem>
#include <marcpipe/marc/iso2709_reader.hpp>
#include <marcpipe/marc/marcxml.hpp>
#include <pugixml.hpp>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support.hpp"

using namespace marcxml_test;

namespace {

std::string const plain_leader = "00000cam a2200000 a 4500";

// MARC record elements wherever they are (a collection, an OAI-PMH response), in document order.
void collect_records(pugi::xml_node n, std::vector<marc::record>& out) {
    if (marc::detail::local_name(n.name()) == "record") {
        auto ns = marc::detail::element_namespace(n, nullptr);
        if (ns && marc::detail::is_marc_namespace(*ns)) {
            out.push_back(marc::from_marcxml(n));
            return;
        }
    }
    for (auto c = n.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element) collect_records(c, out);
}

// The records of a document parsed whole by pugixml and converted element by element: the
// path that does not use the plain scan.
std::vector<marc::record> read_as_tree(std::string const& xml) {
    pugi::xml_document doc;
    auto const ok =
        doc.load_buffer(xml.data(), xml.size(),
                        pugi::parse_escapes | pugi::parse_eol | pugi::parse_wconv_attribute |
                            pugi::parse_ws_pcdata_single | pugi::parse_embed_pcdata,
                        pugi::encoding_utf8);
    REQUIRE(ok);
    std::vector<marc::record> out;
    collect_records(doc.document_element(), out);
    return out;
}

std::string collection(std::string const& records) {
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n" +
           records + "</collection>\n";
}

}  // namespace

TEST_CASE("plain runs of real MARCXML give the records a whole-document parse gives", "[marcxml]") {
    int files = 0;
    for (auto const& entry :
         std::filesystem::directory_iterator{data_path("yaz-marc4.xml").parent_path()}) {
        if (entry.path().extension() != ".xml") continue;
        std::string const xml = slurp(entry.path());
        auto const streamed = read_all(xml);
        if (!streamed.problems.empty()) continue;  // broken files have tests of their own
        INFO(entry.path().filename().string());
        CHECK(streamed.records == read_as_tree(xml));
        ++files;
    }
    CHECK(files >= 10);
}

TEST_CASE("MARC21 files written as MARCXML read back the same through the plain scan",
          "[marcxml]") {
    int records = 0;
    for (auto const& entry : std::filesystem::directory_iterator{
             data_path("iso2709/marc4j_sample1.mrc").parent_path()}) {
        if (!entry.is_regular_file()) continue;
        marc::reader_options o{marc::on_error::skip};
        o.on_problem = [](marc::read_problem const&) {};
        auto reader = marc::iso2709_reader::from_file(entry.path(), o);
        std::vector<marc::record> originals;
        while (auto v = reader.next()) originals.push_back(v->to_record());
        std::string xml;
        {
            marc::marcxml_writer w{xml};
            for (auto const& r : originals) w.write(r);
        }
        INFO(entry.path().filename().string());
        auto const streamed = read_all(xml);
        CHECK(streamed.problems.empty());
        CHECK(streamed.records == read_as_tree(xml));
        records += static_cast<int>(streamed.records.size());
    }
    CHECK(records > 400);
}

TEST_CASE("every variation of markup the plain scan accepts reads as the tree reads it",
          "[marcxml]") {
    auto const variant = GENERATE(values<std::string>(
        {// attributes in any order, single quotes, whitespace around '=' and before '>'
         "<datafield ind2='4' tag = \"245\"  ind1=\"1\" ><subfield code='a'>x</subfield "
         "></datafield >",
         // references of every kind, characters outside the BMP

         "<datafield tag=\"500\" ind1=\" \" ind2=\" \"><subfield code=\"a\">&amp;&lt;&gt;"
         "&quot;&apos;&#233;&#xE9;&#x1F600;&#10;&#9;</subfield></datafield>",
         // empty and whitespace-only values, missing and empty indicators

         "<datafield tag=\"500\"><subfield code=\"a\"></subfield><subfield code=\"b\"> \n "
         "</subfield></datafield><datafield tag=\"501\" ind1=\"\" ind2=\"\"></datafield>",
         "<controlfield tag=\"001\"></controlfield><controlfield tag=\"005\"> x "
         "</controlfield>",
         // next to the spellings the scan matches whole (` tag="245" ind1="1" ind2="0">`,
         // ` tag="001">`, ` code="a">`), one per variant so that nothing else in the run sends
         // it to the parser: a space before '>', single quotes, another order, two spaces, a
         // tab, values that are '>' or a quote of the other kind, an empty indicator
         "<controlfield tag=\"001\" >1</controlfield>",
         "<datafield tag=\"245\" ind1=\"1\" ind2=\"0\" ><subfield code=\"a\">x"
         "</subfield></datafield>",
         "<datafield tag=\"245\" ind1=\"1\" ind2=\"0\"><subfield code=\"a\" >x"
         "</subfield></datafield>",
         "<controlfield tag='001'>1</controlfield>",
         "<datafield tag=\"245\" ind1='1' ind2=\"0\"><subfield code='a'>x</subfield>"
         "</datafield>",
         "<datafield tag=\"245\" ind2=\"0\" ind1=\"1\"><subfield code=\">\">x</subfield>"
         "<subfield code=\"'\">y</subfield></datafield>",
         "<controlfield  tag=\"001\">1</controlfield>",
         "<datafield tag=\"245\"  ind1=\"1\" ind2=\"0\"><subfield\tcode=\"a\">x"
         "</subfield></datafield>",
         "<datafield tag=\"245\" ind1=\">\" ind2=\"'\"><subfield code=\"a\">x</subfield>"
         "</datafield>",
         "<datafield tag=\"246\" ind1=\"\" ind2=\"0\"><subfield code=\"a\">x</subfield>"
         "</datafield>",
         // a datafield with no subfield, and a leader after the fields
         "<datafield tag=\"900\" ind1=\"a\" ind2=\"b\">\n</datafield>",
         // what the scan hands back to the parser: empty elements, unknown elements and
         // attributes, text between fields, a reference in an attribute, a prefix, a CR

         "<datafield tag=\"500\" ind1=\" \" ind2=\" \"><subfield code=\"a\"/></datafield>",
         "<datafield tag=\"500\" ind1=\" \" ind2=\" \" id=\"x\"><subfield code=\"a\">y"
         "</subfield></datafield>",
         "<note>passed over</note><controlfield tag=\"001\">1</controlfield>",
         "stray text<controlfield tag=\"001\">1</controlfield>",
         "<datafield tag=\"500\" ind1=\"&#49;\" ind2=\" \"><subfield code=\"a\">y"
         "</subfield></datafield>",
         "<marc:controlfield xmlns:marc=\"http://www.loc.gov/MARC21/slim\" tag=\"001\">1"
         "</marc:controlfield>",
         "<datafield tag=\"500\" ind1=\" \" ind2=\" \"><subfield code=\"a\">line\r\nend"
         "</subfield></datafield>"}));
    // Enough copies that the reader takes them as a run, with the leader first and last.
    std::string records;
    for (int i = 0; i < 50; ++i) {
        records += i % 2 == 0 ? "<record>\n  <leader>" + plain_leader + "</leader>\n  " + variant +
                                    "\n</record>\n"
                              : "<record>" + variant + "<leader>" + plain_leader + "</leader></record>\n";
    }
    std::string const xml = collection(records);
    INFO(variant);
    auto const streamed = read_all(xml);
    CHECK(streamed.problems.empty());
    REQUIRE(streamed.records.size() == 50);
    CHECK(streamed.records == read_as_tree(xml));
}

TEST_CASE("a record the MARC rules reject is reported the same with or without the plain scan",
          "[marcxml]") {
    // The scan never decides that a record is bad: it hands the run back, and the parser names
    // the problem at the record where it is.
    auto const bad = GENERATE(values<std::string>(
        {"<datafield tag=\"24\" ind1=\" \" ind2=\" \"/>",
         "<datafield tag=\"001\" ind1=\" \" ind2=\" \"/>",
         "<controlfield tag=\"245\">x</controlfield>",
         "<datafield tag=\"245\" ind1=\"ab\" ind2=\" \"/>",
         "<datafield tag=\"245\"><subfield code=\"ab\">x</subfield>"
         "</datafield>",
         "<datafield tag=\"245\" ind1=\" \" ind2=\" \"><subfield code=\"\">x"
         "</subfield></datafield>",
         "<datafield tag=\"245\" ind1=\"12\" ind2=\" \"></datafield>",
         "<controlfield tag=\"0011\">x</controlfield>",
         "<controlfield tag=\"0\"1\">x</controlfield>",
         "<datafield tag=\"245\" ind1=\" \" ind2=\" \"><subfield code=\"\xC3\xA9\">"
         "x</subfield></datafield>",
         "<leader>" + plain_leader + "</leader>"}));
    std::string records;
    for (int i = 1; i <= 5; ++i)
        records += "<record><leader>" + plain_leader + "</leader><controlfield tag=\"001\">" +
                   std::to_string(i) + "</controlfield>" + (i == 3 ? bad : std::string{}) +
                   "</record>\n";
    INFO(bad);
    auto const streamed = read_all(collection(records));
    REQUIRE(streamed.problems.size() == 1);
    CHECK(streamed.problems[0].record_number == 3);
    REQUIRE(streamed.records.size() == 4);
    CHECK(streamed.records[2].control_value("001") == "4");
}
