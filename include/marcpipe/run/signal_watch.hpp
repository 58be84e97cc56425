// signal_watch: SIGINT, SIGTERM and SIGHUP noted instead of ending the process, for as long as the
// watch lives, so that a run stops with its state saved; the handlers it replaced come back when
// it ends.
#pragma once

#include <atomic>
#include <csignal>
#include <map>

namespace marcpipe::pipeline {

namespace detail {
// A C signal handler reaches only static storage: this is the one flag, owned by the live watch.
inline std::atomic<int> caught_signal{0};
extern "C" inline void note_signal(int sig) { caught_signal = sig; }
}  // namespace detail

class signal_watch {
public:
    signal_watch() {
        detail::caught_signal = 0;
        for (int sig : {SIGINT, SIGTERM, SIGHUP})
            previous_[sig] = std::signal(sig, detail::note_signal);
    }
    signal_watch(signal_watch const&) = delete;
    signal_watch& operator=(signal_watch const&) = delete;
    ~signal_watch() {
        for (auto const& [sig, handler] : previous_) std::signal(sig, handler);
    }

    // The last signal noted since the watch began; 0: none.
    int caught() const noexcept { return detail::caught_signal.load(); }

private:
    std::map<int, void (*)(int)> previous_;
};

}  // namespace marcpipe::pipeline
