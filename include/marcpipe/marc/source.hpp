// source: where MARC readers get their bytes from (a path, a file descriptor, a std::istream or
// memory), and where writers put them (byte_sink).
//
// Readers pull large blocks through one small virtual interface so that a 200 MB export streams
// through a fixed-size buffer. Memory input says so (contiguous()), so a reader can hand out
// views straight into it without copying.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

namespace marcpipe::marc {

class byte_source {
public:
    virtual ~byte_source() = default;

    // Reads up to n bytes into out; returns 0 only at the end of the input.
    // Throws std::system_error when the operating system reports a read error.
    virtual std::size_t read(char* out, std::size_t n) = 0;

    // The whole input, when it already sits in memory; readers then use it in place.
    virtual std::optional<std::string_view> contiguous() const { return std::nullopt; }

    // A name for messages: the path, "standard input", "memory".
    virtual std::string name() const = 0;
};

// Reads from a file descriptor it does not own unless told to.
class fd_source : public byte_source {
public:
    explicit fd_source(int fd, bool owned = false, std::string name = "file descriptor")
        : fd_{fd}, owned_{owned}, name_{std::move(name)} {}
    fd_source(fd_source const&) = delete;
    fd_source& operator=(fd_source const&) = delete;
    ~fd_source() override {
        if (owned_) ::close(fd_);
    }

    std::size_t read(char* out, std::size_t n) override {
        for (;;) {
            auto got = ::read(fd_, out, n);
            if (got >= 0) return static_cast<std::size_t>(got);
            if (errno != EINTR)
                throw std::system_error(errno, std::generic_category(), "cannot read " + name_);
        }
    }
    std::string name() const override { return name_; }

private:
    int fd_;
    bool owned_;
    std::string name_;
};

// Opens a path for reading; "-" is standard input.
class file_source : public fd_source {
public:
    explicit file_source(std::string const& path)
        : fd_source{open_fd(path), path != "-", path == "-" ? "standard input" : path} {}

private:
    static int open_fd(std::string const& path) {
        if (path == "-") return STDIN_FILENO;
        int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot open " + path);
#ifdef POSIX_FADV_SEQUENTIAL
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
#endif
        return fd;
    }
};

class istream_source : public byte_source {
public:
    explicit istream_source(std::istream& in, std::string name = "stream")
        : in_{in}, name_{std::move(name)} {}

    std::size_t read(char* out, std::size_t n) override {
        in_.read(out, static_cast<std::streamsize>(n));
        auto got = static_cast<std::size_t>(in_.gcount());
        if (got == 0 && in_.bad())
            throw std::system_error(std::make_error_code(std::errc::io_error),
                                    "cannot read " + name_);
        return got;
    }
    std::string name() const override { return name_; }

private:
    std::istream& in_;
    std::string name_;
};

// Bytes the caller keeps alive for as long as the source is read.
class memory_source : public byte_source {
public:
    explicit memory_source(std::string_view bytes) : bytes_{bytes} {}

    std::size_t read(char* out, std::size_t n) override {
        auto k = std::min(n, bytes_.size() - pos_);
        if (k) std::memcpy(out, bytes_.data() + pos_, k);
        pos_ += k;
        return k;
    }
    std::optional<std::string_view> contiguous() const override { return bytes_.substr(pos_); }
    std::string name() const override { return "memory"; }

private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

// Hands out bytes already taken from a source (format detection peeks at the start), then the
// rest of that source.
class prefixed_source : public byte_source {
public:
    prefixed_source(std::string prefix, std::unique_ptr<byte_source> rest)
        : prefix_{std::move(prefix)}, rest_{std::move(rest)} {}

    std::size_t read(char* out, std::size_t n) override {
        if (pos_ < prefix_.size()) {
            auto k = std::min(n, prefix_.size() - pos_);
            std::memcpy(out, prefix_.data() + pos_, k);
            pos_ += k;
            return k;
        }
        return rest_->read(out, n);
    }
    std::optional<std::string_view> contiguous() const override {
        // Only whole memory input stays contiguous; a peeked prefix of it is still in place.
        if (auto all = rest_->contiguous(); all && pos_ == 0 && prefix_.empty()) return all;
        return std::nullopt;
    }
    std::string name() const override { return rest_->name(); }

private:
    std::string prefix_;
    std::size_t pos_ = 0;
    std::unique_ptr<byte_source> rest_;
};

// Where writers put bytes. Writers gather whole records in their own buffer and hand over large
// blocks.
class byte_sink {
public:
    virtual ~byte_sink() = default;
    // Writes all n bytes or throws std::system_error.
    virtual void write(char const* data, std::size_t n) = 0;
    virtual void flush() {}
    virtual std::string name() const = 0;
};

class fd_sink : public byte_sink {
public:
    explicit fd_sink(int fd, bool owned = false, std::string name = "file descriptor")
        : fd_{fd}, owned_{owned}, name_{std::move(name)} {}
    fd_sink(fd_sink const&) = delete;
    fd_sink& operator=(fd_sink const&) = delete;
    ~fd_sink() override {
        if (owned_) ::close(fd_);
    }

    void write(char const* data, std::size_t n) override {
        while (n) {
            auto put = ::write(fd_, data, n);
            if (put < 0) {
                if (errno == EINTR) continue;
                throw std::system_error(errno, std::generic_category(), "cannot write " + name_);
            }
            data += put;
            n -= static_cast<std::size_t>(put);
        }
    }
    std::string name() const override { return name_; }

private:
    int fd_;
    bool owned_;
    std::string name_;
};

// Creates (or truncates) a path for writing; "-" is standard output.
class file_sink : public fd_sink {
public:
    explicit file_sink(std::string const& path)
        : fd_sink{open_fd(path), path != "-", path == "-" ? "standard output" : path} {}

private:
    static int open_fd(std::string const& path) {
        if (path == "-") return STDOUT_FILENO;
        int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot create " + path);
        return fd;
    }
};

class ostream_sink : public byte_sink {
public:
    explicit ostream_sink(std::ostream& out, std::string name = "stream")
        : out_{out}, name_{std::move(name)} {}
    void write(char const* data, std::size_t n) override {
        out_.write(data, static_cast<std::streamsize>(n));
        if (!out_)
            throw std::system_error(std::make_error_code(std::errc::io_error),
                                    "cannot write " + name_);
    }
    void flush() override { out_.flush(); }
    std::string name() const override { return name_; }

private:
    std::ostream& out_;
    std::string name_;
};

class string_sink : public byte_sink {
public:
    explicit string_sink(std::string& out) : out_{out} {}
    void write(char const* data, std::size_t n) override { out_.append(data, n); }
    std::string name() const override { return "memory"; }

private:
    std::string& out_;
};

}  // namespace marcpipe::marc
