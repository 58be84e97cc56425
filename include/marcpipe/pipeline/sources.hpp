// sources: where a run starts — the bib export (MARC21 or MARCXML) or a list of MMS IDs, format
// detected — as lazy ranges of records or of bibs, and the mms_ids stage between them.
//
// Bibs are numbered by their position in the input (0-based, every record counted, a bad one
// too), so the numbers mean the same records in every run over the same input; that is what
// ordering, the error report and --resume rely on.
#pragma once

#include <cctype>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <range/v3/range/concepts.hpp>
#include <range/v3/view/all.hpp>

#include "../alma/report.hpp"
#include "../coro/generator.hpp"
#include "../marc/error.hpp"
#include "../marc/iso2709_reader.hpp"
#include "../marc/marcxml_reader.hpp"
#include "../marc/record.hpp"
#include "../marc/source.hpp"
#include "items.hpp"

namespace marcpipe::pipeline {

enum class input_format { marc21, marcxml, mms_id_list };

constexpr std::string_view to_string(input_format f) noexcept {
    switch (f) {
        case input_format::marc21: return "MARC21";
        case input_format::marcxml: return "MARCXML";
        case input_format::mms_id_list: return "list of MMS IDs";
    }
    return "?";
}

// Decides the format from the first bytes: '<' (after a BOM or blanks) is MARCXML, five digits
// is an ISO 2709 leader (a record length), anything else is read as one MMS ID a line.
inline input_format detect_format(std::string_view head) {
    if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
    std::size_t i = 0;
    while (i < head.size() && std::isspace(static_cast<unsigned char>(head[i]))) ++i;
    if (i < head.size() && head[i] == '<') return input_format::marcxml;
    if (head.size() >= marc::leader_length) {
        bool digits = true;
        for (std::size_t k = 0; k < 5; ++k) digits = digits && std::isdigit(static_cast<unsigned char>(head[k]));
        // A leader has its length, then status/type/level letters; an ID list has a newline
        // within the first 24 bytes or digits all along.
        bool line_break = head.substr(0, marc::leader_length).find('\n') != std::string_view::npos;
        if (digits && !line_break && !std::isdigit(static_cast<unsigned char>(head[5]))) return input_format::marc21;
    }
    return input_format::mms_id_list;
}

// An opened input: its format and a source positioned at its start.
struct opened_input {
    opened_input(input_format f, std::unique_ptr<marc::byte_source> s) : format{f}, source{std::move(s)} {}
    input_format format;
    std::unique_ptr<marc::byte_source> source;
};

// Opens a path ("-": standard input) and detects its format, reading as little as it needs.
inline opened_input open_input(std::string const& path) {
    auto file = std::make_unique<marc::file_source>(path);
    std::string head(4096, '\0');
    std::size_t got = 0;
    while (got < head.size()) {
        std::size_t n = file->read(head.data() + got, head.size() - got);
        if (n == 0) break;
        got += n;
    }
    head.resize(got);
    input_format const f = detect_format(head);
    return opened_input{f, std::make_unique<marc::prefixed_source>(std::move(head), std::move(file))};
}

namespace detail {

inline std::string_view trim_line(std::string_view line) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front()))) line.remove_prefix(1);
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.remove_suffix(1);
    return line;
}

// Export problems: a bad record, or a record without 001.
inline void report_export_problem(alma::problem_log* log, std::uint64_t seq, std::string message) {
    if (!log) throw marc::marc_error(marc::read_problem{marc::error_code::missing_001, seq + 1, 0, std::move(message)});
    log->add(seq, alma::problem{alma::stage::export_record, "", "", 0, "", std::move(message), ""});
}

inline coro::generator<bib> id_lines(std::unique_ptr<marc::byte_source> source) {
    std::string buffer(1 << 16, '\0');
    std::string pending;
    std::uint64_t seq = 0;
    for (;;) {
        std::size_t n = source->read(buffer.data(), buffer.size());
        pending.append(buffer.data(), n);
        std::size_t start = 0;
        for (std::size_t nl; (nl = pending.find('\n', start)) != std::string::npos || (n == 0 && start < pending.size());) {
            if (nl == std::string::npos) nl = pending.size();
            std::string_view line = trim_line(std::string_view{pending}.substr(start, nl - start));
            start = nl + 1;
            if (line.empty()) continue;
            bib b{seq++, std::string{line}};
            co_yield b;
        }
        pending.erase(0, std::min(start, pending.size()));
        if (n == 0) break;
    }
}

inline coro::generator<bib> export_bibs(opened_input in, alma::problem_log* log) {
    if (in.format == input_format::marc21) {
        marc::reader_options opts{marc::on_error::skip};
        opts.on_problem = [log](marc::read_problem const& p) {
            report_export_problem(log, p.record_number - 1, p.message());
        };
        marc::iso2709_reader reader{std::move(in.source), std::move(opts)};
        while (auto r = reader.next()) {
            std::uint64_t const seq = reader.record_number() - 1;
            std::string_view id = r->control_value("001");
            if (id.empty()) {
                report_export_problem(log, seq, "record " + std::to_string(seq + 1) + " at byte " +
                                                    std::to_string(reader.byte_offset()) + ": no 001 (MMS ID)");
                continue;
            }
            bib b{seq, std::string{trim_line(id)}};
            co_yield b;
        }
    } else {
        marc::marcxml_reader::options opts;
        opts.policy = marc::on_error::skip;
        opts.on_problem = [log](marc::read_problem const& p) {
            report_export_problem(log, p.record_number - 1, p.message());
        };
        marc::marcxml_reader reader{std::move(in.source), std::move(opts)};
        while (auto r = reader.next()) {
            std::uint64_t const seq = reader.records_seen() - 1;
            std::string_view id = r->control_value("001");
            if (id.empty()) {
                report_export_problem(log, seq, "record " + std::to_string(seq + 1) + ": no 001 (MMS ID)");
                continue;
            }
            bib b{seq, std::string{trim_line(id)}};
            co_yield b;
        }
    }
}

inline coro::generator<marc::record> export_records(opened_input in) {
    if (in.format == input_format::marc21) {
        marc::iso2709_reader reader{std::move(in.source)};
        while (auto r = reader.next()) {
            marc::record rec = r->to_record();
            co_yield rec;
        }
    } else if (in.format == input_format::marcxml) {
        marc::marcxml_reader reader{std::move(in.source)};
        while (auto r = reader.next()) co_yield *r;
    } else {
        throw marc::marc_error(marc::read_problem{marc::error_code::not_marc, 1, 0,
                                                  in.source->name() + " is neither MARC21 nor MARCXML"});
    }
}

template <typename Range>
coro::generator<bib> ids_of(Range records, alma::problem_log* log) {
    std::uint64_t seq = 0;
    for (auto&& r : records) {
        std::string_view id = r.control_value("001");
        if (id.empty()) {
            report_export_problem(log, seq, "record " + std::to_string(seq + 1) + ": no 001 (MMS ID)");
        } else {
            bib b{seq, std::string{trim_line(id)}};
            co_yield b;
        }
        ++seq;
    }
}

}  // namespace detail

// The bibs of an input of any of the three formats. Bad records and records without 001 go to
// `log` as export problems (or throw marc_error when no log is given).
inline coro::generator<bib> bibs(opened_input in, alma::problem_log* log = nullptr) {
    if (in.format == input_format::mms_id_list) return detail::id_lines(std::move(in.source));
    return detail::export_bibs(std::move(in), log);
}
inline coro::generator<bib> bibs(std::string const& path, alma::problem_log* log = nullptr) {
    return bibs(open_input(path), log);
}

// The records of a MARC21 or MARCXML export, format detected; a bad record throws marc_error.
inline coro::generator<marc::record> marc_records(std::string const& path) {
    return detail::export_records(open_input(path));
}

// `records | mms_ids` (a record without 001 throws) or `records | mms_ids(log)` (reported):
// each record's 001 as a bib numbered by its position.
struct mms_ids_fn {
    alma::problem_log* log = nullptr;
    mms_ids_fn operator()(alma::problem_log& l) const { return mms_ids_fn{&l}; }

    template <typename Range>
        requires ranges::input_range<Range>
    friend auto operator|(Range&& records, mms_ids_fn self) {
        return detail::ids_of(detail::as_upstream(std::forward<Range>(records)), self.log);
    }
};
inline constexpr mms_ids_fn mms_ids{};

}  // namespace marcpipe::pipeline
