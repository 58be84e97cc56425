// alma_analytics: the Alma Analytics reports the loopback emulator serves (GET
// /almaws/v1/analytics/reports), made from its catalogue, with the quirks of Alma's answers; and
// the same report written as the files Analytics' user interface exports (CSV, UTF-16
// tab-separated).
//
// The reports, by catalogue path (analytics_report_path):
//   holdings   "Title", "Holding Id", "MMS Id": one row per item of each holding (Physical
//              Items), bibs in catalogue order, a bib's holdings in Alma's listing order (not by
//              ID). Deleted bibs are not in it. A bib drawn as having no items (no_items) is left
//              out entirely; every other holding has one to three items, so a holding with two
//              or three gives as many duplicate rows. (A holding without items beside holdings
//              with items is not modelled: no client could see it from the report.) Every
//              seventh bib's title is null (no element); titles carry commas, quotes and
//              non-ASCII text, and every eleventh a line break.
//   renamed    the same pairs under "Bib record" and "Holdings record", MMS column first
//   titles     "Title", "MMS Id" only: a report without a holding column
//   empty      the holdings report's columns and no rows
// Each reading of a report: `pending` answers that say "still computing" (IsFinished false,
// an empty ResultXml; the ResumptionToken is in the first answer only), then pages of `limit`
// rows (a multiple of 25 from 25 to 1000, else an error), the schema on the first page with rows
// only. A finished reading's token and an unknown one are Alma errors; so is an unknown path.
// `spurious_empty`: the first N first calls answer finished with zero rows. `lost_pages`: the
// first N token pages with rows are sent cut in half, and the reading moves on past them as
// Alma's does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alma_responses.hpp"
#include "catalogue.hpp"

namespace marcpipe::emulator {

enum class analytics_report { holdings, renamed, titles, empty };

inline std::string analytics_report_path(analytics_report r) {
    switch (r) {
        case analytics_report::holdings: return "/shared/Example University/Reports/WEST holdings";
        case analytics_report::renamed: return "/shared/Example University/Reports/WEST holdings, renamed";
        case analytics_report::titles: return "/shared/Example University/Reports/Titles";
        case analytics_report::empty: return "/shared/Example University/Reports/Nothing to retain";
    }
    return {};
}

inline std::optional<analytics_report> find_analytics_report(std::string_view path) {
    for (auto r : {analytics_report::holdings, analytics_report::renamed, analytics_report::titles,
                   analytics_report::empty})
        if (analytics_report_path(r) == path) return r;
    return std::nullopt;
}

// Physical Items: a bib with holdings but no items at all (about one in twelve), and how many
// items each holding of the others has (1 to 3).
inline bool no_items(catalogue const& cat, std::size_t bib) {
    return cat.holdings_count(bib) > 0 && detail::hash(cat.seed(), 0xA7A1, bib, 1) % 12 == 0;
}
inline std::size_t items_count(catalogue const& cat, std::size_t bib, std::size_t holding) {
    if (no_items(cat, bib)) return 0;
    auto const r = detail::hash(cat.seed(), 0xA7A1, bib * 64 + holding, 2) % 10;
    return r < 7 ? 1 : r < 9 ? 2 : 3;
}

struct analytics_cell_row {
    std::size_t bib = 0;
    std::string mms_id, holding_id;
    std::optional<std::string> title;  // null for every seventh bib
};

// The report's rows (for `titles`: one per bib with items), in the report's order.
inline std::vector<analytics_cell_row> analytics_rows(catalogue const& cat, analytics_report r) {
    std::vector<analytics_cell_row> rows;
    if (r == analytics_report::empty) return rows;
    for (std::size_t b = 0; b < cat.size(); ++b) {
        if (cat.deleted(b)) continue;
        std::optional<std::string> title;
        if (b % 7 != 3) {
            auto s = cat.bib(b);
            title = s.title + " \"" + s.author + "\", " + s.publisher;
            if (b % 11 == 5) *title += "\nsecond line";
        }
        for (auto h : cat.listing_order(b)) {
            for (std::size_t i = 0, n = items_count(cat, b, h); i < n; ++i)
                rows.push_back(analytics_cell_row{b, cat.mms_id(b), cat.holding_id(b, h), title});
            if (r == analytics_report::titles && items_count(cat, b, h)) break;
        }
    }
    return rows;
}

// The (MMS ID, holding ID) pairs a report gives, each once, in first-seen order.
inline std::vector<std::pair<std::string, std::string>> analytics_pairs(catalogue const& cat) {
    std::vector<std::pair<std::string, std::string>> out;
    for (auto const& row : analytics_rows(cat, analytics_report::holdings)) {
        std::pair<std::string, std::string> p{row.mms_id, row.holding_id};
        if (out.empty() || out.back() != p) out.push_back(std::move(p));  // a holding's rows are together
    }
    return out;
}

// A report's headings in column order (Column1..N), and a row's cells in that order.
inline std::vector<std::string> analytics_headings(analytics_report r) {
    switch (r) {
        case analytics_report::renamed: return {"Bib record", "Holdings record"};
        case analytics_report::titles: return {"Title", "MMS Id"};
        default: return {"Title", "Holding Id", "MMS Id"};
    }
}
inline std::vector<std::optional<std::string>> analytics_cells(analytics_report r, analytics_cell_row const& row) {
    switch (r) {
        case analytics_report::renamed: return {row.mms_id, row.holding_id};
        case analytics_report::titles: return {row.title, row.mms_id};
        default: return {row.title, row.holding_id, row.mms_id};
    }
}

struct analytics_knobs {
    std::size_t pending = 1;         // "still computing" answers before the first rows of a reading
    std::size_t spurious_empty = 0;  // first calls answered finished-and-empty
    std::size_t lost_pages = 0;      // token pages sent cut in half
};

// The server side: readings in progress by token. Thread-safe.
class analytics_service {
public:
    // GET /almaws/v1/analytics/reports: {status, body}; `error(code, message)` makes Alma's error.
    template <typename Error>
    std::pair<int, std::string> answer(catalogue const& cat, analytics_knobs const& k, std::string const& path,
                                       std::string const& token, std::string const& limit_text, Error error) {
        std::size_t limit = 25;
        if (!limit_text.empty()) {
            bool const digits = limit_text.size() <= 4 &&
                                std::all_of(limit_text.begin(), limit_text.end(), [](char c) { return c >= '0' && c <= '9'; });
            limit = digits ? std::stoul(limit_text) : 0;
            if (limit < 25 || limit > 1000 || limit % 25 != 0)
                return error("INVALID_PARAMETER", "limit must be a multiple of 25 between 25 and 1000, not " + limit_text);
        }
        std::lock_guard lock{mutex_};
        std::string fresh;
        reading* at = nullptr;
        if (!token.empty()) {
            auto it = readings_.find(token);
            if (it == readings_.end()) return error("420033", "The token " + token + " is not valid or has expired.");
            at = &it->second;
        } else {
            if (path.empty()) return error("420033", "No path or token were specified.");
            auto report = find_analytics_report(path);
            if (!report) return error("420031", "Invalid report path: " + path + ".");
            if (spurious_given_ < k.spurious_empty) {
                ++spurious_given_;
                return {200, page_xml(*report, {}, true, std::nullopt, true, cat)};
            }
            fresh = "T" + std::to_string(++readings_made_);
            fresh += std::string(128 - fresh.size(), 'A');
            at = &readings_[fresh];
            at->report = *report;
            at->pending = k.pending;
            at->rows = analytics_rows(cat, *report);
        }
        std::optional<std::string> const first_token = fresh.empty() ? std::nullopt : std::optional{fresh};
        std::string const key = fresh.empty() ? token : fresh;
        if (at->pending > 0) {
            --at->pending;
            return {200, pending_xml(first_token)};
        }
        std::size_t const from = at->next;
        std::size_t const to = std::min(at->rows.size(), from + limit);
        bool const finished = to == at->rows.size();
        std::vector<analytics_cell_row> page(at->rows.begin() + static_cast<std::ptrdiff_t>(from),
                                             at->rows.begin() + static_cast<std::ptrdiff_t>(to));
        bool const schema = !at->schema_sent;
        at->schema_sent = true;
        at->next = to;
        auto const report = at->report;
        if (finished) readings_.erase(key);
        std::string body = page_xml(report, page, finished, first_token, schema, cat);
        if (!token.empty() && !page.empty() && lost_given_ < k.lost_pages) {
            ++lost_given_;
            body.resize(body.size() / 2);
        }
        return {200, std::move(body)};
    }

    std::size_t lost_pages_sent() {
        std::lock_guard lock{mutex_};
        return lost_given_;
    }

    static std::string pending_xml(std::optional<std::string> const& token) {
        std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<report><QueryResult>";
        if (token) x += "<ResumptionToken>" + *token + "</ResumptionToken>";
        x += "<IsFinished>false</IsFinished><ResultXml></ResultXml></QueryResult></report>";
        return x;
    }

    static std::string page_xml(analytics_report r, std::vector<analytics_cell_row> const& rows, bool finished,
                                std::optional<std::string> const& token, bool schema, catalogue const&) {
        std::string const ns{"urn:schemas-microsoft-com:xml-analysis:rowset"};
        std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<report><QueryResult>";
        if (token) x += "<ResumptionToken>" + *token + "</ResumptionToken>";
        x += std::string{"<IsFinished>"} + (finished ? "true" : "false") + "</IsFinished><ResultXml>";
        x += "<rowset:rowset xmlns:saw-sql=\"urn:saw-sql\" xmlns:rowset=\"" + ns + "\" xmlns=\"" + ns + "\">";
        auto const headings = analytics_headings(r);
        if (schema) {
            x += "<xsd:schema xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" targetNamespace=\"" + ns +
                 "\" xmlns:saw-sql=\"urn:saw-sql\"><xsd:complexType name=\"Row\"><xsd:sequence>";
            auto element = [&](std::size_t n, std::string const& heading, std::string const& table) {
                x += "<xsd:element minOccurs=\"0\" maxOccurs=\"1\" name=\"Column" + std::to_string(n) +
                     "\" type=\"xsd:string\" saw-sql:type=\"varchar\" saw-sql:sqlFormula=\"\" "
                     "saw-sql:displayFormula=\"\" saw-sql:aggregationRule=\"none\" saw-sql:aggregationType=\"nonAgg\" "
                     "saw-sql:tableHeading=\"" +
                     table + "\" saw-sql:columnHeading=\"";
                append_escaped(x, heading);
                x += "\" saw-sql:isDoubleColumn=\"false\" saw-sql:columnID=\"c" + std::to_string(n) + "\"/>";
            };
            element(0, "0", "");
            for (std::size_t i = 0; i < headings.size(); ++i)
                element(i + 1, headings[i], headings[i] == "Holding Id" ? "Holding Details" : "Bibliographic Details");
            x += "</xsd:sequence></xsd:complexType></xsd:schema>";
        }
        for (auto const& row : rows) {
            x += "<Row><Column0>0</Column0>";
            auto const cells = analytics_cells(r, row);
            for (std::size_t i = 0; i < cells.size(); ++i) {
                if (!cells[i]) continue;  // a null cell has no element
                std::string const col = "Column" + std::to_string(i + 1);
                x += "<" + col + ">";
                append_escaped(x, *cells[i]);
                x += "</" + col + ">";
            }
            x += "</Row>";
        }
        x += "</rowset:rowset></ResultXml></QueryResult></report>";
        return x;
    }

private:
    struct reading {
        analytics_report report = analytics_report::holdings;
        std::size_t pending = 0;
        std::size_t next = 0;
        bool schema_sent = false;
        std::vector<analytics_cell_row> rows;
    };
    std::mutex mutex_;
    std::map<std::string, reading> readings_;
    std::size_t readings_made_ = 0;
    std::size_t spurious_given_ = 0;
    std::size_t lost_given_ = 0;
};

// The holdings report as Analytics' user interface exports it: `csv` UTF-8 with a byte-order
// mark, CRLF, fields quoted where they hold a comma, quote or line break; otherwise tab-separated
// UTF-16 (little-endian) with a byte-order mark, quoted the same way.
inline std::string analytics_export(catalogue const& cat, bool csv) {
    char const sep = csv ? ',' : '\t';
    auto field = [&](std::string const& v) {
        if (v.find_first_of(std::string{sep} + "\"\r\n") == std::string::npos) return v;
        std::string q = "\"";
        for (char c : v) q += c == '"' ? std::string{"\"\""} : std::string(1, c);
        return q + "\"";
    };
    std::string text;
    auto line = [&](std::vector<std::optional<std::string>> const& cells) {
        for (std::size_t i = 0; i < cells.size(); ++i) {
            if (i) text += sep;
            if (cells[i]) text += field(*cells[i]);
        }
        text += "\r\n";
    };
    auto const headings = analytics_headings(analytics_report::holdings);
    line({headings.begin(), headings.end()});
    for (auto const& row : analytics_rows(cat, analytics_report::holdings))
        line(analytics_cells(analytics_report::holdings, row));
    if (csv) return "\xEF\xBB\xBF" + text;
    // UTF-8 to UTF-16LE.
    std::string out = "\xFF\xFE";
    for (std::size_t i = 0; i < text.size();) {
        auto const c = static_cast<unsigned char>(text[i]);
        std::uint32_t cp = c;
        std::size_t n = 1;
        if (c >= 0xF0) cp = c & 0x07, n = 4;
        else if (c >= 0xE0) cp = c & 0x0F, n = 3;
        else if (c >= 0xC0) cp = c & 0x1F, n = 2;
        for (std::size_t j = 1; j < n; ++j) cp = (cp << 6) | (static_cast<unsigned char>(text[i + j]) & 0x3F);
        i += n;
        auto unit = [&](std::uint32_t u) {
            out += static_cast<char>(u & 0xFF);
            out += static_cast<char>(u >> 8);
        };
        if (cp >= 0x10000) {
            cp -= 0x10000;
            unit(0xD800 + (cp >> 10));
            unit(0xDC00 + (cp & 0x3FF));
        } else {
            unit(cp);
        }
    }
    return out;
}

}  // namespace marcpipe::emulator
