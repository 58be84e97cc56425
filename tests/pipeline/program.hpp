// program: runs one of the example programs as a child process for end-to-end tests — with
// arguments and extra environment, stdout and stderr captured — and can kill it mid-run.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_data.hpp"

extern char** environ;

namespace marcpipe::testing {

using marcpipe_test::slurp;

struct finished {
    int status = -1;        // exit status, or -signal
    std::string out;        // standard output
    std::string err;        // standard error
    long max_rss_kb = 0;    // peak resident set size of the child
};

class child {
public:
    // Starts `program args...` in `dir` with `env` added (NAME=VALUE); NAME= alone removes NAME.
    child(std::string const& program, std::vector<std::string> const& args, std::vector<std::string> const& env,
          std::filesystem::path const& dir, std::string const& tag = "run")
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
        std::vector<char*> envp;
        for (auto& e : env_s) envp.push_back(e.data());
        envp.push_back(nullptr);

        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
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
            wait();
        }
    }

    pid_t pid() const noexcept { return pid_; }

    void kill(int sig = SIGKILL) {
        if (pid_ > 0) ::kill(pid_, sig);
    }

    finished wait() {
        finished f;
        int status = 0;
        rusage usage{};
        while (::wait4(pid_, &status, 0, &usage) < 0 && errno == EINTR) {
        }
        pid_ = -1;
        f.status = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
        f.max_rss_kb = usage.ru_maxrss;
        f.out = slurp(out_);
        f.err = slurp(err_);
        return f;
    }

private:
    pid_t pid_ = -1;
    std::filesystem::path out_;
    std::filesystem::path err_;
};

inline finished run(std::string const& program, std::vector<std::string> const& args,
                    std::vector<std::string> const& env, std::filesystem::path const& dir,
                    std::string const& tag = "run") {
    child c{program, args, env, dir, tag};
    return c.wait();
}

// A fresh, empty directory for one test.
inline std::filesystem::path scratch_dir(std::string const& name) {
    auto dir = std::filesystem::temp_directory_path() /
               ("marcpipe-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace marcpipe::testing
