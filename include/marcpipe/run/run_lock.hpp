// run_lock: one run at a time on an output file.
//
// Two runs writing one output would mix their bytes in its side file and cut each other's
// journal, and both would report success. A run therefore holds a lock on each file it writes
// aside for its whole life: flock() on FILE.lock, a file beside it that says who holds it
// ("pid=123 program=west-holdings") so a second run can name the first.
//
// The lock is the kernel's, not the file's existence: a run killed with -9 leaves FILE.lock
// behind, but its lock went with the process, so the next run takes it and writes its own name
// over the stale one. flock() locks belong to the open file, so two runs inside one process
// exclude each other too (fcntl() record locks would not).
//
// Only regular files are locked. A device or FIFO written directly keeps no side file and no
// journal that a second run could damage, and /dev/null must stay usable by any number of runs.
#pragma once

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "marcpipe/run/posix_io.hpp"

namespace marcpipe::pipeline {

// Another run holds the lock; the message names the file and, as far as it is known, the run.
class run_lock_held : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class run_lock {
public:
    // Takes the lock for `file` (the file the run writes aside and renames), naming this run
    // `program` for whoever finds it taken. Throws run_lock_held, or std::system_error.
    run_lock(std::string const& file, std::string_view program) : path_{file + ".lock"} {
        for (;;) {
            // A lock left by a killed run is taken over, so the file is not created afresh.
            fd_ = detail::open_side_file(path_, O_RDWR, false);
            if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
                int const e = errno;
                std::string const holder = e == EWOULDBLOCK ? read_holder() : std::string{};
                close();
                if (e != EWOULDBLOCK) {
                    errno = e;
                    detail::throw_errno("cannot lock " + path_);
                }
                throw run_lock_held(file + " is being written by another run (" +
                                    (holder.empty() ? std::string{"process unknown"} : holder) +
                                    ", lock " + path_ +
                                    "); wait for it to end, or name another output");
            }
            // The run that held it may have removed the file between our open and our lock:
            // a lock on a removed file excludes no one, so take the one now at that name.
            struct stat held {};
            struct stat named {};
            if (::fstat(fd_, &held) == 0 && ::stat(path_.c_str(), &named) == 0 &&
                held.st_dev == named.st_dev && held.st_ino == named.st_ino)
                break;
            close();
        }
        std::string const who =
            "pid=" + std::to_string(::getpid()) + " program=" + std::string{program} + "\n";
        // Only information for a refused run's message: the lock holds without it.
        if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, who.data(), who.size(), 0) < 0) {
        }
    }
    run_lock(run_lock&& o) noexcept : path_{std::move(o.path_)}, fd_{std::exchange(o.fd_, -1)} {}
    run_lock& operator=(run_lock&&) = delete;
    run_lock(run_lock const&) = delete;
    ~run_lock() {
        // Removed while still held, so no run can take a lock on the file on its way out.
        if (fd_ >= 0) ::unlink(path_.c_str());
        close();
    }

    std::string const& path() const noexcept { return path_; }

private:
    // "process 123, west-holdings", from what the holder wrote.
    std::string read_holder() const {
        char buf[256];
        ssize_t n = ::pread(fd_, buf, sizeof buf - 1, 0);
        if (n <= 0) return {};
        std::string_view text{buf, static_cast<std::size_t>(n)};
        auto value = [&](std::string_view key) -> std::string {
            auto at = text.find(key);
            if (at == std::string_view::npos) return {};
            auto v = text.substr(at + key.size());
            v = v.substr(0, v.find_first_of(" \n"));
            std::string out;
            for (char c : v)  // whatever the file holds, the message stays one printable line
                out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
            return out;
        };
        std::string const pid = value("pid="), program = value("program=");
        if (pid.empty()) return {};
        return "process " + pid + (program.empty() ? "" : ", " + program);
    }
    void close() noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = -1;
    }

    std::string path_;
    int fd_ = -1;
};

}  // namespace marcpipe::pipeline
