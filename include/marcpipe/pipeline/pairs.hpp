// pairs: (MMS ID, holding ID) pairs as a run's source of holding IDs, in place of the holdings
// list calls — read from an Alma Analytics report through the API (alma/analytics.hpp), or from
// the file that report was exported to from the Analytics user interface.
//
//   pipeline::pair_columns cols;                                  // "MMS Id", "Holding Id"
//   auto p = pipeline::read_pairs_file("report.csv", cols, "west-holdings");   // throws pairs_error
//   auto p = pipeline::read_report_pairs(client, "/shared/U/Reports/WEST", cols, "west-holdings", seen);
//
// A bib's holdings are kept ascending by holding ID, each once (a report lists a holding once
// per item), so the records go out in the order list mode writes them; bibs keep the order in
// which the pairs first name them.
#pragma once

#include <sys/stat.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "marcpipe/alma/analytics.hpp"
#include "marcpipe/alma/holdings.hpp"
#include "marcpipe/alma/ids.hpp"
#include "marcpipe/marc/utf8.hpp"
#include "marcpipe/pipeline/sources.hpp"

namespace marcpipe::pipeline {

// A pairs file that cannot be used (unreadable, without the columns, a line at fault): nothing
// was asked of Alma, and the programs exit 2. The message is whole, the program's name first.
class pairs_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The pairs of a report: bibs in first-seen order, each bib's holding IDs ascending, each once.
class report_pairs {
public:
    // Whether the pair is new (a row repeating one gives nothing new).
    bool add(std::string const& mms_id, std::string const& holding_id) {
        ++rows_;
        auto [it, fresh] = holdings_.try_emplace(mms_id);
        if (fresh) {
            it->second.position = bibs_.size();
            bibs_.push_back(mms_id);
        }
        auto& ids = it->second.ids;
        auto at = std::lower_bound(ids.begin(), ids.end(), holding_id,
                                   [](std::string const& a, std::string const& b) { return alma::holding_id_before(a, b); });
        if (at != ids.end() && *at == holding_id) return false;
        ids.insert(at, holding_id);
        ++pairs_;
        return true;
    }
    std::vector<std::string> const& bibs() const noexcept { return bibs_; }
    // The bib's holding IDs, ascending; null when no pair names the bib.
    std::vector<std::string> const* holdings_of(std::string const& mms_id) const {
        auto it = holdings_.find(mms_id);
        return it == holdings_.end() ? nullptr : &it->second.ids;
    }
    // Where the bib stands in bibs(); nothing when no pair names it.
    std::optional<std::uint64_t> position(std::string const& mms_id) const {
        auto it = holdings_.find(mms_id);
        if (it == holdings_.end()) return std::nullopt;
        return it->second.position;
    }
    std::uint64_t pairs() const noexcept { return pairs_; }  // distinct
    std::uint64_t rows() const noexcept { return rows_; }    // as read, duplicates included

private:
    struct bib_pairs {
        std::uint64_t position = 0;
        std::vector<std::string> ids;
    };
    std::vector<std::string> bibs_;
    std::unordered_map<std::string, bib_pairs> holdings_;
    std::uint64_t pairs_ = 0, rows_ = 0;
};

// The headings of the two columns, matched as alma::heading_key matches them.
struct pair_columns {
    pair_columns() {}
    std::string mms_id = "MMS Id";
    std::string holding_id = "Holding Id";
};

// "--analytics-columns MMS HEADING,HOLDING HEADING"; nothing when it is not two headings.
inline std::optional<pair_columns> parse_pair_columns(std::string_view text) {
    auto const comma = text.find(',');
    if (comma == std::string_view::npos || text.find(',', comma + 1) != std::string_view::npos) return std::nullopt;
    pair_columns c;
    c.mms_id = std::string{detail::trim_line(text.substr(0, comma))};
    c.holding_id = std::string{detail::trim_line(text.substr(comma + 1))};
    if (c.mms_id.empty() || c.holding_id.empty()) return std::nullopt;
    return c;
}

namespace pairs_detail {

inline std::string listed(std::vector<std::string> const& headings) {
    std::string s;
    for (auto const& h : headings) s += (s.empty() ? "\"" : ", \"") + h + "\"";
    return s.empty() ? "none" : s;
}

// The index of each column among `headings`, or a message saying which is missing.
inline std::optional<std::pair<std::size_t, std::size_t>> find_columns(std::vector<std::string> const& headings,
                                                                       pair_columns const& cols, std::string& why) {
    std::optional<std::size_t> mms, holding;
    for (std::size_t i = 0; i < headings.size(); ++i) {
        auto const key = alma::heading_key(headings[i]);
        if (!mms && key == alma::heading_key(cols.mms_id)) mms = i;
        else if (!holding && key == alma::heading_key(cols.holding_id)) holding = i;
    }
    if (mms && holding) return std::pair{*mms, *holding};
    why = std::string{"has no "} + (!mms ? "\"" + cols.mms_id + "\"" : "") + (!mms && !holding ? " or " : "") +
          (!holding ? "\"" + cols.holding_id + "\"" : "") + " column (its headings: " + listed(headings) +
          "); name its columns with --analytics-columns \"MMS HEADING,HOLDING HEADING\"";
    return std::nullopt;
}

// 9.91234567890001E+17: what a spreadsheet makes of an ID of 18 digits, rounded to 15.
inline bool spreadsheet_number(std::string_view v) {
    auto const e = v.find_first_of("eE");
    if (e == std::string_view::npos || e == 0 || e + 1 >= v.size()) return false;
    std::string_view mantissa = v.substr(0, e), exponent = v.substr(e + 1);
    if (exponent.front() == '+') exponent.remove_prefix(1);
    auto const digits = [](std::string_view s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    auto const dot = mantissa.find('.');
    if (dot == std::string_view::npos) return digits(mantissa) && digits(exponent);
    return digits(mantissa.substr(0, dot)) && digits(mantissa.substr(dot + 1)) && digits(exponent);
}

// UTF-16 (with its byte-order mark) to UTF-8; nothing when it is not UTF-16.
inline std::optional<std::string> from_utf16(std::string_view bytes, bool little) {
    std::string out;
    if (bytes.size() % 2) return std::nullopt;
    auto unit = [&](std::size_t i) {
        auto const a = static_cast<unsigned char>(bytes[i]), b = static_cast<unsigned char>(bytes[i + 1]);
        return little ? std::uint32_t(a | (b << 8)) : std::uint32_t((a << 8) | b);
    };
    for (std::size_t i = 0; i < bytes.size(); i += 2) {
        std::uint32_t cp = unit(i);
        if (cp >= 0xD800 && cp < 0xDC00) {
            if (i + 3 >= bytes.size()) return std::nullopt;
            std::uint32_t const low = unit(i + 2);
            if (low < 0xDC00 || low >= 0xE000) return std::nullopt;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 2;
        } else if (cp >= 0xDC00 && cp < 0xE000) {
            return std::nullopt;
        }
        marc::append_utf8(out, cp);
    }
    return out;
}

// One record of a delimited file and the line it starts on.
struct delimited_record {
    std::size_t line = 0;
    std::vector<std::string> cells;
};

// Splits CSV or tab-separated text into records: a field in quotes may hold the separator,
// doubled quotes and line breaks; CRLF and LF both end a record. Nothing when a quote is not closed.
inline std::optional<std::vector<delimited_record>> split_records(std::string_view text, char sep,
                                                                 std::size_t& unclosed_line) {
    std::vector<delimited_record> out;
    std::size_t line = 1, i = 0;
    while (i < text.size()) {
        delimited_record rec;
        rec.line = line;
        std::string cell;
        bool end_of_record = false;
        while (!end_of_record) {
            cell.clear();
            if (i < text.size() && text[i] == '"') {
                ++i;
                for (;;) {
                    if (i >= text.size()) {
                        unclosed_line = rec.line;
                        return std::nullopt;
                    }
                    char const c = text[i++];
                    if (c == '"') {
                        if (i < text.size() && text[i] == '"') {
                            cell += '"';
                            ++i;
                            continue;
                        }
                        break;
                    }
                    if (c == '\n') ++line;
                    cell += c;
                }
            }
            while (i < text.size() && text[i] != sep && text[i] != '\n') cell += text[i++];
            if (!cell.empty() && cell.back() == '\r' && (i >= text.size() || text[i] == '\n')) cell.pop_back();
            rec.cells.push_back(cell);
            if (i >= text.size()) {
                end_of_record = true;
            } else if (text[i] == sep) {
                ++i;
            } else {
                ++i;  // '\n'
                ++line;
                end_of_record = true;
            }
        }
        bool const blank = rec.cells.size() == 1 && detail::trim_line(rec.cells[0]).empty();
        if (!blank) out.push_back(std::move(rec));
    }
    return out;
}

}  // namespace pairs_detail

// Reads the pairs from a report exported by the Analytics user interface: CSV (UTF-8, with or
// without a byte-order mark) or tab-separated (UTF-8, or UTF-16 with a byte-order mark), told
// apart by the content; a header row names the columns. The whole text is checked: a line with
// too few cells, an ID that is not all digits, or one a spreadsheet turned into a number is a
// pairs_error naming `where` and the line (`program: FILE line N: ...`).
inline report_pairs read_pairs_text(std::string_view bytes, std::string const& where, pair_columns const& cols,
                                    std::string const& program) {
    auto const refuse = [&](std::string const& what) -> pairs_error {
        return pairs_error(program + ": " + where + " " + what);
    };
    std::string text;
    if (bytes.starts_with("\xFF\xFE") || bytes.starts_with("\xFE\xFF")) {
        auto utf8 = pairs_detail::from_utf16(bytes.substr(2), bytes[0] == '\xFF');
        if (!utf8) throw refuse("starts as UTF-16 but is not UTF-16 throughout");
        text = std::move(*utf8);
    } else {
        if (bytes.starts_with("\xEF\xBB\xBF")) bytes.remove_prefix(3);
        if (bytes.find('\0') != std::string_view::npos)
            throw refuse("holds NUL bytes: UTF-16 without a byte-order mark, or not a text file; export the report "
                         "again as CSV or tab-delimited");
        text = std::string{bytes};
    }
    auto const first_line = std::string_view{text}.substr(0, text.find('\n'));
    char const sep = first_line.find('\t') != std::string_view::npos ? '\t' : ',';
    std::size_t unclosed = 0;
    auto records = pairs_detail::split_records(text, sep, unclosed);
    if (!records) throw refuse("line " + std::to_string(unclosed) + ": a quoted field is not closed");
    if (records->empty()) throw refuse("is empty: expected a header row naming the columns, then one row per pair");
    std::vector<std::string> headings;
    for (auto const& h : records->front().cells) headings.emplace_back(detail::trim_line(h));
    std::string why;
    auto const columns = pairs_detail::find_columns(headings, cols, why);
    if (!columns) throw refuse(why);
    auto const [mms_at, holding_at] = *columns;
    report_pairs out;
    for (std::size_t r = 1; r < records->size(); ++r) {
        auto const& rec = (*records)[r];
        std::string const line = "line " + std::to_string(rec.line);
        if (rec.cells.size() <= std::max(mms_at, holding_at))
            throw refuse(line + ": " + std::to_string(rec.cells.size()) + " cells, too few for the \"" +
                         headings[std::max(mms_at, holding_at)] + "\" column (cell " +
                         std::to_string(std::max(mms_at, holding_at) + 1) + ")");
        std::string ids[2];
        for (int k = 0; k < 2; ++k) {
            std::string_view const what = k == 0 ? "MMS ID" : "holding ID";
            std::string_view const v = detail::trim_line(rec.cells[k == 0 ? mms_at : holding_at]);
            if (pairs_detail::spreadsheet_number(v))
                throw refuse(line + ": the " + std::string{what} + " " + std::string{v} +
                             " is a number a spreadsheet made of the ID, rounded to 15 digits: the ID is lost. Export "
                             "the report again and use that file as it is (or import its ID columns as text); nothing "
                             "was asked of Alma");
            if (!alma::is_valid_id(v) || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
                throw refuse(line + ": " + alma::invalid_id_message(what, v) + " (an ID is all digits)");
            ids[k] = std::string{v};
        }
        out.add(ids[0], ids[1]);
    }
    return out;
}

inline report_pairs read_pairs_file(std::string const& path, pair_columns const& cols, std::string const& program) {
    std::ifstream in{path, std::ios::binary};
    struct stat st {};
    if (!in || (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)))
        throw pairs_error(program + ": cannot read the pairs file " + path);
    std::string bytes{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    return read_pairs_text(bytes, path, cols, program);
}

// Whether a file's first bytes are those of an Analytics export (a byte-order mark, or a header
// row naming the MMS ID column) rather than holding_id<TAB>mms_id lines.
inline bool looks_like_pairs_export(std::string_view start, pair_columns const& cols = {}) {
    if (start.starts_with("\xFF\xFE") || start.starts_with("\xFE\xFF") || start.starts_with("\xEF\xBB\xBF")) return true;
    std::string_view line = start.substr(0, start.find('\n'));
    char const sep = line.find('\t') != std::string_view::npos ? '\t' : ',';
    for (std::size_t at = 0; at <= line.size();) {
        auto const end = std::min(line.find(sep, at), line.size());
        std::string_view cell = detail::trim_line(line.substr(at, end - at));
        if (cell.size() >= 2 && cell.front() == '"' && cell.back() == '"') cell = cell.substr(1, cell.size() - 2);
        if (alma::heading_key(cell) == alma::heading_key(cols.mms_id)) return true;
        at = end + 1;
    }
    return false;
}

// Told of each new pair as a reading of the report finds it, with the pairs that reading has
// found so far (a reading started again after a lost page starts them afresh).
using on_new_pair = std::function<void(report_pairs const& so_far, std::string const& mms_id, std::string const& holding_id)>;

// The pairs of an Analytics report, read through the API. A reading that loses a page is
// started again from the start, at most three times (each reading's rows forgotten), and then
// the report cannot be read now (alma::analytics_error, exit 3). A report without both columns is
// an analytics_error with exit 2 listing its headings.
inline report_pairs read_report_pairs(alma::client& client, std::string const& path, pair_columns const& cols,
                                      alma::analytics_reading& seen, alma::analytics_options opt = {},
                                      on_new_pair const& found = {}) {
    constexpr int readings = 4;  // the first and three more
    for (int attempt = 1;; ++attempt) {
        report_pairs out;
        seen.headings.clear();
        try {
            for (alma::analytics_row const& row : alma::analytics_rows(client, path, opt, seen)) {
                auto mms = row.value(cols.mms_id), holding = row.value(cols.holding_id);
                if (!mms || !holding) {
                    std::string why;
                    if (!pairs_detail::find_columns(seen.headings, cols, why))
                        throw alma::analytics_error("report " + path + " " + why, 2);
                    continue;  // a null cell in a row: no pair in it
                }
                if (!alma::is_valid_id(*mms) || !alma::is_valid_id(*holding))
                    throw alma::analytics_error("report " + path + " lists " +
                                                    alma::invalid_id_message(alma::is_valid_id(*mms) ? "holding ID" : "MMS ID",
                                                                             alma::is_valid_id(*mms) ? *holding : *mms),
                                                2);
                if (out.add(*mms, *holding) && found) found(out, *mms, *holding);
            }
        } catch (alma::analytics_lost const& e) {
            if (attempt == readings)
                throw alma::analytics_error(std::string{e.what()} + "; read " + std::to_string(readings) +
                                                " times, a page lost each time; run the command again later",
                                            3);
            continue;
        }
        std::string why;
        if (!seen.headings.empty() && !pairs_detail::find_columns(seen.headings, cols, why))
            throw alma::analytics_error("report " + path + " " + why, 2);
        return out;
    }
}

// How the pairs meet the bibs an export (or a set) gives: the pairs of other bibs are skipped;
// a given bib no pair names gets its holdings list (Physical Items lists only holdings with items).
struct pair_coverage {
    std::uint64_t bibs = 0;               // given by the input
    std::uint64_t bibs_without_pair = 0;  // asked for their holdings list
    std::uint64_t pairs_used = 0;
    std::uint64_t pairs_skipped = 0;      // of bibs the input does not give
};

inline pair_coverage cover(report_pairs const& pairs, std::vector<std::string> const& input_mms_ids) {
    pair_coverage c;
    std::unordered_map<std::string, bool> given;
    for (auto const& id : input_mms_ids) {
        if (!given.emplace(id, true).second) continue;  // a repeated bib is fetched once
        ++c.bibs;
        if (auto const* h = pairs.holdings_of(id)) c.pairs_used += h->size();
        else ++c.bibs_without_pair;
    }
    c.pairs_skipped = pairs.pairs() - c.pairs_used;
    return c;
}

// The line a program prints about its pairs: what was read, and with an input, how it met it.
inline std::string describe_pairs(report_pairs const& pairs, std::string const& from, std::optional<pair_coverage> c) {
    std::string s = from + ": " + std::to_string(pairs.rows()) + " rows, " + std::to_string(pairs.pairs()) +
                    " distinct (MMS ID, holding ID) pairs of " + std::to_string(pairs.bibs().size()) + " bibs";
    if (pairs.rows() == 0) s += " (the report is empty)";
    if (c)
        s += "; " + std::to_string(c->pairs_skipped) + " pairs skipped (their bibs are not in the input), " +
             std::to_string(c->bibs_without_pair) + " of the input's " + std::to_string(c->bibs) +
             " bibs had no pair and got their holdings list";
    return s;
}

}  // namespace marcpipe::pipeline
