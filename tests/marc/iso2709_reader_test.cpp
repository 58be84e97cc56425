// The ISO 2709 reader on real files: good ones read without a problem, broken ones give the
// expected error at the expected record, and the good records around a broken one survive.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <sstream>

#include "catch.hpp"
#include "support.hpp"

using namespace iso2709_test;
using marc::error_code;

namespace {

struct expected_problem {
    std::uint64_t record_number;
    error_code code;
};

struct broken_file {
    std::string name;
    std::vector<expected_problem> problems;
    std::size_t good_records;
};

// The same problem in each record from `first` to `last`.
std::vector<expected_problem> each_of(std::uint64_t first, std::uint64_t last, error_code code) {
    std::vector<expected_problem> out;
    for (auto n = first; n <= last; ++n) out.push_back({n, code});
    return out;
}

std::vector<broken_file> const& broken_files() {
    using E = error_code;
    static std::vector<broken_file> const files{
        {"marc-perl_baddir.usmarc", {{1, E::bad_directory}}, 0},
        {"marc-perl_badldr.usmarc", {{3, E::bad_record_length}, {8, E::truncated_record}}, 6},
        {"marc4j_error.mrc", {{1, E::bad_record_length}}, 0},
        {"marc4j_008008027.mrc", {{19, E::truncated_record}}, 18},
        {"marc4j_bad-characters-in-various-fields.mrc", {{1, E::bad_subfield}}, 0},
        {"marc4j_bad_hathi_records.mrc", {{4, E::bad_record_length}}, 4},
        {"marc4j_bad_oversize_field_bad_directory.mrc", {{2, E::bad_directory}}, 4},
        {"marc4j_bad_too_long_plus_2.mrc", {{1, E::bad_record_length}}, 2},
        {"marc4j_pride-and-prejudice-with-many-errors.mrc",
         {{93, E::bad_directory},
          {184, E::bad_directory},
          {203, E::bad_directory},
          {248, E::bad_directory},
          {265, E::bad_directory},
          {266, E::bad_directory},
          {267, E::bad_directory},
          {268, E::bad_directory},
          {275, E::bad_directory},
          {280, E::bad_directory},
          {287, E::bad_directory},
          {311, E::bad_directory},
          {336, E::bad_directory},
          {338, E::bad_directory},
          {356, E::bad_directory},
          {377, E::bad_directory}},
         367},
        {"pymarc-5.3.1_bad_records.mrc",
         {{2, E::bad_base_address},
          {3, E::bad_base_address},
          {4, E::bad_directory},
          {5, E::bad_directory},
          {6, E::bad_base_address},
          {9, E::truncated_record}},
         3},
        // One 1,159-byte record (its terminator at byte 1,158) and 821 blanks to the end of
        // the file: padding, not a second record, since a leader starts with a digit. yaz-marcdump
        // also reads one record and passes the blanks over.
        {"pymarc_bad_indicator.dat", {{1, E::bad_directory}}, 0},
        {"pymarc_regression45.dat", each_of(1, 11, E::bad_subfield), 1},
        {"yaz_marc1.marc", {{1, E::bad_leader}}, 0},
        {"yaz_marc3.marc", {{1, E::bad_subfield}}, 0},
        {"yaz_marc4.marc", {{1, E::bad_record_length}}, 0},
        {"stanford_summaryHld_1-1000.mrc", {{4, E::bad_subfield}}, 48},
        // Synthetic fixtures, one defect each; "good" ones break only rules of content
        // (leader values, indicator values, UTF-8) that reading the structure does not judge.
        {"mrrc/e001_record_length_below_24.bin", {{1, E::bad_record_length}}, 0},
        {"mrrc/e001_record_length_non_digit.bin", {{1, E::bad_record_length}}, 0},
        {"mrrc/e002_indicator_count_non_digit.bin", {}, 1},
        {"mrrc/e002_indicator_count_not_two.bin", {{1, E::bad_leader}}, 0},
        {"mrrc/e002_invalid_bibliographic_level.bin", {}, 1},
        {"mrrc/e002_invalid_cataloging_form.bin", {}, 1},
        {"mrrc/e002_invalid_character_coding.bin", {}, 1},
        {"mrrc/e002_invalid_control_record_type.bin", {}, 1},
        {"mrrc/e002_invalid_encoding_level.bin", {}, 1},
        {"mrrc/e002_invalid_multipart_level.bin", {}, 1},
        {"mrrc/e002_invalid_record_status.bin", {}, 1},
        {"mrrc/e002_invalid_record_type.bin", {}, 1},
        {"mrrc/e002_subfield_code_count_not_two.bin", {{1, E::bad_leader}}, 0},
        {"mrrc/e003_base_address_below_24.bin", {{1, E::bad_base_address}}, 0},
        {"mrrc/e003_base_address_non_digit.bin", {{1, E::bad_base_address}}, 0},
        {"mrrc/e004_base_address_past_record.bin", {{1, E::bad_base_address}}, 0},
        {"mrrc/e005_truncated_record.bin", {{1, E::truncated_record}}, 0},
        {"mrrc/e006_no_record_terminator.bin", {{1, E::truncated_record}}, 0},
        {"mrrc/e101_directory_no_terminator.bin", {{1, E::bad_directory}}, 0},
        {"mrrc/e101_directory_non_digit_length.bin", {{1, E::bad_directory}}, 0},
        {"mrrc/e101_directory_non_digit_start.bin", {{1, E::bad_directory}}, 0},
        {"mrrc/e101_non_ascii_tag.bin", {{1, E::bad_directory}}, 0},
        {"mrrc/e106_authority_field_too_short.bin", {{1, E::missing_field_terminator}}, 0},
        {"mrrc/e106_expected_subfield_delimiter.bin", {{1, E::bad_subfield}}, 0},
        {"mrrc/e106_field_length_past_data.bin", {{1, E::bad_directory}}, 0},
        {"mrrc/e106_recovery_invalid_field.bin", {{1, E::truncated_record}}, 0},
        {"mrrc/e201_bad_indicator.bin", {}, 1},
        {"mrrc/e201_per_tag_indicator_245.bin", {}, 1},
        {"mrrc/e202_non_printable_subfield_code.bin", {{1, E::bad_subfield}}, 0},
        // Meant to show a bad UTF-8 byte in 001, but its 008 holds 42 bytes where the directory
        // says 41 with the terminator, so byte 140 is a blank where 0x1E should be (yaz-marcdump
        // says "No separator at end of field length=41" too): the structure fails first.
        {"mrrc/e301_invalid_utf8_in_authority_control_field.bin",
         {{1, E::missing_field_terminator}},
         0},
        {"mrrc/e301_invalid_utf8_in_control_field.bin", {}, 1},
        {"mrrc/e301_invalid_utf8_in_subfield.bin", {}, 1},
    };
    return files;
}

std::vector<std::string> ids_of(std::string_view bytes) { return read_all(bytes).ids; }

}  // namespace

TEST_CASE("every structurally valid file reads without a problem", "[marc][iso2709]") {
    for (auto const& name : valid_files()) {
        INFO(name);
        auto bytes = slurp(data_path(name));
        auto r = read_all(bytes);
        for (auto const& p : r.problems) FAIL_CHECK(p.message());
        CHECK_FALSE(r.records.empty());
    }
}

// One row of the table at a time (GENERATE), so a row that fails does not hide the rows after it.
TEST_CASE("a broken file reports every problem and keeps every good record when skipping",
          "[marc][iso2709]") {
    auto const f = GENERATE(from_range(broken_files()));
    CAPTURE(f.name);
    auto const bytes = slurp(data_path(f.name));
    auto const r = read_all(bytes);
    CHECK(r.records.size() == f.good_records);
    REQUIRE(r.problems.size() == f.problems.size());
    for (std::size_t i = 0; i < f.problems.size(); ++i) {
        INFO(r.problems[i].message());
        CHECK(r.problems[i].record_number == f.problems[i].record_number);
        CHECK(r.problems[i].code == f.problems[i].code);
        CHECK(r.problems[i].byte_offset < bytes.size());
    }
}

TEST_CASE("a broken file throws its first problem, naming the record, when stopping",
          "[marc][iso2709]") {
    auto const f = GENERATE(from_range(broken_files()));
    CAPTURE(f.name);
    auto const bytes = slurp(data_path(f.name));
    auto reader = marc::iso2709_reader::from_memory(bytes, marc::on_error::stop);
    if (f.problems.empty()) {
        std::size_t n = 0;
        while (reader.next()) ++n;
        CHECK(n == f.good_records);
        return;
    }
    auto const& first = f.problems.front();
    try {
        while (reader.next()) {
        }
        FAIL("no marc_error thrown");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().record_number == first.record_number);
        CHECK(e.problem().code == first.code);
        CHECK_THAT(std::string{e.what()},
                   Catch::Contains("record " + std::to_string(first.record_number)));
    }
}

TEST_CASE("after a thrown error the reader goes on with the next record", "[marc][iso2709]") {
    auto bytes = slurp(data_path("pymarc-5.3.1_bad_records.mrc"));
    auto reader = marc::iso2709_reader::from_memory(bytes, marc::on_error::stop);
    std::size_t good = 0, errors = 0;
    for (;;) {
        try {
            if (!reader.next()) break;
            ++good;
        } catch (marc::marc_error const&) {
            ++errors;
        }
    }
    CHECK(good == 3);
    CHECK(errors == 6);
    CHECK(reader.record_number() == 9);
}

TEST_CASE("a record far over 99,999 bytes loses none of the records after it",
          "[marc][iso2709]") {
    auto bytes = slurp(data_path("marc4j_bad_hathi_records.mrc"));
    auto r = read_all(bytes);
    REQUIRE(r.problems.size() == 1);
    auto const& p = r.problems.front();
    CHECK(p.record_number == 4);
    CHECK(p.byte_offset == 6343);
    CHECK_THAT(p.detail, Catch::Contains("99999") && Catch::Contains("1096887"));
    // Records 1-3 and 5: the one after the oversized record is there too (yaz loses it).
    CHECK(r.ids == std::vector<std::string>{"003034057", "003035931", "003051545", "003052150"});
}

TEST_CASE("the oversized record is passed over in bounded memory when streamed from a file",
          "[marc][iso2709]") {
    // The 1,096,887-byte record is larger than the reader's buffer: the reader must skip it
    // without holding it, and still find the record after it.
    marc::reader_options o{marc::on_error::skip};
    o.buffer_size = 64 * 1024;
    auto reader = marc::iso2709_reader::from_file(data_path("marc4j_bad_hathi_records.mrc"), o);
    auto r = read_all(reader);
    CHECK(r.ids.size() == 4);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems.front().byte_offset == 6343);
}

TEST_CASE("a wrapped-around record length does not swallow the records after it",
          "[marc][iso2709]") {
    auto bytes = slurp(data_path("marc4j_bad_too_long_plus_2.mrc"));
    auto r = read_all(bytes);
    REQUIRE(r.problems.size() == 1);
    CHECK_THAT(r.problems.front().detail, Catch::Contains("23375") && Catch::Contains("123375"));
    CHECK(r.records.size() == 2);
}

TEST_CASE("line ends, padding and DOS end-of-file marks between records are tolerated", "[marc][iso2709]") {
    auto one = slurp(data_path("marc4j_chabon.mrc"));
    auto expected = ids_of(one);
    REQUIRE(expected.size() == 2);
    // Split after the first record terminator and glue back with separators.
    auto cut = one.find('\x1D') + 1;
    std::string glued = one.substr(0, cut) + "\r\n" + one.substr(cut) + "\n\x1A";
    auto r = read_all(glued);
    CHECK(r.problems.empty());
    CHECK(r.ids == expected);
    // Blanks and NULs as padding, as marc-perl's filler.usmarc has them.
    CHECK(read_all(std::string("\0\0  ", 4) + one.substr(0, cut) + std::string(" \0\t\0", 4) +
                   one.substr(cut))
              .ids == expected);
    CHECK(read_all(slurp(data_path("marc-perl_filler.usmarc"))).ids.size() == 3);
    // marc-perl's cameleof.usmarc has 0x1A marks between records.
    CHECK(read_all(slurp(data_path("marc-perl_cameleof.usmarc"))).ids ==
          read_all(slurp(data_path("marc-perl_camel.usmarc"))).ids);
}

TEST_CASE("junk between good records costs only the record it lands in", "[marc][iso2709]") {
    auto a = slurp(data_path("marc4j_chabon.mrc"));
    auto b = slurp(data_path("marc4j_summerland.mrc"));
    auto hathi = slurp(data_path("marc4j_bad_hathi_records.mrc"));
    auto r = read_all(a + hathi + b);
    CHECK(r.ids.size() == 2 + 4 + 1);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems.front().record_number == 2 + 4);
    CHECK(r.problems.front().byte_offset == a.size() + 6343);
}

TEST_CASE("every source gives the same records: memory, file, descriptor, stream",
          "[marc][iso2709]") {
    auto path = data_path("marc4j_pride-and-prejudice-fixed.mrc");
    auto bytes = slurp(path);
    auto expected = ids_of(bytes);
    REQUIRE(expected.size() == 383);

    marc::reader_options small{marc::on_error::stop};
    small.buffer_size = 4096;  // forces many refills across record boundaries
    SECTION("file") {
        auto reader = marc::iso2709_reader::from_file(path, small);
        CHECK(read_all(reader).ids == expected);
    }
    SECTION("file descriptor") {
        int fd = ::open(path.c_str(), O_RDONLY);
        REQUIRE(fd >= 0);
        auto reader = marc::iso2709_reader::from_fd(fd, small);
        CHECK(read_all(reader).ids == expected);
        ::close(fd);
    }
    SECTION("stream") {
        std::istringstream in{bytes};
        auto reader = marc::iso2709_reader::from_stream(in, small);
        CHECK(read_all(reader).ids == expected);
    }
}

TEST_CASE("record numbers and byte offsets point at each record", "[marc][iso2709]") {
    auto bytes = slurp(data_path("pymarc_marc.dat"));
    auto reader = marc::iso2709_reader::from_memory(bytes);
    std::uint64_t n = 0;
    while (auto v = reader.next()) {
        ++n;
        CHECK(reader.record_number() == n);
        CHECK(std::string_view{bytes}.substr(reader.byte_offset(), v->bytes().size()) ==
              v->bytes());
    }
    CHECK(n == 20);
}

TEST_CASE("the 001 of a MARC-8 record reads as it is", "[marc][iso2709]") {
    auto bytes = slurp(data_path("pymarc_marc8.dat"));
    auto reader = marc::iso2709_reader::from_memory(bytes);
    auto v = reader.next();
    REQUIRE(v);
    CHECK(v->leader()[9] == ' ');
    CHECK_FALSE(v->control_value("001").empty());
    CHECK_FALSE(marc::is_valid_utf8(v->bytes()));
}

TEST_CASE("an empty input has no records and no problems", "[marc][iso2709]") {
    auto reader = marc::iso2709_reader::from_memory("");
    CHECK_FALSE(reader.next());
    CHECK(reader.problems().empty());
    CHECK(reader.record_number() == 0);
}

namespace {

// Bytes a random number generator gives for `seed`, starting and ending with a letter (not a
// separator, which the reader would pass over without a word).
std::string random_junk(std::size_t size, unsigned seed) {
    std::mt19937 gen{seed};
    std::string junk(size, '\0');
    for (auto& c : junk) c = static_cast<char>(gen() & 0xFF);
    junk.front() = 'x';
    junk.back() = 'x';
    return junk;
}

}  // namespace

TEST_CASE("a megabyte of random bytes after good records is one problem naming its bytes", "[marc][iso2709]") {
    auto const good = slurp(data_path("marc4j_chabon.mrc")) + slurp(data_path("marc4j_summerland.mrc"));
    auto const junk = random_junk(1 << 20, 11);
    // The junk holds a record terminator every 256 bytes or so: thousands of places where a
    // reader that reports each one would report a problem.
    REQUIRE(std::count(junk.begin(), junk.end(), '\x1D') > 1000);
    auto const bytes = good + junk;
    auto const r = read_all(bytes);
    CHECK(r.ids.size() == 3);
    REQUIRE(r.problems.size() == 1);
    auto const& p = r.problems.front();
    CHECK(p.code == error_code::unreadable_bytes);
    CHECK(p.record_number == 4);
    CHECK(p.byte_offset == good.size());
    CHECK_THAT(p.detail, Catch::Contains("from byte " + std::to_string(good.size()) + " to byte " +
                                         std::to_string(bytes.size())));
    // Strict reading still stops at the first problem, as it was.
    auto strict = marc::iso2709_reader::from_memory(bytes, marc::on_error::stop);
    for (int i = 0; i < 3; ++i) CHECK(strict.next());
    CHECK_THROWS_AS(strict.next(), marc::marc_error);
}

TEST_CASE("junk between good records is one problem, and the record after it is counted once", "[marc][iso2709]") {
    auto const a = slurp(data_path("marc4j_chabon.mrc"));  // two records
    auto const b = slurp(data_path("marc4j_summerland.mrc"));
    // Ending in a record terminator, or the search for the end of the last bad record in it
    // would take the record after it too.
    auto const junk = random_junk(64 * 1024, 12) + '\x1D';
    auto const r = read_all(a + junk + b + junk);
    CHECK(r.ids.size() == 3);
    REQUIRE(r.problems.size() == 2);
    CHECK(r.problems[0].record_number == 3);
    CHECK(r.problems[0].byte_offset == a.size());
    CHECK_THAT(r.problems[0].detail, Catch::Contains("to byte " + std::to_string(a.size() + junk.size())));
    // Junk is one record in the count: summerland is record 4, the junk after it record 5.
    CHECK(r.problems[1].record_number == 5);
    CHECK(r.problems[1].byte_offset == a.size() + junk.size() + b.size());
}
