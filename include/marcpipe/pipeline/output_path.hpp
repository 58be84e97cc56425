// output_path: where a program's output really goes, and the paths it refuses — all decided
// before anything is asked of Alma, so a mistake costs no calls and clobbers nothing.
//
// A resumable output is written aside (FILE.part) and renamed over FILE at the end. That is
// right for a regular file and wrong for anything else a path can name:
//
//   - a symbolic link is followed: the file it points to is written aside and renamed, so the
//     link stays a link (renaming over the link would replace it with a plain file);
//   - a character device or a FIFO (/dev/null, a named pipe a reader waits on) is written to
//     directly: renaming over it would replace the device or the pipe with a plain file. Such an
//     output keeps no state to resume from;
//   - a directory, a block device or a socket is refused;
//   - the input itself is refused (the run would overwrite what it is reading), and so is one
//     file named both as output and as report (two writers would mix their bytes).
//
// A program that makes the output's name (a directory given for a generated file name) makes it
// first and hands the full path to check_paths().
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

namespace marcpipe::pipeline {

// A path the run will not write to, and why (the message names the path).
class path_refused : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Where one output's bytes go.
struct output_target {
    enum class kind {
        standard_output,  // "-"
        file,             // a regular file, new or existing: written aside and renamed
        stream,           // a character device or a FIFO: written directly, not resumable
    };
    std::string path;  // as given
    std::string file;  // the file the bytes end up in: `path` with its symbolic links followed
    kind what = kind::standard_output;

    bool is_file() const noexcept { return what == kind::file; }
    bool is_stream() const noexcept { return what == kind::stream; }
    // The name it is written under until the run ends.
    std::string side_path() const { return file + ".part"; }
};

namespace detail {
inline std::string errno_text(int e) {
    return std::error_code{e, std::generic_category()}.message();
}

// How a path that is neither a regular file nor a directory is described in a refusal.
inline char const* odd_file_kind(mode_t mode) {
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}
}  // namespace detail

// Resolves `path` ("-": standard output) and checks that the run can write there: its
// directory exists and is writable, and it is nothing the run must not replace.
inline output_target resolve_output(std::string const& path) {
    output_target t;
    t.path = path;
    t.file = path;
    if (path == "-") return t;
    if (path.empty()) throw path_refused("an empty path names no file");
    std::string const shown = path;
    // Each link is followed by hand rather than by realpath(), so a relative link gives a
    // relative name, and a link to a file not yet there (dangling) still says where it goes.
    struct stat st {};
    bool exists = false;
    for (int links = 0;; ++links) {
        if (::lstat(t.file.c_str(), &st) != 0) {
            if (errno != ENOENT)
                throw path_refused("cannot write " + shown + ": " + detail::errno_text(errno));
            break;
        }
        if (!S_ISLNK(st.st_mode)) {
            exists = true;
            break;
        }
        if (links == 40)
            throw path_refused("cannot write " + shown + ": too many levels of symbolic links");
        std::error_code ec;
        std::filesystem::path const to = std::filesystem::read_symlink(t.file, ec);
        if (ec) throw path_refused("cannot write " + shown + ": " + ec.message());
        t.file =
            (to.is_absolute() ? to : std::filesystem::path{t.file}.parent_path() / to).string();
    }
    std::string const where = t.file == path ? shown : shown + " (a link to " + t.file + ")";
    if (exists) {
        if (S_ISDIR(st.st_mode))
            throw path_refused("cannot write " + where + ": it is a directory; name a file");
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
            t.what = output_target::kind::stream;
            return t;
        }
        if (!S_ISREG(st.st_mode))
            throw path_refused("cannot write " + where + ": it is " +
                               detail::odd_file_kind(st.st_mode));
    }
    t.what = output_target::kind::file;
    // The side file and the rename need a writable directory; finding that out at the end of
    // the run would cost every call it made.
    auto dir = std::filesystem::path{t.file}.parent_path();
    if (dir.empty()) dir = ".";
    struct stat ds {};
    if (::stat(dir.c_str(), &ds) != 0 || !S_ISDIR(ds.st_mode))
        throw path_refused("cannot write " + where + ": there is no directory " + dir.string());
    if (::access(dir.c_str(), W_OK | X_OK) != 0)
        throw path_refused("cannot write " + where + ": the directory " + dir.string() +
                           " is not writable (" + detail::errno_text(errno) + ")");
    return t;
}

// Whether two paths name one file: the same device and inode when both exist, else the same
// path once made absolute with its links followed. "-" is the same only as "-".
inline bool same_file(std::string const& a, std::string const& b) {
    if (a == "-" || b == "-") return a == b;
    struct stat sa {
    }, sb{};
    if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
    std::error_code ea, eb;
    auto const ca = std::filesystem::weakly_canonical(std::filesystem::absolute(a, ea), ea);
    auto const cb = std::filesystem::weakly_canonical(std::filesystem::absolute(b, eb), eb);
    return !ea && !eb && ca == cb;
}

// The outputs of a run, checked.
struct run_paths {
    output_target output;
    std::optional<output_target> report;
};

// Checks a run's paths together: `input` (empty: none; "-": standard input), `output` ("-":
// standard output) and `report` (empty: none). Throws path_refused naming the path.
// A character device may be shared (-o /dev/null --errors /dev/null is harmless); a FIFO may
// not, since its reader would get the two outputs mixed.
inline run_paths check_paths(std::string const& input, std::string const& output,
                             std::string const& report) {
    run_paths r{resolve_output(output), std::nullopt};
    if (!report.empty()) r.report = resolve_output(report);
    auto shareable = [](output_target const& t) {
        struct stat st {};
        return t.is_stream() && ::stat(t.file.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
    };
    if (!input.empty() && input != "-" && output != "-" && !shareable(r.output) &&
        same_file(input, output))
        throw path_refused("cannot write the output to " + output +
                           ": it is the input; name another file");
    if (!r.report) return r;
    if (!input.empty() && input != "-" && report != "-" && !shareable(*r.report) &&
        same_file(input, report))
        throw path_refused("cannot write the report to " + report +
                           ": it is the input; name another file");
    if (!shareable(r.output) && same_file(output, report))
        throw path_refused("cannot write the report to " + report + ": it is also the output (" +
                           output + "); name another file");
    return r;
}

}  // namespace marcpipe::pipeline
