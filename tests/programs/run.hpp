// Runs an example program as a user would, with given standard input, and collects what it
// printed and its exit status.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

namespace program_test {

inline std::filesystem::path data_path(std::string const& name) {
    char const* dir = std::getenv("MARCPIPE_TEST_DATA");
    if (!dir) throw std::runtime_error("MARCPIPE_TEST_DATA is not set");
    return std::filesystem::path{dir} / name;
}

// The path of an example program, e.g. "mms-ids" from MARCPIPE_PROGRAM_MMS_IDS.
inline std::string program(std::string name) {
    for (auto& c : name) c = c == '-' ? '_' : static_cast<char>(std::toupper(c));
    char const* p = std::getenv(("MARCPIPE_PROGRAM_" + name).c_str());
    if (!p) throw std::runtime_error("MARCPIPE_PROGRAM_" + name + " is not set");
    return p;
}

inline std::string slurp(std::filesystem::path const& p) {
    std::ifstream in{p, std::ios::binary};
    if (!in) throw std::runtime_error("cannot open " + p.string());
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// A directory of its own for each test, removed afterwards.
struct scratch_dir {
    scratch_dir() {
        auto base = std::filesystem::temp_directory_path();
        for (int i = 0;; ++i) {
            path = base / ("marcpipe-programs-" + std::to_string(::getpid()) + "-" + std::to_string(i));
            if (std::filesystem::create_directory(path)) break;
        }
    }
    ~scratch_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::filesystem::path operator/(std::string const& name) const { return path / name; }
    std::filesystem::path path;
};

struct result {
    int status = -1;
    std::string out;
    std::string err;
};

inline std::string quote(std::string const& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
    return q + "'";
}

// Runs `exe args...` with `input` on standard input.
inline result run(std::string const& exe, std::vector<std::string> const& args,
                  std::string const& input = "") {
    scratch_dir dir;
    {
        std::ofstream in{dir / "stdin", std::ios::binary};
        in << input;
    }
    // The user's own config file (~/.config/marcpipe/config) must not change what a test runs.
    std::string cmd = "XDG_CONFIG_HOME=" + quote((dir / "no-config-home").string()) + " " + quote(exe);
    for (auto const& a : args) cmd += " " + quote(a);
    cmd += " < " + quote((dir / "stdin").string()) + " > " + quote((dir / "stdout").string()) +
           " 2> " + quote((dir / "stderr").string());
    int raw = std::system(cmd.c_str());
    result r;
    r.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
    r.out = slurp(dir / "stdout");
    r.err = slurp(dir / "stderr");
    return r;
}

inline std::vector<std::string> lines(std::string const& text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string::npos; start = nl + 1)
        out.push_back(text.substr(start, nl - start));
    if (start < text.size()) out.push_back(text.substr(start));
    return out;
}

}  // namespace program_test
