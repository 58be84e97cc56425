// http_client: the event loop, the rate limiter, the retry policy, a classifier and a
// credential together; what a service client (alma::client) calls for every request.
//
//   http_client http({.rate = 25, .loop = {.max_in_flight = 32}});   // or alma::http_options(key)
//   result r = co_await http.get(url);          // paced, retried; the final response or error
//   result r = co_await http.get(url, judge);   // the same, judged by `judge` for this call
//   result r = co_await http.get(url, {}, key); // waits for its turn in the order of `key`
//   http.loop().run_until(...)                  // the caller drives the loop
//   http.stats()                                // requests sent, retries, per-class counts,
//                                               // the quota header's last value
//   http.stop(reason)                           // stop all work at once; later get()s fail fast
//   options.keep_quota = quota_keep{...}        // never spend the last calls of the day's quota
//                                               // (quota_floor.hpp): at the floor, the client stops
//
// get() adds the credential's header and `Accept`, waits for the rate limiter before every
// attempt, and asks the classifier (the options' one, or the call's own) what each attempt's
// result means: transient ones are retried with exponential backoff and full jitter (see
// retry.hpp), slowing the limiter when the verdict says over_rate. A call's priority_key (lowest
// first, see http.hpp) orders it among the requests waiting for the limiter and for a free slot;
// its retries keep it, so a retried request does not fall behind later ones. A permanent outcome is
// returned as it came (the caller records it and goes on). A fatal one (bad credentials, a used-up
// quota) stops the client: queued and running transfers end at once with
// CURLE_ABORTED_BY_CALLBACK, waiting requests wake, and stopped() / stop_reason() say why. This
// loop is the only place that retries, so a rule about waiting (how long to go on while nothing
// succeeds) belongs here too.
//
// An outage (the network or the server down, see classify.hpp) says nothing of the request, so
// it does not use up the request's attempts: it is retried with the same backoff until
// retry.patience has passed with no call answered (no attempt that ended other than in an
// outage, while some call was waiting), and then the client stops, saying what failed last; a
// caller that saves its state can be resumed. One request that keeps meeting outages for the
// whole patience while other calls are answered is not facing an outage but a fault of its own
// (a record Alma cannot serve without a 500): it is handed back as failed, as after its last
// attempt. When outages become a storm (failure_storm in retry.hpp) the limiter slows as for a
// 429; an occasional one leaves the pace alone.
//
// The secret is only ever put in the credential's header. A URL that carries apikey= in its
// query is refused (the key would end up in server logs), and every message the client produces
// is scrubbed of the secret and of control characters.
#pragma once

#include <algorithm>
#include <charconv>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "marcpipe/coro/task.hpp"
#include "marcpipe/net/classify.hpp"
#include "marcpipe/net/duration.hpp"
#include "marcpipe/net/event_loop.hpp"
#include "marcpipe/net/http.hpp"
#include "marcpipe/net/printable.hpp"
#include "marcpipe/net/quota_floor.hpp"
#include "marcpipe/net/rate_limiter.hpp"
#include "marcpipe/net/retry.hpp"
#include "marcpipe/net/url.hpp"

namespace marcpipe::net {

// A secret the server wants in a request header, e.g. `Authorization: apikey KEY`.
struct credential {
    credential() = default;
    credential(std::string name_, std::string value_, std::string secret_)
        : name(std::move(name_)), value(std::move(value_)), secret(std::move(secret_)) {}

    std::string name;    // of the header; empty: nothing sent (a public test server)
    std::string value;   // sent as it is
    std::string secret;  // the part never printed (the key in "apikey KEY"); empty: all of value
    std::string origin;  // where it came from, for a hint when it is refused ("ALMA_API_KEY"); may be empty
};

struct client_options {
    credential auth;
    // A response header counting the calls left (Alma's X-Exl-Api-Remaining); its last integer
    // value is kept in client_stats::quota_remaining. Empty: none.
    std::string quota_header;
    // With a quota header: the calls of the day never to spend (quota_floor.hpp). A call that
    // could spend them is not started; the calls on their way finish, then the client stops.
    std::optional<quota_keep> keep_quota;
    classifier classify = examine;  // per attempt, unless a call brings its own
    double rate = 25;               // request starts per rolling second; 0: unlimited (see rate_options)
    std::chrono::milliseconds rate_margin{25};
    loop_options loop;
    retry_policy retry;
    std::string accept = "application/xml";
    std::uint64_t seed = std::random_device{}();  // for the backoff jitter
};

struct client_stats {
    std::uint64_t requests = 0;  // attempts sent
    std::uint64_t retries = 0;   // attempts after the first
    std::uint64_t resent = 0;    // sent again by curl itself (a kept-alive connection had died)
    std::uint64_t success = 0;   // per attempt, by outcome class
    std::uint64_t transient = 0;
    std::uint64_t permanent = 0;
    std::uint64_t fatal = 0;
    std::uint64_t slowdowns = 0;               // verdicts over the rate that slowed the limiter
    std::uint64_t gave_up = 0;                 // transient until the last attempt
    std::uint64_t outages = 0;                 // attempts that failed as outages (classify.hpp)
    std::optional<long long> quota_remaining;  // the quota header, last seen
    std::optional<event_loop::time_point> first_start, last_start;  // of any attempt

    // Attempts per second between the first and the last start: the pace the limiter allowed,
    // without the latency of the last answers.
    double paced_rate() const {
        if (!first_start || requests < 2 || *last_start <= *first_start) return 0;
        return static_cast<double>(requests - 1) /
               std::chrono::duration<double>(*last_start - *first_start).count();
    }
};

class http_client {
public:
    explicit http_client(client_options options = {})
        : options_(std::move(options)),
          loop_(options_.loop),
          limiter_(loop_, rate_options{options_.rate, options_.rate_margin,
                                       std::chrono::milliseconds(1000)}),
          rng_(options_.seed) {
        if (options_.keep_quota && !options_.quota_header.empty()) floor_ = quota_floor{*options_.keep_quota};
    }
    http_client(http_client const&) = delete;
    http_client& operator=(http_client const&) = delete;
    // Coroutines spawned on the loop may be parked in the limiter or a backoff: end them first.
    ~http_client() {
        loop_.destroy_spawned();
        if (watchdog_) loop_.cancel(*watchdog_);
    }

    event_loop& loop() noexcept { return loop_; }
    rate_limiter& limiter() noexcept { return limiter_; }
    client_stats const& stats() const noexcept { return stats_; }
    quota_floor const& floor() const noexcept { return floor_; }
    client_options const& options() const noexcept { return options_; }
    bool stopped() const noexcept { return stopped_; }
    std::string const& stop_reason() const noexcept { return stop_reason_; }

    // Text safe to print: the secret (and any apikey=...) replaced, and control characters shown
    // as \xNN (printable.hpp), since what a server says ends up on a terminal.
    std::string scrub(std::string_view text) const {
        credential const& auth = options_.auth;
        return printable(net::scrub(text, auth.secret.empty() ? auth.value : auth.secret));
    }

    // Fatal: ends all work at once.
    void stop(std::string reason) {
        if (stopped_) return;
        stopped_ = true;
        stop_reason_ = scrub(reason);
        limiter_.cancel_all();
        loop_.cancel_transfers(CURLE_ABORTED_BY_CALLBACK, "stopped: " + stop_reason_);
        for (backoff_awaiter* b : sleeping_) b->wake();
        sleeping_.clear();
        if (watchdog_) loop_.cancel(*watchdog_);
        watchdog_.reset();
    }

    // `judge`, when given, classifies this call's attempts instead of options().classify; it is
    // called once per attempt that reached the transport, the last call on the result returned,
    // so what it reads from a body (a parsed answer) it can keep for the caller. `priority`
    // orders the call among those waiting (see the header comment); none: after all keyed ones.
    [[nodiscard]] coro::task<result> get(std::string url, classifier judge = {},
                                         priority_key priority = last_priority) {
        if (has_key_in_query(url))
            co_return tl::unexpected(transport_error(
                CURLE_URL_MALFORMAT,
                "refusing a URL with apikey= in its query (the key travels only in a "
                "request header): " +
                    redact(url)));
        std::vector<header> headers;
        if (!options_.auth.name.empty())
            headers.emplace_back(options_.auth.name, options_.auth.value);
        if (!options_.accept.empty()) headers.emplace_back("Accept", options_.accept);
        int const attempts = std::max(1, options_.retry.max_attempts);
        waiting_call busy(*this);
        int counted = 0;  // attempts that count against max_attempts: not outages
        std::optional<event_loop::time_point> failing_since;  // of this call's current outage
        for (int attempt = 1;; ++attempt) {
            if (stopped_) co_return stopped_error();
            if (floor_.active() && !answered_) co_await first_answer_if_floor();
            // The limiter counts the request when it leaves (see rate_limiter.hpp), where curl
            // can say when that is.
            // A named local, not the condition of the if: see rate_limiter.hpp.
            bool granted = false;
            if constexpr (event_loop::sees_sends)
                granted = co_await limiter_.reserve(priority);
            else
                granted = co_await limiter_.acquire(priority);
            if (!granted || stopped_) {
                if (granted && event_loop::sees_sends) limiter_.give_back();
                co_return stopped_error();
            }
            if (floor_.active() && (at_floor_ || !floor_.may_start(in_flight_))) {
                if (event_loop::sees_sends) limiter_.give_back();
                co_await stop_at_floor();
                co_return stopped_error();
            }
            ++stats_.requests;
            if (attempt > 1) ++stats_.retries;
            stats_.last_start = event_loop::clock::now();
            if (!stats_.first_start) stats_.first_start = stats_.last_start;
            int sends = 0;
            std::function<bool(int)> on_send;
            if (event_loop::sees_sends)
                on_send = [this, &sends](int nth) {
                    ++sends;
                    if (nth == 1) {
                        limiter_.sent();
                        return true;
                    }
                    // curl resending on a new connection after a kept-alive one died: one more
                    // request for Alma to count, so it goes only if the window has room.
                    if (!limiter_.start_unplanned()) return false;
                    ++stats_.requests;
                    ++stats_.resent;
                    return true;
                };
            ++in_flight_;
            result r = co_await loop_.get(url, headers, std::move(on_send), priority);
            --in_flight_;
            answered_ = true;
            if (event_loop::sees_sends && sends == 0) limiter_.give_back();
            if (r)
                note_quota(*r);
            else
                r.error().message = scrub(r.error().message);
            verdict v = judge ? judge(r) : options_.classify ? options_.classify(r) : examine(r);
            bool const outage = v.kind == outcome_class::transient && v.outage;
            auto const now = event_loop::clock::now();
            if (!stopped_) {
                if (!outage) quiet_since_ = now;  // the server answered for itself
                if (storm_.note(now, outage)) v.over_rate = true;
            }
            switch (v.kind) {
                case outcome_class::success:
                    ++stats_.success;
                    co_return r;
                case outcome_class::permanent:
                    ++stats_.permanent;
                    co_return r;
                case outcome_class::fatal:
                    ++stats_.fatal;
                    if (!stopped_) stop(v.reason + " (GET " + redact(url) + ")");
                    co_return r;
                case outcome_class::transient:
                    ++stats_.transient;
                    break;
            }
            if (v.over_rate) {
                ++stats_.slowdowns;
                limiter_.slow_down();
            }
            if (outage) {
                ++stats_.outages;
                // A transport error's message names the URL already.
                last_outage_ = r ? v.reason + " (GET " + redact(url) + ")" : v.reason;
                if (!failing_since) failing_since = now;
                // Failing for the whole patience while others are being answered: the fault is
                // this request's own. (In a real outage nobody is answered, and the watchdog
                // stops the client.)
                auto const patience = options_.retry.patience;
                if (now - *failing_since >= patience && now - quiet_since_ < patience / 2) {
                    ++stats_.gave_up;
                    co_return r;
                }
            } else {
                failing_since.reset();
                if (++counted >= attempts) {
                    ++stats_.gave_up;
                    co_return r;
                }
            }
            co_await backoff_awaiter(*this, options_.retry.backoff(attempt, v.retry_after, rng_));
        }
    }

private:
    void note_quota(response const& r) {
        if (options_.quota_header.empty()) return;
        if (auto remaining = r.header_value(options_.quota_header)) {
            long long n = 0;
            auto [end, ec] =
                std::from_chars(remaining->data(), remaining->data() + remaining->size(), n);
            if (ec == std::errc{}) {
                stats_.quota_remaining = n;
                floor_.seen(n);
            }
        }
    }

    // While a call is in get(), the patience runs: the watchdog stops the client when no call
    // was answered for retry.patience. It is armed only while calls wait, so an idle client
    // leaves no timer on the loop, and a pause between calls does not count.
    class waiting_call {
    public:
        explicit waiting_call(http_client& client) : client_(client) {
            if (client_.waiting_calls_++ == 0 && !client_.stopped_) {
                client_.quiet_since_ = event_loop::clock::now();
                client_.arm_watchdog();
            }
        }
        waiting_call(waiting_call const&) = delete;
        waiting_call& operator=(waiting_call const&) = delete;
        ~waiting_call() {
            if (--client_.waiting_calls_ == 0 && client_.watchdog_) {
                client_.loop_.cancel(*client_.watchdog_);
                client_.watchdog_.reset();
            }
        }

    private:
        http_client& client_;
    };

    void arm_watchdog() {
        if (watchdog_) loop_.cancel(*watchdog_);
        watchdog_ = loop_.call_at(quiet_since_ + options_.retry.patience, [this] {
            watchdog_.reset();
            if (stopped_ || waiting_calls_ == 0) return;
            if (event_loop::clock::now() - quiet_since_ < options_.retry.patience) {
                arm_watchdog();
                return;
            }
            std::string const waited = describe_duration(options_.retry.patience);
            stop(last_outage_.empty() ? "no call was answered for " + waited +
                                            " (--patience): the calls sent got no answer"
                                      : "no call has succeeded for " + waited +
                                            " (--patience); the last failure: " + last_outage_);
        });
    }

    // The quota floor, the client's side: until the first answer says how many calls are left,
    // only the floor's first wave goes (quota_floor::first_wave); once a call would go below the
    // floor, none starts any more, the calls on their way finish (their answers are worth
    // keeping), and the client stops. The wave is counted when a call is let through, not when
    // it leaves: calls let through may still wait for the rate limiter.
    coro::task<void> first_answer_if_floor() {
        while (floor_.active() && !answered_ && before_first_answer_ >= floor_.first_wave(options_.rate) && !stopped_)
            co_await backoff_awaiter(*this, std::chrono::milliseconds{20});
        if (!answered_) ++before_first_answer_;
    }
    coro::task<void> stop_at_floor() {
        at_floor_ = true;
        while (in_flight_ > 0 && !stopped_) co_await backoff_awaiter(*this, std::chrono::milliseconds{20});
        stop(floor_.reason());
    }

    result stopped_error() const {
        return tl::unexpected(
            transport_error(CURLE_ABORTED_BY_CALLBACK, "stopped: " + stop_reason_));
    }

    // A sleep that stop() can cut short.
    class backoff_awaiter {
    public:
        backoff_awaiter(http_client& client, std::chrono::milliseconds delay)
            : client_(client), delay_(delay) {}
        backoff_awaiter(backoff_awaiter const&) = delete;
        backoff_awaiter& operator=(backoff_awaiter const&) = delete;
        ~backoff_awaiter() {
            if (armed_) {
                client_.loop_.cancel(id_);
                client_.sleeping_.erase(pos_);
            }
            if (posted_) client_.loop_.forget(waiting_);
        }
        bool await_ready() const noexcept { return client_.stopped_ || delay_.count() <= 0; }
        void await_suspend(std::coroutine_handle<> h) {
            waiting_ = h;
            id_ = client_.loop_.call_at(event_loop::clock::now() + delay_, [this] {
                client_.sleeping_.erase(pos_);
                armed_ = false;
                posted_ = true;
                client_.loop_.post(waiting_);
            });
            client_.sleeping_.push_back(this);
            pos_ = std::prev(client_.sleeping_.end());
            armed_ = true;
        }
        void await_resume() noexcept { posted_ = false; }
        void wake() {  // from stop(), which clears the list itself
            client_.loop_.cancel(id_);
            armed_ = false;
            posted_ = true;
            client_.loop_.post(waiting_);
        }

    private:
        http_client& client_;
        std::chrono::milliseconds delay_;
        event_loop::timer_id id_{};
        std::list<backoff_awaiter*>::iterator pos_;
        std::coroutine_handle<> waiting_;
        bool armed_ = false;
        bool posted_ = false;
    };

    client_options options_;
    event_loop loop_;
    rate_limiter limiter_;
    std::mt19937_64 rng_;
    client_stats stats_;
    bool stopped_ = false;
    std::string stop_reason_;
    std::list<backoff_awaiter*> sleeping_;
    std::size_t waiting_calls_ = 0;         // calls in get()
    event_loop::time_point quiet_since_{};  // the last answer, or when calls began to wait
    std::optional<event_loop::timer_id> watchdog_;
    std::string last_outage_;  // what the patience's stop message names
    failure_storm storm_;
    quota_floor floor_;
    std::uint64_t in_flight_ = 0;  // attempts started whose result is not in
    bool answered_ = false;
    std::uint64_t before_first_answer_ = 0;  // calls let through before the first answer
    bool at_floor_ = false;
};

}  // namespace marcpipe::net
