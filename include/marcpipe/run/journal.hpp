// journal: what makes a long run resumable — output files written aside and renamed into place
// at the end, and an append-only journal of how far the run got.
//
// A checkpoint says: the first `bibs_done` bibs of the input are finished, and the files written
// aside hold exactly their output (`output_bytes`) and their error rows (`report_bytes`). The run
// writes a checkpoint each time that number grows, after the bytes it counts have been written,
// so a run killed at any moment (kill -9 included) leaves a journal whose last complete line
// describes a prefix of the output. Resuming cuts the files back to that prefix and carries on
// with bib `bibs_done`: since output comes in input order and is a pure function of the input
// and Alma's answers, the finished file is byte-identical to that of an uninterrupted run, and
// only the bibs that were in flight are asked for again.
//
// The data is handed to the kernel with write() at every checkpoint, which survives the process
// being killed; fdatasync() runs every few seconds (background_sync) and at the end, which
// bounds what a power failure can cost; resuming then uses the last checkpoint whose bytes
// made it to the disk.
#pragma once

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>

#include "marcpipe/run/posix_io.hpp"
#include "marcpipe/run/setup_error.hpp"
// The journal's companions: code that included this header for them keeps compiling.
#include "marcpipe/run/background_sync.hpp"
#include "marcpipe/run/staged_file.hpp"

namespace marcpipe::pipeline {

struct checkpoint {
    checkpoint() = default;
    checkpoint(std::uint64_t bibs, std::uint64_t out, std::uint64_t report, std::uint64_t recs, std::uint64_t probs)
        : bibs_done{bibs}, output_bytes{out}, report_bytes{report}, records{recs}, problems{probs} {}
    std::uint64_t bibs_done = 0;
    std::uint64_t output_bytes = 0;
    std::uint64_t report_bytes = 0;
    std::uint64_t records = 0;   // records in the output
    std::uint64_t problems = 0;  // rows in the report
    friend bool operator==(checkpoint const&, checkpoint const&) = default;
};

// What a journal file says.
struct journal_state {
    std::string job;
    std::optional<checkpoint> last;  // the last complete checkpoint line
    bool finished = false;           // the run ended; only the renames may be missing
};

class journal {
public:
    static constexpr std::string_view magic = "marcpipe-journal 1";

    // Reads a journal; nothing when there is none. A torn last line (the run was killed while
    // writing it) is ignored. `fits` picks the last checkpoint whose bytes are really on disk:
    // after a power failure the journal may have reached the disk before the data it counts.
    template <typename Fits>
    static std::optional<journal_state> read(std::string const& path, Fits fits) {
        std::ifstream in{path, std::ios::binary};
        if (!in) return std::nullopt;
        std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
        journal_state s;
        std::size_t pos = 0;
        bool first = true;
        while (pos < text.size()) {
            std::size_t nl = text.find('\n', pos);
            if (nl == std::string::npos) break;  // torn
            std::string_view line{text.data() + pos, nl - pos};
            pos = nl + 1;
            if (first) {
                if (line != magic) throw journal_error(path + " is not a marcpipe journal");
                first = false;
            } else if (line.substr(0, 4) == "job ") {
                s.job = std::string{line.substr(4)};
            } else if (line.substr(0, 5) == "done ") {
                if (auto c = parse_checkpoint(line.substr(5)); c && fits(*c)) s.last = c;
            } else if (line.substr(0, 9) == "finished ") {
                if (auto c = parse_checkpoint(line.substr(9))) {
                    s.last = c;
                    s.finished = true;
                }
            }
        }
        // Killed between creating the journal and writing its header: nothing was done yet, so
        // the run starts from the beginning, as if there were no journal.
        std::string const head = std::string{magic} + "\n";
        if (first && head.starts_with(text)) return std::nullopt;
        if (first) throw journal_error(path + " is not a marcpipe journal");
        if (s.job.empty() && !s.last) return std::nullopt;
        return s;
    }
    static std::optional<journal_state> read(std::string const& path) {
        return read(path, [](checkpoint const&) { return true; });
    }

    // Starts a new journal for `job` (fresh), or appends to the existing one (resume).
    journal(std::string path, std::string const& job, bool fresh) : path_{std::move(path)} {
        fd_ = detail::open_side_file(path_, O_WRONLY | O_APPEND, fresh);
        if (fresh) {
            std::string head{magic};
            head += "\njob ";
            head += one_line(job);
            head += '\n';
            detail::write_all(fd_, head.data(), head.size(), path_);
            ::fdatasync(fd_);
        }
    }
    journal(journal const&) = delete;
    journal& operator=(journal const&) = delete;
    ~journal() {
        if (fd_ >= 0) ::close(fd_);
    }

    std::string const& path() const noexcept { return path_; }

    void record(checkpoint const& c) { append("done ", c); }
    void record_finished(checkpoint const& c) {
        append("finished ", c);
        ::fdatasync(fd_);
    }
    void sync() { ::fdatasync(fd_); }
    int fd() const noexcept { return fd_; }
    void remove() {
        ::close(fd_);
        fd_ = -1;
        std::filesystem::remove(path_);
    }

    // The job line as written: one line whatever the description holds.
    static std::string one_line(std::string_view job) {
        std::string s{job};
        for (char& c : s)
            if (c == '\n' || c == '\r') c = ' ';
        return s;
    }

private:
    void append(std::string_view kind, checkpoint const& c) {
        std::string line{kind};
        line += "bibs=" + std::to_string(c.bibs_done) + " output=" + std::to_string(c.output_bytes) +
                " report=" + std::to_string(c.report_bytes) + " records=" + std::to_string(c.records) +
                " problems=" + std::to_string(c.problems) + "\n";
        detail::write_all(fd_, line.data(), line.size(), path_);
    }

    static std::optional<checkpoint> parse_checkpoint(std::string_view text) {
        checkpoint c;
        int seen = 0;
        while (!text.empty()) {
            std::size_t sp = text.find(' ');
            std::string_view item = text.substr(0, sp);
            text.remove_prefix(sp == std::string_view::npos ? text.size() : sp + 1);
            std::size_t eq = item.find('=');
            if (eq == std::string_view::npos) return std::nullopt;
            std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
            std::uint64_t v = 0;
            auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
            if (ec != std::errc{} || end != value.data() + value.size()) return std::nullopt;
            if (key == "bibs") c.bibs_done = v, seen |= 1;
            else if (key == "output") c.output_bytes = v, seen |= 2;
            else if (key == "report") c.report_bytes = v, seen |= 4;
            else if (key == "records") c.records = v, seen |= 8;
            else if (key == "problems") c.problems = v, seen |= 16;
        }
        if (seen != 31) return std::nullopt;
        return c;
    }

    std::string path_;
    int fd_ = -1;
};

}  // namespace marcpipe::pipeline
