// any_reader: the format of an export is found from its first bytes, and the same MMS IDs come
// out of MARC21, MARCXML and a plain list.
#include <sstream>

#include <marcpipe/marc/any_reader.hpp>
#include <marcpipe/marc/marcxml_writer.hpp>

#include "catch.hpp"
#include "support.hpp"

using namespace iso2709_test;
using marc::input_format;

namespace {

// A source that owns its bytes, so a reader can be made from a temporary string.
class owned_source : public marc::byte_source {
public:
    explicit owned_source(std::string bytes) : bytes_{std::move(bytes)} {}
    std::size_t read(char* out, std::size_t n) override {
        auto k = std::min(n, bytes_.size() - pos_);
        bytes_.copy(out, k, pos_);
        pos_ += k;
        return k;
    }
    std::string name() const override { return "test input"; }

private:
    std::string bytes_;
    std::size_t pos_ = 0;
};

std::unique_ptr<marc::any_reader> reader_of(std::string bytes,
                                            marc::reader_options o = {marc::on_error::skip}) {
    return std::make_unique<marc::any_reader>(std::make_unique<owned_source>(std::move(bytes)),
                                              std::move(o));
}

std::vector<std::string> ids_from(marc::any_reader& r) {
    std::vector<std::string> ids;
    while (auto id = r.next_mms_id()) ids.emplace_back(*id);
    return ids;
}

std::string as_marcxml(std::string const& iso) {
    std::string xml;
    {
        marc::marcxml_writer w{xml};
        auto reader = marc::iso2709_reader::from_memory(iso);
        while (auto v = reader.next()) w.write(v->to_record());
        w.finish();
    }
    return xml;
}

}  // namespace

TEST_CASE("the format is told from the first bytes", "[marc][any_reader]") {
    CHECK(marc::detect_format("00759cam a2200229 a 4500") == input_format::iso2709);
    CHECK(marc::detect_format("<?xml version=\"1.0\"?><collection/>") == input_format::marcxml);
    CHECK(marc::detect_format("\xEF\xBB\xBF\n  <record>") == input_format::marcxml);
    CHECK(marc::detect_format("991234567890123456\n991234567890123457\n") ==
          input_format::mms_id_list);
    CHECK(marc::detect_format("\r\n  9912345\r\n") == input_format::mms_id_list);
    CHECK(marc::detect_format("99123") == input_format::mms_id_list);  // whole input, one ID
    CHECK_FALSE(marc::detect_format(""));
    CHECK_FALSE(marc::detect_format("  \n"));
    CHECK_FALSE(marc::detect_format("hello world\n"));
    CHECK_FALSE(marc::detect_format("%PDF-1.4"));
}

TEST_CASE("the same MMS IDs come out of MARC21, MARCXML and a list", "[marc][any_reader]") {
    auto iso = slurp(data_path("marc4j_pride-and-prejudice-fixed.mrc"));
    auto expected = read_all(iso).ids;
    REQUIRE(expected.size() == 383);
    // Some of these records have no 001; they are reported, not listed.
    std::vector<std::string> with_id;
    for (auto const& id : expected)
        if (!id.empty()) with_id.push_back(id);

    SECTION("MARC21") {
        auto r = reader_of(iso);
        CHECK(r->format() == input_format::iso2709);
        CHECK(ids_from(*r) == with_id);
        CHECK(r->problem_count() == expected.size() - with_id.size());
    }
    SECTION("MARCXML") {
        auto r = reader_of(as_marcxml(iso));
        CHECK(r->format() == input_format::marcxml);
        CHECK(ids_from(*r) == with_id);
        CHECK(r->problem_count() == expected.size() - with_id.size());
    }
    SECTION("a list, with blanks and CRLF") {
        // MMS IDs are digits; pymarc's marc.dat has 001s like them.
        auto digits = read_all(slurp(data_path("pymarc_marc.dat"))).ids;
        REQUIRE(digits.size() == 20);
        std::string list = "\r\n";
        for (auto const& id : digits) list += "  " + id + " \r\n\n";
        auto r = reader_of(list);
        CHECK(r->format() == input_format::mms_id_list);
        CHECK(ids_from(*r) == digits);
        CHECK(r->problems().empty());
    }
}

TEST_CASE("a record without 001 is reported with its number", "[marc][any_reader]") {
    // pymarc's bad_records.mrc: records 1, 7 and 8 are sound but have no 001.
    auto r = reader_of(slurp(data_path("pymarc-5.3.1_bad_records.mrc")));
    CHECK(ids_from(*r).empty());
    std::vector<std::uint64_t> missing;
    for (auto const& p : r->problems())
        if (p.code == marc::error_code::missing_001) missing.push_back(p.record_number);
    CHECK(missing == std::vector<std::uint64_t>{1, 7, 8});
    CHECK(r->problem_count() == 9);

    auto strict = reader_of(slurp(data_path("pymarc-5.3.1_bad_records.mrc")),
                            marc::reader_options{marc::on_error::stop});
    try {
        strict->next_mms_id();
        FAIL("no error");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().code == marc::error_code::missing_001);
        CHECK(e.problem().record_number == 1);
    }
}

TEST_CASE("records come out of MARC21 and MARCXML alike", "[marc][any_reader]") {
    auto iso = slurp(data_path("marc4j_sample1.mrc"));
    auto expected = read_all(iso).records;
    auto r = reader_of(iso);
    std::vector<marc::record> got;
    while (auto rec = r->next()) got.push_back(std::move(*rec));
    CHECK(got == expected);
}

TEST_CASE("a list of IDs has no records, and a line that is not an ID is reported",
          "[marc][any_reader]") {
    auto r = reader_of("991\nnot-an-id\n992");
    CHECK_THROWS_AS(r->next(), marc::marc_error);
    auto ids = reader_of("991\nnot-an-id\n992");
    CHECK(ids_from(*ids) == std::vector<std::string>{"991", "992"});
    REQUIRE(ids->problems().size() == 1);
    CHECK(ids->problems().front().record_number == 2);
    CHECK_THAT(ids->problems().front().detail, Catch::Contains("not-an-id"));
}

TEST_CASE("input that is no export is refused, saying what it starts with", "[marc][any_reader]") {
    try {
        reader_of("Dear librarian,\n");
        FAIL("no error");
    } catch (marc::marc_error const& e) {
        CHECK(e.problem().code == marc::error_code::not_marc);
        CHECK_THAT(e.problem().detail, Catch::Contains("Dear librarian"));
    }
    CHECK_THROWS_AS(reader_of(""), marc::marc_error);
}

TEST_CASE("a large input streams through detection from a stream", "[marc][any_reader]") {
    auto iso = slurp(data_path("marc4j_pride-and-prejudice-fixed.mrc"));
    std::istringstream in{iso};
    marc::any_reader r{std::make_unique<marc::istream_source>(in)};
    std::size_t n = 0;
    while (r.next()) ++n;
    CHECK(n == 383);
}
