// XML 1.0 character rules for MARCXML: escaping text for output, and checking input bytes.
//
// XML 1.0 allows only these characters (the Char production): tab, LF, CR, U+0020-U+D7FF,
// U+E000-U+FFFD and U+10000-U+10FFFF, in well-formed UTF-8. MARC data breaks this often:
// MARC-8 records carry ESC (0x1B) sequences, damaged records carry stray control bytes and
// bytes that are not UTF-8. Such characters cannot be written to XML 1.0 at all, not even as
// character references (&#27; is itself not well-formed), so the writer replaces each one with
// U+FFFD REPLACEMENT CHARACTER and counts it; the caller decides whether that is a problem.
// An ill-formed UTF-8 sequence is replaced by one U+FFFD per maximal subpart, the practice the
// Unicode Standard (chapter 3, "U+FFFD Substitution of Maximal Subparts") recommends.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace marcpipe::marc {

// The MARC21 slim schema's namespace, which the writer declares and the reader accepts.
inline constexpr std::string_view marcxml_namespace = "http://www.loc.gov/MARC21/slim";

// Where escaped text goes: element content, or a double-quoted attribute value.
enum class xml_context { text, attribute };

inline constexpr std::string_view replacement_character_utf8 = "\xEF\xBF\xBD";

namespace detail {

// Byte classes for the escaping loop: most bytes of MARC text need nothing.
enum : std::uint8_t {
    byte_plain = 0,   // copied as is
    byte_markup,      // & < > always; " in attributes
    byte_whitespace,  // tab, LF, CR: literal in text (CR as &#13;), references in attributes
    byte_forbidden,   // C0 controls XML 1.0 does not allow
    byte_multibyte,   // 0x80-0xFF: must be checked as UTF-8
};

constexpr std::array<std::uint8_t, 256> make_byte_classes() {
    std::array<std::uint8_t, 256> t{};
    for (int c = 0; c < 0x20; ++c) t[c] = byte_forbidden;
    t['\t'] = t['\n'] = t['\r'] = byte_whitespace;
    t['&'] = t['<'] = t['>'] = t['"'] = byte_markup;
    for (int c = 0x80; c < 0x100; ++c) t[c] = byte_multibyte;
    return t;
}
inline constexpr std::array<std::uint8_t, 256> byte_classes = make_byte_classes();

// Length of the well-formed UTF-8 sequence at p (2-4), or 0 when it is ill-formed; then
// `subpart` says how many bytes one U+FFFD stands for. Only called on bytes >= 0x80.
inline std::size_t utf8_sequence(unsigned char const* p, unsigned char const* end,
                                 std::size_t& subpart) noexcept {
    unsigned char const c = p[0];
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;  // no UTF-16 surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
    } else {
        subpart = 1;
        return 0;
    }
    std::size_t i = 1;
    for (; i <= need; ++i) {
        if (p + i >= end) break;
        unsigned char const b = p[i];
        if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) break;
    }
    if (i <= need) {
        subpart = i;
        return 0;
    }
    return need + 1;
}

// U+FFFE and U+FFFF are well-formed UTF-8 but not XML 1.0 characters.
inline bool is_xml_nonchar(unsigned char const* p, std::size_t len) noexcept {
    return len == 3 && p[0] == 0xEF && p[1] == 0xBF && (p[2] == 0xBE || p[2] == 0xBF);
}

}  // namespace detail

// Appends `text` to `out`, escaped for `where`, replacing every character XML 1.0 cannot carry
// with U+FFFD. Returns how many replacements were made (0 means the text went out unchanged).
//
// Text content escapes & < > and writes CR as &#13; (a parser would turn a literal CR into
// LF). Attribute values also escape " and write tab, LF and CR as references, because
// attribute-value normalisation would turn literal ones into spaces.
inline std::size_t append_xml_escaped(std::string& out, std::string_view text, xml_context where) {
    auto const* p = reinterpret_cast<unsigned char const*>(text.data());
    auto const* const end = p + text.size();
    auto const* run = p;  // start of bytes not yet copied
    std::size_t replaced = 0;
    auto flush = [&](unsigned char const* upto) {
        out.append(reinterpret_cast<char const*>(run), static_cast<std::size_t>(upto - run));
    };
    while (p < end) {
        unsigned char const c = *p;
        switch (detail::byte_classes[c]) {
            case detail::byte_plain:
                ++p;
                continue;
            case detail::byte_multibyte: {
                std::size_t subpart = 0;
                std::size_t const len = detail::utf8_sequence(p, end, subpart);
                if (len != 0 && !detail::is_xml_nonchar(p, len)) {
                    p += len;
                    continue;
                }
                flush(p);
                out += replacement_character_utf8;
                ++replaced;
                p += len != 0 ? len : subpart;
                run = p;
                continue;
            }
            case detail::byte_markup:
                if (c == '"' && where == xml_context::text) {
                    ++p;
                    continue;
                }
                flush(p);
                out += c == '&' ? "&amp;" : c == '<' ? "&lt;" : c == '>' ? "&gt;" : "&quot;";
                break;
            case detail::byte_whitespace:
                if (c != '\r' && where == xml_context::text) {
                    ++p;
                    continue;
                }
                flush(p);
                out += c == '\r' ? "&#13;" : c == '\n' ? "&#10;" : "&#9;";
                break;
            default:  // forbidden C0 control
                flush(p);
                out += replacement_character_utf8;
                ++replaced;
                break;
        }
        run = ++p;
    }
    flush(end);
    return replaced;
}

// Where the first byte that is not allowed in an XML 1.0 document is, or npos: ill-formed
// UTF-8, a C0 control other than tab/LF/CR, or U+FFFE/U+FFFF. `what` tells which.
struct xml_char_problem {
    std::size_t offset = std::string_view::npos;
    std::string what;
    explicit operator bool() const noexcept { return offset != std::string_view::npos; }
};

inline xml_char_problem find_non_xml_char(std::string_view bytes) {
    auto const* const begin = reinterpret_cast<unsigned char const*>(bytes.data());
    auto const* const end = begin + bytes.size();
    auto const* p = begin;
    auto hex = [](unsigned v, int digits) {
        static constexpr char d[] = "0123456789ABCDEF";
        std::string s;
        for (int i = digits - 1; i >= 0; --i) s += d[(v >> (4 * i)) & 0xF];
        return s;
    };
    while (p < end) {
        // Plain ASCII and line breaks go sixteen bytes at a time.
#if defined(__SSE2__)
        __m128i const space = _mm_set1_epi8(0x20);
        __m128i const tab = _mm_set1_epi8('\t'), lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');
        while (end - p >= 16) {
            __m128i const x = _mm_loadu_si128(reinterpret_cast<__m128i const*>(p));
            // Signed: bytes from 0x80 up are negative, so they count as "below 0x20" too.
            __m128i const low = _mm_cmplt_epi8(x, space);
            __m128i const ws = _mm_or_si128(
                _mm_cmpeq_epi8(x, tab), _mm_or_si128(_mm_cmpeq_epi8(x, lf), _mm_cmpeq_epi8(x, cr)));
            auto const mask = static_cast<unsigned>(_mm_movemask_epi8(_mm_andnot_si128(ws, low)));
            if (mask != 0) {
                p += std::countr_zero(mask);
                break;
            }
            p += 16;
        }
#endif
        while (end - p >= 8) {
            std::uint64_t w;
            std::memcpy(&w, p, 8);
            constexpr std::uint64_t ones = 0x0101010101010101ULL;
            constexpr std::uint64_t highs = 0x8080808080808080ULL;
            // A byte below 0x20 or at/above 0x80 sets its high bit in one of these.
            std::uint64_t const below = (w - ones * 0x20) & ~w & highs;
            if ((w & highs) | below) break;
            p += 8;
        }
        if (p >= end) break;
        unsigned char const c = *p;
        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return {static_cast<std::size_t>(p - begin),
                        "control character U+00" + hex(c, 2) + " is not allowed in XML 1.0"};
            ++p;
            continue;
        }
        std::size_t subpart = 0;
        std::size_t const len = detail::utf8_sequence(p, end, subpart);
        if (len == 0) return {static_cast<std::size_t>(p - begin), "invalid UTF-8"};
        if (detail::is_xml_nonchar(p, len))
            return {static_cast<std::size_t>(p - begin),
                    "U+" + hex(p[2] == 0xBE ? 0xFFFE : 0xFFFF, 4) + " is not allowed in XML 1.0"};
        p += len;
    }
    return {};
}

// Whether a code point given by a character reference (&#...;) is an XML 1.0 character.
constexpr bool is_xml_char(std::uint32_t cp) noexcept {
    return cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
           (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
}

}  // namespace marcpipe::marc
