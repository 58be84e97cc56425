// yaz-marcdump, the reference tool the MARC tests compare against: found when the tests run, not
// when the build was configured, and never silently missing where a missing check would pass.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "catch.hpp"

namespace marcpipe_test {

namespace detail {

inline bool is_executable(std::filesystem::path const& p) {
    std::error_code ec;
    return std::filesystem::is_regular_file(p, ec) && ::access(p.c_str(), X_OK) == 0;
}

// The first executable `program` in a directory of PATH, or nothing.
inline std::optional<std::filesystem::path> on_path(std::string_view program) {
    char const* path = std::getenv("PATH");
    if (!path) return std::nullopt;
    std::string_view rest = path;
    for (;;) {
        auto const colon = rest.find(':');
        auto const dir = rest.substr(0, colon);
        // An empty entry means the current directory, as in the shell.
        auto const candidate = std::filesystem::path{dir.empty() ? "." : dir} / program;
        if (is_executable(candidate)) return candidate;
        if (colon == std::string_view::npos) return std::nullopt;
        rest.remove_prefix(colon + 1);
    }
}

inline std::string shell_quoted(std::string const& s) {
    std::string q = "'";
    for (char c : s) q += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
    return q + "'";
}

}  // namespace detail

// Where yaz-marcdump is: MARCPIPE_YAZ_MARCDUMP when it is set and names an executable (a user's
// own build of yaz), else the first one on PATH. A build directory configured before yaz was
// installed still finds it.
inline std::optional<std::filesystem::path> find_yaz_marcdump() {
    if (char const* given = std::getenv("MARCPIPE_YAZ_MARCDUMP"); given && *given) {
        if (detail::is_executable(given)) return std::filesystem::path{given};
    }
    return detail::on_path("yaz-marcdump");
}

// yaz-marcdump for a test that compares with it. When it is missing, a CI run (CI=true, as CI
// services set it) fails the test, because a comparison that never ran must not pass there;
// elsewhere the test warns that the comparison was not run and the caller returns.
inline std::optional<std::filesystem::path> yaz_marcdump_for_comparison() {
    auto yaz = find_yaz_marcdump();
    if (yaz) return yaz;
    char const* ci = std::getenv("CI");
    if (ci && std::string_view{ci} == "true")
        FAIL(
            "yaz-marcdump is not installed (nor named by MARCPIPE_YAZ_MARCDUMP); CI=true needs "
            "the comparison with it");
    WARN("yaz-marcdump is not installed: the comparison with it was not run");
    return std::nullopt;
}

// What `yaz-marcdump ARGS FILE` writes to standard output; its complaints about bad bytes go
// to standard error and are left out. Throws when yaz-marcdump did not run to its end.
inline std::string yaz_marcdump_output(std::filesystem::path const& yaz, std::string const& args,
                                       std::filesystem::path const& file) {
    std::string const cmd = detail::shell_quoted(yaz.string()) + " " + args + " " +
                            detail::shell_quoted(file.string()) + " 2>/dev/null";
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) throw std::runtime_error("cannot run " + cmd);
    std::string out;
    char buf[65536];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    int const status = ::pclose(p);
    if (status == -1 || !WIFEXITED(status)) throw std::runtime_error(cmd + " did not finish");
    return out;
}

}  // namespace marcpipe_test
