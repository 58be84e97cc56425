// How long to wait before trying a request again: exponential backoff with full jitter.
//
//   struct retry_policy { max_attempts, base_delay, max_delay, max_retry_after;
//                         backoff(failed_attempts, retry_after, rng) }
//
// Which results are worth another try is the classifier's call (see classify.hpp); this says
// how many tries there are and how far apart. Full jitter (a uniform delay in
// [0, min(cap, base * 2^n)]) spreads the retries of many requests that failed together, so they
// do not come back as one burst; Retry-After, when the server sends it, is a floor.
#pragma once

#include <algorithm>
#include <chrono>
#include <optional>
#include <random>

namespace marcpipe::net {

struct retry_policy {
    int max_attempts = 5;                         // the first try included
    std::chrono::milliseconds base_delay{250};    // the cap of the first backoff
    std::chrono::milliseconds max_delay{20'000};  // the cap of any backoff
    std::chrono::milliseconds max_retry_after{
        120'000};  // longer Retry-After values are cut to this

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

}  // namespace marcpipe::net
