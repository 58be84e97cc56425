// leader: the leader positions an ISO 2709 writer derives from a record's shape, in one place so
// that MARC21 and MARCXML output carry the same leader.
//
// Real Alma leaders arrive with blanks where the record length and base address go
// (`     nx  a22     1n 4500`); a reader of MARCXML such as yaz-marcdump warns on those, so both
// writers put the numbers an ISO 2709 file of the record would hold.
#pragma once

#include <array>
#include <cstddef>
#include <cstring>
#include <string_view>

#include "marcpipe/marc/record.hpp"
#include "marcpipe/marc/record_view.hpp"

namespace marcpipe::marc {

// The sizes ISO 2709 gives a record of `field_count` fields whose data, field terminators
// included, take `field_bytes`: base address (leader 12-16) and record length (00-04).
struct iso2709_layout {
    iso2709_layout(std::size_t field_count, std::size_t field_bytes) noexcept
        : base_address{leader_length + field_count * directory_entry_length + 1},
          record_length{base_address + field_bytes + 1} {}
    std::size_t base_address;
    std::size_t record_length;
};

namespace detail {

// "00" "01" ... "99": put_digits writes two digits per division, since it runs for two numbers
// in every directory entry the ISO 2709 writer puts.
inline constexpr auto digit_pairs = [] {
    std::array<char, 200> t{};
    for (int i = 0; i < 100; ++i) {
        t[2 * i] = static_cast<char>('0' + i / 10);
        t[2 * i + 1] = static_cast<char>('0' + i % 10);
    }
    return t;
}();

// The last `n` decimal digits of `value`, zero-padded, at p.
inline void put_digits(char* p, std::size_t value, int n) noexcept {
    while (n >= 2) {
        n -= 2;
        std::memcpy(p + n, digit_pairs.data() + 2 * (value % 100), 2);
        value /= 100;
    }
    if (n == 1) p[0] = static_cast<char>('0' + value % 10);
}

}  // namespace detail

// Whether canonical_leader puts its own byte at leader position `i`, so the given one is not written.
constexpr bool leader_position_computed(std::size_t i, bool keep_leader_09 = false) noexcept {
    return i <= 4 || (i == 9 && !keep_leader_09) || i == 10 || i == 11 || (i >= 12 && i <= 16) ||
           i >= 20;
}

// Writes into `out` (leader_length bytes) the leader `given` as a writer puts it out: 00-04 and
// 12-16 from the layout, 10-11 "22" and 20-23 "4500" (MARC21's layout), 09 'a' (UTF-8) unless
// `keep_leader_09`; a short leader is padded with blanks. A length past 99,999 keeps only its
// last five digits: the ISO 2709 writer refuses such a record before it gets here.
inline void canonical_leader(std::string_view given, iso2709_layout layout, char* out,
                             bool keep_leader_09 = false) noexcept {
    std::size_t const n = given.size() < leader_length ? given.size() : leader_length;
    std::memcpy(out, given.data(), n);
    std::memset(out + n, ' ', leader_length - n);
    detail::put_digits(out, layout.record_length, 5);
    if (!keep_leader_09) out[9] = 'a';
    out[10] = '2';
    out[11] = '2';
    detail::put_digits(out + 12, layout.base_address, 5);
    std::memcpy(out + 20, "4500", 4);
}

}  // namespace marcpipe::marc
