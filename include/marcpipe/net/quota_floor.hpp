// quota_floor: the calls of a daily quota a client must leave unspent. The quota belongs to
// the whole institution (Alma's X-Exl-Api-Remaining counts down its calls of the day), and when
// one client spends it all, every other integration stops until the day rolls over.
//
//   quota_floor floor{quota_keep{.calls = 500}};   // or {.share = 0.1}: a tenth of the first count seen
//   floor.first_wave(rate)                         // calls that may go before the first answer
//   floor.seen(remaining);                         // each answer's header value
//   if (!floor.may_start(in_flight)) ...           // before a call leaves: stop instead
//
// A call counts against the quota from the moment it reaches the server, and the header of an
// answer counts only the calls that had reached it by then; the calls already started whose
// answers are still out may have been counted or not. So a call may start only while
// remaining - (calls in flight) - 1 >= the calls to keep: once all of them are counted, the last
// of them leaves the floor whole. The smallest count seen is trusted, since answers can
// arrive out of order and the count only goes down within a day.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>

namespace marcpipe::net {

struct quota_keep {
    std::optional<long long> calls;  // calls never to spend
    double share = 0.1;              // without `calls`: this share of the first count seen
};

class quota_floor {
public:
    quota_floor() = default;
    explicit quota_floor(quota_keep keep) : keep_{keep}, active_{true} {}

    bool active() const noexcept { return active_; }

    void seen(long long remaining) {
        if (!active_) return;
        if (!first_) {
            first_ = remaining;
            keep_calls_ = calls_to_keep_of(remaining);
        }
        lowest_ = lowest_ ? std::min(*lowest_, remaining) : remaining;
    }

    // The calls kept when `remaining` are left as the run starts.
    long long calls_to_keep_of(long long remaining) const noexcept {
        if (keep_.calls) return *keep_.calls;
        return static_cast<long long>(std::ceil(keep_.share * static_cast<double>(std::max(remaining, 0LL))));
    }

    // How many calls may start before the first answer has said how many are left. An explicit
    // floor (`calls`) is kept exactly: one call, then its count. A share of what is left (the
    // default) lets the first second's calls go at `per_second`, so that a run does not lose the
    // first answer's latency: the floor is then a share of what the first answer counts, and
    // only a quota with fewer calls left than one second's would be spent below it.
    std::uint64_t first_wave(double per_second) const noexcept {
        if (!active_ || keep_.calls) return 1;
        return static_cast<std::uint64_t>(std::clamp(std::floor(per_second), 1.0, 1000.0));
    }

    // Whether a call may start with `in_flight` calls already on their way.
    bool may_start(std::uint64_t in_flight) const noexcept {
        if (!active_ || !lowest_) return true;
        return *lowest_ - static_cast<long long>(in_flight) - 1 >= keep_calls_;
    }

    std::optional<long long> remaining() const noexcept { return lowest_; }
    std::optional<long long> first_seen() const noexcept { return first_; }
    long long calls_kept() const noexcept { return keep_calls_; }

    std::string reason() const {
        return "kept the last " + std::to_string(keep_calls_) +
               " of the institution's API calls for today (X-Exl-Api-Remaining: " +
               (lowest_ ? std::to_string(*lowest_) : std::string{"?"}) +
               "); --resume finishes the run after Alma's day rolls over";
    }

private:
    quota_keep keep_;
    bool active_ = false;
    std::optional<long long> first_;
    std::optional<long long> lowest_;
    long long keep_calls_ = 0;
};

}  // namespace marcpipe::net
