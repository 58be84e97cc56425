// files: where the test data is, reading a file whole, splitting text into lines, quoting for a
// shell, and a scratch directory of a test's own that is removed when the test ends, passed or
// failed.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace marcpipe::testing {

// tests/data, as meson passes it in MARCPIPE_TEST_DATA.
inline std::filesystem::path data_root() {
    char const* dir = std::getenv("MARCPIPE_TEST_DATA");
    if (!dir) throw std::runtime_error("MARCPIPE_TEST_DATA is not set (run the tests through meson)");
    return dir;
}

// A file of tests/data: "iso2709/x.mrc", or `name` in the folder `area` ("marcxml", "x.xml").
inline std::filesystem::path data_path(std::string const& name) { return data_root() / name; }
inline std::filesystem::path data_path(std::string const& area, std::string const& name) {
    return name.find('/') != std::string::npos ? data_root() / name : data_root() / area / name;
}

inline std::string slurp(std::filesystem::path const& p) {
    std::ifstream in{p, std::ios::binary};
    if (!in) throw std::runtime_error("cannot open " + p.string());
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

// The lines of a text without their "\n" (a "\r" before it stays); a last line without its end
// counts.
inline std::vector<std::string> lines(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t nl; (nl = text.find('\n', start)) != std::string_view::npos; start = nl + 1)
        out.emplace_back(text.substr(start, nl - start));
    if (start < text.size()) out.emplace_back(text.substr(start));
    return out;
}

// `s` as one word of a POSIX shell command line.
inline std::string shell_quoted(std::string const& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
    return q + "'";
}

// A fresh, empty directory for one test, named after it, this process and a count, removed with all it
// holds when the object goes, so a failed assertion that ends the test early leaves nothing
// behind. It stands for its path wherever a path is taken; it cannot hand its path to a copy
// that outlives it (`fs::path p = scratch_dir("x")` does not compile).
class scratch_dir {
public:
    explicit scratch_dir(std::string const& name = "test")
        : path_{std::filesystem::temp_directory_path() /
                ("marcpipe-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(count()++))} {
        clear(path_);
        std::filesystem::create_directories(path_);
    }
    scratch_dir(scratch_dir const&) = delete;
    scratch_dir& operator=(scratch_dir const&) = delete;
    ~scratch_dir() { clear(path_); }

    std::filesystem::path const& path() const& noexcept { return path_; }
    operator std::filesystem::path const&() const& noexcept { return path_; }
    operator std::filesystem::path const&() && = delete;
    std::filesystem::path operator/(std::filesystem::path const& name) const { return path_ / name; }
    std::string string() const { return path_.string(); }

private:
    static inline int& count() {
        static int n = 0;
        return n;
    }
    // A test may have taken its rights away from a folder inside to see a write refused.
    static void clear(std::filesystem::path const& dir) {
        std::error_code ec;
        if (!std::filesystem::exists(dir, ec)) return;
        auto const all = std::filesystem::perms::owner_all;
        std::filesystem::permissions(dir, all, std::filesystem::perm_options::add, ec);
        for (auto it = std::filesystem::recursive_directory_iterator{dir, ec};
             !ec && it != std::filesystem::recursive_directory_iterator{}; it.increment(ec))
            if (it->is_directory(ec)) std::filesystem::permissions(it->path(), all, std::filesystem::perm_options::add, ec);
        std::filesystem::remove_all(dir, ec);
    }

    std::filesystem::path path_;
};

// A file holding `text`, in a scratch directory of this process's removed when it exits: for a
// test that needs a file and no directory of its own.
inline std::filesystem::path scratch_file(std::string const& name, std::string const& text) {
    static scratch_dir const dir{"files"};
    auto const path = dir / name;
    std::ofstream{path, std::ios::binary} << text;
    return path;
}

}  // namespace marcpipe::testing
