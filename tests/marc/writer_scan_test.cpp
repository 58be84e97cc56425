// The writers' quick paths: the mark test that looks at 16, 8 or 4 bytes at a time (with
// overlapping loads for the ends), the two-digits-at-a-time number writer, and the ISO 2709
// writer's copy that skips the replacement rule for a record with no mark. Each is checked
// against a byte-by-byte definition written here, at every length and position around the
// load widths.
#include <cstddef>
#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/marc/leader.hpp>
#include <marcpipe/marc/replacement.hpp>
#include <string>

#include "catch.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace writer_scan_test {

namespace marc = marcpipe::marc;

namespace {

std::size_t marks_by_hand(std::string const& s) {
    std::size_t n = 0;
    for (char c : s) {
        auto const u = static_cast<unsigned char>(c);
        n += (u == 0x1D || u == 0x1E || u == 0x1F) ? 1 : 0;
    }
    return n;
}

}  // namespace

TEST_CASE("has_mark and count_marks find 0x1D-0x1F at every position of values up to 48 bytes",
          "[marc][writer][scan]") {
    // Bytes next to the marks (0x1C, 0x20) and with their low bits but the high bit set
    // (0x9D-0x9F, a UTF-8 continuation byte) are not marks.
    for (unsigned char const filler : {'a', '\x1C', '\x20', '\x9D', '\xFF', '\0'}) {
        for (std::size_t len = 0; len <= 48; ++len) {
            std::string const plain(len, static_cast<char>(filler));
            INFO("filler " << int{filler} << ", length " << len);
            CHECK_FALSE(marc::detail::has_mark(plain));
            CHECK(marc::detail::count_marks(plain) == 0);
            for (std::size_t at = 0; at < len; ++at) {
                for (char const mark : {'\x1D', '\x1E', '\x1F'}) {
                    std::string s = plain;
                    s[at] = mark;
                    INFO("mark " << int{mark} << " at " << at);
                    CHECK(marc::detail::has_mark(s));
                    CHECK(marc::detail::count_marks(s) == 1);
                }
            }
        }
    }
    std::string many =
        "a\x1D"
        "bc\x1E\x1F"
        "defghijklmnopqrstu\x1Dvwxyz";
    CHECK(marc::detail::count_marks(many) == marks_by_hand(many));
    CHECK(marks_by_hand(many) == 4);
}

TEST_CASE("put_digits writes the last n digits, zero-padded", "[marc][writer][scan]") {
    for (std::size_t const value :
         {0UL, 7UL, 42UL, 305UL, 9999UL, 10000UL, 12345UL, 99999UL, 100000UL, 123456UL}) {
        std::string const all = std::to_string(value);
        for (int n = 1; n <= 5; ++n) {
            std::string expected =
                all.size() >= static_cast<std::size_t>(n)
                    ? all.substr(all.size() - static_cast<std::size_t>(n))
                    : std::string(static_cast<std::size_t>(n) - all.size(), '0') + all;
            std::string got(static_cast<std::size_t>(n), '?');
            marc::detail::put_digits(got.data(), value, n);
            INFO("value " << value << ", " << n << " digits");
            CHECK(got == expected);
        }
    }
}

TEST_CASE("ISO 2709: a mark anywhere in a value of any length is replaced and counted",
          "[marc][writer][scan]") {
    // The record with the mark gives the bytes of the record whose value holds U+FFFD in its
    // place, which the writer copies as it is; the first is reported, the second is not.
    for (std::size_t len = 1; len <= 40; ++len) {
        for (std::size_t at = 0; at < len; ++at) {
            std::string value(len, 'x');
            value[at] = '\x1E';
            std::string replaced = value;
            replaced.replace(at, 1, "\xEF\xBF\xBD");
            auto make = [](std::string const& v) {
                return marc::record{"00000nam a2200000 i 4500",
                                    {marc::field{"001", "99123"},
                                     marc::field{"245", '1', '0', {{'a', "Title"}, {'b', v}}}}};
            };
            std::string with_mark, expected;
            auto const problem = marc::append_iso2709(make(value), with_mark);
            auto const none = marc::append_iso2709(make(replaced), expected);
            INFO("length " << len << ", mark at " << at);
            CHECK(with_mark == expected);
            REQUIRE(problem.has_value());
            CHECK(problem->code == marc::error_code::characters_replaced);
            CHECK(problem->detail.find("1 character(s)") != std::string::npos);
            CHECK_FALSE(none.has_value());
        }
    }
}

}  // namespace writer_scan_test
