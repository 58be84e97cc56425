// read_buffer: a window on a byte_source, addressed by offsets in the whole input, that keeps
// what its user still needs and lets the rest go.
//
// The MARCXML reader scans a file of any size in bounded memory: it says from which offset it
// still needs bytes (keep_from), and a record being cut out is held whole (hold), up to a limit
// past which the buffer lets it go so that one runaway record cannot take all memory. Offsets
// stay valid across reads; pointers from at() last until the next fill().
#pragma once

#include <string.h>  // memmem (a GNU and BSD extension, not in <cstring>)

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <marcpipe/marc/source.hpp>
#include <memory>
#include <optional>
#include <string_view>
#include <utility>

namespace marcpipe::marc::detail {

class read_buffer {
public:
    explicit read_buffer(std::unique_ptr<byte_source> source) : source_{std::move(source)} {}

    char* at(std::uint64_t abs) noexcept { return buf_.get() + (abs - base_); }
    // One past the last input offset in the buffer.
    std::uint64_t avail() const noexcept { return base_ + len_; }
    std::string_view text(std::uint64_t b, std::uint64_t e) {
        return {at(b), static_cast<std::size_t>(e - b)};
    }

    // Bytes before `abs` may be dropped at the next fill().
    void keep_from(std::uint64_t abs) noexcept { keep_ = abs; }

    // Holds every byte from `begin` on (a record being cut out), until more than `limit` bytes
    // have been read from there: then over_limit() and find() keeps only what a search needs.
    void hold(std::uint64_t begin, std::size_t limit) noexcept {
        holding_ = true;
        over_limit_ = false;
        hold_begin_ = begin;
        hold_limit_ = limit;
    }
    void let_go() noexcept { holding_ = false; }
    bool holding() const noexcept { return holding_; }
    bool over_limit() const noexcept { return over_limit_; }

    // Reads more input; false at the end of the input.
    bool fill() {
        if (eof_) return false;
        std::size_t const drop =
            static_cast<std::size_t>(std::min<std::uint64_t>(keep_, avail()) - base_);
        if (drop > 0 && drop >= len_ / 2) {
            std::memmove(buf_.get(), buf_.get() + drop, len_ - drop);
            len_ -= drop;
            base_ += drop;
        }
        if (capacity_ - len_ < read_block / 2) {
            // Small input in memory gets a buffer its size, not a full block.
            std::size_t want = std::max(capacity_ * 2, len_ + read_block);
            if (capacity_ == 0)
                if (auto whole = source_->contiguous()) want = std::min(want, whole->size() + 1);
            auto bigger = std::make_unique_for_overwrite<char[]>(want);
            if (len_ != 0) std::memcpy(bigger.get(), buf_.get(), len_);
            buf_ = std::move(bigger);
            capacity_ = want;
        }
        std::size_t const got = source_->read(buf_.get() + len_, capacity_ - len_);
        if (got == 0) {
            eof_ = true;
            return false;
        }
        len_ += got;
        return true;
    }
    // Makes [.., abs) available; false if the input ends first.
    bool ensure(std::uint64_t abs) {
        while (avail() < abs)
            if (!fill()) return false;
        return true;
    }
    // First occurrence of `needle` at or after `from`, or nullopt at the end of the input.
    // `token` is where the markup being read starts, or nullopt when searching text: then
    // nothing before `from` is needed, and a long text does not pile up in the buffer.
    std::optional<std::uint64_t> find(std::string_view needle, std::uint64_t from,
                                      std::optional<std::uint64_t> token = std::nullopt) {
        for (;;) {
            if (from + needle.size() <= avail()) {
                char const* const hay = at(from);
                std::size_t const n = static_cast<std::size_t>(avail() - from);
                void const* hit = needle.size() == 1
                                      ? std::memchr(hay, needle[0], n)
                                      : ::memmem(hay, n, needle.data(), needle.size());
                if (hit)
                    return from + static_cast<std::uint64_t>(static_cast<char const*>(hit) - hay);
                from = avail() - (needle.size() - 1);
            }
            // A held record is kept whole, up to the limit; past it, or with nothing held,
            // only what the current search still needs.
            if (holding_ && !over_limit_ && avail() - hold_begin_ > hold_limit_) over_limit_ = true;
            if (!holding_ || over_limit_) keep_ = token ? *token : from;
            if (!fill()) return std::nullopt;
        }
    }

private:
    static constexpr std::size_t read_block = 256 * 1024;

    std::unique_ptr<byte_source> source_;
    std::unique_ptr<char[]> buf_;
    std::size_t capacity_ = 0;
    std::size_t len_ = 0;     // bytes in buf_
    std::uint64_t base_ = 0;  // input offset of buf_[0]
    std::uint64_t keep_ = 0;  // input offset of the first byte still needed
    bool eof_ = false;
    bool holding_ = false;     // a record is being cut out
    bool over_limit_ = false;  // ... and it is longer than hold_limit_
    std::uint64_t hold_begin_ = 0;
    std::size_t hold_limit_ = 0;
};

}  // namespace marcpipe::marc::detail
