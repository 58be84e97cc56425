// The ISO 2709 writer: real files round-trip, leaders are made canonical, and records that
// ISO 2709 cannot hold are refused with an error naming them; Alma holdings come out as
// yaz-marcdump writes them, from the writer and from a pipeline's write_marc21 alike.
#include <marcpipe/marc/marcxml_reader.hpp>
#include <marcpipe/pipeline/writers.hpp>
#include <sstream>

#include "../reference_tool.hpp"
#include "catch.hpp"
#include "support.hpp"

using namespace iso2709_test;
using marc::error_code;
using marcpipe_test::where_bytes_differ;

namespace {

// Canonical: the layout a writer produces (MARC21 leader constants, fields one after another
// in directory order). Only such input can come back byte for byte.
bool is_canonical(marc::record_view const& v) {
    auto l = v.leader();
    if (l.substr(10, 2) != "22" || l.substr(20, 4) != "4500") return false;
    std::size_t expected = 0;
    auto bytes = v.bytes();
    for (std::size_t i = 0; i < v.size(); ++i) {
        auto entry = bytes.substr(marc::leader_length + i * 12, 12);
        if (std::stoul(std::string{entry.substr(7, 5)}) != expected) return false;
        expected += std::stoul(std::string{entry.substr(3, 4)});
    }
    return true;
}

// Two holdings records as Alma's API gives them: blanks where leader 00-04 and 12-16 go, UTF-8
// of two, three and four bytes, markup characters.
std::vector<marc::record> alma_holdings() {
    auto const xml = slurp(marcpipe::testing::data_root() / "marcxml" / "marcpipe-alma-holdings.xml");
    auto reader = marc::marcxml_reader::from_memory(xml);
    std::vector<marc::record> out;
    while (auto r = reader.next()) out.push_back(std::move(*r));
    return out;
}

// yaz-marcdump's ISO 2709 of the same MARCXML (how it was made: tests/data/SOURCES.txt): the
// lengths, base addresses and directories as another implementation computes them.
std::string alma_holdings_by_yaz() { return slurp(data_path("yaz-marcdump_alma-holdings.mrc")); }

// The leader positions the writer derives or fixes; the rest must come through unchanged.
std::string stable_leader_part(std::string_view leader) {
    std::string l{leader};
    for (std::size_t i : {0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 14, 15, 16, 20, 21, 22, 23}) l[i] = '.';
    return l;
}

}  // namespace

TEST_CASE("every valid file round-trips through records", "[marc][iso2709][writer]") {
    marc::iso2709_write_options keep;
    keep.keep_leader_09 = true;  // MARC-8 input stays marked MARC-8
    std::size_t identical = 0, records = 0;
    for (auto const& name : valid_files()) {
        INFO(name);
        auto bytes = slurp(data_path(name));
        auto reader = marc::iso2709_reader::from_memory(bytes);
        while (auto v = reader.next()) {
            ++records;
            INFO("record " << reader.record_number());
            auto rec = v->to_record();
            std::string from_record, from_view;
            marc::append_iso2709(rec, from_record, {}, keep);
            marc::append_iso2709(*v, from_view, {}, keep);
            CHECK(from_record == from_view);
            if (is_canonical(*v)) {
                CHECK(from_record == v->bytes());
                ++identical;
            } else {
                // Not canonical input: the same record comes back, in canonical form.
                auto back = marc::record_view{from_record};
                CHECK(is_canonical(back));
                auto again = back.to_record();
                CHECK(again.fields() == rec.fields());
                CHECK(stable_leader_part(again.leader()) == stable_leader_part(rec.leader()));
            }
        }
    }
    // Most of the corpus is canonical; the comparison above must have run on real data.
    CHECK(identical > records / 2);
}

TEST_CASE("the writer computes the leader numbers and marks the record UTF-8",
          "[marc][iso2709][writer]") {
    // Alma's leaders come with blanks where length and base address go.
    marc::record r{"     nx  a22     1n 4500", {marc::field{"001", "22987654320006421"}}};
    std::string out;
    marc::append_iso2709(r, out);
    marc::record_view v{out};
    CHECK(v.leader() == "00056nx  a22000371n 4500");
    CHECK(out.size() == 56);
    CHECK(v.leader()[9] == 'a');
    CHECK(v.leader().substr(20, 4) == "4500");

    marc::record marc8{"00000cam  2200000 a 4500", {marc::field{"001", "1"}}};
    out.clear();
    marc::append_iso2709(marc8, out);
    CHECK(out[9] == 'a');
    out.clear();
    marc::iso2709_write_options keep;
    keep.keep_leader_09 = true;
    marc::append_iso2709(marc8, out, {}, keep);
    CHECK(out[9] == ' ');
}

TEST_CASE("a record over 99,999 bytes is refused, naming the record", "[marc][iso2709][writer]") {
    marc::record big{"00000nam a2200000 a 4500", {marc::field{"001", "991000000001"}}};
    for (int i = 0; i < 20; ++i)
        big.fields().push_back(marc::field{"500", ' ', ' ', {{'a', std::string(5000, 'x')}}});
    std::string out = "previous bytes";
    try {
        marc::append_iso2709(big, out, marc::write_position{7, 1234});
        FAIL("no error");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().code == error_code::record_too_long);
        CHECK(e.problem().record_number == 7);
        CHECK(e.problem().byte_offset == 1234);
        CHECK_THAT(std::string{e.what()},
                   Catch::Contains("record 7") && Catch::Contains("991000000001"));
    }
    CHECK(out == "previous bytes");  // nothing of the record was written
}

TEST_CASE("a field over 9,999 bytes is refused, naming the record and the field",
          "[marc][iso2709][writer]") {
    marc::record r{"00000nam a2200000 a 4500",
                   {marc::field{"001", "991000000002"},
                    marc::field{"505", '0', ' ', {{'a', std::string(9996, 'y')}}}}};
    std::string out;
    try {
        marc::append_iso2709(r, out);
        FAIL("no error");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().code == error_code::field_too_long);
        CHECK_THAT(e.problem().detail,
                   Catch::Contains("505") && Catch::Contains("991000000002") &&
                       Catch::Contains("10001"));
    }
    CHECK(out.empty());
    // Two bytes less fits exactly: 2 indicators, delimiter, code, 9,994 bytes, terminator.
    r.fields()[1].subfields[0].value.resize(9994);
    marc::append_iso2709(r, out);
    CHECK(marc::record_view{out}.find("505")->data().size() == 9998);
}

TEST_CASE("a tag that is not three characters is refused", "[marc][iso2709][writer]") {
    marc::record r{"00000nam a2200000 a 4500", {marc::field{"24", ' ', ' ', {{'a', "x"}}}}};
    std::string out;
    CHECK_THROWS_AS(marc::append_iso2709(r, out), marc::marc_error);
    CHECK(out.empty());
}

TEST_CASE("the writer numbers records and reports where the bad one would have gone",
          "[marc][iso2709][writer]") {
    std::string out;
    marc::string_sink sink{out};
    marc::record ok{"00000nam a2200000 a 4500", {marc::field{"001", "1"}}};
    marc::record too_long{"00000nam a2200000 a 4500",
                          {marc::field{"001", "2"},
                           marc::field{"500", ' ', ' ', {{'a', std::string(10000, 'z')}}}}};
    {
        marc::iso2709_writer w{sink};
        w.write(ok);
        w.write(ok);
        try {
            w.write(too_long);
            FAIL("no error");
        } catch (marc::marc_error const& e) {
            CHECK(e.problem().record_number == 3);
            CHECK(e.problem().byte_offset == 2 * 40);
        }
        w.write(ok);
        CHECK(w.records_written() == 3);
        w.flush();
    }
    auto r = read_all(out);
    CHECK(r.problems.empty());
    CHECK(r.ids == std::vector<std::string>{"1", "1", "1"});
}

TEST_CASE("records read from a file and written again equal the file", "[marc][iso2709][writer]") {
    auto bytes = slurp(data_path("marc4j_pride-and-prejudice-fixed.mrc"));
    std::string out;
    {
        marc::string_sink sink{out};
        marc::iso2709_writer w{sink};
        auto reader = marc::iso2709_reader::from_memory(bytes);
        while (auto v = reader.next()) w.write(*v);
        w.flush();
    }
    CHECK(out == bytes);
}

TEST_CASE("Alma holdings records are written byte for byte as yaz-marcdump writes them",
          "[marc][iso2709][writer]") {
    auto const records = alma_holdings();
    REQUIRE(records.size() == 2);
    // The numbers the writer computes must not be there to copy.
    for (auto const& r : records) {
        REQUIRE(r.leader().substr(0, 5) == "     ");
        REQUIRE(r.leader().substr(12, 5) == "     ");
    }
    std::string ours;
    for (auto const& r : records) marc::append_iso2709(r, ours);
    CHECK(where_bytes_differ(ours, alma_holdings_by_yaz()) == "");
}

TEST_CASE("a pipeline ending in write_marc21 writes Alma holdings as yaz-marcdump writes them",
          "[marc][iso2709][writer][pipeline]") {
    namespace pipeline = marcpipe::pipeline;
    std::vector<pipeline::holding_record> holdings;
    for (auto& r : alma_holdings()) {
        auto mms_id = std::string{r.control_value("004")};
        auto holding_id = std::string{r.control_value("001")};
        holdings.emplace_back(holdings.size(), std::move(mms_id), std::move(holding_id),
                              std::move(r));
    }
    std::ostringstream out;
    CHECK((holdings | pipeline::write_marc21(out)) == 2);
    CHECK(where_bytes_differ(out.str(), alma_holdings_by_yaz()) == "");
}
