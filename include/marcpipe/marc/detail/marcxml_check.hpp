// marcxml_check: what XML 1.0 forbids in a chunk of MARCXML and pugixml lets through, checked
// before pugixml sees the chunk; and pugixml's parse errors in the reader's words.
//
// pugixml is fast because it trusts its input: it passes bytes that are not UTF-8, control
// characters, references to characters XML does not allow and undeclared entities. A MARC
// record built from such a chunk would carry them into the output, so the reader refuses them
// here, naming the offset of the first one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <marcpipe/marc/detail/marcxml_element.hpp>
#include <marcpipe/marc/error.hpp>
#include <marcpipe/marc/xml_escape.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace marcpipe::marc::detail {

// What XML 1.0 forbids in a chunk and pugixml would let through: bad bytes, control
// characters, references to non-characters, entities other than the five predefined ones.
// Returns the problem with its offset in `bytes`, if any.
// `sections`: whether the chunk may hold comments, CDATA sections or processing instructions
// (the batch path has made sure it holds none).
// The references part of it (check_references) stands alone for XML a reader other than this
// one parses: pugixml leaves an undeclared entity or a malformed reference in the text literally.
inline std::optional<marcxml_fault> check_references(std::string_view bytes, bool sections = true,
                                                     bool characters = true);

inline std::optional<marcxml_fault> check_xml_chunk(std::string_view bytes, bool sections = true) {
    if (auto bad = find_non_xml_char(bytes)) {
        bool const utf8 = bad.what == "invalid UTF-8";
        return marcxml_fault{utf8 ? error_code::invalid_utf8 : error_code::malformed_xml,
                             static_cast<std::ptrdiff_t>(bad.offset), std::move(bad.what)};
    }
    return check_references(bytes, sections);
}

// The first reference in `bytes` that is not one of XML's five entities nor a well-formed
// character reference. `characters`: a reference to a character XML 1.0 does not allow
// (&#x1E;) is a fault too; without it such a reference passes, for callers that take the
// character and replace it later (marc/replacement.hpp).
inline std::optional<marcxml_fault> check_references(std::string_view bytes, bool sections, bool characters) {
    // Comments, CDATA sections and processing instructions hold no references; they are
    // looked for only between references, and only when there is a reference at all.
    std::size_t sections_checked = sections ? 0 : bytes.size();  // none before here
    for (std::size_t amp = bytes.find('&'); amp != std::string_view::npos;
         amp = bytes.find('&', amp + 1)) {
        bool in_section = false;
        while (sections_checked < amp) {
            std::size_t open = bytes.find('<', sections_checked);
            if (open >= amp) {
                sections_checked = amp;
                break;
            }
            char const next = open + 1 < bytes.size() ? bytes[open + 1] : 0;
            if (next != '!' && next != '?') {
                sections_checked = open + 1;
                continue;
            }
            std::string_view const close = next == '?'                       ? "?>"
                                           : bytes.substr(open, 4) == "<!--" ? "-->"
                                                                             : "]]>";
            std::size_t const end = bytes.find(close, open + 2);
            if (end == std::string_view::npos) return std::nullopt;  // pugixml reports it
            sections_checked = end + close.size();
            if (amp < end) {
                amp = end;
                in_section = true;
                break;
            }
        }
        if (in_section) continue;
        auto const semi = bytes.find(';', amp + 1);
        std::string_view const ref =
            bytes.substr(amp + 1, semi == std::string_view::npos ? 12 : semi - amp - 1);
        auto bad = [&](std::string why) {
            return marcxml_fault{error_code::malformed_xml, static_cast<std::ptrdiff_t>(amp),
                                 std::move(why)};
        };
        if (semi == std::string_view::npos || ref.size() > 12)
            return bad("'&' that does not start a reference (write &amp;)");
        if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos") continue;
        if (ref.size() >= 2 && ref[0] == '#') {
            bool const hex = ref[1] == 'x';
            std::string_view const digits = ref.substr(hex ? 2 : 1);
            std::uint32_t cp = 0;
            bool ok = !digits.empty() && digits.size() <= 8;
            for (char d : digits) {
                int v = d >= '0' && d <= '9'          ? d - '0'
                        : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                        : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
                                                      : -1;
                if (v < 0 || cp > 0x10FFFF) {
                    ok = false;
                    break;
                }
                cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
            }
            if (!ok) return bad("malformed character reference &" + std::string{ref} + ";");
            if (characters && !is_xml_char(cp))
                return bad("character reference &" + std::string{ref} +
                           "; names a character XML 1.0 does not allow");
            continue;
        }
        return bad("undeclared entity &" + std::string{ref} + ";");
    }
    return std::nullopt;
}

inline std::string describe_parse_error(pugi::xml_parse_result const& r) {
    switch (r.status) {
        case pugi::status_end_element_mismatch:
            return "start and end tags do not match";
        case pugi::status_bad_start_element:
            return "bad start tag";
        case pugi::status_bad_end_element:
            return "bad end tag";
        case pugi::status_bad_attribute:
            return "bad attribute";
        default:
            return r.description();
    }
}

}  // namespace marcpipe::marc::detail
