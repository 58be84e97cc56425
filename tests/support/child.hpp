// child: the one way the tests run a program — with arguments, extra environment and given
// standard input, standard output and error captured to files — and stop it mid-run.
//
//   auto r = run(west, {"-o", "out.mrc", "export.mrc"}, {"ALMA_API_KEY=k"}, dir);  // in dir
//   auto r = run(program("mms-ids"), {"-"}, "991234\n");                          // stdin given
//   child c{west, args, env, dir};  c.wait_until([&] { ... });  c.kill(SIGKILL);  c.wait();
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "files.hpp"

extern char** environ;

namespace marcpipe::testing {

struct finished {
    int status = -1;        // exit status, or -signal
    std::string out;        // standard output
    std::string err;        // standard error
    long max_rss_kb = 0;    // peak resident set size of the child
};

class child {
public:
    // Starts `program args...` in `dir` with `env` added (NAME=VALUE); NAME= alone removes NAME.
    // Standard input is the file `input` (none: /dev/null); standard output and error go to
    // dir/TAG.stdout and dir/TAG.stderr.
    child(std::string const& program, std::vector<std::string> const& args, std::vector<std::string> const& env,
          std::filesystem::path const& dir, std::string const& tag = "run", std::filesystem::path const& input = {})
        : out_{dir / (tag + ".stdout")}, err_{dir / (tag + ".stderr")} {
        std::vector<std::string> argv_s{program};
        argv_s.insert(argv_s.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_s) argv.push_back(a.data());
        argv.push_back(nullptr);

        std::vector<std::string> env_s;
        for (char** e = environ; *e; ++e) {
            std::string_view entry{*e};
            bool replaced = false;
            for (auto const& add : env) {
                auto name = add.substr(0, add.find('=') + 1);
                if (entry.substr(0, name.size()) == name) replaced = true;
            }
            if (!replaced) env_s.emplace_back(entry);
        }
        for (auto const& add : env)
            if (add.back() != '=') env_s.push_back(add);
        // The user's own config file (~/.config/marcpipe/config) must not change what a test runs.
        if (std::none_of(env.begin(), env.end(), [](auto const& e) { return e.starts_with("XDG_CONFIG_HOME="); }))
            env_s.push_back("XDG_CONFIG_HOME=" + (dir / "no-config-home").string());
        std::vector<char*> envp;
        for (auto& e : env_s) envp.push_back(e.data());
        envp.push_back(nullptr);

        std::string const in = input.empty() ? std::string{"/dev/null"} : input.string();
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, in.c_str(), O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&actions, 1, out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        posix_spawn_file_actions_addopen(&actions, 2, err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        std::string cwd = std::filesystem::current_path();
        std::filesystem::current_path(dir);
        int rc = posix_spawn(&pid_, program.c_str(), &actions, nullptr, argv.data(), envp.data());
        std::filesystem::current_path(cwd);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) throw std::runtime_error("cannot start " + program + ": " + std::strerror(rc));
    }
    child(child const&) = delete;
    child& operator=(child const&) = delete;
    ~child() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            try {
                while (!reap(0)) {
                }
            } catch (std::exception const&) {  // nothing left to wait for
            }
        }
    }

    pid_t pid() const noexcept { return pid_; }

    void kill(int sig = SIGKILL) {
        if (pid_ > 0) ::kill(pid_, sig);
    }

    // Waits until `reached()` holds, checking every millisecond, with no deadline of its own: a
    // busy machine only makes the wait longer. Returns false if the child exited first (wait()
    // then gives how it ended), so a run that finished too soon fails the test instead of
    // letting it go on as if the point had been reached.
    template <typename Predicate>
    bool wait_until(Predicate reached) {
        while (!reached()) {
            if (reap(WNOHANG)) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds{1});
        }
        return true;
    }

    finished wait() {
        while (!reap(0)) {
        }
        finished f;
        f.status = WIFEXITED(status_) ? WEXITSTATUS(status_) : -WTERMSIG(status_);
        f.max_rss_kb = usage_.ru_maxrss;
        f.out = slurp(out_);
        f.err = slurp(err_);
        return f;
    }

private:
    // True once the child has been reaped (now or before).
    bool reap(int options) {
        if (pid_ <= 0) return true;
        pid_t const r = ::wait4(pid_, &status_, options, &usage_);
        if (r == pid_) {
            pid_ = -1;
            return true;
        }
        if (r < 0 && errno != EINTR) throw std::runtime_error(std::string{"wait4: "} + std::strerror(errno));
        return false;
    }

    pid_t pid_ = -1;
    int status_ = 0;
    rusage usage_{};
    std::filesystem::path out_;
    std::filesystem::path err_;
};

// Runs `program args...` in `dir` to its end.
inline finished run(std::string const& program, std::vector<std::string> const& args,
                    std::vector<std::string> const& env, std::filesystem::path const& dir,
                    std::string const& tag = "run") {
    child c{program, args, env, dir, tag};
    return c.wait();
}

// Runs `program args...` to its end with `input` on standard input, in a directory of its own
// (a relative path in `args` names nothing the test made).
inline finished run(std::string const& program, std::vector<std::string> const& args, std::string const& input = "") {
    scratch_dir dir{"run"};
    std::ofstream{dir / "stdin", std::ios::binary} << input;
    child c{program, args, {}, dir, "run", dir / "stdin"};
    return c.wait();
}

// The path of a tool or example program, e.g. "mms-ids" from MARCPIPE_PROGRAM_MMS_IDS.
inline std::string program(std::string name) {
    for (auto& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    char const* p = std::getenv(("MARCPIPE_PROGRAM_" + name).c_str());
    if (!p) throw std::runtime_error("MARCPIPE_PROGRAM_" + name + " is not set");
    return p;
}

}  // namespace marcpipe::testing
