// iso2709_reader: streams ISO 2709 (MARC21 binary) records out of a file, a descriptor, a stream
// or memory, in bounded memory, checking every record's structure.
//
// The reader fills a fixed buffer (1 MiB by default) with large reads and hands out
// record_views into it; a view stays valid until the next call to next(). A record may not be
// longer than 99,999 bytes, so the buffer never has to grow for a well-formed one.
//
// Where a record really ends is decided by its record terminator (0x1D), not by the length in
// its leader alone: a record that was written past the 99,999 byte limit (its leader then says
// 99999, or a wrapped-around number) is reported as one bad record, and the records after it are
// read as usual. Tools that trust the leader length lose every record after such a record.
//
// Line ends, blanks, NULs and DOS end-of-file marks between records are passed over.
//
// Problems: with on_error::stop, next() throws marc_error; with on_error::skip, the problem is
// handed to the on_problem callback (or kept in problems()), the bad record is passed over up
// to its record terminator, and reading goes on. Either way the bad record's bytes have been
// consumed, so a caller that catches the error may call next() again.
//
// Where no record can be framed at all (the leader's length is not a number, or does not lead to
// the record terminator) the reader is lost: it counts no new record until it finds one again,
// and under on_error::skip the problems met meanwhile are one problem naming the bytes they span
// (unreadable_run.hpp), handed on before the record found after them. A bad record that is
// framed (length and terminator agree, the inside is broken) is a problem of its own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/record_view.hpp"
#include "marcpipe/marc/source.hpp"
#include "marcpipe/marc/unreadable_run.hpp"

namespace marcpipe::marc {

struct reader_options {
    reader_options() = default;
    reader_options(on_error p) : policy{p} {}  // NOLINT: a policy alone is the common case

    on_error policy = on_error::stop;
    // Called for each problem met under on_error::skip; when empty, problems are kept in the
    // reader's problems() list.
    std::function<void(read_problem const&)> on_problem;
    // Size of each read, and of the buffer the records are viewed in.
    std::size_t buffer_size = std::size_t{1} << 20;
};

class iso2709_reader {
public:
    explicit iso2709_reader(std::unique_ptr<byte_source> source, reader_options options = {})
        : source_{std::move(source)}, options_{std::move(options)} {
        if (auto whole = source_->contiguous()) {
            // Memory input is used in place.
            data_ = whole->data();
            end_ = whole->size();
            eof_ = true;
        } else {
            capacity_ = std::max<std::size_t>(options_.buffer_size, 2 * max_record_length);
            buffer_ = std::make_unique_for_overwrite<char[]>(capacity_);  // no need to zero it
            data_ = buffer_.get();
        }
    }

    static iso2709_reader from_file(std::filesystem::path const& path, reader_options o = {}) {
        return iso2709_reader{std::make_unique<file_source>(path.string()), std::move(o)};
    }
    static iso2709_reader from_fd(int fd, reader_options o = {}) {
        return iso2709_reader{std::make_unique<fd_source>(fd), std::move(o)};
    }
    static iso2709_reader from_stream(std::istream& in, reader_options o = {}) {
        return iso2709_reader{std::make_unique<istream_source>(in), std::move(o)};
    }
    // The bytes must outlive the reader and every view it hands out.
    static iso2709_reader from_memory(std::string_view bytes, reader_options o = {}) {
        return iso2709_reader{std::make_unique<memory_source>(bytes), std::move(o)};
    }

    // The next structurally sound record, or nullopt at the end of the input.
    std::optional<record_view> next() {
        for (;;) {
            if (!skip_separators()) {
                if (auto p = lost_.close()) deliver(std::move(*p));
                return std::nullopt;
            }
            if (!lost_.open()) ++record_number_;
            record_offset_ = offset_ + pos_;
            std::size_t avail = fill(leader_length);
            if (avail < leader_length) {
                pos_ = end_;
                lost(error_code::truncated_record, record_offset_,
                     "input ends " + std::to_string(avail) + " bytes into a record");
                continue;
            }
            long const len = detail::parse_digits(data_ + pos_, 5);
            if (len < 0) {
                std::string shown = detail::printable(std::string_view(data_ + pos_, 5));
                auto const skipped = skip_past_terminator(0);
                lost(error_code::bad_record_length, record_offset_,
                     "leader 00-04 \"" + shown + "\" is not a number; " + std::to_string(skipped) +
                         " bytes passed over");
                continue;
            }
            auto const ulen = static_cast<std::size_t>(len);
            if (ulen < leader_length + 2) {
                auto const skipped = skip_past_terminator(0);
                lost(error_code::bad_record_length, record_offset_,
                     "leader says " + std::to_string(len) +
                         " bytes, too few for a leader and a directory; " +
                         std::to_string(skipped) + " bytes passed over");
                continue;
            }
            avail = fill(ulen);
            char const* r = data_ + pos_;
            auto early_terminator = [&] {
                std::size_t const scan = std::min(avail, ulen);
                return static_cast<char const*>(
                    std::memchr(r + leader_length, record_terminator, scan - leader_length));
            };
            if (avail < ulen || r[ulen - 1] != record_terminator) {
                length_problem(ulen, avail, early_terminator());
                continue;
            }
            structure_problem sp;
            record_view view;
            if (!view.check(std::string_view(r, ulen), sp)) {
                // A terminator inside means the leader's length swallowed bytes of what
                // follows: the record ends there, and reading resumes right after it.
                if (auto const* t = early_terminator(); t && t != r + ulen - 1) {
                    length_problem(ulen, avail, t);
                } else {
                    found_record();
                    pos_ += ulen;
                    report(sp.code, record_offset_ + sp.offset, std::move(sp.detail));
                }
                continue;
            }
            found_record();
            pos_ += ulen;
            return view;
        }
    }

    // The number of the record last met (1-based, bad records included).
    std::uint64_t record_number() const noexcept { return record_number_; }
    // Where the record last met starts in the input.
    std::uint64_t byte_offset() const noexcept { return record_offset_; }
    // Problems skipped so far, when no on_problem callback was given.
    std::vector<read_problem> const& problems() const noexcept { return problems_; }
    // How many problems were skipped, whether kept or handed to the callback.
    std::uint64_t problem_count() const noexcept { return problem_count_; }

    std::string source_name() const { return source_->name(); }

private:
    // Passes over what files carry between records without harm: line ends, DOS end-of-file
    // marks (0x1A), and blank or NUL padding (marc-perl's filler.usmarc). A leader starts with a
    // digit, so none of these can be the start of a record. False at the end of the input.
    bool skip_separators() {
        for (;;) {
            if (pos_ == end_ && fill(1) == 0) return false;
            char c = data_[pos_];
            if (c != '\n' && c != '\r' && c != '\x1A' && c != ' ' && c != '\t' && c != '\0')
                return true;
            ++pos_;
        }
    }

    // Makes at least n bytes available from pos_ (fewer only at the end of the input); returns
    // how many are.
    std::size_t fill(std::size_t n) {
        if (end_ - pos_ >= n || eof_) return end_ - pos_;
        if (pos_ > 0) {
            std::memmove(buffer_.get(), buffer_.get() + pos_, end_ - pos_);
            offset_ += pos_;
            end_ -= pos_;
            pos_ = 0;
        }
        while (end_ < n && !eof_) {
            std::size_t got = source_->read(buffer_.get() + end_, capacity_ - end_);
            if (got == 0) eof_ = true;
            end_ += got;
        }
        return end_;
    }

    // Consumes bytes from pos_ + from through the next record terminator (or to the end of the
    // input), without keeping them: a broken record may be of any size. Returns how many bytes
    // were consumed; *found says whether a terminator was met before the end.
    std::uint64_t skip_past_terminator(std::size_t from, bool* found = nullptr) {
        std::uint64_t const start = offset_ + pos_;
        pos_ += std::min(from, end_ - pos_);
        for (;;) {
            if (pos_ == end_ && fill(1) == 0) {
                if (found) *found = false;
                return offset_ + pos_ - start;
            }
            auto const* t = static_cast<char const*>(
                std::memchr(data_ + pos_, record_terminator, end_ - pos_));
            if (t) {
                pos_ = static_cast<std::size_t>(t - data_) + 1;
                if (found) *found = true;
                return offset_ + pos_ - start;
            }
            pos_ = end_;
        }
    }

    // The leader's length does not lead to a record terminator: find the real end, report.
    void length_problem(std::size_t stated, std::size_t avail, char const* early) {
        std::string const says = "leader says " + std::to_string(stated) + " bytes";
        if (early) {
            auto const real = static_cast<std::size_t>(early - (data_ + pos_)) + 1;
            pos_ += real;
            lost(error_code::bad_record_length, record_offset_,
                   says + ", the record terminator ends it after " + std::to_string(real));
            return;
        }
        if (avail < stated) {
            // Input ended before the stated length, with no terminator in the bytes there.
            pos_ = end_;
            lost(error_code::truncated_record, record_offset_,
                   says + ", input ends after " + std::to_string(avail));
            return;
        }
        bool found = false;
        auto const real = skip_past_terminator(std::max(stated, leader_length), &found);
        if (!found) {
            lost(error_code::truncated_record, record_offset_,
                   says + ", input ends after " + std::to_string(real) +
                       " with no record terminator");
            return;
        }
        std::string why = says + ", the record terminator ends it after " + std::to_string(real);
        if (real > max_record_length) why += " (over the ISO 2709 limit of 99,999)";
        lost(error_code::bad_record_length, record_offset_, std::move(why));
    }

    // A problem where no record could be framed; reading goes on at offset_ + pos_.
    void lost(error_code code, std::uint64_t offset, std::string detail) {
        read_problem p{code, record_number_, offset, std::move(detail)};
        if (options_.policy == on_error::stop) return report(std::move(p));
        if (auto before = lost_.add(std::move(p), offset_ + pos_)) deliver(std::move(*before));
    }

    // A record is framed at record_offset_: the run of lost bytes before it, if any, ends, and
    // the record is counted.
    void found_record() {
        if (auto p = lost_.close()) {
            deliver(std::move(*p));
            ++record_number_;
        }
    }

    void report(error_code code, std::uint64_t offset, std::string detail) {
        report(read_problem{code, record_number_, offset, std::move(detail)});
    }
    void report(read_problem p) {
        if (options_.policy == on_error::stop) {
            ++problem_count_;
            throw marc_error(std::move(p));
        }
        deliver(std::move(p));
    }
    void deliver(read_problem p) {
        ++problem_count_;
        if (options_.on_problem)
            options_.on_problem(p);
        else
            problems_.push_back(std::move(p));
    }

    std::unique_ptr<byte_source> source_;
    reader_options options_;
    std::unique_ptr<char[]> buffer_;
    std::size_t capacity_ = 0;
    char const* data_ = nullptr;
    std::size_t pos_ = 0;      // next unread byte in data_
    std::size_t end_ = 0;      // end of the bytes held in data_
    std::uint64_t offset_ = 0; // input offset of data_[0]
    bool eof_ = false;
    std::uint64_t record_number_ = 0;
    std::uint64_t record_offset_ = 0;
    std::uint64_t problem_count_ = 0;
    std::vector<read_problem> problems_;
    unreadable_run lost_;
};

}  // namespace marcpipe::marc
