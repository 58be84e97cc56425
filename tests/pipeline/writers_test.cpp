// The writers never abort a run for one record: a record that cannot be written is a problem
// with its record number and the output offset where it would have started, and the records
// before and after it are written as yaz-marcdump writes them.
#include <marcpipe/marc/marcxml_reader.hpp>
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/pipeline/writers.hpp>

#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "reference_tool.hpp"
#include "support/files.hpp"

namespace alma = marcpipe::alma;
namespace marc = marcpipe::marc;
namespace pipeline = marcpipe::pipeline;

namespace {

// Two Alma holdings records (hand-written MARCXML) and what yaz-marcdump made of them: ISO 2709,
// record 2 at offset 397 (`yaz-marcdump -p`), and MARCXML of that (tests/data/SOURCES.txt).
std::vector<marc::record> alma_holdings() {
    auto const xml = marcpipe::testing::slurp(marcpipe::testing::data_root() / "marcxml" / "marcpipe-alma-holdings.xml");
    auto reader = marc::marcxml_reader::from_memory(xml);
    std::vector<marc::record> out;
    while (auto r = reader.next()) out.push_back(std::move(*r));
    return out;
}
std::string yaz_iso2709() {
    return marcpipe::testing::slurp(marcpipe::testing::data_root() / "iso2709" / "yaz-marcdump_alma-holdings.mrc");
}
std::string yaz_marcxml() {
    return marcpipe::testing::slurp(marcpipe::testing::data_root() / "marcxml" / "yaz-marcdump-alma-holdings.xml");
}

// 2,000 fields of 60 bytes: some 146,000 bytes as ISO 2709, over its 99,999.
marc::record oversize() {
    marc::record r{"     nx  a22     1n 4500", {marc::field{"001", "22999"}, marc::field{"004", "99999"}}};
    for (int i = 0; i < 2000; ++i)
        r.fields().push_back(marc::field{"866", ' ', '0', {marc::subfield{'a', std::string(56, 'v')}}});
    return r;
}

// The two records with the oversize one between them, as holdings of bibs 3, 4 and 5.
std::vector<pipeline::holding_record> holdings_around_oversize() {
    auto records = alma_holdings();
    REQUIRE(records.size() == 2);
    std::vector<pipeline::holding_record> out;
    out.emplace_back(3, "9912345670006421", "22987654320006421", records[0]);
    out.emplace_back(4, "99999", "22999", oversize());
    out.emplace_back(5, "9987654321005763", "22876543210005763", records[1]);
    return out;
}

}  // namespace

TEST_CASE("write_marc21 leaves out an oversize record, reports it, and writes the others", "[pipeline][writers]") {
    auto const holdings = holdings_around_oversize();
    alma::problem_log log;
    std::ostringstream out;
    CHECK((holdings | pipeline::write_marc21(out, log)) == 2);
    CHECK(marcpipe_test::where_bytes_differ(out.str(), yaz_iso2709()) == "");

    std::vector<std::pair<std::uint64_t, alma::problem>> found;
    log.release_all([&](std::uint64_t seq, alma::problem const& p) { found.emplace_back(seq, p); });
    REQUIRE(found.size() == 1);
    CHECK(found[0].first == 4);
    alma::problem const& p = found[0].second;
    CHECK(p.where == alma::stage::write_record);
    CHECK(p.mms_id == "99999");
    CHECK(p.holding_id == "22999");
    CHECK_THAT(p.message, Catch::Matchers::StartsWith("record 2 at byte 397: record too long: 001 22999: record would be "));
}

TEST_CASE("plain records are reported by their position in the writer's input", "[pipeline][writers]") {
    std::vector<marc::record> records{oversize(), alma_holdings()[0], oversize()};
    alma::problem_log log;
    std::ostringstream out;
    CHECK((records | pipeline::write_marc21(out, log)) == 1);
    CHECK(out.str() == yaz_iso2709().substr(0, 397));
    std::vector<std::pair<std::uint64_t, std::string>> found;
    log.release_all([&](std::uint64_t seq, alma::problem const& p) { found.emplace_back(seq, p.message.substr(0, 23)); });
    CHECK(found == std::vector<std::pair<std::uint64_t, std::string>>{{0, "record 1 at byte 0: rec"},
                                                                        {2, "record 3 at byte 397: r"}});
}

TEST_CASE("without a problem log, write_marc21 writes what came before and throws", "[pipeline][writers]") {
    auto const holdings = holdings_around_oversize();
    std::ostringstream out;
    try {
        holdings | pipeline::write_marc21(out);
        FAIL("no marc_error");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().code == marc::error_code::record_too_long);
        CHECK(e.problem().record_number == 2);
        CHECK(e.problem().byte_offset == 397);
    }
    CHECK(out.str() == yaz_iso2709().substr(0, 397));
}

TEST_CASE("write_marcxml leaves out a record it must not write, reports it, and writes the others",
          "[pipeline][writers]") {
    auto holdings = holdings_around_oversize();
    // A control character XML cannot carry: with on_error::stop the record is not written.
    holdings[1].record = marc::record{"     nx  a22     1n 4500",
                                      {marc::field{"001", "22999"}, marc::field{"852", ' ', ' ', {marc::subfield{'b', "A\x01"}}}}};
    auto options = marc::marcxml_output_options();
    options.policy = marc::on_error::stop;
    alma::problem_log log;
    std::ostringstream out;
    CHECK((holdings | pipeline::write_marcxml(out, log, options)) == 2);
    CHECK(marcpipe_test::marcxml_difference_from_yaz(out.str(), yaz_marcxml()) == "");
    std::vector<std::pair<std::uint64_t, alma::problem>> found;
    log.release_all([&](std::uint64_t seq, alma::problem const& p) { found.emplace_back(seq, p); });
    REQUIRE(found.size() == 1);
    CHECK(found[0].first == 4);
    CHECK(found[0].second.holding_id == "22999");
    // Where it would have started: where record 3 starts now.
    std::string const xml = out.str();
    auto const second = xml.find("<record>", xml.find("<record>") + 1);
    REQUIRE(second != std::string::npos);
    CHECK_THAT(found[0].second.message, Catch::Matchers::StartsWith("record 2 at byte " + std::to_string(second) + ": "));
    CHECK_THAT(found[0].second.message, Catch::Matchers::Contains("characters replaced"));
}

TEST_CASE("a delimiter in a value is written as U+FFFD and reported with the holding's IDs", "[pipeline][writers]") {
    auto holdings = holdings_around_oversize();
    holdings[1].record = marc::record{"     nx  a22     1n 4500",
                                      {marc::field{"001", "22999"}, marc::field{"852", ' ', ' ', {marc::subfield{'b', "A\x1E" "B"}}}}};
    alma::problem_log log;
    std::ostringstream out;
    CHECK((holdings | pipeline::write_marc21(out, log)) == 3);
    std::string const iso = out.str();
    // 001 "22999" (6 bytes), 852 "  " 0x1F "b" "A" U+FFFD "B" (10 bytes): base 24 + 2 * 12 + 1 = 49,
    // length 49 + 16 + 1 = 66; it starts where yaz-marcdump's second record starts.
    CHECK(iso.substr(397, 66) == "00066nx  a22000491n 4500" "001000600000" "852001000006" "\x1E"
                                 "22999\x1E" "  \x1F" "bA\xEF\xBF\xBD" "B\x1E\x1D");
    std::vector<alma::problem> found;
    log.release_all([&](std::uint64_t, alma::problem const& p) { found.push_back(p); });
    REQUIRE(found.size() == 1);
    CHECK(found[0].where == alma::stage::write_record);
    CHECK(found[0].mms_id == "99999");
    CHECK(found[0].holding_id == "22999");
    CHECK(found[0].message == "record 2 at byte 397: characters replaced: 001 22999: 1 character(s) that ISO 2709 "
                              "cannot carry replaced; first in field 852 $b: \\x1E, now U+FFFD");
}
