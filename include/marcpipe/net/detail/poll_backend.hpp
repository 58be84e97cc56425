// poll_backend: the event loop's default way to wait, curl_multi_poll between two
// curl_multi_perform calls.
//
// Every perform walks every transfer, which is cheap at the concurrency Alma allows (tens, a few
// hundred at most), and one poll() of the sockets per turn costs less than keeping an epoll set
// in step with connections that go idle and back. The loop (event_loop.hpp) chooses it with
// loop_backend::poll and drains the completions after each turn.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <cstddef>
#include <optional>

namespace marcpipe::net::detail {

class poll_backend {
public:
    using time_point = std::chrono::steady_clock::time_point;

    void attach(CURLM* multi) noexcept { multi_ = multi; }
    // Nothing to do: the next perform starts transfers added since the last one.
    void transfer_added() noexcept {}

    // One turn: perform -> poll -> perform. `in_flight` is how many transfers the multi handle
    // held before it; `wait_ms(deadline)` is how long the loop lets the turn block.
    template <class WaitMs>
    void turn(std::size_t in_flight, WaitMs&& wait_ms) {
        int running = 0;
        curl_multi_perform(multi_, &running);
        // A transfer that finished in that perform (a quick answer on a kept-alive connection)
        // waits to be drained: then nothing is worth blocking for.
        bool finished = static_cast<std::size_t>(running) < in_flight;
        int numfds = 0;
        curl_multi_poll(multi_, nullptr, 0, finished ? 0 : wait_ms(std::optional<time_point>{}),
                        &numfds);
        curl_multi_perform(multi_, &running);
    }

private:
    CURLM* multi_ = nullptr;
};

}  // namespace marcpipe::net::detail
