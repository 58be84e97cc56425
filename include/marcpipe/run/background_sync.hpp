// background_sync: fdatasync on a few files every few seconds, from a thread of its own.
//
// What it bounds is what a power failure can cost a resumable run (see journal.hpp); a process
// that is killed loses nothing the kernel already has.
#pragma once

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

namespace marcpipe::pipeline {

// Makes files durable every few seconds from a thread of its own: fdatasync can take a long
// time on a busy disk, and the thread that drives the requests must not stall (a stall bunches
// up the requests behind it, and Alma counts calls per rolling second).
class background_sync {
public:
    explicit background_sync(std::vector<int> fds,
                             std::chrono::milliseconds every = std::chrono::seconds{2})
        : fds_{std::move(fds)}, every_{every}, thread_{[this] { run(); }} {}
    background_sync(background_sync const&) = delete;
    background_sync& operator=(background_sync const&) = delete;
    ~background_sync() { stop(); }

    // Ends the thread; the files are not closed.
    void stop() {
        {
            std::lock_guard lock{mutex_};
            stopping_ = true;
        }
        wake_.notify_all();
        if (thread_.joinable()) thread_.join();
    }

private:
    void run() {
        std::unique_lock lock{mutex_};
        while (!wake_.wait_for(lock, every_, [this] { return stopping_; }))
            for (int fd : fds_)
                if (fd >= 0) ::fdatasync(fd);
    }

    std::vector<int> fds_;
    std::chrono::milliseconds every_;
    std::mutex mutex_;
    std::condition_variable wake_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace marcpipe::pipeline
