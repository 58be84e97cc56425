// staged_file: an output file written under a side name and renamed into place when the run
// ends, so that a reader of the real name never sees half a file.
//
// A resumed run reopens the side file and cuts it back to the bytes its journal counts (see
// journal.hpp), so the finished file is the same as that of a run never interrupted.
//
// What a path names decides how it is written (output_path.hpp): a symbolic link's target is
// written aside and renamed (the link stays), a device or FIFO is written directly.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>

#include "marcpipe/run/output_path.hpp"
#include "marcpipe/run/posix_io.hpp"
#include "marcpipe/run/setup_error.hpp"

namespace marcpipe::pipeline {

// A file written under a side name (FILE.part) and renamed to FILE by commit(), so a reader
// of FILE never sees half a file. Standard output ("-"), a device and a FIFO are written
// straight through.
class staged_file {
public:
    // fresh: start empty. Otherwise keep the first `keep_bytes` of an existing side file (resume).
    // Throws path_refused for a path that cannot be written (see resolve_output()).
    staged_file(std::string const& path, bool fresh, std::uint64_t keep_bytes = 0)
        : staged_file{resolve_output(path), fresh, keep_bytes} {}
    staged_file(output_target const& target, bool fresh, std::uint64_t keep_bytes = 0)
        : path_{target.path}, file_{target.file} {
        if (target.what == output_target::kind::standard_output) {
            fd_ = STDOUT_FILENO;
            return;
        }
        if (target.is_stream()) {
            // Nothing to keep: a device or FIFO has no bytes of an earlier run. Opening a FIFO
            // waits for its reader, as a shell's redirection does.
            if (!fresh || keep_bytes) throw journal_error(path_ + " is not a regular file; it cannot be resumed");
            fd_ = ::open(file_.c_str(), O_WRONLY | O_CLOEXEC | O_NOCTTY);
            if (fd_ < 0) detail::throw_errno("cannot open " + path_);
            return;
        }
        side_ = target.side_path();
        fd_ = detail::open_side_file(side_, O_WRONLY, fresh);
        if (!fresh) {
            struct stat st {};
            if (::fstat(fd_, &st) != 0) detail::throw_errno("cannot stat " + side_);
            if (static_cast<std::uint64_t>(st.st_size) < keep_bytes)
                throw journal_error(side_ + " is shorter (" + std::to_string(st.st_size) +
                                    " bytes) than the journal says (" + std::to_string(keep_bytes) +
                                    "); start again with --restart");
            if (::ftruncate(fd_, static_cast<off_t>(keep_bytes)) != 0)
                detail::throw_errno("cannot truncate " + side_);
        }
        if (::lseek(fd_, static_cast<off_t>(keep_bytes), SEEK_SET) < 0)
            detail::throw_errno("cannot seek " + side_);
        bytes_ = keep_bytes;
    }
    staged_file(staged_file const&) = delete;
    staged_file& operator=(staged_file const&) = delete;
    ~staged_file() {
        if (fd_ >= 0 && !is_stdout()) ::close(fd_);
    }

    bool is_stdout() const noexcept { return path_ == "-"; }
    // Written straight through (standard output, a device, a FIFO): no side file, no rename.
    bool is_direct() const noexcept { return side_.empty(); }
    std::string const& path() const noexcept { return path_; }
    std::string const& side_path() const noexcept { return side_; }
    // Bytes written so far (for a resumed file, counting the kept part).
    std::uint64_t bytes() const noexcept { return bytes_; }

    void write(std::string_view data) {
        detail::write_all(fd_, data.data(), data.size(),
                          is_stdout() ? std::string{"standard output"} : is_direct() ? path_ : side_);
        bytes_ += data.size();
    }
    void sync() {
        if (!is_direct()) ::fdatasync(fd_);
    }
    int fd() const noexcept { return fd_; }
    // Makes the file durable and gives it its real name (a link's target, for a link).
    void commit() {
        if (is_direct()) return;
        if (::fsync(fd_) != 0) detail::throw_errno("cannot sync " + side_);
        ::close(fd_);
        fd_ = -1;
        std::filesystem::rename(side_, file_);
        detail::sync_directory_of(file_);
    }

private:
    std::string path_;
    std::string file_;  // path_ with its links followed
    std::string side_;
    int fd_ = -1;
    std::uint64_t bytes_ = 0;
};

}  // namespace marcpipe::pipeline
