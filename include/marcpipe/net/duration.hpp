// Durations as people type them on a command line: `90s`, `10m`, `1h`, or plain seconds (`45`).
//
//   std::optional<std::chrono::seconds> parse_duration(std::string_view text)
//   std::string describe_duration(std::chrono::milliseconds d)   "10m", "90s", "1h30m"
//   inline constexpr std::chrono::seconds patience_min, patience_max   the range --patience takes
//   std::string check_patience(std::string_view text)   "" when it is a patience, else why not
//
// Whole numbers only, one unit: a duration is said once, in the unit that reads best, and a
// fraction, a sign, a blank or a second unit is more likely a slip than a wish. Nothing that
// overflows, so every value parsed is finite; the range a program accepts is its own check.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace marcpipe::net {

// How long a program waits while no call succeeds: long enough for a proxy to restart, short
// enough that a run left alone does not keep knocking for days.
inline constexpr std::chrono::seconds patience_min{1};
inline constexpr std::chrono::seconds patience_max{std::chrono::hours(24)};

inline std::optional<std::chrono::seconds> parse_duration(std::string_view text) {
    std::int64_t unit = 1;
    if (!text.empty()) {
        switch (text.back()) {
            case 's':
                text.remove_suffix(1);
                break;
            case 'm':
                unit = 60;
                text.remove_suffix(1);
                break;
            case 'h':
                unit = 3600;
                text.remove_suffix(1);
                break;
            default:
                break;
        }
    }
    if (text.empty() || text.front() < '0' || text.front() > '9') return std::nullopt;
    std::int64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
    // Beyond a hundred years is no duration anyone means, and stays far from overflow.
    if (n > std::int64_t{100} * 366 * 86400 / unit) return std::nullopt;
    return std::chrono::seconds(n * unit);
}

inline std::string describe_duration(std::chrono::milliseconds d) {
    auto s = std::chrono::duration_cast<std::chrono::seconds>(d).count();
    if (s < 1) return std::to_string(d.count()) + "ms";
    std::string out;
    if (s >= 3600) out += std::to_string(s / 3600) + "h";
    if (s % 3600 >= 60) out += std::to_string(s % 3600 / 60) + "m";
    if (s % 60 != 0) out += std::to_string(s % 60) + "s";
    return out;
}

// For a command-line parser's check: every program that talks to Alma takes --patience with the
// same words and the same range.
inline std::string check_patience(std::string_view text) {
    auto d = parse_duration(text);
    if (!d)
        return "'" + std::string(text) +
               "' is not a duration: a whole number with s, m or h (90s, 10m, 1h), or seconds";
    if (*d < patience_min || *d > patience_max)
        return "the patience must be between " + describe_duration(patience_min) + " and " +
               describe_duration(patience_max) + ", not " + std::string(text);
    return {};
}

}  // namespace marcpipe::net
