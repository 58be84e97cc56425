// event_loop: one curl multi handle driving many HTTP GETs from coroutines, on one thread.
//
//   event_loop loop({.max_in_flight = 32});
//   coro::task<result> t = loop.get(url, {{"Accept", "application/xml"}});  // co_await it
//   loop.get(url, headers, on_send, key)  waits for a free slot in the order of `key` (http.hpp)
//   loop.spawn(task<void>)            detached coroutine owned by the loop (started from the loop)
//   loop.run_once(max_wait)           one turn: wait for sockets/timers, let curl work, drain
//                                     completions, fire timers, THEN resume the coroutines
//   loop.run_until(pred) / loop.run() drive until pred() holds / until nothing is pending
//   loop.call_at(when, fn), cancel(id), sleep_for(d), schedule(), post(handle)
//   loop.cancel_transfers(code, why)  every queued and running transfer ends with that error
//
// Why it is built this way:
// - Coroutines are never resumed from inside a curl callback (curl forbids re-entering the multi
//   handle from there, and a resumed coroutine would start new transfers). Completions are drained
//   into a ready queue; the queue is resumed at the end of the turn, from the loop itself, so a
//   long chain of requests never nests on the stack (see the toolchain notes on GCC 12).
// - At most `max_in_flight` transfers are added to the multi handle; the rest wait, lowest
//   priority_key first and first come among equal keys, and are added as slots free up. The
//   server therefore sees exactly that concurrency.
// - Two ways to wait, chosen with loop_options::backend, each in a header of its own:
//     poll    curl_multi_poll + curl_multi_perform (the default, poll_backend.hpp): perform ->
//             poll -> perform -> drain.
//     epoll   socket-action API with epoll (epoll_backend.hpp): each turn hands only the ready
//             sockets to curl_multi_socket_action, so a turn costs O(ready sockets): for
//             thousands of connections.
//   The loop keeps what both share: the ready queue, the timers, the spawned coroutines and the
//   transfers in flight; a backend only waits and lets curl work.
//   poll is the default: on loopback it used less CPU per request than epoll, whose socket
//   callbacks and epoll_ctl calls for every kept-alive connection that goes idle and back pay off
//   only with thousands of connections, which Alma's 25 calls/s never needs (the figures:
//   benchmarks/README.md).
// - curl's 0 ms timeout ("act now") is floored at 1 ms in the epoll backend (epoll_backend.hpp
//   says why).
// - Transfers find their state through CURLOPT_PRIVATE; easy handles are pooled and reset so
//   connections (kept in the multi handle's cache) are reused across requests.
// - Every transfer: TLS verification on, plain http only to loopback hosts, Accept-Encoding with
//   every decoding curl supports, HTTP/1.1 only, connect/total/low-speed timeouts, a cap on the
//   response size, and a budget for the bodies of all transfers at once (body_budget.hpp). Not
//   HTTP/2: Alma's answers are small and its rate limit, not the number of connections, is what
//   bounds a run, so multiplexing would gain nothing measurable, and a protocol path no test can
//   exercise (no HTTP/2 server in the tests) is one to leave off.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <coroutine>
#include <cstdint>
#include <cstring>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "marcpipe/coro/task.hpp"
#include "marcpipe/net/body_budget.hpp"
#include "marcpipe/net/detail/epoll_backend.hpp"
#include "marcpipe/net/detail/poll_backend.hpp"
#include "marcpipe/net/http.hpp"
#include "marcpipe/net/url.hpp"

namespace marcpipe::net {

enum class loop_backend { poll, epoll };

// Transfers running at once, unless told otherwise: the library's and the programs' default.
// At Alma's 25 calls a second a call in flight is held for its whole answer time, so 48 keep the
// rate going while answers take up to about 2 s (the measurement: benchmarks/README.md).
inline constexpr std::size_t default_max_in_flight = 48;

struct loop_options {
    std::size_t max_in_flight = default_max_in_flight;       // transfers running at once
    std::chrono::milliseconds connect_timeout{10'000};       // TCP + TLS handshake
    std::chrono::milliseconds total_timeout{120'000};        // one whole transfer
    // A body slower than low_speed_limit bytes/s for low_speed_time ends as a timeout (and is
    // retried as one): a server trickling 3 bytes/s held a call for the whole total_timeout.
    long low_speed_limit = 100;
    std::chrono::seconds low_speed_time{30};
    // One answer's body; Alma's are small (a holdings record a few KB, 100 bibs a few MB).
    std::size_t max_response_bytes = std::size_t{16} << 20;  // a bigger body is an error
    // All bodies being received at once, whatever the number of transfers (body_budget.hpp).
    std::size_t bodies_in_flight_bytes = std::size_t{128} << 20;
    std::string user_agent = "marcpipe/0.1";
    std::string ca_file;                        // extra CA bundle (PEM); empty = the system store
    loop_backend backend = loop_backend::poll;  // see the header comment for why
};

class event_loop;

namespace detail {

inline void global_curl_init() {
    // curl_global_init is not thread-safe before 7.84; a function-local static makes it so.
    static bool const ok = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
    if (!ok) throw std::runtime_error("curl_global_init failed");
}

// Per-request state; lives in the frame of the get() coroutine, so its address is stable.
struct transfer {
    enum class state { idle, queued, running, completed };

    event_loop* loop = nullptr;
    CURL* easy = nullptr;
    curl_slist* request_headers = nullptr;
    std::string url;
    response resp;
    std::optional<result> outcome;
    std::coroutine_handle<> waiter;
    std::size_t cap = 0;
    bool over_cap = false;
    std::size_t budgeted = 0;  // the body's capacity, counted in the loop's body_budget
    bool over_budget = false;
    // Asked each time curl is about to send the request: 1 the first time, 2 when curl resends
    // it on a fresh connection because a kept-alive one died. false: do not send (the transfer
    // fails with CURLE_SEND_ERROR, for the caller to retry).
    std::function<bool(int)> on_send;
    int sends = 0;
    priority_key priority = last_priority;  // the order of waiting for a free slot
    bool send_refused = false;
    bool fresh_header_block = false;
    state where = state::idle;
    std::list<transfer*>::iterator queue_pos;
    char error_buffer[CURL_ERROR_SIZE] = {};

    transfer() = default;
    transfer(transfer const&) = delete;
    transfer& operator=(transfer const&) = delete;
    inline ~transfer();
};

}  // namespace detail

class event_loop {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using timer_id = std::pair<time_point, std::uint64_t>;

    explicit event_loop(loop_options options = {}) : options_(std::move(options)) {
        detail::global_curl_init();
        if (options_.max_in_flight == 0) options_.max_in_flight = 1;
        multi_ = curl_multi_init();
        if (!multi_) throw std::runtime_error("curl_multi_init failed");
        // Keep one idle connection per slot so every slot can reuse a connection.
        curl_multi_setopt(multi_, CURLMOPT_MAXCONNECTS, static_cast<long>(options_.max_in_flight));
        if (options_.backend == loop_backend::epoll) {
            try {
                epoll_.attach(multi_);
            } catch (...) {
                curl_multi_cleanup(multi_);
                throw;
            }
        } else {
            poll_.attach(multi_);
        }
    }

    event_loop(event_loop const&) = delete;
    event_loop& operator=(event_loop const&) = delete;

    ~event_loop() {
        // Destroying the spawned coroutines destroys their transfers, which leave the multi handle.
        destroy_spawned();
        for (CURL* easy : idle_easy_) curl_easy_cleanup(easy);
        curl_multi_cleanup(multi_);  // (the epoll set, closed after this, still hears of it)
    }

    loop_options const& options() const noexcept { return options_; }

    // Destroys every spawned coroutine now (an owner whose state they use is going away).
    void destroy_spawned() noexcept {
        to_start_.clear();
        spawned_.clear();
    }

    // Whether on_send below sees the moment a request leaves (curl 7.80 and later).
    static constexpr bool sees_sends = LIBCURL_VERSION_NUM >= 0x075000;

    // GET `url` with extra request headers. Completes with the response (any HTTP status) or a
    // transport_error; never throws for network trouble. `on_send` (see detail::transfer) is
    // asked each time the request is about to leave; it must not throw. While every slot is
    // taken the request waits behind those with a lower or equal `priority`.
    [[nodiscard]] coro::task<result> get(std::string url, std::vector<header> headers = {},
                                         std::function<bool(int)> on_send = {},
                                         priority_key priority = last_priority) {
        if (auto problem = check_url(url))
            co_return tl::unexpected(
                transport_error(CURLE_UNSUPPORTED_PROTOCOL, std::move(*problem)));
        detail::transfer t;
        t.on_send = std::move(on_send);
        t.priority = priority;
        if (auto failed = prepare(t, std::move(url), headers))
            co_return tl::unexpected(std::move(*failed));
        co_await transfer_awaiter{t};
        co_return std::move(*t.outcome);
    }

    // Runs `work` as a detached coroutine owned by the loop. It starts on the next turn; an
    // exception escaping it is rethrown from run_once.
    void spawn(coro::task<void> work) {
        spawned_.push_back(std::move(work));
        to_start_.push_back(std::prev(spawned_.end()));
    }

    // One turn of the loop, waiting at most `max_wait` for something to happen.
    void run_once(std::chrono::milliseconds max_wait) {
        auto wait = [&](std::optional<time_point> curl_deadline) {
            return wait_ms(max_wait, curl_deadline);
        };
        if (options_.backend == loop_backend::epoll)
            epoll_.turn(running_, wait);
        else
            poll_.turn(running_, wait);
        drain_completions();
        fire_due_timers();
        resume_ready();
    }

    template <class Pred>
    void run_until(Pred done) {
        while (!done()) {
            if (!pending())
                throw std::logic_error(
                    "event_loop::run_until: nothing is pending and the condition is not met");
            run_once(std::chrono::milliseconds(1000));
        }
    }

    void run() {
        while (pending()) run_once(std::chrono::milliseconds(1000));
    }

    bool pending() const noexcept {
        return running_ > 0 || !queued_.empty() || !ready_.empty() || !timers_.empty() ||
               !to_start_.empty() || !spawned_.empty();
    }
    std::size_t in_flight() const noexcept { return running_; }
    // Body bytes of the transfers running now, against loop_options::bodies_in_flight_bytes.
    body_budget const& bodies() const noexcept { return bodies_; }
    std::size_t queued() const noexcept { return queued_.size(); }
    std::size_t spawned() const noexcept { return spawned_.size(); }

    // --- timers and scheduling (used by the rate limiter and retry backoff) -------------------

    timer_id call_at(time_point when, std::function<void()> fn) {
        timer_id id{when, ++timer_seq_};
        timers_.emplace(id, std::move(fn));
        return id;
    }
    bool cancel(timer_id id) { return timers_.erase(id) > 0; }

    // Queues `h` to be resumed at the end of this turn (or the next one).
    void post(std::coroutine_handle<> h) { ready_.push_back(h); }

    // Withdraws `h` from the ready queue: its coroutine is being destroyed before it ran.
    void forget(std::coroutine_handle<> h) noexcept {
        for (auto& r : ready_)
            if (r == h) r = nullptr;
        for (auto& r : resuming_)
            if (r == h) r = nullptr;
    }

    class sleep_awaiter {
    public:
        sleep_awaiter(event_loop& loop, time_point when) : loop_(loop), when_(when) {}
        sleep_awaiter(sleep_awaiter const&) = delete;
        sleep_awaiter& operator=(sleep_awaiter const&) = delete;
        ~sleep_awaiter() {
            if (armed_) loop_.cancel(id_);
            if (posted_) loop_.forget(waiting_);
        }
        bool await_ready() const noexcept { return when_ <= clock::now(); }
        void await_suspend(std::coroutine_handle<> h) {
            waiting_ = h;
            armed_ = true;
            id_ = loop_.call_at(when_, [this] {
                armed_ = false;
                posted_ = true;
                loop_.post(waiting_);
            });
        }
        void await_resume() noexcept { posted_ = false; }

    private:
        event_loop& loop_;
        time_point when_;
        timer_id id_{};
        std::coroutine_handle<> waiting_;
        bool armed_ = false;
        bool posted_ = false;
    };
    [[nodiscard]] sleep_awaiter sleep_until(time_point when) { return sleep_awaiter(*this, when); }
    template <class Rep, class Period>
    [[nodiscard]] sleep_awaiter sleep_for(std::chrono::duration<Rep, Period> d) {
        return sleep_awaiter(*this, clock::now() + std::chrono::duration_cast<clock::duration>(d));
    }

    // co_await loop.schedule(): continue from the loop's ready queue on the next turn.
    struct schedule_awaiter {
        event_loop& loop;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) { loop.post(h); }
        void await_resume() const noexcept {}
    };
    [[nodiscard]] schedule_awaiter schedule() noexcept { return schedule_awaiter{*this}; }

    // Ends every queued and running transfer with `code` / `why`; their coroutines resume on
    // the next turn. Used to stop all work at once.
    void cancel_transfers(CURLcode code, std::string const& why) {
        while (!queued_.empty()) {
            detail::transfer* t = queued_.front();
            queued_.pop_front();
            t->where = detail::transfer::state::idle;
            complete(*t, tl::unexpected(transport_error(code, why)));
        }
        for (detail::transfer* t :
             std::vector<detail::transfer*>(running_set_.begin(), running_set_.end())) {
            detach(*t);
            complete(*t, tl::unexpected(transport_error(code, why)));
        }
    }

private:
    friend struct detail::transfer;

    struct transfer_awaiter {
        detail::transfer& t;
        bool await_ready() const noexcept { return false; }
        bool await_suspend(std::coroutine_handle<> h) {
            t.waiter = h;
            return t.loop->submit(t);
        }
        void await_resume() const noexcept {}
    };

    // Sets up the easy handle; an error when curl refuses an option.
    std::optional<transport_error> prepare(detail::transfer& t, std::string url,
                                           std::vector<header> const& headers) {
        t.loop = this;
        t.url = std::move(url);
        t.cap = options_.max_response_bytes;
        if (!idle_easy_.empty()) {
            t.easy = idle_easy_.back();
            idle_easy_.pop_back();
            curl_easy_reset(t.easy);
        } else {
            t.easy = curl_easy_init();
            if (!t.easy) return transport_error(CURLE_OUT_OF_MEMORY, "curl_easy_init failed");
        }
        for (header const& h : headers) {
            std::string line = h.name + ": " + h.value;
            curl_slist* grown = curl_slist_append(t.request_headers, line.c_str());
            if (!grown)
                return transport_error(CURLE_OUT_OF_MEMORY,
                                       "out of memory building request headers");
            t.request_headers = grown;
        }
        CURL* e = t.easy;
        CURLcode rc = CURLE_OK;
        auto set = [&rc](CURLcode c) {
            if (rc == CURLE_OK) rc = c;
        };
        set(curl_easy_setopt(e, CURLOPT_URL, t.url.c_str()));
        set(curl_easy_setopt(e, CURLOPT_PRIVATE, static_cast<void*>(&t)));
        set(curl_easy_setopt(e, CURLOPT_HTTPGET, 1L));
        set(curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.request_headers));
        set(curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &event_loop::on_body));
        set(curl_easy_setopt(e, CURLOPT_WRITEDATA, static_cast<void*>(&t)));
        set(curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &event_loop::on_header));
        set(curl_easy_setopt(e, CURLOPT_HEADERDATA, static_cast<void*>(&t)));
        set(curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.error_buffer));
#if LIBCURL_VERSION_NUM >= 0x075000
        if (t.on_send) {
            set(curl_easy_setopt(e, CURLOPT_PREREQFUNCTION, &event_loop::on_prereq));
            set(curl_easy_setopt(e, CURLOPT_PREREQDATA, static_cast<void*>(&t)));
        }
#endif
        set(curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L));
        set(curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, ""));  // every decoding curl has
        set(curl_easy_setopt(e, CURLOPT_HTTP_VERSION, long{CURL_HTTP_VERSION_1_1}));
        set(curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L));
        set(curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L));
        set(curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L));
        set(curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L));
        set(curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
                             static_cast<long>(options_.connect_timeout.count())));
        set(curl_easy_setopt(e, CURLOPT_TIMEOUT_MS,
                             static_cast<long>(options_.total_timeout.count())));
        set(curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, options_.low_speed_limit));
        set(curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME,
                             static_cast<long>(options_.low_speed_time.count())));
        set(curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                             static_cast<curl_off_t>(options_.max_response_bytes)));
        if (!options_.user_agent.empty())
            set(curl_easy_setopt(e, CURLOPT_USERAGENT, options_.user_agent.c_str()));
        if (!options_.ca_file.empty())
            set(curl_easy_setopt(e, CURLOPT_CAINFO, options_.ca_file.c_str()));
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85: CURLOPT_PROTOCOLS_STR replaces the bitmask
        set(curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https"));
#else
        set(curl_easy_setopt(e, CURLOPT_PROTOCOLS, long{CURLPROTO_HTTP | CURLPROTO_HTTPS}));
#endif
        if (rc != CURLE_OK)
            return transport_error(rc, std::string("cannot set up the request for ") +
                                           redact(t.url) + ": " + curl_easy_strerror(rc));
        return std::nullopt;
    }

    // true: the coroutine stays suspended until the transfer completes.
    bool submit(detail::transfer& t) {
        if (running_ < options_.max_in_flight) return start(t);
        t.where = detail::transfer::state::queued;
        // From the back: most transfers come with the highest key so far.
        auto after = queued_.end();
        while (after != queued_.begin() && (*std::prev(after))->priority > t.priority) --after;
        t.queue_pos = queued_.insert(after, &t);
        return true;
    }

    bool start(detail::transfer& t) {
        CURLMcode mc = curl_multi_add_handle(multi_, t.easy);
        if (mc != CURLM_OK) {
            t.outcome = tl::unexpected(transport_error(
                CURLE_FAILED_INIT,
                std::string("cannot start ") + redact(t.url) + ": " + curl_multi_strerror(mc)));
            t.where = detail::transfer::state::completed;
            return false;
        }
        t.where = detail::transfer::state::running;
        epoll_.transfer_added();
        running_set_.push_back(&t);
        ++running_;
        return true;
    }

    // Removes a running transfer from the multi handle and hands its slot to the next in line.
    void detach(detail::transfer& t) {
        curl_multi_remove_handle(multi_, t.easy);
        running_set_.erase(std::find(running_set_.begin(), running_set_.end(), &t));
        --running_;
        t.where = detail::transfer::state::idle;
        while (!queued_.empty() && running_ < options_.max_in_flight) {
            detail::transfer* next = queued_.front();
            queued_.pop_front();
            if (!start(*next)) post_completed(*next);
        }
    }

    void complete(detail::transfer& t, result r) {
        t.outcome = std::move(r);
        post_completed(t);
    }
    void post_completed(detail::transfer& t) {
        t.where = detail::transfer::state::completed;
        post(t.waiter);
    }

    result finish(detail::transfer& t, CURLcode code) {
        // A failed transfer's body goes nowhere: its memory is freed now, with its budget, not
        // when its coroutine resumes (after the next transfers have taken the budget).
        if (code != CURLE_OK) std::string{}.swap(t.resp.body);
        return_budget(t);
        curl_off_t micros = 0;
        curl_easy_getinfo(t.easy, CURLINFO_TOTAL_TIME_T, &micros);
        double elapsed = static_cast<double>(micros) / 1e6;
        if (code == CURLE_OK) {
            long status = 0;
            curl_easy_getinfo(t.easy, CURLINFO_RESPONSE_CODE, &status);
            t.resp.status = status;
            t.resp.elapsed_seconds = elapsed;
            return std::move(t.resp);
        }
        std::string message;
        if (code == CURLE_ABORTED_BY_CALLBACK && t.send_refused) {
            code = CURLE_SEND_ERROR;
            message = "the connection closed before the answer came, and resending at once would "
                      "exceed the rate limit";
        } else if (t.over_budget) {
            code = CURLE_OUT_OF_MEMORY;
            message = "answers being received hold the loop's budget of " + std::to_string(bodies_.limit()) +
                      " bytes; this one is asked again later";
        } else if (t.over_cap || code == CURLE_FILESIZE_EXCEEDED) {
            code = CURLE_FILESIZE_EXCEEDED;
            message = "response larger than the cap of " + std::to_string(t.cap) + " bytes";
        } else {
            message = curl_easy_strerror(code);
            if (t.error_buffer[0] != '\0') message += std::string(": ") + t.error_buffer;
        }
        message +=
            " (GET " + redact(t.url) + ", after " + std::to_string(elapsed).substr(0, 5) + " s)";
        return tl::unexpected(transport_error(code, scrub(message)));
    }

    void drain_completions() {
        int left = 0;
        while (CURLMsg* msg = curl_multi_info_read(multi_, &left)) {
            if (msg->msg != CURLMSG_DONE) continue;
            // Copy what we need: the message is invalid once the handle is removed.
            CURL* easy = msg->easy_handle;
            CURLcode code = msg->data.result;
            void* priv = nullptr;
            curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
            auto* t = static_cast<detail::transfer*>(priv);
            result r = finish(*t, code);
            detach(*t);
            complete(*t, std::move(r));
        }
    }

    void fire_due_timers() {
        time_point now = clock::now();
        while (!timers_.empty() && timers_.begin()->first.first <= now) {
            auto node = timers_.extract(timers_.begin());
            node.mapped()();
        }
    }

    void resume_ready() {
        resuming_.swap(ready_);
        for (std::size_t i = 0; i < resuming_.size(); ++i) {
            std::coroutine_handle<> h = resuming_[i];
            if (h) h.resume();
        }
        resuming_.clear();
        bool finished_any = false;
        if (!to_start_.empty()) {
            auto starting = std::move(to_start_);
            to_start_.clear();
            for (auto it : starting) it->start();
            finished_any = true;
        }
        if (finished_any || !spawned_.empty()) reap_spawned();
    }

    void reap_spawned() {
        for (auto it = spawned_.begin(); it != spawned_.end();) {
            bool started = std::find(to_start_.begin(), to_start_.end(), it) == to_start_.end();
            if (started && it->done()) {
                coro::task<void> finished = std::move(*it);
                it = spawned_.erase(it);
                finished.result();  // rethrows what escaped the coroutine
            } else {
                ++it;
            }
        }
    }

    // How long this turn may block: 0 when coroutines are ready, else until the next timer.
    int wait_ms(std::chrono::milliseconds max_wait, std::optional<time_point> curl_deadline) const {
        if (!ready_.empty() || !to_start_.empty()) return 0;
        time_point now = clock::now();
        time_point until = now + max_wait;
        if (!timers_.empty()) until = std::min(until, timers_.begin()->first.first);
        if (curl_deadline) until = std::min(until, *curl_deadline);
        if (until <= now) return 0;
        // Round up so a wake-up never comes before the deadline (which would spin).
        auto ms = std::chrono::ceil<std::chrono::milliseconds>(until - now).count();
        return static_cast<int>(std::min<long long>(ms, 60'000));
    }

    static int on_prereq(void* userp, char*, char*, int, int) {
        auto* t = static_cast<detail::transfer*>(userp);
        bool go = false;
        try {
            go = t->on_send(++t->sends);
        } catch (...) {
        }
        t->send_refused = !go;
#if LIBCURL_VERSION_NUM >= 0x075000
        return go ? CURL_PREREQFUNC_OK : CURL_PREREQFUNC_ABORT;
#else
        return go ? 0 : 1;
#endif
    }

    static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* userp) {
        auto* t = static_cast<detail::transfer*>(userp);
        std::size_t n = size * count;
        if (t->resp.body.size() + n > t->cap) {
            t->over_cap = true;
            return 0;  // curl ends the transfer with CURLE_WRITE_ERROR
        }
        // What counts is the memory the body holds, its capacity: a string that doubles as it
        // grows may hold twice its size.
        std::string& body = t->resp.body;
        if (body.size() + n > body.capacity()) {
            std::size_t const grown = std::min(std::max(body.size() + n, 2 * body.capacity()), t->cap);
            if (!t->loop->bodies_.take(grown - t->budgeted)) {
                t->over_budget = true;
                return 0;
            }
            t->budgeted = grown;
            body.reserve(grown);
        }
        body.append(data, n);
        return n;
    }

    // The transfer's body leaves the loop (to its caller, or nowhere): it no longer counts.
    void return_budget(detail::transfer& t) noexcept {
        bodies_.give_back(t.budgeted);
        t.budgeted = 0;
    }

    static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* userp) {
        auto* t = static_cast<detail::transfer*>(userp);
        std::size_t n = size * count;
        std::string_view line(data, n);
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
        if (detail::istarts_with(line, "HTTP/")) {
            // A new status line: only the headers of the final response are kept (100 Continue,
            // proxies and the like come before it).
            t->resp.headers.clear();
            return n;
        }
        std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) return n;
        std::string_view name = line.substr(0, colon);
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
            value.remove_prefix(1);
        while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
            value.remove_suffix(1);
        t->resp.headers.emplace_back(std::string(name), std::string(value));
        return n;
    }

    void release(detail::transfer& t) noexcept {
        return_budget(t);
        switch (t.where) {
            case detail::transfer::state::running:
                curl_multi_remove_handle(multi_, t.easy);
                running_set_.erase(std::find(running_set_.begin(), running_set_.end(), &t));
                --running_;
                break;
            case detail::transfer::state::queued:
                queued_.erase(t.queue_pos);
                break;
            case detail::transfer::state::completed:
                if (t.waiter) forget(t.waiter);
                break;
            case detail::transfer::state::idle:
                break;
        }
        if (t.easy) {
            // Keep the handle for the next request; its connection stays in the multi cache.
            try {
                idle_easy_.push_back(t.easy);
            } catch (...) {
                curl_easy_cleanup(t.easy);
            }
        }
        curl_slist_free_all(t.request_headers);
        t.easy = nullptr;
        t.request_headers = nullptr;
    }

    loop_options options_;
    body_budget bodies_{options_.bodies_in_flight_bytes};
    CURLM* multi_ = nullptr;
    detail::poll_backend poll_;
    detail::epoll_backend epoll_;
    std::size_t running_ = 0;
    std::vector<detail::transfer*> running_set_;
    std::list<detail::transfer*> queued_;  // by priority, then arrival
    std::vector<CURL*> idle_easy_;
    std::vector<std::coroutine_handle<>> ready_;
    std::vector<std::coroutine_handle<>> resuming_;
    std::map<timer_id, std::function<void()>> timers_;
    std::uint64_t timer_seq_ = 0;
    std::list<coro::task<void>> spawned_;
    std::vector<std::list<coro::task<void>>::iterator> to_start_;
};

inline detail::transfer::~transfer() {
    if (loop) loop->release(*this);
}

}  // namespace marcpipe::net
