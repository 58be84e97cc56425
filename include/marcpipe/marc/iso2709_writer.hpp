// iso2709_writer: writes records as ISO 2709 (MARC21 binary), recomputing what the format
// derives (record length, base address, directory) and refusing what it cannot represent.
//
// Leader 00-04 and 12-16 are computed, 10-11 become "22" and 20-23 "4500" (MARC21's layout),
// 09 becomes 'a' (UTF-8) unless told to keep it. Real Alma leaders arrive with blanks in the
// computed positions, so nothing of the input leader's numbers is trusted.
//
// A record over 99,999 bytes or a field over 9,999 bytes cannot be written in ISO 2709: that is
// a marc_error (record_too_long, field_too_long) naming the record's number and 001, and nothing
// of that record is written. (Some tools drop fields silently instead; a WEST file must not lose
// a holding's data without saying so.) The same goes for a tag that is not three ASCII letters or
// digits.
//
// A value holding a delimiter (0x1D, 0x1E, 0x1F), or a leader, indicator or subfield code byte
// that is not printable ASCII, would be read back as structure: such bytes are replaced as
// replacement.hpp says, and append_iso2709 returns the problem to report (characters_replaced);
// the writer class hands it to options.on_problem, or under on_error::stop refuses the record.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/leader.hpp"
#include "marcpipe/marc/record.hpp"
#include "marcpipe/marc/record_view.hpp"
#include "marcpipe/marc/replacement.hpp"
#include "marcpipe/marc/source.hpp"
#include "marcpipe/marc/xml_escape.hpp"

namespace marcpipe::marc {

struct iso2709_write_options {
    iso2709_write_options() = default;
    // Keep leader/09 as it is instead of writing 'a': for copying MARC-8 records unchanged.
    bool keep_leader_09 = false;
    // A record that needed replacements (see the top of this file): skip = write it and report it
    // to on_problem; stop = write nothing of it and throw marc_error. Used by iso2709_writer.
    on_error policy = on_error::skip;
    std::function<void(read_problem const&)> on_problem;
};

// Where the record goes in a message: its number and the offset it would have been written at.
struct write_position {
    write_position() = default;
    write_position(std::uint64_t number, std::uint64_t offset)
        : record_number{number}, byte_offset{offset} {}
    std::uint64_t record_number = 0;
    std::uint64_t byte_offset = 0;
};

namespace detail {

[[noreturn]] inline void throw_write_error(error_code code, write_position where,
                                           std::string_view id, std::string what) {
    throw marc_error(
        read_problem{code, where.record_number, where.byte_offset, record_label(id) + what});
}

// The leader as given, with each byte that will be written and is not printable ASCII made '|'.
inline std::size_t writable_leader(std::string_view given, char* out, bool keep_leader_09,
                                   replacement_log& log) {
    std::size_t const n = std::min(given.size(), leader_length);
    std::memcpy(out, given.data(), n);
    for (std::size_t i = 0; i < n; ++i)
        if (!is_code_byte(out[i]) && !leader_position_computed(i, keep_leader_09)) {
            log.note(1, "leader", "", {out + i, 1}, "'|'");
            out[i] = fill_character;
        }
    return n;
}


// Writes fields (any range whose elements give tag, data length and a way to copy the data)
// after checking the limits. Shared by records and record_views. `copy` returns the end of what
// it wrote, which is the field's length: working that out again would go over the data twice.
// Returns the problem to report when bytes had to be replaced (see the top of this file).
template <class Fields, class Length, class Copy>
std::optional<read_problem> append_fields(std::string_view leader, Fields const& fields,
                                          std::size_t count, std::string_view id,
                                          std::string& out, write_position where,
                                          iso2709_write_options const& options,
                                          replacement_log& log, Length length_of, Copy copy) {
    std::size_t data_size = 0;
    for (auto const& f : fields) {
        std::string_view tag{f.tag()};
        if (!is_writable_tag(tag))
            throw_write_error(error_code::bad_directory, where, id,
                              "tag \"" + printable(tag) +
                                  "\" is not three ASCII letters or digits");
        std::size_t const len = length_of(f) + 1;
        if (len > max_field_length)
            throw_write_error(error_code::field_too_long, where, id,
                              "field " + printable(tag) + " would be " + std::to_string(len) +
                                  " bytes, ISO 2709 allows 9,999");
        data_size += len;
    }
    iso2709_layout const layout{count, data_size};
    std::size_t const base = layout.base_address;
    std::size_t const total = layout.record_length;
    if (total > max_record_length)
        throw_write_error(error_code::record_too_long, where, id,
                          "record would be " + std::to_string(total) +
                              " bytes, ISO 2709 allows 99,999");

    std::size_t const at = out.size();
    out.resize(at + total);
    char* p = out.data() + at;
    char given[leader_length];
    std::size_t const n = writable_leader(leader, given, options.keep_leader_09, log);
    canonical_leader({given, n}, layout, p, options.keep_leader_09);

    char* dir = p + leader_length;
    char* data = p + base;
    std::size_t start = 0;
    for (auto const& f : fields) {
        char* const end = copy(f, data + start);
        *end = field_terminator;
        std::size_t const len = static_cast<std::size_t>(end - (data + start)) + 1;
        std::memcpy(dir, std::string_view{f.tag()}.data(), 3);
        put_digits(dir + 3, len, 4);
        put_digits(dir + 7, start, 5);
        dir += directory_entry_length;
        start += len;
    }
    *dir = field_terminator;
    p[total - 1] = record_terminator;
    if (log.count() == 0) return std::nullopt;
    return read_problem{error_code::characters_replaced, where.record_number, where.byte_offset,
                        record_label(id) + log.describe("ISO 2709")};
}

struct field_tag_adapter {
    field const& f;
    std::string_view tag() const noexcept { return f.tag; }
};

}  // namespace detail

// Appends r to out as one ISO 2709 record. On error (see top of file) out is unchanged. Returns
// the problem to report when bytes had to be replaced; the record is written all the same.
inline std::optional<read_problem> append_iso2709(record const& r, std::string& out,
                                                  write_position where = {},
                                                  iso2709_write_options const& options = {}) {
    struct fields_adapter {
        std::vector<field> const& v;
        struct iterator {
            std::vector<field>::const_iterator it;
            detail::field_tag_adapter operator*() const { return {*it}; }
            iterator& operator++() {
                ++it;
                return *this;
            }
            bool operator!=(iterator const& o) const { return it != o.it; }
        };
        iterator begin() const { return {v.begin()}; }
        iterator end() const { return {v.end()}; }
    };
    // U+FFFD is UTF-8: a record kept as MARC-8 gets the fill character instead.
    bool const marc8 = options.keep_leader_09 && r.leader()[9] != 'a';
    std::string_view const data_replacement = marc8 ? "|" : replacement_character_utf8;
    std::string_view const replacement_name = marc8 ? "'|'" : "U+FFFD";
    std::size_t const growth = data_replacement.size() - 1;
    // Whether any value of the record holds a mark: almost never, and then copying is memcpy.
    bool marks = false;
    auto size = [&](std::string_view value) {
        if (!detail::has_mark(value)) return value.size();
        marks = true;
        return value.size() + growth * detail::count_marks(value);
    };
    auto length_of = [&](detail::field_tag_adapter const& a) {
        field const& f = a.f;
        if (f.is_control()) return size(f.value);
        std::size_t n = 2;
        for (auto const& s : f.subfields) n += 2 + size(s.value);
        return n;
    };
    replacement_log log;
    auto data = [&](std::string_view value, char* to, std::string_view tag,
                    std::string_view part) {
        std::size_t const n = marks ? detail::count_marks(value) : 0;
        if (n == 0) {
            std::memcpy(to, value.data(), value.size());
            return to + value.size();
        }
        std::size_t const first = static_cast<std::size_t>(
            std::find_if(value.begin(), value.end(), detail::is_mark) - value.begin());
        log.note(n, tag, part, value.substr(first, 1), replacement_name);
        for (char c : value) {
            if (!detail::is_mark(c)) {
                *to++ = c;
                continue;
            }
            std::memcpy(to, data_replacement.data(), data_replacement.size());
            to += data_replacement.size();
        }
        return to;
    };
    auto code = [&](char c, std::string_view tag, std::string_view part) {
        if (is_code_byte(c)) return c;
        log.note(1, tag, part, {&c, 1}, "'|'");
        return fill_character;
    };
    auto copy = [&](detail::field_tag_adapter const& a, char* to) {
        field const& f = a.f;
        if (f.is_control()) return data(f.value, to, f.tag, "");
        *to++ = code(f.ind1, f.tag, "ind1");
        *to++ = code(f.ind2, f.tag, "ind2");
        for (auto const& s : f.subfields) {
            *to++ = subfield_delimiter;
            if (is_code_byte(s.code) && !marks) {  // nothing to replace, nothing to name
                *to++ = s.code;
                std::memcpy(to, s.value.data(), s.value.size());
                to += s.value.size();
                continue;
            }
            std::string const part = subfield_part(s.code);
            *to++ = code(s.code, f.tag, part);
            to = data(s.value, to, f.tag, part);
        }
        return to;
    };
    return detail::append_fields(r.leader(), fields_adapter{r.fields()}, r.fields().size(),
                                 r.control_value("001"), out, where, options, log, length_of,
                                 copy);
}

// Appends a checked record view: its fields are copied as they are, in directory order, and the
// leader, directory and offsets are made canonical. Its fields are ISO 2709 a reader took (their
// delimiters are the structure it read), so only the leader follows replacement.hpp's rule;
// returns the problem to report when a leader byte had to be replaced.
inline std::optional<read_problem> append_iso2709(record_view const& r, std::string& out,
                                                  write_position where = {},
                                                  iso2709_write_options const& options = {}) {
    auto length_of = [](field_view const& f) { return f.data().size(); };
    auto copy = [](field_view const& f, char* to) {
        std::memcpy(to, f.data().data(), f.data().size());
        return to + f.data().size();
    };
    replacement_log log;
    return detail::append_fields(r.leader(), r, r.size(), r.control_value("001"), out, where,
                                 options, log, length_of, copy);
}

// Writes records to a byte sink through a buffer, counting them for messages.
class iso2709_writer {
public:
    explicit iso2709_writer(std::unique_ptr<byte_sink> sink, iso2709_write_options options = {})
        : owned_{std::move(sink)}, sink_{owned_.get()}, options_{options} {
        buffer_.reserve(flush_at + max_record_length);
    }
    // Writes to a sink the caller keeps alive.
    explicit iso2709_writer(byte_sink& sink, iso2709_write_options options = {})
        : sink_{&sink}, options_{options} {
        buffer_.reserve(flush_at + max_record_length);
    }
    iso2709_writer(iso2709_writer const&) = delete;
    iso2709_writer& operator=(iso2709_writer const&) = delete;
    // Flushes what is left; call flush() first to see write errors as exceptions.
    ~iso2709_writer() {
        try {
            flush();
        } catch (...) {  // NOLINT: a destructor must not throw; flush() reports the error
        }
    }

    // Writes one record; one that needed replacements goes to options.on_problem, or under
    // on_error::stop is left out and thrown as marc_error.
    template <class Record>
    void write(Record const& r) {
        std::size_t const at = buffer_.size();
        if (auto replaced = append_iso2709(
                r, buffer_, write_position{records_ + 1, bytes_ + buffer_.size()}, options_)) {
            if (options_.policy == on_error::stop) {
                buffer_.resize(at);
                throw marc_error{std::move(*replaced)};
            }
            if (options_.on_problem) options_.on_problem(*replaced);
        }
        ++records_;
        if (buffer_.size() >= flush_at) drain();
    }

    void flush() {
        drain();
        sink_->flush();
    }

    std::uint64_t records_written() const noexcept { return records_; }

private:
    static constexpr std::size_t flush_at = std::size_t{1} << 20;

    void drain() {
        if (buffer_.empty()) return;
        sink_->write(buffer_.data(), buffer_.size());
        bytes_ += buffer_.size();
        buffer_.clear();
    }

    std::unique_ptr<byte_sink> owned_;
    byte_sink* sink_;
    iso2709_write_options options_;
    std::string buffer_;
    std::uint64_t records_ = 0;
    std::uint64_t bytes_ = 0;
};

}  // namespace marcpipe::marc
