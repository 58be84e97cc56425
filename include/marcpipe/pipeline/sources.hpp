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
#include "../marc/any_reader.hpp"
#include "../marc/iso2709_reader.hpp"
#include "../marc/marcxml_reader.hpp"
#include "../marc/record.hpp"
#include "../marc/source.hpp"
#include "items.hpp"

namespace marcpipe::pipeline {

using marc::input_format;

// An opened input: its format and a source positioned at its start.
using opened_input = marc::detected_input;

// Opens a path ("-": standard input) and detects its format, reading as little as it needs.
// Input that is none of the three formats is refused (marc_error, not_marc) rather than read as
// MMS IDs: one call per line of a PDF would be a slow way to find out.
inline opened_input open_input(std::string const& path) {
    return marc::detect(std::make_unique<marc::file_source>(path));
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
    if (in.format == input_format::iso2709) {
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
    if (in.format == input_format::iso2709) {
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
