// line_reader: the lines of an input (a list of MMS IDs), read in blocks, in bounded memory
// whatever the input holds.
//
// A line is kept up to a limit (4 KiB by default: an MMS ID is about 18 digits); the rest of a
// longer one is passed over without being kept, so a file with no line end in it (a disk image,
// /dev/zero) costs no more memory than a list. The line says so (cut), and how long it was.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "marcpipe/marc/source.hpp"

namespace marcpipe::marc {

class line_reader {
public:
    struct line {
        std::string_view text;   // without its line end; at most max_line bytes
        std::uint64_t number;    // 1-based
        std::uint64_t offset;    // where it starts in the input
        std::uint64_t length;    // its bytes in the input, without the line end
        bool cut;                // longer than max_line: text is its start
    };

    explicit line_reader(std::unique_ptr<byte_source> source, std::size_t max_line = 4096)
        : source_{std::move(source)}, max_line_{max_line} {}

    // The next line, empty ones included; nullopt at the end of the input. The text is valid
    // until the next call.
    std::optional<line> next() {
        for (;;) {
            std::size_t const nl = pending_.find('\n', pos_);
            if (nl != std::string::npos || (eof_ && pos_ < pending_.size())) {
                std::size_t const end = nl == std::string::npos ? pending_.size() : nl;
                std::string_view text = std::string_view{pending_}.substr(pos_, end - pos_);
                line l{text, ++number_, next_offset_, text.size() + dropped_, dropped_ > 0 || text.size() > max_line_};
                if (l.text.size() > max_line_) l.text = l.text.substr(0, max_line_);
                next_offset_ += l.length + (nl == std::string::npos ? 0 : 1);
                dropped_ = 0;
                pos_ = nl == std::string::npos ? pending_.size() : nl + 1;
                return l;
            }
            if (eof_) return std::nullopt;
            refill();
        }
    }

    std::string name() const { return source_->name(); }

private:
    void refill() {
        pending_.erase(0, pos_);
        pos_ = 0;
        std::size_t const had = pending_.size();
        pending_.resize(had + block);
        std::size_t const n = source_->read(pending_.data() + had, block);
        pending_.resize(had + n);
        if (n == 0) {
            eof_ = true;
            return;
        }
        // pending_ starts with the line being read: keep no more of it than max_line bytes.
        std::size_t const nl = pending_.find('\n');
        std::size_t const end = nl == std::string::npos ? pending_.size() : nl;
        if (end > max_line_) {
            dropped_ += end - max_line_;
            pending_.erase(max_line_, end - max_line_);
        }
    }

    static constexpr std::size_t block = 64 * 1024;
    std::unique_ptr<byte_source> source_;
    std::size_t max_line_;
    std::string pending_;
    std::size_t pos_ = 0;
    std::uint64_t number_ = 0;
    std::uint64_t next_offset_ = 0;
    std::uint64_t dropped_ = 0;  // bytes of the first line in pending_ passed over
    bool eof_ = false;
};

}  // namespace marcpipe::marc
