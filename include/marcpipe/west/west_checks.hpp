// west_checks: what a holdings record must carry for the WEST shared print archive to accept it,
// checked the same way by west-holdings --west and by west-check on any file.
//
//   001 and 004          the holding ID and its bib's MMS ID
//   583                  the retention commitment: $a "committed to retain", $c the date it was
//                        made and $d the date it runs to (both YYYYMMDD, $d not before $c), $f
//                        the program ("WEST"); $5, the institution, is not required
//   OCLC number          035 $a "(OCoLC)..." or 014 (with $b OCoLC), in the same one of the two
//                        in every record of a file: WEST's loader reads it from one place
//   852 $b               the holding library
//
// A holding may carry other 583s (a completeness review, a condition note): the commitment is the
// first 583 whose $a begins with "committed to retain", or, when none does, the first 583, so a
// record without a commitment is reported once, on its $a. A structurally invalid record is
// reported by whoever reads it (rule "structure"): only a parsed record reaches these checks.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "marcpipe/alma/report.hpp"
#include "marcpipe/marc/record.hpp"

namespace marcpipe::pipeline {

// One failed rule: its name (a column of west-check's report) and what the record had instead.
struct west_failure {
    west_failure() = default;
    west_failure(std::string r, std::string f) : rule{std::move(r)}, found{std::move(f)} {}
    std::string rule;
    std::string found;
    friend bool operator==(west_failure const&, west_failure const&) = default;
};

// Where a record keeps its OCLC number.
enum class oclc_place { f035, f014 };

constexpr std::string_view to_string(oclc_place p) noexcept { return p == oclc_place::f035 ? "035" : "014"; }

namespace detail {

inline marc::subfield const* first_subfield(marc::field const& f, char code) noexcept {
    for (auto const& s : f.subfields)
        if (s.code == code) return &s;
    return nullptr;
}

inline bool leap_year(int y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

inline bool starts_with_nocase(std::string_view s, std::string_view prefix) noexcept {
    if (s.size() < prefix.size()) return false;
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (c != prefix[i]) return false;
    }
    return true;
}

}  // namespace detail

// A calendar date written YYYYMMDD, as WEST's 583 $c and $d are.
inline bool valid_yyyymmdd(std::string_view s) noexcept {
    if (s.size() != 8) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    auto const num = [&](std::size_t at, std::size_t n) {
        int v = 0;
        for (std::size_t i = at; i < at + n; ++i) v = v * 10 + (s[i] - '0');
        return v;
    };
    int const y = num(0, 4), m = num(4, 2), d = num(6, 2);
    static constexpr int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1000 || m < 1 || m > 12 || d < 1) return false;
    return d <= days[m - 1] + (m == 2 && detail::leap_year(y) ? 1 : 0);
}

// The places of the record's OCLC numbers: 035 $a "(OCoLC)...", 014 $b "OCoLC" or $a "(OCoLC)...".
struct oclc_places {
    bool in_035 = false;
    bool in_014 = false;
};

inline oclc_places find_oclc_places(marc::record const& r) noexcept {
    constexpr std::string_view prefix = "(OCoLC)";
    oclc_places p;
    for (auto const& f : r.fields()) {
        if (f.tag == "035") {
            for (auto const& s : f.subfields)
                if (s.code == 'a' && s.value.starts_with(prefix) && s.value.size() > prefix.size()) p.in_035 = true;
        } else if (f.tag == "014") {
            auto const* a = detail::first_subfield(f, 'a');
            if (a && !a->value.empty() && (f.subfield_value('b') == "OCoLC" || a->value.starts_with(prefix)))
                p.in_014 = true;
        }
    }
    return p;
}

// Checks records one after another. The OCLC number's place is fixed up front (a program that
// puts it there itself) or by the first record of the file that has one.
class west_checker {
public:
    west_checker() = default;
    explicit west_checker(oclc_place expected) : place_{expected} {}

    std::vector<west_failure> check(marc::record const& r) {
        std::vector<west_failure> out;
        for (std::string_view tag : {std::string_view{"001"}, std::string_view{"004"}})
            if (auto const* f = r.find(tag); !f || f->value.empty())
                out.emplace_back(std::string{tag}, f ? "empty" : "no " + std::string{tag});
        check_583(r, out);
        check_oclc(r, out);
        auto const* f852 = r.find("852");
        if (!f852) {
            out.emplace_back("852$b", "no 852");
        } else if (auto const* b = detail::first_subfield(*f852, 'b'); !b || b->value.empty()) {
            out.emplace_back("852$b", b ? "$b empty" : "no $b");
        }
        return out;
    }

    std::optional<oclc_place> place() const noexcept { return place_; }

private:
    static void check_583(marc::record const& r, std::vector<west_failure>& out) {
        marc::field const* commitment = nullptr;
        for (auto const& f : r.fields()) {
            if (f.tag != "583") continue;
            if (!commitment) commitment = &f;
            if (auto const* a = detail::first_subfield(f, 'a');
                a && detail::starts_with_nocase(a->value, "committed to retain")) {
                commitment = &f;
                break;
            }
        }
        if (!commitment) {
            out.emplace_back("583", "no 583");
            return;
        }
        auto const* a = detail::first_subfield(*commitment, 'a');
        if (!a)
            out.emplace_back("583$a", "no $a");
        else if (!detail::starts_with_nocase(a->value, "committed to retain"))
            out.emplace_back("583$a", a->value);
        auto const date = [&](char code) -> std::optional<std::string_view> {
            auto const* s = detail::first_subfield(*commitment, code);
            std::string const rule = std::string{"583$"} + code;
            if (!s) {
                out.emplace_back(rule, std::string{"no $"} + code);
                return std::nullopt;
            }
            if (!valid_yyyymmdd(s->value)) {
                out.emplace_back(rule, s->value);
                return std::nullopt;
            }
            return s->value;
        };
        auto const c = date('c');
        auto const d = date('d');
        // Equal-length digit strings: their order is the dates' order.
        if (c && d && *d < *c) out.emplace_back("583$d<$c", "$c " + std::string{*c} + " $d " + std::string{*d});
        if (auto const* f = detail::first_subfield(*commitment, 'f'); !f || f->value.empty())
            out.emplace_back("583$f", f ? "$f empty" : "no $f");
    }

    void check_oclc(marc::record const& r, std::vector<west_failure>& out) {
        auto const found = find_oclc_places(r);
        if (!found.in_035 && !found.in_014) {
            out.emplace_back("oclc-number", "no 035 (OCoLC) or 014");
            return;
        }
        if (!place_) place_ = found.in_035 ? oclc_place::f035 : oclc_place::f014;
        bool const there = *place_ == oclc_place::f035 ? found.in_035 : found.in_014;
        if (!there)
            out.emplace_back("oclc-place", std::string{"in "} + (found.in_035 ? "035" : "014") + ", not in " +
                                               std::string{to_string(*place_)} + " as the records before it");
    }

    std::optional<oclc_place> place_;
};

// What a report shows of a value found in a record: control characters as \xNN, so a row stays
// one line and a terminal shows what is there, and at most `limit` bytes (cut at a character
// boundary).
inline std::string printable(std::string_view value, std::size_t limit = 200) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (std::size_t i = 0; i < value.size(); ++i) {
        auto const c = static_cast<unsigned char>(value[i]);
        if (out.size() >= limit && (c & 0xC0) != 0x80) {
            out += "...";
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out;
}

inline constexpr std::string_view west_report_header = "record,holding_id,mms_id,rule,found\r\n";

// One row of west-check's report: the record's number in its file (1-based, counting every
// record met, as the readers' messages do), its 001 and 004, the rule and what was found.
inline std::string west_csv_row(std::uint64_t record_number, std::string_view holding_id, std::string_view mms_id,
                                west_failure const& f) {
    std::string row = std::to_string(record_number);
    for (std::string_view v : {holding_id, mms_id, std::string_view{f.rule}, std::string_view{f.found}}) {
        row += ',';
        alma::append_csv_field(row, printable(v));
    }
    row += "\r\n";
    return row;
}

// A report over several files has a first column more, the file a row is about: its header
// cell, then one cell a row.
inline constexpr std::string_view west_report_file_column = "file,";
inline std::string west_csv_file_cell(std::string_view file) {
    std::string cell;
    alma::append_csv_field(cell, printable(file));
    return cell + ',';
}

}  // namespace marcpipe::pipeline
