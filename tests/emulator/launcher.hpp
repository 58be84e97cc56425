// launcher: starts the loopback Alma emulator for a test or benchmark and stops it afterwards.
//
//   marcpipe::emulator::emulator_process alma{{"--bibs", "200", "--api-key", "k"}};
//   auto url = alma.base_url();               // "http://127.0.0.1:PORT"
//   ... run the client ...
//   auto seen = alma.counters();              // what the server saw
//   CHECK(seen.max_per_rolling_second <= 25);
//   alma.configure({{"connections", "refuse"}});  // gone, yet keeping its port; "serve" again
//   alma.counters_when([](auto& c) { return c.in_flight == 4; });  // wait for the server
//
// The program is found through the MARCPIPE_EMULATOR environment variable, else the path meson
// compiled in as MARCPIPE_EMULATOR_EXE. The child's stdin is a pipe the launcher holds and the
// child asks the kernel for SIGTERM when the launcher dies, so a crashed or killed test never
// leaves a server behind.
#pragma once

#include <httplib.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace marcpipe::emulator {

// The counters of GET /_emulator/counters, by name; the common ones also as members.
struct emulator_counters {
    std::map<std::string, long> all;
    long requests = 0;
    long in_flight = 0;
    long max_in_flight = 0;
    long max_per_rolling_second = 0;
    long sent_429 = 0;
    long key_in_query = 0;
    long unauthorized = 0;
    long faults = 0;

    long get(std::string const& name) const {
        auto it = all.find(name);
        return it == all.end() ? 0 : it->second;
    }
    // Answers sent with this HTTP status.
    long status(int code) const { return get("status_" + std::to_string(code)); }
    // Faults injected of one kind: "500", "503", "reset", "truncated", "stall", "malformed",
    // "endless", "trickle".
    long fault(std::string const& kind) const { return get("fault_" + kind); }
};

// Calls `each(before, after)` with what stands before and after the first space of each line of
// `text` that has one: the emulator's control endpoints answer in such lines.
template <class Each>
void for_each_pair(std::string_view text, Each each) {
    while (!text.empty()) {
        auto eol = text.find('\n');
        auto line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
        auto sp = line.find(' ');
        if (sp != std::string_view::npos)
            each(std::string{line.substr(0, sp)}, std::string{line.substr(sp + 1)});
    }
}

inline emulator_counters parse_counters(std::string_view text) {
    emulator_counters c;
    for_each_pair(text, [&](std::string name, std::string const& n) {
        c.all[std::move(name)] = std::stol(n);
    });
    c.requests = c.get("requests");
    c.in_flight = c.get("in_flight");
    c.max_in_flight = c.get("max_in_flight");
    c.max_per_rolling_second = c.get("max_per_rolling_second");
    c.sent_429 = c.get("sent_429");
    c.key_in_query = c.get("key_in_query");
    c.unauthorized = c.get("unauthorized");
    c.faults = c.get("faults");
    return c;
}

inline std::string default_emulator_path() {
    if (char const* env = std::getenv("MARCPIPE_EMULATOR"); env && *env) return env;
#ifdef MARCPIPE_EMULATOR_EXE
    return MARCPIPE_EMULATOR_EXE;
#else
    throw std::runtime_error(
        "alma-emulator not found: set MARCPIPE_EMULATOR or define MARCPIPE_EMULATOR_EXE");
#endif
}

class emulator_process {
public:
    explicit emulator_process(std::vector<std::string> flags = {},
                              std::string program = default_emulator_path())
        : program_{std::move(program)} {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0) throw std::runtime_error("pipe: " + errno_text());
        if (::pipe2(out, O_CLOEXEC) != 0) {
            close_pair(in);
            throw std::runtime_error("pipe: " + errno_text());
        }
        std::vector<std::string> args{program_};
        args.insert(args.end(), flags.begin(), flags.end());
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        auto parent = ::getpid();

        pid_ = ::fork();
        if (pid_ < 0) {
            close_pair(in);
            close_pair(out);
            throw std::runtime_error("fork: " + errno_text());
        }
        if (pid_ == 0) {
            // Only async-signal-safe calls between fork and exec.
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != parent) ::_exit(127);
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        stdin_ = in[1];
        stdout_ = out[0];
        try {
            read_port();
        } catch (...) {
            stop();
            throw;
        }
    }

    emulator_process(emulator_process const&) = delete;
    emulator_process& operator=(emulator_process const&) = delete;
    ~emulator_process() { stop(); }

    int port() const noexcept { return port_; }
    std::string base_url() const { return "http://127.0.0.1:" + std::to_string(port_); }
    pid_t pid() const noexcept { return pid_; }

    emulator_counters counters() const {
        auto res = client().Get("/_emulator/counters");
        if (!res || res->status != 200)
            throw std::runtime_error("alma-emulator: cannot read counters from " + base_url());
        return parse_counters(res->body);
    }

    // How often each resource was asked for (path; for the bibs call also "?mms_id=…"), counting
    // calls the gateway let through.
    std::map<std::string, long> requests() const {
        auto res = client().Get("/_emulator/requests");
        if (!res || res->status != 200)
            throw std::runtime_error("alma-emulator: cannot read the request log from " +
                                     base_url());
        std::map<std::string, long> out;
        for_each_pair(res->body, [&](std::string const& n, std::string resource) {
            out[std::move(resource)] = std::stol(n);
        });
        return out;
    }

    // Reads the counters until `done` holds for them or `limit` has passed, and returns the last
    // ones read: a test waits for the event it needs (calls arrived, a stall noticed as
    // abandoned) instead of sleeping for a guessed time that a busy machine may overrun.
    template <class Done>
    emulator_counters counters_when(Done done,
                                    std::chrono::milliseconds limit = std::chrono::seconds{60}) const {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (true) {
            auto seen = counters();
            if (done(seen) || std::chrono::steady_clock::now() >= deadline) return seen;
            ::usleep(5'000);
        }
    }

    // Changes runtime knobs, named as the flags without "--" ({"fault-rate-500", "0"},
    // {"daily", "0"}, {"api-key", "…"}); the catalogue and seeds stay. Throws on an unknown knob.
    void configure(std::map<std::string, std::string> const& knobs) const {
        httplib::Params params(knobs.begin(), knobs.end());
        auto res = client().Post("/_emulator/configure", httplib::Headers{}, params);
        if (!res || res->status != 200)
            throw std::runtime_error("alma-emulator: configure refused: " +
                                     (res ? res->body : std::string{"no answer"}));
    }

    // Counters, the request log, and the per-second window and daily count start again.
    void reset() const {
        auto res = client().Post("/_emulator/reset");
        if (!res || res->status != 200)
            throw std::runtime_error("alma-emulator: cannot reset counters at " + base_url());
    }

    // Closes the server's stdin, as a parent that exits does; the server then stops by itself.
    void close_stdin() noexcept {
        if (stdin_ >= 0) ::close(std::exchange(stdin_, -1));
    }

    // Waits up to `limit` for the server to exit by itself; true (and reaped) if it did.
    bool exited_within(std::chrono::milliseconds limit) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (pid_ > 0) {
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) {
                pid_ = -1;
                return true;
            }
            if (std::chrono::steady_clock::now() >= deadline) return false;
            ::usleep(10'000);
        }
        return true;
    }

    // Stops the server (SIGTERM) and waits for it; safe to call twice.
    void stop() noexcept {
        if (stdin_ >= 0) ::close(std::exchange(stdin_, -1));
        if (stdout_ >= 0) ::close(std::exchange(stdout_, -1));
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
    }

private:
    httplib::Client client() const {
        httplib::Client c{"127.0.0.1", port_};
        c.set_connection_timeout(5);
        c.set_read_timeout(10);
        return c;
    }

    void read_port() {
        constexpr std::string_view banner = "listening on http://127.0.0.1:";
        std::string line;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
        while (line.find('\n') == std::string::npos) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0)
                throw std::runtime_error(program_ + " did not report its port within 20 s");
            pollfd p{stdout_, POLLIN, 0};
            int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR) continue;
            if (r < 0) throw std::runtime_error("poll: " + errno_text());
            if (r == 0) continue;
            char buf[256];
            auto n = ::read(stdout_, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0)
                throw std::runtime_error(program_ + " exited before listening (bad flags?)");
            line.append(buf, static_cast<std::size_t>(n));
        }
        line.resize(line.find('\n'));
        if (line.rfind(banner, 0) != 0)
            throw std::runtime_error(program_ + " printed an unexpected first line: " + line);
        port_ = std::stoi(line.substr(banner.size()));
    }

    static std::string errno_text() { return std::strerror(errno); }
    static void close_pair(int p[2]) {
        ::close(p[0]);
        ::close(p[1]);
    }

    std::string program_;
    pid_t pid_ = -1;
    int stdin_ = -1;
    int stdout_ = -1;
    int port_ = 0;
};

}  // namespace marcpipe::emulator
