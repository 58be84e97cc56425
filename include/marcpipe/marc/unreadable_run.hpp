// unreadable_run: a stretch of input in which no record could be found is one problem that names
// the bytes it spans, not one problem per attempt to find a record in it.
//
// Random bytes hold a record terminator (0x1D) every 256 bytes on average, and a reader that
// skips to the next terminator after each bad leader met two million "bad record length"
// problems in 500 MB of junk after an export: millions of report rows, and memory for each one.
// A reader hands each problem met where it found no record to add(); problems of one attempt to
// find a record (the same record number: the reader does not count a new record while it is
// lost) are gathered, and the first problem of another record, or close() when the reader finds
// a record or the input ends, gives back what to report: a run of one problem as it was, a run of
// several as one problem from the first byte to the last, with the first problem's words.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "marcpipe/marc/error.hpp"

namespace marcpipe::marc {

class unreadable_run {
public:
    // A problem met where no record was found; reading goes on at byte `resume` (the problem's
    // own offset when the reader cannot say). Returns a problem to report now: the run held
    // before, when this problem belongs to another record.
    [[nodiscard]] std::optional<read_problem> add(read_problem p, std::uint64_t resume) {
        std::optional<read_problem> before;
        if (first_ && first_->record_number != p.record_number) before = close();
        if (!first_) {
            first_ = std::move(p);
            count_ = 1;
            end_ = resume;
            return before;
        }
        extend(resume);
        return before;
    }

    bool open() const noexcept { return first_.has_value(); }

    // For inputs whose problems have numbers of their own (the lines of a list): one more problem
    // in the run held, if one is; false when none is (the caller add()s its problem).
    bool extend(std::uint64_t resume) {
        if (!first_) return false;
        ++count_;
        end_ = std::max(end_, resume);
        return true;
    }

    // The run ends: the problem to report for it, if one was held.
    [[nodiscard]] std::optional<read_problem> close() {
        if (!first_) return std::nullopt;
        read_problem p = std::move(*first_);
        first_.reset();
        if (count_ == 1) return p;
        std::string detail = "no record from byte " + std::to_string(p.byte_offset) + " to byte " +
                             std::to_string(end_) + " (" + std::to_string(count_) +
                             " problems in it, the first: " + std::string{to_string(p.code)};
        if (!p.detail.empty()) detail += ": " + p.detail;
        detail += ")";
        p.code = error_code::unreadable_bytes;
        p.detail = std::move(detail);
        return p;
    }

private:
    std::optional<read_problem> first_;
    std::uint64_t count_ = 0;
    std::uint64_t end_ = 0;
};

}  // namespace marcpipe::marc
