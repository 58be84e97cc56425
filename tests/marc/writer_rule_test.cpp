// The one rule both writers follow for what their format cannot carry (replacement.hpp), on a
// hand-made record whose every output byte is worked out by hand below.
#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/marc/marcxml_writer.hpp>

#include <optional>
#include <string>
#include <vector>

#include "catch.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace writer_rule_test {

namespace marc = marcpipe::marc;
using namespace std::string_literals;

namespace {

// Delimiters in a control field, an indicator and a subfield value; a control byte in the leader.
marc::record hostile_record() {
    return marc::record{"00000n\x01  a2200000   4500",
                        {marc::field{"001", "h1\x1E" "2"},
                         marc::field{"852", '\x1F', '0', {marc::subfield{'a', "x\x1Dy"}}}}};
}

// 001: "h1" U+FFFD "2" and its terminator, 7 bytes. 852: "|0", 0x1F "a", "x" U+FFFD "y" and its
// terminator, 10 bytes. Base address 24 + 2 * 12 + 1 = 49; record length 49 + 7 + 10 + 1 = 67.
std::string const expected_leader = "00067n|  a2200049   4500";
std::string const fffd = "\xEF\xBF\xBD";

}  // namespace

TEST_CASE("ISO 2709: delimiters in values become U+FFFD, bad code bytes '|', and the record is reported",
          "[marc][writer][hostile]") {
    std::string out;
    auto const problem = marc::append_iso2709(hostile_record(), out, marc::write_position{3, 500});
    std::string const expected = expected_leader +                       //
                                 "001" "0007" "00000" "852" "0010" "00007" "\x1E" +  //
                                 "h1" + fffd + "2\x1E" +                  //
                                 "|0\x1F" "ax" + fffd + "y\x1E" +          //
                                 "\x1D";
    CHECK(out == expected);
    REQUIRE(problem);
    CHECK(problem->code == marc::error_code::characters_replaced);
    CHECK(problem->record_number == 3);
    CHECK(problem->byte_offset == 500);
    CHECK(problem->detail ==
          "001 h1\\x1E2: 4 character(s) that ISO 2709 cannot carry replaced; first in leader: \\x01, now '|'");
    // What was written reads back as the two fields it was, not as more.
    marc::record_view const back{out};
    REQUIRE(back.size() == 2);
}

TEST_CASE("MARCXML: the same record gets the same replacements and the same leader", "[marc][writer][hostile]") {
    std::vector<marc::read_problem> problems;
    marc::marcxml_writer::options o;
    o.indent = false;
    o.iso2709_leader = true;
    o.on_problem = [&](marc::read_problem const& p) { problems.push_back(p); };
    std::string out;
    marc::marcxml_writer w{out, o};
    CHECK(w.write(hostile_record()) == 4);
    w.finish();
    CHECK(out.find("<record><leader>" + expected_leader + "</leader><controlfield tag=\"001\">h1" + fffd +
                   "2</controlfield><datafield tag=\"852\" ind1=\"|\" ind2=\"0\"><subfield code=\"a\">x" + fffd +
                   "y</subfield></datafield></record>\n") != std::string::npos);
    REQUIRE(problems.size() == 1);
    CHECK(problems[0].code == marc::error_code::characters_replaced);
    CHECK(problems[0].detail ==
          "001 h1\\x1E2: 4 character(s) that MARCXML cannot carry replaced; first in leader: \\x01, now '|'");
}

TEST_CASE("a record kept as MARC-8 gets the fill character for a delimiter, not UTF-8", "[marc][writer][hostile]") {
    marc::record r{"00000nam  2200000   4500", {marc::field{"245", '1', '0', {marc::subfield{'a', "a\x1F" "b"}}}}};
    marc::iso2709_write_options keep;
    keep.keep_leader_09 = true;
    std::string out;
    auto const problem = marc::append_iso2709(r, out, {}, keep);
    // 245: "10", 0x1F "a", "a|b", terminator: 8 bytes; base 24 + 12 + 1 = 37; length 37 + 8 + 1 = 46.
    CHECK(out == "00046nam  2200037   4500" "245" "0008" "00000" "\x1E" "10\x1F" "aa|b\x1E" "\x1D");
    REQUIRE(problem);
    CHECK(problem->detail.find("first in field 245 $a: \\x1F, now '|'") != std::string::npos);
}

TEST_CASE("a tag that is not three letters or digits is never written, in either format", "[marc][writer][hostile]") {
    marc::record r{"00000nx  a2200000   4500", {marc::field{"001", "h1"}, marc::field{"8\x1E" "2", ' ', ' ', {}}}};
    std::string iso = "before";
    CHECK_THROWS_AS(marc::append_iso2709(r, iso), marc::marc_error);
    CHECK(iso == "before");
    std::string xml;
    marc::marcxml_writer w{xml};
    auto const opening = xml;
    try {
        w.write(r);
        FAIL("no exception");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().code == marc::error_code::bad_directory);
        CHECK(e.problem().detail == "001 h1: tag \"8\\x1E2\" is not three ASCII letters or digits");
    }
    CHECK(xml == opening);
    CHECK(w.records_written() == 0);
}

TEST_CASE("the writer class reports a replaced record, or under stop refuses it", "[marc][writer][hostile]") {
    std::string sunk;
    struct string_sink : marc::byte_sink {
        explicit string_sink(std::string& s) : out{&s} {}
        void write(char const* p, std::size_t n) override { out->append(p, n); }
        std::string name() const override { return "a string"; }
        std::string* out;
    } sink{sunk};
    std::vector<marc::read_problem> problems;
    marc::iso2709_write_options o;
    o.on_problem = [&](marc::read_problem const& p) { problems.push_back(p); };
    {
        marc::iso2709_writer w{sink, o};
        w.write(hostile_record());
        w.flush();
        CHECK(w.records_written() == 1);
    }
    CHECK(problems.size() == 1);
    CHECK(sunk.size() == 67);
    o.policy = marc::on_error::stop;
    sunk.clear();
    marc::iso2709_writer w{sink, o};
    CHECK_THROWS_AS(w.write(hostile_record()), marc::marc_error);
    w.flush();
    CHECK(sunk.empty());
    CHECK(w.records_written() == 0);
}

}  // namespace writer_rule_test
