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
//   - the input, the output, the report and every file kept beside the output or the report
//     (FILE.part, .journal, .answers, .lock, .set-members, .analytics-pairs) must be distinct files, compared by
//     identity (device and inode) where they exist: a run would otherwise overwrite, cut or
//     remove what it reads or what it has just written;
//   - a symbolic link found at the name of a file kept beside an output is refused: the run
//     would overwrite whatever the link points to (see open_side_file() in posix_io.hpp), and so
//     is an output whose name leaves no room in its directory for the names beside it.
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
#include <vector>

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
    // The files kept beside it (a link's target), named here once: the name it is written under
    // until the run ends, the run's journal, its answer log, its lock, an Alma set's saved members.
    std::string side_path() const { return file + ".part"; }
    std::string journal_path() const { return file + ".journal"; }
    std::string answers_path() const { return file + ".answers"; }
    std::string lock_path() const { return file + ".lock"; }
    std::string members_path() const { return file + ".set-members"; }
    std::string pairs_path() const { return file + ".analytics-pairs"; }  // an Analytics report's pairs
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

// A file a run reads besides its input, and what it is to the run ("the pairs file").
struct named_input {
    std::string path;
    std::string role;
};

// The outputs of a run, checked.
struct run_paths {
    output_target output;
    std::optional<output_target> report;
};

namespace detail {
// One file a run reads or writes, for the check that they are all distinct.
struct run_file {
    std::string path;
    std::string role;  // "the input", "the journal of the output out.mrc", ...
    int owner;         // 0 the input, 1 the output and its side files, 2 the report and its
    bool side;         // kept beside the output or the report
};

// The inputs, the outputs, and every file kept beside an output written aside.
inline std::vector<run_file> run_files(std::string const& input, run_paths const& r,
                                       std::vector<named_input> const& more_inputs) {
    std::vector<run_file> files;
    if (!input.empty() && input != "-") files.push_back({input, "the input", 0, false});
    for (auto const& [path, role] : more_inputs)
        if (!path.empty() && path != "-") files.push_back({path, role, 0, false});
    auto add = [&](output_target const& t, std::string const& what, int owner) {
        files.push_back({t.path, "the " + what, owner, false});
        if (!t.is_file()) return;
        std::string const of = " of the " + what + " " + t.path;
        files.push_back({t.side_path(), "the file written aside" + of, owner, true});
        files.push_back({t.lock_path(), "the lock" + of, owner, true});
        if (owner != 1) return;
        files.push_back({t.journal_path(), "the journal" + of, owner, true});
        files.push_back({t.answers_path(), "the answer log" + of, owner, true});
        files.push_back({t.answers_path() + ".old", "the older answer log" + of, owner, true});
        files.push_back({t.members_path(), "the saved members of a set" + of, owner, true});
        files.push_back(
            {t.members_path() + ".part", "the saved members of a set" + of, owner, true});
        files.push_back({t.pairs_path(), "the saved pairs of an Analytics report" + of, owner, true});
        files.push_back({t.pairs_path() + ".part", "the saved pairs of an Analytics report" + of, owner, true});
    };
    add(r.output, "output", 1);
    if (r.report) add(*r.report, "report", 2);
    return files;
}

inline bool is_character_device(std::string const& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode);
}

// A side file's name must fit in its directory, and must not be a symbolic link.
inline void check_side_file(run_file const& f) {
    auto dir = std::filesystem::path{f.path}.parent_path();
    if (dir.empty()) dir = ".";
    long const max = ::pathconf(dir.c_str(), _PC_NAME_MAX);
    auto const name = std::filesystem::path{f.path}.filename().string();
    // A set's members are written only by a run that reads a set; chosen_input checks their name.
    bool const members = f.role.starts_with("the saved members");
    if (max > 0 && !members && name.size() > static_cast<std::size_t>(max))
        throw path_refused("cannot use " + f.path + " as " + f.role + ": the name is too long (" +
                           std::to_string(name.size()) + " bytes; the directory allows " +
                           std::to_string(max) + "); name a shorter file");
    struct stat st {};
    if (::lstat(f.path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        throw path_refused("cannot use " + f.path + " as " + f.role +
                           ": it is a symbolic link, and a run never writes through a link at a "
                           "name of its own; remove it");
}
}  // namespace detail

// Checks a run's paths together: `input` (empty: none; "-": standard input), `output` ("-":
// standard output), `report` (empty: none) and the other files the run reads (`more_inputs`).
// Throws path_refused naming the path.
// A character device may be shared (-o /dev/null --errors /dev/null is harmless); a FIFO may
// not, since its reader would get the two outputs mixed.
inline run_paths check_paths(std::string const& input, std::string const& output,
                             std::string const& report, std::vector<named_input> const& more_inputs = {}) {
    run_paths r{resolve_output(output), std::nullopt};
    if (!report.empty()) r.report = resolve_output(report);
    auto const files = detail::run_files(input, r, more_inputs);
    for (auto const& f : files)
        if (f.side) detail::check_side_file(f);
    for (std::size_t j = 0; j < files.size(); ++j)
        for (std::size_t i = 0; i < j; ++i) {
            auto const& a = files[i];
            auto const& b = files[j];
            // Files beside one output are distinct by their names; a run reading a set reads
            // the members it saved beside its output.
            if (a.owner == b.owner) continue;
            if (a.role == "the input" && b.role.starts_with("the saved members")) continue;
            if (detail::is_character_device(a.path) || !same_file(a.path, b.path)) continue;
            throw path_refused("cannot use " + b.path + " as " + b.role + ": it is " + a.role +
                               (a.path == b.path ? std::string{} : " (" + a.path + ")") +
                               "; name another file");
        }
    return r;
}

}  // namespace marcpipe::pipeline
