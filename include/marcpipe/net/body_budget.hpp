// body_budget: the bytes of answer bodies that all transfers of one event loop may hold at once.
//
// A cap per transfer bounds one answer, not a run: 48 transfers each filling a 64 MiB cap with an
// endless answer held 945 MB, and at --concurrency 1024 the caps add up to 64 GiB. So the loop
// also counts the memory of every body being received (its capacity) against one budget. A
// transfer whose next bytes do not fit is ended at once (CURLE_OUT_OF_MEMORY, which the
// classifier takes as transient): its memory is free again, and its retry comes after a backoff,
// when the others have finished. Pausing it instead (CURL_WRITEFUNC_PAUSE) would keep what it
// holds, and transfers all paused for each other's bytes would wait forever.
#pragma once

#include <algorithm>
#include <cstddef>

namespace marcpipe::net {

class body_budget {
public:
    explicit body_budget(std::size_t limit) : limit_{limit} {}

    // Counts n more bytes, or false (nothing counted) when they would pass the limit.
    bool take(std::size_t n) noexcept {
        if (n > limit_ - used_) return false;
        used_ += n;
        peak_ = std::max(peak_, used_);
        return true;
    }
    void give_back(std::size_t n) noexcept { used_ -= std::min(n, used_); }

    std::size_t limit() const noexcept { return limit_; }
    std::size_t used() const noexcept { return used_; }
    std::size_t peak() const noexcept { return peak_; }  // the most ever held at once

private:
    std::size_t limit_;
    std::size_t used_ = 0;
    std::size_t peak_ = 0;
};

}  // namespace marcpipe::net
