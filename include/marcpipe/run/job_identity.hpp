// job_identity: what a journal says its job was, so that --resume carries on only the same job.
//
// A resumed run of another job would splice two different outputs together: another Alma
// (base URL), another input or the same input changed, other options. The identity is a line of
// `key=value` words, values escaped, so a refusal can say which part differs.
//
// The input is the same when its content is (its size and a hash of it), whatever name it is
// given: ./in.mrc, an absolute path, a path from another working directory. Its name is kept
// (made absolute) to say which input an earlier run read.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "marcpipe/net/printable.hpp"

namespace marcpipe::pipeline {

// The parts of a job's identity, in order: {"base", url}, {"input", path}, ...
using job_parts = std::vector<std::pair<std::string, std::string>>;

// A file's name as a job records it: absolute, so that the same run from another working
// directory is the same job. "-" and the empty name stay as they are.
inline std::string absolute_name(std::string const& path) {
    if (path.empty() || path == "-") return path;
    std::error_code ec;
    auto const named = std::filesystem::absolute(path, ec).lexically_normal();
    return ec ? path : named.string();
}

// FNV-1a (64 bits) of a whole file, in hex; nothing when it cannot be read.
inline std::optional<std::string> fnv1a64_of_file(std::string const& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    std::uint64_t h = 0xcbf29ce484222325ull;
    std::vector<unsigned char> buf(1 << 20);
    for (;;) {
        ssize_t n = ::read(fd, buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            ::close(fd);
            if (n < 0) return std::nullopt;
            break;
        }
        for (ssize_t i = 0; i < n; ++i)
            h = (h ^ buf[static_cast<std::size_t>(i)]) * 0x100000001b3ull;
    }
    char hex[17];
    std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
    return std::string{hex};
}

// The input file as it is on disk: its name (absolute), size, modification time and a hash of
// its content; its name alone when it is no file (standard input, none).
// Equal size and modification time are no proof of equal content: an edit in place can keep
// both (and `touch -r` restores the time), so the whole file is hashed. The hash is a fast one
// rather than a cryptographic one: it guards against accidents, not an adversary, and it reads
// the input at disk speed.
inline job_parts input_identity(std::string const& input) {
    job_parts parts;
    struct stat st {};
    if (input.empty() || input == "-" || ::stat(input.c_str(), &st) != 0) return {{"input", input}};
    parts.emplace_back("input", absolute_name(input));
    parts.emplace_back("size", std::to_string(st.st_size));
    char mtime[48];  // nanoseconds zero-padded, or 1.5 s and 1.000000005 s would look alike
    std::snprintf(mtime, sizeof mtime, "%lld.%09ld", static_cast<long long>(st.st_mtim.tv_sec),
                  static_cast<long>(st.st_mtim.tv_nsec));
    parts.emplace_back("mtime", mtime);
    if (auto h = fnv1a64_of_file(input)) parts.emplace_back("input-fnv1a64", *h);
    return parts;
}

// "key=value key=value", a value's spaces, '%' and line ends escaped as %XX.
inline std::string job_line(job_parts const& parts) {
    std::string line;
    for (auto const& [key, value] : parts) {
        if (!line.empty()) line += ' ';
        line += key + '=';
        for (char c : value) {
            if (c == ' ' || c == '%' || c == '\n' || c == '\r') {
                char hex[4];
                std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
                line += hex;
            } else {
                line += c;
            }
        }
    }
    return line;
}

namespace detail {
// A job line's words, key to value, values as written (escaped).
inline std::map<std::string, std::string> job_words(std::string const& line) {
    std::map<std::string, std::string> words;
    for (std::size_t pos = 0; pos < line.size();) {
        std::size_t end = line.find(' ', pos);
        if (end == std::string::npos) end = line.size();
        std::string const word = line.substr(pos, end - pos);
        auto eq = word.find('=');
        if (eq != std::string::npos) words[word.substr(0, eq)] = word.substr(eq + 1);
        pos = end + 1;
    }
    return words;
}
inline std::map<std::string, std::string> job_words(job_parts const& parts) {
    std::map<std::string, std::string> words;
    for (auto const& [key, value] : parts) words[key] = job_line({{"", value}}).substr(1);
    return words;
}
// A value as written, shown: its escapes undone, and nothing in it that a terminal would obey.
inline std::string shown_value(std::string const& written) {
    std::string value;
    for (std::size_t i = 0; i < written.size(); ++i) {
        unsigned hex = 0;
        if (written[i] == '%' && i + 2 < written.size() &&
            std::sscanf(written.c_str() + i + 1, "%2x", &hex) == 1) {
            value += static_cast<char>(hex);
            i += 2;
        } else {
            value += written[i];
        }
    }
    return net::printable(value);
}
}  // namespace detail

// Whether a journal's job line is the job `mine`: every part the same, except the input's name
// when the content of the input is known to both (size and hash), which is what is compared.
inline bool same_job(job_parts const& mine, std::string const& journal_line) {
    auto theirs = detail::job_words(journal_line);
    auto ours = detail::job_words(mine);
    if (theirs.count("input-fnv1a64") && ours.count("input-fnv1a64"))
        theirs.erase("input"), ours.erase("input");
    return theirs == ours;
}

// Why a journal's job line is not the job `mine`: the parts that differ, in words.
inline std::string job_difference(job_parts const& mine, std::string const& journal_line) {
    auto theirs = detail::job_words(journal_line);
    auto ours = detail::job_words(mine);
    std::map<std::string, std::string> shown;
    for (auto const& [key, value] : mine) shown[key] = net::printable(value);
    auto differs = [&](std::string const& key) { return theirs[key] != ours[key]; };
    std::vector<std::string> why;
    if (differs("base"))
        why.push_back("it asked " +
                      (theirs["base"].empty() ? std::string{"another Alma"}
                                              : detail::shown_value(theirs["base"])) +
                      ", this run asks " + shown["base"]);
    bool const content = differs("size") || differs("input-fnv1a64");
    if (differs("input") &&
        (content || !theirs.count("input-fnv1a64") || !ours.count("input-fnv1a64")))
        why.push_back("it read another input, " + detail::shown_value(theirs["input"]) +
                      " (this run reads " + shown["input"] + ")");
    else if (content)
        why.push_back("the content of " + shown["input"] + " has changed since");
    else if (differs("mtime"))
        why.push_back(shown["input"] + " was modified since");
    if (differs("format")) why.push_back("its output format was " + theirs["format"]);
    if (differs("errors")) why.push_back("its report (--errors) was another");
    if (differs("options")) why.push_back("other options decided its output");
    if (why.empty()) why.push_back("other input, options or output format");
    std::string text;
    for (auto const& w : why) text += (text.empty() ? "" : "; ") + w;
    return text;
}

}  // namespace marcpipe::pipeline
