// posix_io: the few POSIX file calls the staged files and the journal share, failing with a
// std::system_error that names the file.
//
// Written against write()/fsync() rather than iostreams because durability is the point: a
// checkpoint counts bytes the kernel has, and a rename is made durable by syncing its directory.
#pragma once

#include <fcntl.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <string>
#include <system_error>

namespace marcpipe::pipeline {

namespace detail {
[[noreturn]] inline void throw_errno(std::string const& what) {
    throw std::system_error(errno, std::generic_category(), what);
}
inline void write_all(int fd, char const* data, std::size_t n, std::string const& name) {
    while (n > 0) {
        ssize_t w = ::write(fd, data, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            throw_errno("cannot write " + name);
        }
        data += w;
        n -= static_cast<std::size_t>(w);
    }
}
// Opens a file a run keeps beside its output (FILE.part, .journal, .answers, .lock), never through
// a symbolic link: a link planted at that name, in a directory others can write, would have the
// run overwrite whatever it points to. `fresh`: whatever is at the name is removed first and the
// file created exclusively, so the file written is surely this run's own.
inline int open_side_file(std::string const& path, int flags, bool fresh) {
    if (fresh && ::unlink(path.c_str()) != 0 && errno != ENOENT)
        throw_errno("cannot remove " + path);
    int const fd =
        ::open(path.c_str(), flags | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (fresh ? O_EXCL : 0), 0666);
    if (fd >= 0) return fd;
    if (errno == ELOOP || (fresh && errno == EEXIST))
        throw_errno("cannot open " + path +
                    ": a symbolic link or another file was put there; refused");
    throw_errno("cannot open " + path);
}
inline void sync_directory_of(std::filesystem::path const& p) {
    auto dir = p.parent_path();
    if (dir.empty()) dir = ".";
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        ::fsync(fd);
        ::close(fd);
    }
}
}  // namespace detail

}  // namespace marcpipe::pipeline
