// yaz-marcdump, the reference tool the MARC tests compare against: found when the tests run, not
// when the build was configured, and required unless the comparisons are left out on purpose;
// and comparing bytes with what it makes.
#pragma once

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
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

// Whether the comparisons with yaz-marcdump are left out on purpose: MARCPIPE_TESTS_WITHOUT_YAZ=1,
// which scripts/test reports on its summary line. Nothing else leaves them out.
inline bool tests_without_yaz() {
    char const* v = std::getenv("MARCPIPE_TESTS_WITHOUT_YAZ");
    return v && std::string_view{v} == "1";
}

// yaz-marcdump for a test that compares with it. A comparison that never ran must not pass, so a
// missing yaz-marcdump fails the test, unless MARCPIPE_TESTS_WITHOUT_YAZ=1 says to leave the
// comparisons out: then the test warns and the caller leaves its comparison out (the opt-out
// counts as the test case's assertion, so a case that only compares still passes).
inline std::optional<std::filesystem::path> yaz_marcdump_for_comparison() {
    if (tests_without_yaz()) {
        WARN("MARCPIPE_TESTS_WITHOUT_YAZ=1: the comparison with yaz-marcdump was not run");
        SUCCEED("the comparison with yaz-marcdump left out on purpose");
        return std::nullopt;
    }
    auto yaz = find_yaz_marcdump();
    if (!yaz)
        FAIL(
            "yaz-marcdump is not installed (nor named by MARCPIPE_YAZ_MARCDUMP); the tests compare "
            "with it (scripts/install-deps installs yaz; MARCPIPE_TESTS_WITHOUT_YAZ=1 leaves the "
            "comparisons out)");
    return yaz;
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

// Where two byte strings first differ, with a little of each shown from there, or "" when they
// are equal: a record file is too long to show whole when one byte is wrong.
inline std::string where_bytes_differ(std::string_view ours, std::string_view theirs) {
    if (ours == theirs) return {};
    std::size_t at = 0;
    while (at < ours.size() && at < theirs.size() && ours[at] == theirs[at]) ++at;
    auto shown = [at](std::string_view s) {
        std::string out = "\"";
        for (char c : s.substr(std::min(at, s.size()), 40)) {
            auto const u = static_cast<unsigned char>(c);
            if (u >= 0x20 && u < 0x7F) {
                out += c;
            } else {
                out += "\\x";
                out += "0123456789ABCDEF"[u >> 4];
                out += "0123456789ABCDEF"[u & 0xF];
            }
        }
        return out + "\"";
    };
    return "at byte " + std::to_string(at) + " of " + std::to_string(ours.size()) + " and " +
           std::to_string(theirs.size()) + ": ours " + shown(ours) + ", theirs " + shown(theirs);
}

// Where marcpipe's MARCXML differs from yaz-marcdump's MARCXML of the same records, or "" when
// they are the same bytes but for three ways of writing the same document:
// - marcpipe writes an XML declaration, yaz-marcdump none (UTF-8 is XML's default);
// - yaz-marcdump writes &quot; and &apos; in element text and &apos; in attributes, where
//   marcpipe writes the characters, which an XML parser reads as the same text;
// - yaz-marcdump adds comments of its own about leader positions it had to assume.
// Everything else, escaping of & < > included, must be byte for byte the same.
inline std::string marcxml_difference_from_yaz(std::string_view ours, std::string_view yaz) {
    constexpr std::string_view declaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    if (!ours.starts_with(declaration))
        return "marcpipe's MARCXML does not start with " + std::string{declaration};
    ours.remove_prefix(declaration.size());
    std::string theirs;
    theirs.reserve(yaz.size());
    bool in_markup = false;
    for (std::size_t i = 0; i < yaz.size();) {
        auto const rest = yaz.substr(i);
        if (rest.starts_with("<!--")) {
            auto const end = rest.find("-->");
            i += end == std::string_view::npos ? rest.size() : end + 3;
            // A comment on a line of its own takes its line end with it.
            if ((theirs.empty() || theirs.back() == '\n') && i < yaz.size() && yaz[i] == '\n') ++i;
            continue;
        }
        if (rest.starts_with("&apos;")) {
            theirs += '\'';
            i += 6;
            continue;
        }
        if (!in_markup && rest.starts_with("&quot;")) {
            theirs += '"';
            i += 6;
            continue;
        }
        if (yaz[i] == '<') in_markup = true;
        if (yaz[i] == '>') in_markup = false;
        theirs += yaz[i++];
    }
    return where_bytes_differ(ours, theirs);
}

}  // namespace marcpipe_test
