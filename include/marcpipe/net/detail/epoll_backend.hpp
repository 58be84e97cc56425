// epoll_backend: the event loop's socket-action way to wait, for thousands of connections.
//
// curl says which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when to time out
// (CURLMOPT_TIMERFUNCTION); each turn hands only the ready sockets to curl_multi_socket_action,
// so a turn costs O(ready sockets). It pays a socket callback and epoll_ctl calls for every
// kept-alive connection that goes idle and back, which is why it is not the default (see
// event_loop.hpp). The loop chooses it with loop_backend::epoll and drains the completions after
// each turn.
//
// curl's 0 ms timeout ("act now") is floored at 1 ms: acting on it from the timer callback would
// re-enter curl, and a 0 ms wait in a loop that curl keeps re-arming spins. Transfers added
// during a turn are started at the beginning of the next one instead (socket_action on the
// timeout, outside any callback), so they do not wait for that 1 ms.
#pragma once

#include <curl/curl.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <optional>
#include <system_error>

namespace marcpipe::net::detail {

class epoll_backend {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;

    epoll_backend() = default;
    // curl holds this object's address (CURLMOPT_SOCKETDATA, CURLMOPT_TIMERDATA).
    epoll_backend(epoll_backend const&) = delete;
    epoll_backend& operator=(epoll_backend const&) = delete;
    ~epoll_backend() {
        if (epoll_fd_ >= 0) ::close(epoll_fd_);
    }

    // Registers the callbacks on `multi`; throws std::system_error when there is no epoll set.
    void attach(CURLM* multi) {
        multi_ = multi;
        epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
        if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
        curl_multi_setopt(multi_, CURLMOPT_SOCKETFUNCTION, &epoll_backend::on_socket);
        curl_multi_setopt(multi_, CURLMOPT_SOCKETDATA, this);
        curl_multi_setopt(multi_, CURLMOPT_TIMERFUNCTION, &epoll_backend::on_curl_timer);
        curl_multi_setopt(multi_, CURLMOPT_TIMERDATA, this);
    }

    // A transfer joined the multi handle: curl will ask for "0 ms", served at the next turn.
    void transfer_added() noexcept { started_since_turn_ = true; }

    // One turn: hand curl only the sockets that are ready, then its timeout. `in_flight` is how
    // many transfers the multi handle held before it; `wait_ms(deadline)` is how long the loop
    // lets the turn block, given curl's own deadline.
    template <class WaitMs>
    void turn(std::size_t in_flight, WaitMs&& wait_ms) {
        int running = 0;
        bool finished = false;
        if (started_since_turn_) {
            // Transfers added since the last turn: curl asked for "0 ms" for them; serving that
            // here, outside any callback, starts them now instead of a floored 1 ms later.
            started_since_turn_ = false;
            curl_deadline_.reset();
            curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
            // A transfer may already be complete (a fast answer on a kept-alive connection): it
            // waits to be drained, so this turn must not block.
            finished = static_cast<std::size_t>(running) < in_flight;
        }
        epoll_event events[64];
        int n = epoll_wait(epoll_fd_, events, 64, finished ? 0 : wait_ms(curl_deadline_));
        for (int i = 0; i < n; ++i) {
            int flags = 0;
            if (events[i].events & EPOLLIN) flags |= CURL_CSELECT_IN;
            if (events[i].events & EPOLLOUT) flags |= CURL_CSELECT_OUT;
            if (events[i].events & (EPOLLERR | EPOLLHUP)) flags |= CURL_CSELECT_ERR;
            curl_multi_socket_action(multi_, events[i].data.fd, flags, &running);
        }
        if (curl_deadline_ && *curl_deadline_ <= clock::now()) {
            curl_deadline_.reset();
            curl_multi_socket_action(multi_, CURL_SOCKET_TIMEOUT, 0, &running);
        }
    }

private:
    static int on_socket(CURL*, curl_socket_t fd, int what, void* userp, void* socketp) {
        auto* self = static_cast<epoll_backend*>(userp);
        if (what == CURL_POLL_REMOVE) {
            epoll_ctl(self->epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
            curl_multi_assign(self->multi_, fd, nullptr);
            return 0;
        }
        epoll_event ev{};
        ev.data.fd = fd;
        if (what & CURL_POLL_IN) ev.events |= EPOLLIN;
        if (what & CURL_POLL_OUT) ev.events |= EPOLLOUT;
        if (socketp) {
            epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
        } else {
            if (epoll_ctl(self->epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
                epoll_ctl(self->epoll_fd_, EPOLL_CTL_MOD, fd, &ev);
            curl_multi_assign(self->multi_, fd, self);  // any non-null marks "registered"
        }
        return 0;
    }

    static int on_curl_timer(CURLM*, long timeout_ms, void* userp) {
        auto* self = static_cast<epoll_backend*>(userp);
        if (timeout_ms < 0) {
            self->curl_deadline_.reset();
        } else if (timeout_ms == 0) {
            // 0 means "now"; acting here would re-enter curl, so it is served at the next turn,
            // at least 1 ms on. A deadline already pending stays: curl says 0 after every new
            // transfer, and moving the deadline each time would starve new transfers for as long
            // as completions keep the loop busy.
            auto soon = clock::now() + std::chrono::milliseconds(1);
            if (!self->curl_deadline_ || *self->curl_deadline_ > soon) self->curl_deadline_ = soon;
        } else {
            self->curl_deadline_ = clock::now() + std::chrono::milliseconds(timeout_ms);
        }
        return 0;
    }

    CURLM* multi_ = nullptr;
    int epoll_fd_ = -1;
    std::optional<time_point> curl_deadline_;
    bool started_since_turn_ = false;
};

}  // namespace marcpipe::net::detail
