// report: the CSV error report of a run — one row per bib or holding that could not be delivered.
//
// Columns: stage, mms_id, holding_id, http_status, alma_code, message, tracking_id. A librarian
// opens it in a spreadsheet and hands the tracking ID to Ex Libris support, so every field is
// quoted the way RFC 4180 says (a message may hold commas and quotes), nothing in it is ever an
// API key, and nothing a server sent can act as a formula or a terminal escape (append_csv_field).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

#include "marcpipe/net/printable.hpp"

namespace marcpipe::alma {

// Where in the job a record was lost.
enum class stage {
    export_record,    // the bib export itself (a record without 001, a malformed record)
    holdings_list,    // GET /bibs/{mms_id}/holdings (or the bulk /bibs?mms_id=...)
    holding_record,   // GET /bibs/{mms_id}/holdings/{holding_id}
    write_record,     // the record could not be written (over ISO 2709's size limits)
    set_members,      // GET /conf/sets/{set_id} and its members (the input of --set)
    west_check,       // a record WEST would not accept (west/west_checks.hpp); it is kept
                      // unless the program leaves such records out
};

constexpr std::string_view to_string(stage s) noexcept {
    switch (s) {
        case stage::export_record: return "export";
        case stage::holdings_list: return "holdings-list";
        case stage::holding_record: return "holding-record";
        case stage::write_record: return "write";
        case stage::set_members: return "set";
        case stage::west_check: return "west-check";
    }
    return "unknown";
}

// One lost bib or holding. http_status is 0 when no HTTP answer was involved (a bad export
// record, a transport failure that outlived its retries).
struct problem {
    problem() = default;
    problem(alma::stage s, std::string mms, std::string holding, long status, std::string code,
            std::string text, std::string tracking)
        : where{s}, mms_id{std::move(mms)}, holding_id{std::move(holding)}, http_status{status},
          alma_code{std::move(code)}, message{std::move(text)}, tracking_id{std::move(tracking)} {}

    alma::stage where = stage::holdings_list;
    std::string mms_id;
    std::string holding_id;
    long http_status = 0;
    std::string alma_code;
    std::string message;
    std::string tracking_id;

    friend bool operator==(problem const&, problem const&) = default;
};

// A call's answer, or the problem to report for it (stage, IDs, status, Alma code, message,
// tracking ID all filled in).
template <typename T>
using outcome = tl::expected<T, problem>;

// Whether an answer settles the question for good, so a resumed run may take it instead of
// asking again: what Alma said (a list, a record, a 4xx with its reason, such as a deleted bib).
// A failure that outlived its retries (the network, a 5xx, a 429, a body that could not be
// read) is not: the interrupted run was perhaps stopped because of it, and the resumed run
// tries again.
template <typename T>
bool settled(outcome<T> const& answer) noexcept {
    if (answer) return true;
    long const status = answer.error().http_status;
    return status >= 400 && status < 500 && status != 408 && status != 429;
}

inline constexpr std::string_view report_header =
    "stage,mms_id,holding_id,http_status,alma_code,message,tracking_id\r\n";

// Appends one CSV field. Its text is the server's as often as not, so it is made safe first:
// control characters are shown as \xNN (net::printable: a row stays one line, and a report shown
// with `cat` cannot drive the terminal), and a field that a spreadsheet would take for a formula
// (starting with =, +, - or @) gets a leading apostrophe, which the spreadsheet shows as text
// and which a reader of the file can drop to get the original. Then it is quoted when it holds a
// comma or a quote, or starts or ends with a blank (spreadsheets trim those otherwise); quotes
// inside are doubled.
inline void append_csv_field(std::string& out, std::string_view text) {
    std::string value = net::printable(text);
    if (!value.empty() && (value.front() == '=' || value.front() == '+' || value.front() == '-' ||
                           value.front() == '@'))
        value.insert(0, 1, '\'');
    bool const needs_quotes = value.find_first_of(",\"") != std::string::npos ||
                              (!value.empty() && (value.front() == ' ' || value.back() == ' '));
    if (!needs_quotes) {
        out.append(value);
        return;
    }
    out.push_back('"');
    for (char c : value) {
        if (c == '"') out.push_back('"');
        out.push_back(c);
    }
    out.push_back('"');
}

// One row, CRLF-terminated as RFC 4180 has it.
inline std::string csv_row(problem const& p) {
    std::string row;
    append_csv_field(row, to_string(p.where));
    row.push_back(',');
    append_csv_field(row, p.mms_id);
    row.push_back(',');
    append_csv_field(row, p.holding_id);
    row.push_back(',');
    if (p.http_status != 0) row += std::to_string(p.http_status);
    row.push_back(',');
    append_csv_field(row, p.alma_code);
    row.push_back(',');
    append_csv_field(row, p.message);
    row.push_back(',');
    append_csv_field(row, p.tracking_id);
    row += "\r\n";
    return row;
}

// The same problem as one line for a terminal, the server's text shown with net::printable.
inline std::string describe(problem const& p) {
    std::string line{to_string(p.where)};
    if (!p.mms_id.empty()) line += " mms_id " + net::printable(p.mms_id);
    if (!p.holding_id.empty()) line += " holding_id " + net::printable(p.holding_id);
    line += ":";
    if (p.http_status != 0) line += " HTTP " + std::to_string(p.http_status);
    if (!p.alma_code.empty()) line += " " + net::printable(p.alma_code);
    if (!p.message.empty()) line += " " + net::printable(p.message);
    if (!p.tracking_id.empty()) line += " (tracking ID " + net::printable(p.tracking_id) + ")";
    return line;
}

// The most of one field's text a row or a terminal line carries. A server's message is a
// sentence; one of megabytes (a page of debug output) copied into every row would make a report
// of gigabytes, so it is cut here, and the cut is said.
inline constexpr std::size_t max_shown_text = 1024;

// `text` cut to max_shown_text bytes (never inside a UTF-8 sequence or a \xNN escape), with
// " [cut: N bytes in all]" after it when it was cut.
inline std::string cut_for_showing(std::string text) {
    if (text.size() <= max_shown_text) return text;
    std::size_t const whole = text.size();
    std::size_t end = max_shown_text;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    for (std::size_t back = 1; back <= 3 && back <= end; ++back)
        if (text[end - back] == '\\' && end - back + 1 < whole && text[end - back + 1] == 'x') {
            end -= back;
            break;
        }
    text.resize(end);
    return text + " [cut: " + std::to_string(whole) + " bytes in all]";
}

// The problem as it may be shown anywhere (a report row, a terminal line): every text field
// passed through `scrub` (the API key and apikey=... replaced, control characters escaped:
// net::http_client::scrub), then cut to max_shown_text. A server can echo anything into any of
// them, the key included, so no field is trusted to be clean. A run writes each problem only
// through this (run::release, run/run.hpp).
template <typename Scrub>
problem shown(problem p, Scrub&& scrub) {
    for (std::string* field : {&p.mms_id, &p.holding_id, &p.alma_code, &p.message, &p.tracking_id})
        *field = cut_for_showing(std::string{scrub(std::string_view{*field})});
    return p;
}

// Writes a header and then rows to a stream.
class report_writer {
public:
    explicit report_writer(std::ostream& out, bool write_header = true) : out_{&out} {
        if (write_header) *out_ << report_header;
    }
    void write(problem const& p) {
        *out_ << csv_row(p);
        ++rows_;
    }
    std::uint64_t rows() const noexcept { return rows_; }

private:
    std::ostream* out_;
    std::uint64_t rows_ = 0;
};

// Problems of a run, held until every bib before them is finished and then released in export
// order (by the bib's position, then in the order they were found). The I/O stages run ahead of
// the output and find problems out of order; releasing them in order makes the report of two runs
// of the same job identical, and lets a resumed run cut the report where the output was cut.
class problem_log {
public:
    void add(std::uint64_t bib_seq, problem p) {
        pending_.push_back(entry{bib_seq, arrival_++, std::move(p)});
        ++found_;
    }

    // Hands every held problem of a bib before `bib_seq` to `release`, in export order.
    template <typename Release>
    void release_before(std::uint64_t bib_seq, Release&& release) {
        if (pending_.empty()) return;
        std::stable_sort(pending_.begin(), pending_.end(),
                         [](entry const& a, entry const& b) { return a.bib_seq < b.bib_seq; });
        auto const cut = std::find_if(pending_.begin(), pending_.end(),
                                      [&](entry const& e) { return e.bib_seq >= bib_seq; });
        for (auto it = pending_.begin(); it != cut; ++it) {
            ++released_;
            release(it->bib_seq, it->what);
        }
        pending_.erase(pending_.begin(), cut);
    }
    template <typename Release>
    void release_all(Release&& release) {
        release_before(UINT64_MAX, std::forward<Release>(release));
    }
    // Drops held problems of bibs from `bib_seq` on (a run stopping early: those bibs are done
    // again on resume, and their problems found again).
    void forget_from(std::uint64_t bib_seq) {
        std::erase_if(pending_, [&](entry const& e) { return e.bib_seq >= bib_seq; });
    }

    std::uint64_t found() const noexcept { return found_; }
    std::uint64_t released() const noexcept { return released_; }
    std::size_t held() const noexcept { return pending_.size(); }

private:
    struct entry {
        entry(std::uint64_t s, std::uint64_t a, problem p) : bib_seq{s}, arrival{a}, what{std::move(p)} {}
        std::uint64_t bib_seq;
        std::uint64_t arrival;
        problem what;
    };
    std::vector<entry> pending_;
    std::uint64_t arrival_ = 0;
    std::uint64_t found_ = 0;
    std::uint64_t released_ = 0;
};

}  // namespace marcpipe::alma
