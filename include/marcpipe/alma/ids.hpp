// ids: what an Alma ID (MMS ID, holding ID) must look like before it goes into a request path.
//
// Alma's IDs are numbers: 99…<institution> for bibs, 22…<institution> for holdings, seen from 14
// to 18 digits, and Alma keeps them as 64-bit integers, so no real one is longer than 19 digits.
// The rule here is only "1 to 19 ASCII digits": it is what keeps an ID from changing the request
// (`..`, `.`, `/`, `?`, a byte order mark, blanks), while whether a number names a bib is Alma's
// to say (402203). Every ID is checked where it enters the run — the export's 001, a line of an
// ID list, a holding ID in an answer — and alma::client refuses an invalid one again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "marcpipe/marc/record_view.hpp"

namespace marcpipe::alma {

inline constexpr std::size_t max_id_digits = 19;

constexpr bool is_valid_id(std::string_view id) noexcept {
    if (id.empty() || id.size() > max_id_digits) return false;
    for (char c : id)
        if (c < '0' || c > '9') return false;
    return true;
}

// The number a valid ID stands for (19 digits always fit in 64 bits); nullopt for an invalid one.
// Alma reads IDs as numbers, so "0991" and "991" name the same bib.
constexpr std::optional<std::uint64_t> id_number(std::string_view id) noexcept {
    if (!is_valid_id(id)) return std::nullopt;
    std::uint64_t n = 0;
    for (char c : id) n = n * 10 + static_cast<std::uint64_t>(c - '0');
    return n;
}

// An ID as a report shows it: control and non-ASCII bytes escaped, at most its first 40 bytes
// (an invalid "ID" may be a whole line of junk); quoted for a message.
inline std::string shown_id(std::string_view id, std::string_view quote = "") {
    constexpr std::size_t shown = 40;
    std::string out =
        std::string{quote} + marc::detail::printable(id.substr(0, shown)) + std::string{quote};
    if (id.size() > shown) out += " (its first " + std::to_string(shown) + " bytes)";
    return out;
}
inline std::string quoted_id(std::string_view id) { return shown_id(id, "\""); }

// Why an ID is refused, for a problem's message: `what` names it ("MMS ID", "holding ID").
inline std::string invalid_id_message(std::string_view what, std::string_view id) {
    return std::string{what} + " " + quoted_id(id) + " is not an Alma ID (1 to " +
           std::to_string(max_id_digits) + " digits)";
}

}  // namespace marcpipe::alma
