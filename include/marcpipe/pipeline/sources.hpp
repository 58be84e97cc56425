// sources: where a run starts — the bib export (MARC21 or MARCXML) or a list of MMS IDs, format
// detected — as lazy ranges of records or of bibs, and the mms_ids stage between them.
//
// Bibs are numbered by their position in the input (0-based, every record counted, a bad one
// too), so the numbers mean the same records in every run over the same input; that is what
// ordering, the error report and --resume rely on.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include <range/v3/range/concepts.hpp>
#include <range/v3/view/all.hpp>

#include "marcpipe/alma/ids.hpp"
#include "marcpipe/alma/report.hpp"
#include "marcpipe/coro/generator.hpp"
#include "marcpipe/marc/any_reader.hpp"
#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/iso2709_reader.hpp"
#include "marcpipe/marc/line_reader.hpp"
#include "marcpipe/marc/marcxml_reader.hpp"
#include "marcpipe/marc/record.hpp"
#include "marcpipe/marc/source.hpp"
#include "marcpipe/marc/unreadable_run.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/stage.hpp"

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

// How a source treats bad input: a record that breaks ISO 2709 or MARCXML, a record without 001
// where an MMS ID is wanted, a line of an ID list that is not an MMS ID.
struct source_options {
    source_options() {}  // (a default member initialiser needs a user-provided constructor here)
    // Stop at the first bad record: marc_error naming its record number (for an ID list, its line
    // number) and byte offset. Off: the bad record is a problem in the log and reading goes on.
    bool strict = false;
};

// bib::byte_offset of a MARCXML record: the reader cuts records in batches and does not say
// where each one starts; seq + 1 is the record's number, which is how its problems name it.
inline constexpr std::uint64_t offset_unknown = UINT64_MAX;

namespace detail {

// Blanks around an MMS ID (a line of a list, a 001) are spaces, tabs and the CR of a CRLF line
// end; any other byte (a vertical tab, a no-break space) is part of the ID, which is then invalid.
inline std::string_view trim_line(std::string_view line) {
    auto const blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!line.empty() && blank(line.front())) line.remove_prefix(1);
    while (!line.empty() && blank(line.back())) line.remove_suffix(1);
    return line;
}

// The MMS IDs met so far and where each was first met (a record or line number), so that a bib
// the input names twice is fetched and written once, for its first place. An unordered_map of
// 64-bit numbers costs about 44 bytes per distinct ID (measured: 43 MB for a million bibs).
class seen_ids {
public:
    // Where `id` (valid) was first met, or nothing when this is the first time (`here` is kept).
    std::optional<std::uint64_t> first_place(std::string_view id, std::uint64_t here) {
        auto const [it, fresh] = first_.try_emplace(*alma::id_number(id), here);
        if (fresh) return std::nullopt;
        return it->second;
    }

private:
    std::unordered_map<std::uint64_t, std::uint64_t> first_;
};

// Where a source's problems go: the log, as export problems of the bib at `seq`, or — strict, or
// with no log to take them — thrown as marc_error. `text` is the message for the log when the
// problem's own message does not fit (an ID list's lines, a record whose offset is not known).
struct problem_sink {
    alma::problem_log* log = nullptr;
    bool strict = true;

    void report(std::uint64_t seq, marc::read_problem p, std::string text = {}) const {
        if (strict || !log) throw marc::marc_error(std::move(p));
        if (text.empty()) text = p.message();
        log->add(seq, alma::problem{alma::stage::export_record, "", "", 0, "", std::move(text), ""});
    }
    // A reader's own problem (its record number is 1-based, counting every record met).
    void operator()(marc::read_problem const& p) const { report(p.record_number - 1, p); }
};

inline problem_sink sink_for(alma::problem_log* log, source_options const& opt) {
    return problem_sink{log, opt.strict || log == nullptr};
}

// A repeated MMS ID: `first` says where it was first met ("record 3", "line 3").
inline std::string repeated_id_message(std::string_view id, std::string const& first) {
    return std::string{id} + ", first met on " + first +
           "; its holdings are asked for and written once, for the first";
}

// A record whose 001 cannot be used as its MMS ID. `offset`: where it starts, if known.
inline void report_001(problem_sink const& sink, std::uint64_t seq, std::uint64_t offset,
                       marc::error_code code, std::string const& what) {
    std::uint64_t const number = seq + 1;
    if (offset != offset_unknown) {
        sink.report(seq, marc::read_problem{code, number, offset, what});
        return;
    }
    std::string const shown = code == marc::error_code::missing_001
                                  ? std::string{"no 001 (no MMS ID)"}
                                  : std::string{marc::to_string(code)} + ": " + what;
    sink.report(
        seq,
        marc::read_problem{code, number, 0, what + " (a MARCXML record: byte offset not known)"},
        "record " + std::to_string(number) + ": " + shown);
}

// Whether a record's 001 may be handed on as its MMS ID; if not, it has been reported: missing,
// not an MMS ID (`../x` would change the request's path), or met in an earlier record.
inline bool usable_001(problem_sink const& sink, seen_ids& seen, std::uint64_t seq,
                       std::uint64_t offset, std::string_view id) {
    if (id.empty()) {
        report_001(sink, seq, offset, marc::error_code::missing_001, "no MMS ID");
        return false;
    }
    if (!alma::is_valid_id(id)) {
        report_001(sink, seq, offset, marc::error_code::invalid_001, alma::quoted_id(id));
        return false;
    }
    if (auto first = seen.first_place(id, seq + 1)) {
        report_001(sink, seq, offset, marc::error_code::repeated_001,
                   repeated_id_message(id, "record " + std::to_string(*first)));
        return false;
    }
    return true;
}

// The lines of a list of MMS IDs, one a line: blanks (spaces, tabs, CR) around an ID and blank
// lines are passed over, a UTF-8 byte order mark before the first line is dropped. Every other
// line counts as a bib, a bad one (spaces inside, letters, `..`, more than 19 digits) too: it is
// reported with its line number and byte offset. So is an ID met on an earlier line, which is
// not handed on again. Bad lines that follow one another (junk pasted into a list) are one
// problem naming the lines and bytes they span, and a line is kept only up to a few KiB, so junk
// costs no memory.
inline coro::generator<bib> id_lines(std::unique_ptr<marc::byte_source> source, problem_sink sink) {
    marc::line_reader lines{std::move(source)};
    marc::unreadable_run bad;
    std::uint64_t seq = 0;
    seen_ids seen;  // line numbers
    std::uint64_t run_seq = 0;
    std::uint64_t run_last_line = 0;
    auto const end_run = [&] {
        if (auto p = bad.close()) {
            std::string text = p->code == marc::error_code::unreadable_bytes
                                   ? "lines " + std::to_string(p->record_number) + " to " +
                                         std::to_string(run_last_line) + ": " + p->detail
                                   : p->detail;
            sink.report(run_seq, std::move(*p), std::move(text));
        }
    };
    while (auto l = lines.next()) {
        std::string_view line = l->text;
        if (l->number == 1 && line.starts_with("\xEF\xBB\xBF")) line.remove_prefix(3);
        line = trim_line(line);
        if (line.empty()) continue;
        if (l->cut || !alma::is_valid_id(line)) {
            std::string what = "line " + std::to_string(l->number) + " at byte " + std::to_string(l->offset) +
                               ": not an MMS ID: " + alma::quoted_id(line.substr(0, 40));
            if (l->cut) what += " (a line of " + std::to_string(l->length) + " bytes)";
            if (sink.strict || !sink.log)
                sink.report(seq, marc::read_problem{marc::error_code::not_marc, l->number, l->offset, what});
            std::uint64_t const end = l->offset + l->length;
            run_last_line = l->number;
            if (!bad.extend(end)) {
                run_seq = seq;
                (void)bad.add(marc::read_problem{marc::error_code::not_marc, l->number, l->offset, std::move(what)},
                              end);
            }
            ++seq;
            continue;
        }
        end_run();
        if (auto first = seen.first_place(line, l->number)) {
            std::string const what = "MMS ID " + repeated_id_message(line, "line " + std::to_string(*first));
            sink.report(seq,
                        marc::read_problem{marc::error_code::repeated_001, l->number, l->offset,
                                           "line " + std::to_string(l->number) + " " + what},
                        "line " + std::to_string(l->number) + " at byte " + std::to_string(l->offset) + ": " + what);
            ++seq;
            continue;
        }
        bib b{seq++, std::string{line}, nullptr, l->offset};
        co_yield b;
    }
    end_run();
}

inline coro::generator<bib> export_bibs(opened_input in, problem_sink sink) {
    seen_ids seen;  // record numbers
    if (in.format == input_format::iso2709) {
        marc::reader_options opts{sink.strict ? marc::on_error::stop : marc::on_error::skip};
        opts.on_problem = sink;
        marc::iso2709_reader reader{std::move(in.source), std::move(opts)};
        while (auto r = reader.next()) {
            std::uint64_t const seq = reader.record_number() - 1;
            std::string_view id = trim_line(r->control_value("001"));
            if (!usable_001(sink, seen, seq, reader.byte_offset(), id)) continue;
            bib b{seq, std::string{id}, std::make_shared<marc::record const>(r->to_record()), reader.byte_offset()};
            co_yield b;
        }
    } else {
        marc::marcxml_reader::options opts;
        opts.policy = sink.strict ? marc::on_error::stop : marc::on_error::skip;
        opts.on_problem = sink;
        marc::marcxml_reader reader{std::move(in.source), std::move(opts)};
        for (marc::record r; reader.read(r);) {
            std::uint64_t const seq = reader.records_seen() - 1;
            std::string_view id = trim_line(r.control_value("001"));
            if (!usable_001(sink, seen, seq, offset_unknown, id)) continue;
            std::string mms{id};
            bib b{seq, std::move(mms), std::make_shared<marc::record const>(std::move(r)), offset_unknown};
            co_yield b;
        }
    }
}

inline coro::generator<marc::record> export_records(opened_input in, problem_sink sink) {
    if (in.format == input_format::iso2709) {
        marc::reader_options opts{sink.strict ? marc::on_error::stop : marc::on_error::skip};
        opts.on_problem = sink;
        marc::iso2709_reader reader{std::move(in.source), std::move(opts)};
        while (auto r = reader.next()) {
            marc::record rec = r->to_record();
            co_yield rec;
        }
    } else if (in.format == input_format::marcxml) {
        marc::marcxml_reader::options opts;
        opts.policy = sink.strict ? marc::on_error::stop : marc::on_error::skip;
        opts.on_problem = sink;
        marc::marcxml_reader reader{std::move(in.source), std::move(opts)};
        for (marc::record rec; reader.read(rec);) co_yield rec;
    } else {
        throw marc::marc_error(marc::read_problem{marc::error_code::not_marc, 1, 0,
                                                  in.source->name() + " is neither MARC21 nor MARCXML"});
    }
}

template <typename T>
inline constexpr bool is_generator = false;
template <typename T>
inline constexpr bool is_generator<coro::generator<T>> = true;

template <typename Range>
coro::generator<bib> ids_of(Range records, problem_sink sink) {
    std::uint64_t seq = 0;
    seen_ids seen;  // record numbers
    for (auto&& r : records) {
        std::string_view id = trim_line(r.control_value("001"));
        if (usable_001(sink, seen, seq, offset_unknown, id)) {
            std::string mms{id};
            // A generator's record is its own to give away; a container's is copied.
            shared_record rec;
            if constexpr (is_generator<Range> && !std::is_const_v<std::remove_reference_t<decltype(r)>>)
                rec = std::make_shared<marc::record const>(std::move(r));
            else
                rec = std::make_shared<marc::record const>(r);
            bib b{seq, std::move(mms), std::move(rec), offset_unknown};
            co_yield b;
        }
        ++seq;
    }
}

inline coro::generator<bib> bibs_of(opened_input in, problem_sink sink) {
    if (in.format == input_format::mms_id_list) return id_lines(std::move(in.source), sink);
    return export_bibs(std::move(in), sink);
}

struct ids_of_fn {
    problem_sink sink;
    template <typename Upstream>
    auto operator()(Upstream up) const {
        return ids_of(std::move(up), sink);
    }
};

}  // namespace detail

// The bibs of an input of any of the three formats, numbered by position (seq). Each bib of an
// export carries its record (bib::record, shared) and where it starts in the input
// (bib::byte_offset; offset_unknown for MARCXML); a bib of an ID list carries no record, and its
// line's byte offset.
//
// Bad input — a record that breaks its format, a record without 001, a line that is not an MMS ID
// — goes to `problems` as an export problem of that position, and reading goes on; with
// `opt.strict` the first one throws marc_error instead. Without a problem log reading is strict:
// a source never drops a record without telling someone.
inline coro::generator<bib> bibs(opened_input in, alma::problem_log& problems, source_options opt = {}) {
    return detail::bibs_of(std::move(in), detail::sink_for(&problems, opt));
}
inline coro::generator<bib> bibs(std::string const& path, alma::problem_log& problems, source_options opt = {}) {
    return bibs(open_input(path), problems, opt);
}
// The same with the log as a pointer; null (or none) means strict reading.
inline coro::generator<bib> bibs(opened_input in, alma::problem_log* problems = nullptr) {
    return detail::bibs_of(std::move(in), detail::sink_for(problems, {}));
}
inline coro::generator<bib> bibs(std::string const& path, alma::problem_log* problems = nullptr) {
    return bibs(open_input(path), problems);
}

// The records of a MARC21 or MARCXML export, format detected. A bad record goes to `problems`
// (keyed by its position, 0-based) and reading goes on; with `opt.strict`, or without a log, it
// throws marc_error. An input in neither format throws marc_error (not_marc) either way.
inline coro::generator<marc::record> marc_records(opened_input in, alma::problem_log& problems, source_options opt = {}) {
    return detail::export_records(std::move(in), detail::sink_for(&problems, opt));
}
inline coro::generator<marc::record> marc_records(std::string const& path, alma::problem_log& problems,
                                                  source_options opt = {}) {
    return marc_records(open_input(path), problems, opt);
}
inline coro::generator<marc::record> marc_records(opened_input in) {
    return detail::export_records(std::move(in), detail::sink_for(nullptr, {}));
}
inline coro::generator<marc::record> marc_records(std::string const& path) { return marc_records(open_input(path)); }

// `records | mms_ids` (a record without 001 throws marc_error) or `records | mms_ids(log)` (it
// is reported, and the next record read): each record's 001 as a bib numbered by its position,
// carrying the record (moved out of a generator, copied out of a container).
struct mms_ids_fn : stage<detail::ids_of_fn> {
    constexpr explicit mms_ids_fn(detail::problem_sink sink = {}) : stage{detail::ids_of_fn{sink}} {}
    mms_ids_fn operator()(alma::problem_log& log, source_options opt = {}) const {
        return mms_ids_fn{detail::sink_for(&log, opt)};
    }
};
inline constexpr mms_ids_fn mms_ids{};

}  // namespace marcpipe::pipeline
