// marc-convert as a user runs it: MARC21 to MARCXML and back, --require, errors and exit status.
#include <cstdio>
#include <marcpipe/marc/iso2709.hpp>
#include <marcpipe/marc/marcxml_reader.hpp>

#include "../reference_tool.hpp"
#include "catch.hpp"
#include "support/child.hpp"
#include "support/files.hpp"
#include "support/usage.hpp"

using namespace marcpipe::testing;
namespace marc = marcpipe::marc;

namespace {

std::string convert() { return program("marc-convert"); }
std::string iso2709_file(std::string const& name) { return data_path("iso2709/" + name).string(); }

std::vector<marc::record> iso_records(std::string const& bytes) {
    std::vector<marc::record> out;
    auto reader = marc::iso2709_reader::from_memory(bytes, marc::on_error::skip);
    while (auto v = reader.next()) out.push_back(v->to_record());
    return out;
}

std::vector<marc::record> xml_records(std::string const& xml) {
    std::vector<marc::record> out;
    auto reader = marc::marcxml_reader::from_memory(xml);
    while (auto r = reader.next()) out.push_back(std::move(*r));
    return out;
}

}  // namespace

TEST_CASE("MARC21 goes to MARCXML as yaz-marcdump writes it and back byte for byte",
          "[programs][marc-convert]") {
    // Canonical UTF-8 files: what marc-convert writes is what it read. The way back alone could
    // hide an encoding that its own reader undoes, so the MARCXML is also held to yaz-marcdump's.
    auto const yaz = marcpipe_test::yaz_marcdump_for_comparison();
    for (std::string name :
         {"marc4j_chabon.mrc", "marc4j_pride-and-prejudice-fixed.mrc", "yaz_marccol1.u8.marc",
          "yaz_marccol5.u8.marc", "folio_holding.mrc", "pymarc_utf8_with_leader_flag.dat"}) {
        INFO(name);
        scratch_dir dir;
        auto xml = (dir / "out.xml").string();
        auto back = (dir / "back.mrc").string();
        auto to_xml = run(convert(), {iso2709_file(name), "-o", xml});
        CHECK(to_xml.status == 0);
        CHECK(to_xml.err.empty());
        if (yaz)
            CHECK(marcpipe_test::marcxml_difference_from_yaz(
                      slurp(xml),
                      marcpipe_test::yaz_marcdump_output(*yaz, "-o marcxml", iso2709_file(name))) == "");
        auto to_marc = run(convert(), {xml, "-o", back});
        CHECK(to_marc.status == 0);
        CHECK(to_marc.err.empty());
        CHECK(marcpipe_test::where_bytes_differ(slurp(back), slurp(iso2709_file(name))) == "");
    }
}

TEST_CASE("marc-convert's MARCXML on standard output is yaz-marcdump's, byte for byte",
          "[programs][marc-convert]") {
    auto const yaz = marcpipe_test::yaz_marcdump_for_comparison();
    if (!yaz) return;
    for (std::string name :
         {"marc4j_pride-and-prejudice-fixed.mrc", "yaz_marccol5.u8.marc", "marc4j_065001035.mrc"}) {
        INFO(name);
        auto ours = run(convert(), {iso2709_file(name), "-o", "-", "--to", "marcxml"});
        REQUIRE(ours.status == 0);
        auto theirs = run(yaz->string(), {"-o", "marcxml", iso2709_file(name)});
        REQUIRE(theirs.status == 0);
        CHECK(marcpipe_test::marcxml_difference_from_yaz(ours.out, theirs.out) == "");
        CHECK(xml_records(ours.out) == xml_records(theirs.out));
    }
}

TEST_CASE("--require keeps only the records that have every field named",
          "[programs][marc-convert]") {
    // marc4j's sample1.mrc has bib records with holdings records (852) between them.
    auto in = slurp(iso2709_file("marc4j_sample1.mrc"));
    std::size_t with_852 = 0, with_852_and_856 = 0;
    for (auto const& r : iso_records(in)) {
        with_852 += r.has("852");
        with_852_and_856 += r.has("852") && r.has("856");
    }
    REQUIRE(with_852 > 0);
    auto r = run(convert(), {"-", "-o", "-", "--require", "852"}, in);
    CHECK(r.status == 0);
    auto kept = iso_records(r.out);
    CHECK(kept.size() == with_852);
    for (auto const& rec : kept) CHECK(rec.has("852"));
    auto both = run(convert(), {"-", "-o", "-", "--require", "852", "--require", "856"}, in);
    CHECK(iso_records(both.out).size() == with_852_and_856);
}

TEST_CASE("marc-convert skips or stops at a bad record, reporting its number",
          "[programs][marc-convert]") {
    auto in = iso2709_file("marc4j_bad_hathi_records.mrc");
    auto skip = run(convert(), {in, "-o", "-"});
    CHECK(skip.status == 1);
    CHECK(iso_records(skip.out).size() == 4);
    CHECK_THAT(skip.err, Catch::Contains("record 4 at byte 6343"));

    auto stop = run(convert(), {in, "-o", "-", "--on-error", "stop"});
    CHECK(stop.status == 1);
    CHECK(iso_records(stop.out).size() == 3);
    CHECK_THAT(stop.err, Catch::Contains("record 4 at byte 6343"));
}

TEST_CASE("a record that is not UTF-8 is reported when MARCXML is written",
          "[programs][marc-convert]") {
    // MARC-8 (leader/09 blank) with non-ASCII bytes: XML must be UTF-8.
    auto r = run(convert(), {iso2709_file("pymarc_marc8.dat"), "-o", "-", "--to", "marcxml"});
    CHECK(r.status == 1);
    CHECK_THAT(r.err, Catch::Contains("record 1") && Catch::Contains("UTF-8"));
    auto stop = run(convert(),
                    {iso2709_file("pymarc_marc8.dat"), "-o", "-", "--to", "marcxml", "--on-error", "stop"});
    CHECK(stop.status == 1);
    // Nothing of the record is written; the collection visibly stops short of </collection>.
    CHECK(stop.out.find("<record") == std::string::npos);
    CHECK(stop.out.find("</collection>") == std::string::npos);
}

TEST_CASE("MARC-8 records copied to MARC21 keep their leader/09", "[programs][marc-convert]") {
    auto in = slurp(iso2709_file("marc4j_brkrtest.mrc"));
    auto r = run(convert(), {"-", "-o", "-"}, in);
    CHECK(r.status == 0);
    auto out = iso_records(r.out);
    REQUIRE(out.size() == 8);
    for (auto const& rec : out) CHECK(rec.leader()[9] == ' ');
}

TEST_CASE("marc-convert answers --help and --version and refuses bad usage",
          "[programs][marc-convert]") {
    check_help_and_version("marc-convert", convert(), {"--require", "--to"});
    CHECK(run(convert(), {iso2709_file("marc4j_chabon.mrc"), "-o", "-", "--to", "json"}).status == 2);
    CHECK(run(convert(), {iso2709_file("marc4j_chabon.mrc"), "-o", "-", "--require", "24"}).status == 2);
    CHECK(run(convert(), {"no-such-file.mrc", "-o", "-"}).status == 2);
    auto ids = run(convert(), {"-", "-o", "-"}, "991234\n991235\n");
    CHECK(ids.status == 2);
    CHECK_THAT(ids.err, Catch::Contains("list of MMS IDs"));
}
