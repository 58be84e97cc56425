// Rate limiting of request starts: never more than N starts in ANY rolling one-second window.
//
//   rolling_window  the policy alone, on time points the caller passes in (an injected clock):
//                   try_start(now), next_start(now), slow_down(now), limit(now)
//   rate_limiter    the policy on an event_loop: `bool go = co_await limiter.acquire(key);`
//                   (false once cancel_all() was called); slow_down() on 429 PER_SECOND_THRESHOLD;
//                   waiters go in the order of their priority_key (http.hpp), first come first
//                   among equal keys.
//                   Keep the co_await out of an if-condition: GCC 12 emits a trap (SIGILL) for
//                   `if (co_await limiter.acquire())`; a named local works on every compiler.
//
// Alma counts calls per institution in a rolling second, so a token bucket (which lets a full
// bucket burst on top of the refill, up to 2N-1 in one second) is not enough: this keeps the
// start times of the last N requests and lets a request start only when fewer than N started in
// the window before it. The window is one second plus a small margin, because the server counts
// arrivals, and the time from "start" to "arrival" varies by a few milliseconds between
// requests (a fresh connection, a busy loop turn); without the margin N+1 arrivals can land in
// one server-side second.
//
// Starts are also spread evenly, about window / N apart (rate_options::smooth): the same N per
// window, but the server never gets N requests in one instant. A burst queues at the server, and
// the spread of its arrivals is exactly what can push one burst into the next rolling second;
// evenly spaced requests arrive with an even delay.
//
// What counts is when a request leaves, not when it was allowed to: between the two lie a free
// slot in the loop, a TLS handshake on a new connection, a busy turn of the loop. So a start can
// be taken in two steps: try_reserve() holds a place, which counts in every window from then on,
// and confirm_sent() (called when curl is about to send, see http_client) puts the start at the
// moment it really left; give_back() frees a place that was never used. A start that nobody
// planned (curl resending on a fresh connection after a kept-alive one died) is counted with
// try_start_unplanned(), which refuses when the window is full.
//
// The order of the waiters decides only who takes the next start, never when it is: the pacing
// is the same whatever the keys. A request that finds nobody waiting starts at once if the
// window allows, whatever its key (nobody is there for it to overtake).
//
// On a 429 PER_SECOND_THRESHOLD (someone else of the institution is using the same budget) the
// limit halves, at most once per window, and then grows back by a tenth of N per second.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <coroutine>
#include <deque>
#include <optional>
#include <stdexcept>
#include <string>

#include "marcpipe/net/event_loop.hpp"
#include "marcpipe/net/http.hpp"

namespace marcpipe::net {

struct rate_options {
    // 0: no limit. Otherwise from min_per_second to max_per_second: anything else (NaN, an
    // infinity, a negative rate, one call a day) is refused with std::invalid_argument rather
    // than turned into no limit or a stall.
    double per_second = 25;
    static constexpr double min_per_second = 1.0 / 3600;
    static constexpr double max_per_second = 1'000'000;
    std::chrono::milliseconds margin{25};  // added to the one-second window
    std::chrono::milliseconds recovery_step{
        1000};           // after a slow-down, the limit grows once per step
    bool smooth = true;  // spread starts evenly (window / N apart)
};

class rolling_window {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using duration = clock::duration;

    explicit rolling_window(rate_options options = {}) : options_(options) {
        double const rate = options_.per_second;
        if (!std::isfinite(rate) || rate < 0 ||
            (rate > 0 && (rate < rate_options::min_per_second || rate > rate_options::max_per_second)))
            throw std::invalid_argument("a rate of " + std::to_string(rate) +
                                        " requests per second: it must be 0 (no limit) or from one an hour to " +
                                        std::to_string(static_cast<long>(rate_options::max_per_second)));
        if (options_.per_second > 0) {
            // N starts per window: for a rate below 1/s the window stretches (1 per 1/rate s).
            if (options_.per_second >= 1) {
                max_limit_ = static_cast<int>(std::floor(options_.per_second));
                window_ = std::chrono::seconds(1);
            } else {
                max_limit_ = 1;
                window_ = std::chrono::duration_cast<duration>(
                    std::chrono::duration<double>(1.0 / options_.per_second));
            }
            window_ += options_.margin;
        }
        reduced_ = max_limit_;
    }

    bool unlimited() const noexcept { return max_limit_ == 0; }
    int max_limit() const noexcept { return max_limit_; }
    duration window() const noexcept { return window_; }

    // The limit in force at `now`: N, or less while recovering from a slow-down.
    int limit(time_point now) const {
        if (unlimited() || !slowed_at_) return max_limit_;
        auto steps = (now - *slowed_at_) / options_.recovery_step;
        int growth = std::max(1, max_limit_ / 10);
        long long grown = reduced_ + static_cast<long long>(steps) * growth;
        return static_cast<int>(std::min<long long>(grown, max_limit_));
    }

    // Earliest time >= now at which a start is allowed; time_point::max() when the places held
    // by reservations fill the limit (a confirmation or a give-back decides).
    time_point next_start(time_point now) const {
        if (unlimited()) return now;
        int lim = limit(now);
        std::size_t count = started_in_window(now) + outstanding_;
        if (count < static_cast<std::size_t>(lim)) return std::max(now, spaced_after(lim));
        if (outstanding_ >= static_cast<std::size_t>(lim)) return time_point::max();
        // Of the starts in the window, only lim - outstanding may stay: the (lim - outstanding)-th
        // most recent must leave it first.
        std::size_t idx = starts_.size() - (static_cast<std::size_t>(lim) - outstanding_);
        time_point t = starts_[idx] + window_;
        // While recovering the limit grows with time, which may allow an earlier start.
        if (slowed_at_ && lim < max_limit_) {
            auto steps = (now - *slowed_at_) / options_.recovery_step;
            time_point next_growth = *slowed_at_ + (steps + 1) * options_.recovery_step;
            t = std::min(t, next_growth);
        }
        return std::max({t, now, spaced_after(lim)});
    }

    // Records a start at `now` if allowed; false otherwise.
    bool try_start(time_point now) {
        if (!may_start(now, true)) return false;
        if (unlimited()) return true;
        last_grant_ = now;
        record(now);
        return true;
    }

    // Holds a place for a start whose moment is not known yet; false if not allowed now.
    bool try_reserve(time_point now) {
        if (!may_start(now, true)) return false;
        if (unlimited()) return true;
        last_grant_ = now;
        ++outstanding_;
        return true;
    }
    // The reserved start left at `now`.
    void confirm_sent(time_point now) {
        if (unlimited()) return;
        if (outstanding_ > 0) --outstanding_;
        record(now);
    }
    // The reserved start never happened.
    void give_back() noexcept {
        if (outstanding_ > 0) --outstanding_;
    }
    // A start nobody reserved, at `now`: counted if the window has room (the even spacing does
    // not apply: it is one request's second try, not a new one); false otherwise.
    bool try_start_unplanned(time_point now) {
        if (!may_start(now, false)) return false;
        if (!unlimited()) record(now);
        return true;
    }
    std::size_t reserved() const noexcept { return outstanding_; }

    // The server said "too many": halve the limit (once per window, since a burst of 429s
    // answers one excess) and let it recover gradually.
    void slow_down(time_point now) {
        if (unlimited()) return;
        if (slowed_at_ && now - *slowed_at_ < window_) return;
        reduced_ = std::max(1, limit(now) / 2);
        slowed_at_ = now;
    }

    // Starts recorded in (now - window, now].
    std::size_t started_in_window(time_point now) const {
        auto first = std::upper_bound(starts_.begin(), starts_.end(), now - window_);
        return static_cast<std::size_t>(starts_.end() - first);
    }

private:
    bool may_start(time_point now, bool spaced) {
        if (unlimited()) return true;
        prune(now);
        int lim = limit(now);
        if (started_in_window(now) + outstanding_ >= static_cast<std::size_t>(lim)) return false;
        return !spaced || now >= spaced_after(lim);
    }

    void record(time_point t) {
        starts_.insert(std::upper_bound(starts_.begin(), starts_.end(), t), t);
        if (starts_.size() > static_cast<std::size_t>(max_limit_)) starts_.pop_front();
    }

    // The earliest start the even spacing allows after the last one. A tenth less than
    // window / N: the schedule stays anchored on the rolling window (start i - N + window), and a
    // start that came late is caught up instead of delaying every later one.
    time_point spaced_after(int lim) const {
        if (!options_.smooth || !last_grant_ || lim <= 0) return time_point::min();
        return *last_grant_ + window_ * 9 / (10 * lim);
    }

    void prune(time_point now) {
        while (starts_.size() > 1 && starts_.front() <= now - window_) starts_.pop_front();
    }

    rate_options options_;
    int max_limit_ = 0;
    duration window_{};
    int reduced_ = 0;
    std::optional<time_point> slowed_at_;
    std::deque<time_point> starts_;        // sorted
    std::size_t outstanding_ = 0;          // reserved places not yet confirmed or given back
    std::optional<time_point> last_grant_;  // what the even spacing counts from
};

class rate_limiter {
public:
    rate_limiter(event_loop& loop, rate_options options = {}) : loop_(loop), window_(options) {}
    rate_limiter(rate_limiter const&) = delete;
    rate_limiter& operator=(rate_limiter const&) = delete;
    ~rate_limiter() {
        if (timer_) loop_.cancel(*timer_);
    }

    class acquire_awaiter {
    public:
        acquire_awaiter(rate_limiter& limiter, bool reserve, priority_key key)
            : limiter_(limiter), key_(key), reserve_(reserve) {}
        acquire_awaiter(acquire_awaiter const&) = delete;
        acquire_awaiter& operator=(acquire_awaiter const&) = delete;
        ~acquire_awaiter() {
            if (queued_)
                limiter_.waiters_.erase(
                    std::find(limiter_.waiters_.begin(), limiter_.waiters_.end(), this));
            if (posted_) limiter_.loop_.forget(waiting_);
        }
        bool await_ready() {
            if (limiter_.cancelled_) return true;
            // Nobody overtakes a request that is already waiting: the waiters' order decides.
            return limiter_.waiters_.empty() && limiter_.grant(*this, event_loop::clock::now()) &&
                   (granted_ = true);
        }
        void await_suspend(std::coroutine_handle<> h) {
            waiting_ = h;
            queued_ = true;
            limiter_.enqueue(*this);
            limiter_.pump();
        }
        // true: the request may start now; false: the limiter was cancelled (stop all work).
        bool await_resume() noexcept {
            posted_ = false;
            return granted_;
        }

    private:
        friend class rate_limiter;
        rate_limiter& limiter_;
        std::coroutine_handle<> waiting_;
        priority_key key_;
        bool reserve_;
        bool queued_ = false;
        bool posted_ = false;
        bool granted_ = false;
    };

    // A start, counted at the moment it is granted.
    [[nodiscard]] acquire_awaiter acquire(priority_key key = last_priority) {
        return acquire_awaiter(*this, false, key);
    }
    // A place for a start: the caller then says sent() when the request leaves, or give_back().
    [[nodiscard]] acquire_awaiter reserve(priority_key key = last_priority) {
        return acquire_awaiter(*this, true, key);
    }

    void sent() {
        window_.confirm_sent(event_loop::clock::now());
        pump();
    }
    void give_back() {
        window_.give_back();
        pump();
    }
    bool start_unplanned() { return window_.try_start_unplanned(event_loop::clock::now()); }

    void slow_down() { window_.slow_down(event_loop::clock::now()); }

    // Wakes every waiter with `false` and refuses all later acquisitions.
    void cancel_all() {
        cancelled_ = true;
        if (timer_) loop_.cancel(*timer_);
        timer_.reset();
        for (acquire_awaiter* w : waiters_) wake(*w, false);
        waiters_.clear();
    }

    bool cancelled() const noexcept { return cancelled_; }
    std::size_t waiting() const noexcept { return waiters_.size(); }
    int current_limit() const { return window_.limit(event_loop::clock::now()); }
    rolling_window const& window() const noexcept { return window_; }

private:
    void wake(acquire_awaiter& w, bool granted) {
        w.queued_ = false;
        w.granted_ = granted;
        w.posted_ = true;
        loop_.post(w.waiting_);
    }

    // Behind every waiter with a key at or below its own: a sorted insert, since a few hundred
    // waiters at most are ever queued and most come with the highest key so far.
    void enqueue(acquire_awaiter& w) {
        auto after = std::upper_bound(
            waiters_.begin(), waiters_.end(), w.key_,
            [](priority_key key, acquire_awaiter const* other) { return key < other->key_; });
        waiters_.insert(after, &w);
    }

    bool grant(acquire_awaiter const& w, event_loop::time_point now) {
        return w.reserve_ ? window_.try_reserve(now) : window_.try_start(now);
    }

    // Grants as many waiters as the window allows now, then sleeps until the next may start
    // (or until a reservation is settled, which calls this again).
    void pump() {
        if (cancelled_) return;
        if (timer_) {
            loop_.cancel(*timer_);
            timer_.reset();
        }
        auto now = event_loop::clock::now();
        while (!waiters_.empty() && grant(*waiters_.front(), now)) {
            acquire_awaiter* w = waiters_.front();
            waiters_.pop_front();
            wake(*w, true);
        }
        if (!waiters_.empty()) {
            auto const next = window_.next_start(now);
            if (next == event_loop::time_point::max()) return;
            timer_ = loop_.call_at(next, [this] {
                timer_.reset();
                pump();
            });
        }
    }

    event_loop& loop_;
    rolling_window window_;
    std::deque<acquire_awaiter*> waiters_;  // by key, then arrival
    std::optional<event_loop::timer_id> timer_;
    bool cancelled_ = false;
};

}  // namespace marcpipe::net
