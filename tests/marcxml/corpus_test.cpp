// MARCXML from other projects' test suites and from Alma: read, written back, read again, and
// compared with yaz-marcdump's own conversion, record by record and byte by byte (without
// yaz-marcdump those comparisons fail under CI and warn elsewhere).
#include <filesystem>
#include <marcpipe/marc/iso2709_reader.hpp>
#include <marcpipe/marc/marcxml.hpp>
#include <string>
#include <vector>

#include "../reference_tool.hpp"
#include "catch.hpp"
#include "support.hpp"

using namespace marcxml_test;
using Catch::Matchers::Contains;
using marc::error_code;

namespace {

struct good_file {
    std::string name;
    std::size_t records;
};

// Valid MARCXML in every shape met in the wild: pretty-printed or not, prefixed, default
// namespace, no namespace, OAI-PMH and Alma wrappers, a comment before the root.
std::vector<good_file> const good_files = {
    {"folio-mfhd_test1.xml", 1},
    {"folio-test_mfhd_holdings_statements.xml", 1},
    {"stanford-mhldDisplay.xml", 42},
    {"stanford-mhldDisplay86x.xml", 34},
    {"stanford-mhldMergeMhlds1Mult.xml", 3},
    {"marc-perl-batch-ns.xml", 10},
    {"marc-perl-namespace.xml", 1},
    {"ruby-marc-messed_up_leader.xml", 1},
    {"pymarc-utf8.xml", 1},
    {"marc4j-KOHA_LFL_6_with_comment.xml", 1},
    {"alma/scriptotek_holding_record.xml", 1},
    {"alma/kbdk_holding_583.xml", 1},
    {"yaz-marc4.xml", 1},
    {"yaz-marc6.xml", 1},
    {"yaz-marc7.xml", 1},
    {"yaz-marc8.xml", 1},
    {"yaz-marc9.xml", 1},
    {"yaz-marc10.xml", 1},
    {"yaz-marc11.xml", 1},
    {"yaz-marc12.xml", 1},
    {"marcpipe-alma-holdings.xml", 2},
};

using marcpipe_test::marcxml_difference_from_yaz;
using marcpipe_test::yaz_marcdump_output;

// Every record of ISO 2709 bytes.
std::vector<marc::record> read_iso2709(std::string_view bytes) {
    auto reader = marc::iso2709_reader::from_memory(bytes);
    std::vector<marc::record> out;
    while (auto v = reader.next()) out.push_back(v->to_record());
    return out;
}

// Leader positions a writer computes (length, base address) or states for the layout
// (encoding, indicator and code counts, entry map) are not content.
marc::record content(marc::record r) {
    for (std::size_t i : {0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23})
        r.leader()[i] = '.';
    return r;
}

std::vector<marc::record> content(std::vector<marc::record> v) {
    for (auto& r : v) r = content(std::move(r));
    return v;
}

// yaz-marcdump mishandles two of the good files: it also takes OAI-PMH's own <record> for a
// MARC record (folio-test_mfhd_holdings_statements.xml), and shifts an indicator given as
// ind1="" into the other one (marc-perl-namespace.xml).
bool yaz_reads_right(good_file const& f) {
    return f.name != "folio-test_mfhd_holdings_statements.xml" &&
           f.name != "marc-perl-namespace.xml";
}

}  // namespace

TEST_CASE("real MARCXML files are read whole and survive a write and a second read", "[marcxml]") {
    auto const file = GENERATE(from_range(good_files));
    CAPTURE(file.name);
    auto const records = read_strict(slurp(data_path(file.name)));
    CHECK(records.size() == file.records);
    for (auto const& r : records) CHECK(r.leader().size() == 24);

    auto const xml = to_marcxml(records);
    auto again = read_strict(xml);
    REQUIRE(again.size() == records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
        // The writer only changes leader/09, to say UTF-8.
        auto expected = records[i];
        expected.leader()[9] = 'a';
        CHECK(again[i] == expected);
    }
    // Writing what was read back gives the same bytes: nothing drifts.
    CHECK(to_marcxml(again) == xml);
}

TEST_CASE("an Alma holdings record inside <holding> is read with its fields in order",
          "[marcxml]") {
    auto const records = read_strict(slurp(data_path("alma/scriptotek_holding_record.xml")));
    REQUIRE(records.size() == 1);
    auto const& r = records[0];
    CHECK(r.leader() == "00384nx  a2200145ui 4500");
    std::vector<std::string> tags;
    for (auto const& f : r.fields()) tags.push_back(f.tag);
    CHECK(tags == std::vector<std::string>{"001", "004", "007", "008", "009", "005", "014", "035",
                                           "852", "876"});
    CHECK(r.control_value("001") == "h449730-47bibsys_ubo");
    CHECK(r.control_value("004") == "000631221-47bibsys_ubo");
    CHECK(r.control_value("008") == "1511020l||||||||4   uu");
    auto const* f852 = r.find("852");
    REQUIRE(f852);
    CHECK(f852->ind1 == '1');
    CHECK(f852->ind2 == ' ');
    CHECK(f852->subfield_value('h') == "839.82");
}

TEST_CASE("holdings with 583 and 86X fields keep every subfield", "[marcxml]") {
    auto const records = read_strict(slurp(data_path("folio-mfhd_test1.xml")));
    REQUIRE(records.size() == 1);
    auto const& r = records[0];
    CHECK(r.leader()[6] == 'x');
    REQUIRE(r.find("583"));
    CHECK(r.has("852"));
    CHECK(r.has("866"));
    CHECK(r.has("867"));
    CHECK(r.has("868"));
}

TEST_CASE("a leader with an escaped '<' is kept as written", "[marcxml]") {
    auto const records = read_strict(slurp(data_path("ruby-marc-messed_up_leader.xml")));
    REQUIRE(records.size() == 1);
    CHECK(records[0].leader() == "01301nam a22003618< 4500");
    CHECK(records[0].control_value("001") == "991010422259705706");
    // In input order: 005 and 008 come before 001 in this record.
    CHECK(records[0].fields()[0].tag == "005");
    CHECK(records[0].fields()[2].tag == "001");
}

TEST_CASE("a forbidden control character fails the second of three records; the others survive",
          "[marcxml]") {
    auto const bytes = slurp(data_path("ruby-marc-three-records-second-bad.xml"));
    auto const bell = bytes.find('\x07');
    REQUIRE(bell != std::string::npos);

    auto const r = read_all(bytes);
    REQUIRE(r.records.size() == 2);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].record_number == 2);
    CHECK(r.problems[0].code == error_code::malformed_xml);
    CHECK(r.problems[0].byte_offset == bell);
    CHECK_THAT(r.problems[0].detail, Contains("U+0007"));
    CHECK(r.records[0].control_value("001") == "afc99990058366");
    CHECK(r.records[1].control_value("001") == "afc99990058366");
    CHECK(r.records[1].find("245")->subfields.size() == 3);

    auto reader = marc::marcxml_reader::from_memory(bytes);
    CHECK(reader.next());
    try {
        (void)reader.next();
        FAIL("record 2 was accepted");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().record_number == 2);
        CHECK(e.problem().byte_offset == bell);
    }
}

TEST_CASE("broken files from other projects give the expected error at the expected record",
          "[marcxml]") {
    struct broken_file {
        std::string name;
        error_code code;
        std::string at;  // text the offset points at, "" for the end of the file
        std::string says;
    };
    auto const e = GENERATE(values<broken_file>({
        {"pymarc-bad_tag.xml", error_code::bad_leader, "<ns0:leader>", "17 bytes"},
        {"marc-perl-empty-record.xml", error_code::bad_leader, "<record", "no leader"},
        {"marc-perl-invalid.xml", error_code::not_marc, "", "no MARC <record>"},
        {"marc4j-chabon-missing-subfield-code.xml", error_code::bad_subfield, "<subfield>",
         "without a code"},
        {"mrrc-e401_bad_char_reference.xml", error_code::malformed_xml, "&#xFFFFFFF;",
         "character reference"},
        {"mrrc-e401_malformed_marcxml.xml", error_code::malformed_xml, "WRONG>", "do not match"},
        {"mrrc-e401_unexpected_eof_in_subfield.xml", error_code::truncated_record, "",
         "input ends inside <record>"},
    }));
    CAPTURE(e.name);
    auto const bytes = slurp(data_path(e.name));
    auto const r = read_all(bytes);
    CHECK(r.records.empty());
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].code == e.code);
    CHECK(r.problems[0].record_number == 1);
    CHECK(r.problems[0].byte_offset == (e.at.empty() ? bytes.size() : bytes.find(e.at)));
    CHECK_THAT(r.problems[0].detail, Contains(e.says));
}

TEST_CASE(
    "records equal yaz-marcdump's own conversions of the same file, and our MARCXML its bytes",
    "[marcxml]") {
    auto const yaz = marcpipe_test::yaz_marcdump_for_comparison();
    if (!yaz) return;
    auto const file = GENERATE(filter(yaz_reads_right, from_range(good_files)));
    CAPTURE(file.name);
    auto const path = data_path(file.name);
    auto const read = read_strict(slurp(path));
    SECTION("to MARCXML") {
        auto const yaz_xml = yaz_marcdump_output(*yaz, "-i marcxml -o marcxml", path);
        auto const theirs = read_strict(yaz_xml);
        REQUIRE(read.size() == theirs.size());
        for (std::size_t i = 0; i < read.size(); ++i) {
            auto ours = read[i];
            ours.leader()[9] = 'a';  // yaz-marcdump, too, marks its MARCXML as UTF-8
            CHECK(ours == theirs[i]);
        }
        // Our writer's MARCXML of what was read is yaz-marcdump's, byte for byte.
        CHECK(marcxml_difference_from_yaz(to_marcxml(read), yaz_xml) == "");
    }
    SECTION("to MARC21") {
        auto const theirs = read_iso2709(yaz_marcdump_output(*yaz, "-i marcxml -o marc", path));
        CHECK(content(read) == content(theirs));
    }
}

TEST_CASE("yaz-marcdump's stored MARCXML of its test record is byte for byte what our writer makes",
          "[marcxml]") {
    // yaz's test suite converted marc6.marc to marc6.xml (an ASCII record; the others there
    // went through MARC-8 conversion on the way, which this writer does not do).
    auto const iso = slurp(data_path("yaz-marc6.marc"));
    std::string ours;
    {
        marc::marcxml_writer w{ours};
        auto reader = marc::iso2709_reader::from_memory(iso);
        while (auto v = reader.next()) w.write(*v);  // straight from the view, no copy
        w.finish();
    }
    auto const theirs = slurp(data_path("yaz-marc6.xml"));
    CHECK(marcxml_difference_from_yaz(ours, theirs) == "");
    CHECK(content(read_strict(theirs)) == content(read_iso2709(iso)));
}

TEST_CASE("our MARCXML of MARC21 files is yaz-marcdump's MARCXML of them, byte for byte",
          "[marcxml]") {
    auto const yaz = marcpipe_test::yaz_marcdump_for_comparison();
    if (!yaz) return;
    auto const name =
        GENERATE(as<std::string>{}, "folio_holding.mrc", "marc4j_pride-and-prejudice-fixed.mrc",
                 "marc4j_brkrtest_UTF8.mrc", "yaz_marccol1.u8.marc", "yaz_marccol5.u8.marc",
                 "marc4j_chabon.mrc", "marc4j_summerland.mrc", "pymarc_utf8_with_leader_flag.dat",
                 "marc4j_065001035.mrc");
    CAPTURE(name);
    auto const path = data_path("iso2709/" + name);
    auto const iso = slurp(path);
    std::string ours;
    std::uint64_t records = 0;
    {
        marc::marcxml_writer w{ours};
        auto reader = marc::iso2709_reader::from_memory(iso);
        while (auto v = reader.next()) {
            CHECK(w.write(*v) == 0);
            ++records;
        }
        w.finish();
    }
    auto const from_ours = read_strict(ours);
    CHECK(from_ours.size() == records);
    CHECK(marcxml_difference_from_yaz(ours, yaz_marcdump_output(*yaz, "-o marcxml", path)) == "");
    // Writing the views and writing the records made from them give the same bytes.
    CHECK(ours == to_marcxml(read_iso2709(iso)));
}
