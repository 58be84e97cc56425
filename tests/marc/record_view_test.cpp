// record_view: fields and subfields seen in place, and the owning record made from them.
#include "catch.hpp"
#include "support.hpp"

using namespace iso2709_test;

namespace {

// A small record, built by hand so that every byte is known.
std::string sample_record() {
    marc::record r{"00000cy  a22000003n 4500",
                   {marc::field{"001", "22123456780006421"},
                    marc::field{"004", "99123456780006421"},
                    marc::field{"852", '0', '1', {{'b', "MAIN"}, {'h', "QA76"}, {'x', "$5 & <b>"}}},
                    marc::field{"583", '1', ' ', {{'a', "committed to retain"}}}}};
    std::string out;
    marc::append_iso2709(r, out);
    return out;
}

// The problem a record view of `bytes` is refused with.
marc::read_problem refusal_of(std::string const& bytes) {
    try {
        marc::record_view v{bytes};
    } catch (marc::marc_error const& e) {
        return e.problem();
    }
    FAIL("no error");
    return {};
}

}  // namespace

TEST_CASE("a record view walks fields and subfields in place", "[marc][record_view]") {
    auto bytes = sample_record();
    marc::record_view v{bytes};
    REQUIRE(v.size() == 4);
    CHECK(v.leader().substr(5, 4) == "cy  ");
    CHECK(v.control_value("001") == "22123456780006421");
    CHECK(v.control_value("004") == "99123456780006421");
    CHECK(v.control_value("005").empty());

    auto f = v.find("852");
    REQUIRE(f);
    CHECK_FALSE(f->is_control());
    CHECK(f->ind1() == '0');
    CHECK(f->ind2() == '1');
    std::vector<std::pair<char, std::string>> subs;
    for (auto s : f->subfields()) subs.emplace_back(s.code(), std::string{s.value()});
    CHECK(subs == std::vector<std::pair<char, std::string>>{
                      {'b', "MAIN"}, {'h', "QA76"}, {'x', "$5 & <b>"}});
    CHECK(f->subfield_value('h') == "QA76");
    CHECK(f->subfield_value('z').empty());

    std::vector<std::string> tags;
    for (auto field : v) tags.emplace_back(field.tag());
    CHECK(tags == std::vector<std::string>{"001", "004", "852", "583"});
}

TEST_CASE("a record view converts to the owning record it was written from",
          "[marc][record_view]") {
    auto bytes = sample_record();
    auto rec = marc::record_view{bytes}.to_record();
    CHECK(rec.fields().size() == 4);
    CHECK(rec.find("583")->subfield_value('a') == "committed to retain");
    CHECK(rec.leader().substr(0, 5) == bytes.substr(0, 5));
    std::string again;
    marc::append_iso2709(rec, again);
    CHECK(again == bytes);
}

TEST_CASE("a record view refuses broken bytes with an error naming the offset",
          "[marc][record_view]") {
    auto bytes = sample_record();
    SECTION("a missing field terminator") {
        auto broken = bytes;
        broken[broken.size() - 2] = 'X';  // the last field's terminator
        auto const p = refusal_of(broken);
        CHECK(p.code == marc::error_code::missing_field_terminator);
        CHECK(p.byte_offset == broken.size() - 2);
        CHECK_THAT(p.detail, Catch::Contains("583"));
    }
    SECTION("a length that does not match") {
        CHECK_THROWS_AS(marc::record_view{bytes.substr(0, bytes.size() - 1)}, marc::marc_error);
    }
    SECTION("a subfield code that is a control character") {
        auto broken = bytes;
        broken[broken.find("\x1F" "b") + 1] = '\x01';
        auto const p = refusal_of(broken);
        CHECK(p.code == marc::error_code::bad_subfield);
        CHECK(p.byte_offset == broken.find('\x01'));
        CHECK_THAT(p.detail, Catch::Contains("852"));
    }
    SECTION("text before the first subfield delimiter") {
        auto broken = bytes;
        broken[broken.find("\x1F" "b")] = 'b';
        auto const p = refusal_of(broken);
        CHECK(p.code == marc::error_code::bad_subfield);
    }
    SECTION("a record terminator inside the record") {
        auto broken = bytes;
        broken[broken.find("MAIN")] = '\x1D';
        auto const p = refusal_of(broken);
        CHECK(p.code == marc::error_code::bad_record_length);
        CHECK(p.byte_offset == broken.find('\x1D'));
    }
}

TEST_CASE("control fields may hold a subfield delimiter", "[marc][record_view]") {
    // (The writer puts U+FFFD for a delimiter in any value, so the byte is put in afterwards.)
    marc::record r{"00000nam a2200000 a 4500", {marc::field{"001", "abc|def"}}};
    std::string bytes;
    marc::append_iso2709(r, bytes);
    bytes[bytes.find('|')] = '\x1F';
    marc::record_view v{bytes};
    CHECK(v.control_value("001") == "abc\x1F" "def");
}

TEST_CASE("a record whose directory is not in data order reads the same", "[marc][record_view]") {
    auto bytes = slurp(data_path("marc4j_unordered-directory-entries.mrc"));
    auto r = read_all(bytes);
    REQUIRE(r.records.size() == 1);
    // Fields come in directory order, each with the data its entry points at.
    auto const& rec = r.records.front();
    CHECK(rec.fields().front().tag == "001");
    CHECK_FALSE(rec.control_value("001").empty());
    std::string out;
    marc::append_iso2709(rec, out);
    CHECK(read_all(out).records.front().fields() == rec.fields());
}

TEST_CASE("converting into a reused record gives the same record as a fresh one",
          "[marc][record_view]") {
    auto bytes = slurp(data_path("marc4j_sample1.mrc"));
    auto reader = marc::iso2709_reader::from_memory(bytes);
    marc::record reused;
    std::size_t n = 0;
    while (auto v = reader.next()) {
        v->to_record(reused);
        CHECK(reused == v->to_record());
        ++n;
    }
    CHECK(n == 8);
}
