// How long to wait before trying a request again: exponential backoff with full jitter; how long
// to go on while nothing succeeds; and when failures are so many that the pace must drop.
//
//   struct retry_policy { max_attempts, base_delay, max_delay, max_retry_after, patience;
//                         backoff(failed_attempts, retry_after, rng) }
//   class failure_storm { note(now, outage) -> bool: most recent calls fail, slow down }
//
// Which results are worth another try is the classifier's call (see classify.hpp); this says
// how many tries there are and how far apart. Full jitter (a uniform delay in
// [0, min(cap, base * 2^n)]) spreads the retries of many requests that failed together, so they
// do not come back as one burst; Retry-After, when the server sends it, is a floor.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <random>

namespace marcpipe::net {

struct retry_policy {
    int max_attempts = 5;                         // the first try included
    std::chrono::milliseconds base_delay{250};    // the cap of the first backoff
    std::chrono::milliseconds max_delay{20'000};  // the cap of any backoff
    std::chrono::milliseconds max_retry_after{
        120'000};  // longer Retry-After values are cut to this
    // Outages (classify.hpp) do not count against max_attempts: they are retried until no call
    // has succeeded for this long, and then the client stops (see http_client.hpp).
    std::chrono::milliseconds patience{std::chrono::minutes(10)};

    // Delay before the next try after `failed_attempts` failures (1 for the first retry).
    template <class Rng>
    std::chrono::milliseconds backoff(int failed_attempts,
                                      std::optional<std::chrono::milliseconds> retry_after,
                                      Rng& rng) const {
        long long cap = base_delay.count();
        for (int i = 1; i < failed_attempts && cap < max_delay.count(); ++i) cap *= 2;
        cap = std::min<long long>(cap, max_delay.count());
        std::uniform_int_distribution<long long> jitter(0, std::max(0LL, cap));
        std::chrono::milliseconds delay(jitter(rng));
        if (retry_after) delay = std::max(delay, std::min(*retry_after, max_retry_after));
        return delay;
    }
};

// Whether outages have become a storm: of the attempts that ended in the last `span`, most
// failed as outages, at least `min_failures` of them, and the failures are spread over at least
// `min_duration` (one instant in which every open connection broke is an event, not a storm).
// In a storm the caller slows its pace as it does for a 429: a server that is failing under load
// is not helped by the full rate, and calls that cannot succeed should not use the quota up. An
// occasional failure (a few percent of the calls) never makes a majority, so it leaves the pace
// alone. Time comes from the caller, so a test can count instead of waiting.
class failure_storm {
public:
    using clock = std::chrono::steady_clock;

    struct options {
        std::chrono::milliseconds span{5'000};
        std::chrono::milliseconds min_duration{2'000};
        std::size_t min_failures = 10;
    };

    failure_storm() = default;
    explicit failure_storm(options o) : options_(o) {}

    // Notes an attempt's end; true when it is an outage within a storm.
    bool note(clock::time_point now, bool outage) {
        ends_.push_back({now, outage});
        if (outage) ++failures_;
        while (!ends_.empty() && ends_.front().at <= now - options_.span) {
            if (ends_.front().outage) --failures_;
            ends_.pop_front();
        }
        if (!outage || failures_ < options_.min_failures || 2 * failures_ <= ends_.size())
            return false;
        auto first =
            std::find_if(ends_.begin(), ends_.end(), [](end const& e) { return e.outage; });
        return now - first->at >= options_.min_duration;
    }

private:
    struct end {
        clock::time_point at;
        bool outage;
    };
    options options_;
    std::deque<end> ends_;  // of the last span, oldest first
    std::size_t failures_ = 0;
};

}  // namespace marcpipe::net
