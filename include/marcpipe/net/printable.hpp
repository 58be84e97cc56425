// printable: text that came from a server, made safe to show on a terminal.
//
//   std::string printable(std::string_view text)
//
// An error message, an error code or a tracking ID is the server's text: printed as it came, an
// ESC or a C1 control starts a terminal escape sequence (retitle the window, move the cursor,
// hide the rest of the line), CR and BS overwrite what was printed before, BEL rings; a
// bidirectional control (U+202A-U+202E, U+2066-U+2069) makes the rest of a line read backwards.
// Every control character (C0, DEL, C1 as UTF-8 U+0080-U+009F, and those bidirectional ones) is
// shown as \xNN a byte instead, as are bytes that are not UTF-8, so nothing the server said is lost
// and nothing of it acts on the terminal. Plain text and well-formed UTF-8 pass unchanged. A backslash is left as it is, so
// the function can be applied to text twice without changing it the second time (messages pass
// several layers); the price is that a literal "\x1B" and an ESC look alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace marcpipe::net {

namespace detail {

inline void append_hex_escape(std::string& out, unsigned char c) {
    static constexpr char hex[] = "0123456789ABCDEF";
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
}

// Length of the well-formed UTF-8 sequence at text[i] (a lead byte >= 0x80), or 0.
inline std::size_t utf8_length(std::string_view text, std::size_t i) noexcept {
    auto const c = static_cast<unsigned char>(text[i]);
    std::size_t need = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 1;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 2;
        if (c == 0xE0) lo = 0xA0;
        if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 3;
        if (c == 0xF0) lo = 0x90;
        if (c == 0xF4) hi = 0x8F;
    } else {
        return 0;
    }
    if (i + need >= text.size()) return 0;
    for (std::size_t k = 1; k <= need; ++k) {
        auto const b = static_cast<unsigned char>(text[i + k]);
        if (k == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF)) return 0;
    }
    return need + 1;
}

// Whether a well-formed UTF-8 sequence is a control shown escaped: U+0080-U+009F, the C1
// controls (CSI among them: C2 80 - C2 9F), and the bidirectional embeddings, overrides and
// isolates U+202A-U+202E (E2 80 AA - AE) and U+2066-U+2069 (E2 81 A6 - A9).
inline bool is_control(std::string_view seq) noexcept {
    auto const b = [&](std::size_t k) { return static_cast<unsigned char>(seq[k]); };
    if (seq.size() == 2) return b(0) == 0xC2 && b(1) < 0xA0;
    if (seq.size() != 3 || b(0) != 0xE2) return false;
    return (b(1) == 0x80 && b(2) >= 0xAA && b(2) <= 0xAE) || (b(1) == 0x81 && b(2) >= 0xA6 && b(2) <= 0xA9);
}

}  // namespace detail

inline std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        auto const c = static_cast<unsigned char>(text[i]);
        if (c >= 0x20 && c < 0x7F) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if (c < 0x80) {  // C0 controls and DEL
            detail::append_hex_escape(out, c);
            ++i;
            continue;
        }
        std::size_t const len = detail::utf8_length(text, i);
        if (len == 0) {
            detail::append_hex_escape(out, c);
            ++i;
            continue;
        }
        if (detail::is_control(text.substr(i, len))) {
            for (std::size_t k = 0; k < len; ++k) detail::append_hex_escape(out, static_cast<unsigned char>(text[i + k]));
        } else {
            out.append(text.substr(i, len));
        }
        i += len;
    }
    return out;
}

}  // namespace marcpipe::net
