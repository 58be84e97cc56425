// replacement: the one rule every MARC writer follows for bytes its output format cannot carry,
// so that a value from anywhere (a damaged file, a hostile server) never becomes structure.
//
//   - A tag that is not three ASCII letters or digits: the record is not written (marc_error,
//     bad_directory). Replacing a byte of a tag would file the field's data under another field.
//   - The leader, indicators and subfield codes are single ASCII bytes by definition: a byte that
//     is not printable ASCII (0x20-0x7E) becomes the MARC fill character '|'.
//   - Data (control field and subfield values): a character the format cannot carry becomes
//     U+FFFD REPLACEMENT CHARACTER. In ISO 2709 those are the three bytes it reserves as
//     delimiters (0x1D, 0x1E, 0x1F; in a record kept as MARC-8 they become '|', since U+FFFD is
//     not MARC-8); in MARCXML every character XML 1.0 cannot carry (see xml_escape.hpp).
//
// A record that needed a replacement is written with it and reported (error_code::
// characters_replaced: how many, the first one as \xNN and where it was), so nothing is altered
// silently; a writer told on_error::stop writes nothing of it and throws instead.
#pragma once

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/record_view.hpp"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace marcpipe::marc {

inline constexpr char fill_character = '|';

namespace detail {
// Whether a value holds one of ISO 2709's delimiters or terminators (0x1D-0x1F). The writers ask
// this of every value they write, most of them a few bytes long, so it looks at 16 bytes at a
// time and covers a shorter value with two overlapping loads instead of a loop over its bytes.
inline bool has_mark(std::string_view value) noexcept {
    char const* const p = value.data();
    std::size_t const n = value.size();
#if defined(__SSE2__)
    // Lanes holding 0x1D-0x1F (lanes a short load leaves zero are not marks).
    auto any = [](__m128i x) {
        __m128i const t = _mm_sub_epi8(x, _mm_set1_epi8(record_terminator));
        return _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, _mm_set1_epi8(2)), t)) != 0;
    };
    auto load16 = [](char const* at) {
        return _mm_loadu_si128(reinterpret_cast<__m128i const*>(at));
    };
    if (n >= 16) {
        for (std::size_t i = 0; i + 16 < n; i += 16)
            if (any(load16(p + i))) return true;
        return any(load16(p + n - 16));
    }
    if (n >= 8) {
        long long a = 0, b = 0;
        std::memcpy(&a, p, 8);
        std::memcpy(&b, p + n - 8, 8);
        return any(_mm_set_epi64x(a, b));
    }
    if (n >= 4) {
        int a = 0, b = 0;
        std::memcpy(&a, p, 4);
        std::memcpy(&b, p + n - 4, 4);
        return any(_mm_set_epi32(0, 0, a, b));
    }
#endif
    for (std::size_t i = 0; i < n; ++i)
        if (is_mark(p[i])) return true;
    return false;
}

// How many of ISO 2709's delimiters and terminators (0x1D-0x1F) a value holds.
inline std::size_t count_marks(std::string_view value) noexcept {
    std::size_t n = 0;
    scan_marks(value.data(), value.data() + value.size(), [&](char const*) {
        ++n;
        return true;
    });
    return n;
}
}  // namespace detail

// Whether a byte may stand in the leader, an indicator or a subfield code.
constexpr bool is_code_byte(char c) noexcept {
    auto const u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F;
}

// Whether a tag can be written: three ASCII letters or digits, as ISO 2709 readers and the
// MARC21 slim schema require.
inline bool is_writable_tag(std::string_view tag) noexcept {
    return tag.size() == 3 && detail::is_tag_char(tag[0]) && detail::is_tag_char(tag[1]) &&
           detail::is_tag_char(tag[2]);
}

// "001 ID: " or "(no 001): ", how a writer's message names the record it is about.
inline std::string record_label(std::string_view id) {
    return (id.empty() ? std::string{"(no 001)"} : "001 " + detail::printable(id)) + ": ";
}

// The replacements made in one record, and where the first one was.
class replacement_log {
public:
    void clear() noexcept {
        count_ = 0;
        first_.clear();
    }
    std::size_t count() const noexcept { return count_; }

    // `n` replacements in the leader (tag "leader") or in field `tag` (`part`: "ind1", "ind2",
    // "$a", "subfield code", or empty for a control field's data); `shown` is the first
    // character replaced, as bytes, and `by` what took its place.
    void note(std::size_t n, std::string_view tag, std::string_view part, std::string_view shown,
              std::string_view by) {
        if (n == 0) return;
        if (count_ == 0) {
            first_ = tag == "leader" ? std::string{"leader"} : "field " + detail::printable(tag);
            if (!part.empty()) {
                first_ += ' ';
                first_ += part;
            }
            first_ += ": ";
            first_ += detail::printable(shown);
            first_ += ", now ";
            first_ += by;
        }
        count_ += n;
    }

    // "2 character(s) that ISO 2709 cannot carry replaced; first in field 852 $h: \x1E, now U+FFFD"
    std::string describe(std::string_view format) const {
        return std::to_string(count_) + " character(s) that " + std::string{format} +
               " cannot carry replaced; first in " + first_;
    }

private:
    std::size_t count_ = 0;
    std::string first_;
};

// The part of a field a subfield code names in messages: "$a", or "subfield code" when the code
// itself is not printable.
inline std::string subfield_part(char code) {
    return is_code_byte(code) ? std::string{'$', code} : std::string{"subfield code"};
}

}  // namespace marcpipe::marc
