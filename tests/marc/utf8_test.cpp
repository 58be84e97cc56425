// The UTF-8 check used wherever output must be UTF-8.
#include "catch.hpp"
#include "support.hpp"

#include <marcpipe/marc/utf8.hpp>

using namespace iso2709_test;

TEST_CASE("well-formed UTF-8 is accepted and the first bad byte is found", "[marc][utf8]") {
    CHECK(marc::is_valid_utf8(""));
    CHECK(marc::is_valid_utf8("plain ASCII text, long enough for the eight-byte path"));
    CHECK(marc::is_valid_utf8("Bront\xC3\xAB \xE4\xB8\xAD\xE6\x96\x87 \xF0\x9F\x93\x9A"));
    CHECK(marc::is_valid_utf8("\xEF\xBF\xBD"));  // U+FFFD itself

    CHECK(marc::find_invalid_utf8("abc\xE9" "def") == 3);                // Latin-1 byte
    CHECK(marc::find_invalid_utf8("abcdefgh\xC3") == 8);                 // cut short
    CHECK(marc::find_invalid_utf8("\xC0\xAF") == 0);                     // overlong '/'
    CHECK(marc::find_invalid_utf8("\xE0\x80\xAF") == 0);                 // overlong
    CHECK(marc::find_invalid_utf8("x\xED\xA0\x80") == 1);                // surrogate
    CHECK(marc::find_invalid_utf8("\xF4\x90\x80\x80") == 0);             // above U+10FFFF
    CHECK(marc::find_invalid_utf8("ok\xC3\xA9\x80") == 4);               // stray continuation
    CHECK(marc::find_invalid_utf8("\x1B(B MARC-8 escape is ASCII") == marc::utf8_npos);
}

TEST_CASE("records marked UTF-8 that are not are found, record by record", "[marc][utf8]") {
    // marc4j's pride-and-prejudice-with-many-errors.mrc has leader/09 = 'a' throughout, and
    // bytes that are not UTF-8 in some of the records that are structurally sound.
    auto bytes = slurp(data_path("marc4j_pride-and-prejudice-with-many-errors.mrc"));
    auto reader = marc::iso2709_reader::from_memory(bytes, marc::on_error::skip);
    std::size_t records = 0, invalid = 0;
    while (auto v = reader.next()) {
        ++records;
        CHECK(v->leader()[9] == 'a');
        if (!marc::is_valid_utf8(v->bytes())) ++invalid;
    }
    CHECK(records == 367);
    CHECK(invalid > 0);
    CHECK(invalid < records);
    // Its fixed twin is UTF-8 throughout.
    auto fixed = slurp(data_path("marc4j_pride-and-prejudice-fixed.mrc"));
    CHECK(marc::is_valid_utf8(fixed));
}
