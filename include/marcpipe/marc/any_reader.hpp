// any_reader: reads a bibliographic export whatever its format -- ISO 2709 (MARC21 binary),
// MARCXML, or a plain list of MMS IDs one a line -- deciding the format from the first bytes.
//
// People hand the programs whatever Alma's export job produced, or a list they made by hand;
// detecting the format means one command line works for all three. Detection reads at most
// 4 KiB and hands those bytes back to the chosen reader, so standard input works too.
//
// Records come out as owning marc::records (next()); MMS IDs come out of all three formats
// (next_mms_id()): the 001 of each record, or each line of a list. For ISO 2709 the 001 is
// taken straight from the record's bytes, without building a record.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/iso2709_reader.hpp"
#include "marcpipe/marc/line_reader.hpp"
#include "marcpipe/marc/marcxml_reader.hpp"
#include "marcpipe/marc/record.hpp"
#include "marcpipe/marc/source.hpp"
#include "marcpipe/marc/unreadable_run.hpp"

namespace marcpipe::marc {

enum class input_format { iso2709, marcxml, mms_id_list };

constexpr std::string_view to_string(input_format f) noexcept {
    switch (f) {
        case input_format::iso2709: return "MARC21 (ISO 2709)";
        case input_format::marcxml: return "MARCXML";
        case input_format::mms_id_list: return "list of MMS IDs";
    }
    return "unknown";
}

namespace detail {

inline bool is_blank(char c) noexcept { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
inline bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

inline std::string_view trim(std::string_view s) noexcept {
    while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
    return s;
}

inline bool all_digits(std::string_view s) noexcept {
    if (s.empty()) return false;
    for (char c : s)
        if (!is_digit(c)) return false;
    return true;
}

}  // namespace detail

// The format of an input, from its first bytes (4 KiB is plenty), or nullopt when it is none
// of the three:
// - MARCXML: '<' first, after an optional UTF-8 byte order mark and blanks;
// - a list of MMS IDs: the first line that is not blank is digits only (a leader never is: its
//   sixth byte is the record status, a letter);
// - ISO 2709: five digits (the record length) first.
inline std::optional<input_format> detect_format(std::string_view head) noexcept {
    if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
    std::size_t i = 0;
    while (i < head.size() && detail::is_blank(head[i])) ++i;
    if (i == head.size()) return std::nullopt;
    if (head[i] == '<') return input_format::marcxml;
    auto line_end = head.find('\n', i);
    auto first_line = detail::trim(head.substr(i, line_end == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : line_end - i));
    // A single ID with no newline yet counts only if the whole head was read.
    if (detail::all_digits(first_line) && (line_end != std::string_view::npos || head.size() < 4096))
        return input_format::mms_id_list;
    if (i == 0 && head.size() >= 5 && detail::all_digits(head.substr(0, 5)))
        return input_format::iso2709;
    return std::nullopt;
}

// An input, its format detected, and a source that still yields it from the first byte (the
// bytes read to detect the format are handed back first). Throws marc_error (not_marc) when it
// is none of the three formats, std::system_error when it cannot be read.
struct detected_input {
    input_format format;
    std::unique_ptr<byte_source> source;
};

inline detected_input detect(std::unique_ptr<byte_source> source) {
    std::string head(4096, '\0');
    std::size_t got = 0;
    while (got < head.size()) {
        std::size_t n = source->read(head.data() + got, head.size() - got);
        if (n == 0) break;
        got += n;
    }
    head.resize(got);
    auto f = detect_format(head);
    if (!f) {
        std::string const name = source->name();
        std::string what = got == 0 ? name + " is empty"
                                    : name + " is neither MARC21, MARCXML nor a list of MMS IDs "
                                             "(it starts \"" +
                                          detail::printable(std::string_view{head}.substr(0, 24)) + "\")";
        throw marc_error(read_problem{error_code::not_marc, 0, 0, std::move(what)});
    }
    return detected_input{*f, std::make_unique<prefixed_source>(std::move(head), std::move(source))};
}

class any_reader {
public:
    // Reads the start of `source` to detect its format; throws marc_error (not_marc) when it is
    // none of the three, std::system_error when it cannot be read.
    explicit any_reader(std::unique_ptr<byte_source> source, reader_options options = {})
        : options_{std::move(options)}, name_{source->name()} {
        detected_input in = detect(std::move(source));
        format_ = in.format;
        auto rest = std::move(in.source);
        auto forward = [this](read_problem const& p) { keep(p); };
        switch (format_) {
            case input_format::iso2709: {
                reader_options o{options_.policy};
                o.on_problem = forward;
                o.buffer_size = options_.buffer_size;
                reader_.emplace<iso2709_reader>(std::move(rest), std::move(o));
                break;
            }
            case input_format::marcxml: {
                marcxml_reader::options o;
                o.policy = options_.policy;
                o.on_problem = forward;
                reader_.emplace<marcxml_reader>(std::move(rest), std::move(o));
                break;
            }
            case input_format::mms_id_list:
                reader_.emplace<line_reader>(std::move(rest));
                break;
        }
    }
    // The reader hands `this` to the readers it owns: it stays where it was made.
    any_reader(any_reader const&) = delete;
    any_reader& operator=(any_reader const&) = delete;

    // "-" is standard input.
    static std::unique_ptr<any_reader> open(std::filesystem::path const& path,
                                            reader_options o = {}) {
        return std::make_unique<any_reader>(std::make_unique<file_source>(path.string()),
                                            std::move(o));
    }

    input_format format() const noexcept { return format_; }

    // The next record of a MARC21 or MARCXML input, or nullopt at its end. A list of MMS IDs
    // holds no records: asking for one is a marc_error (not_marc).
    std::optional<record> next() {
        if (auto* iso = std::get_if<iso2709_reader>(&reader_)) {
            if (auto v = iso->next()) return v->to_record();
            return std::nullopt;
        }
        if (auto* xml = std::get_if<marcxml_reader>(&reader_)) return xml->next();
        throw marc_error(read_problem{error_code::not_marc, 0, 0,
                                      name_ + " is a list of MMS IDs, not MARC records"});
    }

    // Like next(), into a record whose strings and vectors are reused from call to call: what
    // a conversion loop wants, since a fresh record per call costs an allocation per field
    // and subfield. False at the end of the input.
    bool read(record& into) {
        if (auto* iso = std::get_if<iso2709_reader>(&reader_)) {
            auto v = iso->next();
            if (!v) return false;
            into = v->to_record();
            return true;
        }
        if (auto* xml = std::get_if<marcxml_reader>(&reader_)) return xml->read(into);
        throw marc_error(read_problem{error_code::not_marc, 0, 0,
                                      name_ + " is a list of MMS IDs, not MARC records"});
    }

    // The next MMS ID: the 001 of the next record, or the next line of a list (blanks around
    // it removed, empty lines passed over). A record without 001, or a line that is not an
    // MMS ID, is a problem handled by the policy. The view is valid until the next call.
    std::optional<std::string_view> next_mms_id() {
        for (;;) {
            std::string_view id;
            if (auto* iso = std::get_if<iso2709_reader>(&reader_)) {
                auto v = iso->next();
                if (!v) return std::nullopt;
                number_ = iso->record_number();
                id = detail::trim(v->control_value("001"));
                if (id.empty()) {
                    report(error_code::missing_001, iso->byte_offset(), "");
                    continue;
                }
                return id;
            }
            if (auto* xml = std::get_if<marcxml_reader>(&reader_)) {
                auto r = xml->next();
                if (!r) return std::nullopt;
                number_ = xml->records_seen();
                current_ = std::string{detail::trim(r->control_value("001"))};
                if (current_.empty()) {
                    report(error_code::missing_001, 0, "");
                    continue;
                }
                return current_;
            }
            auto line = std::get<line_reader>(reader_).next();
            if (!line) {
                if (auto p = bad_lines_.close()) keep(*p);
                return std::nullopt;
            }
            std::string_view const text = detail::trim(line->text);
            if (text.empty()) continue;
            number_ = line->number;
            if (line->cut || !detail::all_digits(text)) {
                // Bad lines in a row are one problem (unreadable_run.hpp); only under skip is
                // a run ever held.
                std::uint64_t const end = line->offset + line->length;
                if (bad_lines_.extend(end)) continue;
                std::string what = "line " + std::to_string(number_) + " \"" +
                                   detail::printable(text.substr(0, 40)) + "\" is not an MMS ID";
                if (options_.policy == on_error::stop)
                    report(error_code::not_marc, line->offset, std::move(what));
                else
                    (void)bad_lines_.add(read_problem{error_code::not_marc, number_, line->offset, std::move(what)},
                                         end);
                continue;
            }
            if (auto p = bad_lines_.close()) keep(*p);
            return text;
        }
    }

    // The number of the record (or ID line) last met, 1-based.
    std::uint64_t record_number() const noexcept { return number_; }
    // Problems skipped so far, when no on_problem callback was given.
    std::vector<read_problem> const& problems() const noexcept { return problems_; }
    std::uint64_t problem_count() const noexcept { return problem_count_; }
    std::string const& source_name() const noexcept { return name_; }

    // The ISO 2709 reader underneath, for callers that want record_views (no copy into a
    // record); nullptr for the other formats.
    iso2709_reader* iso2709() noexcept { return std::get_if<iso2709_reader>(&reader_); }

private:
    void report(error_code code, std::uint64_t offset, std::string detail) {
        read_problem p{code, number_, offset, std::move(detail)};
        if (options_.policy == on_error::stop) {
            ++problem_count_;
            throw marc_error(std::move(p));
        }
        keep(p);
    }

    void keep(read_problem const& p) {
        ++problem_count_;
        if (options_.on_problem)
            options_.on_problem(p);
        else
            problems_.push_back(p);
    }

    reader_options options_;
    std::string name_;
    input_format format_ = input_format::iso2709;
    std::variant<std::monostate, iso2709_reader, marcxml_reader, line_reader> reader_;
    unreadable_run bad_lines_;
    std::string current_;
    std::uint64_t number_ = 0;
    std::uint64_t problem_count_ = 0;
    std::vector<read_problem> problems_;
};

}  // namespace marcpipe::marc
