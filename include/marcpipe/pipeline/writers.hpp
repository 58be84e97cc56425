// writers: the end of a pipeline — `records | write_marc21(out)` or `| write_marcxml(out)` —
// consuming the range and writing each record (a holdings record or a plain marc::record).
//
// The ISO 2709 writer recomputes leader 00-04 and 12-16 and sets 09 = 'a' (the records are
// UTF-8); other leader positions are written as they came. Both return how many records they
// wrote.
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <utility>

#include <range/v3/range/concepts.hpp>

#include "../marc/iso2709_writer.hpp"
#include "../marc/marcxml_writer.hpp"
#include "items.hpp"

namespace marcpipe::pipeline {

struct write_marc21 {
    explicit write_marc21(std::ostream& out) : out_{&out} {}

    template <typename Range>
        requires ranges::input_range<Range>
    friend std::uint64_t operator|(Range&& records, write_marc21 self) {
        std::string buffer;
        std::uint64_t n = 0;
        for (auto&& item : records) {
            marc::append_iso2709(record_of(item), buffer, marc::write_position{n + 1, 0});
            ++n;
            if (buffer.size() >= (1u << 16)) {
                self.out_->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                buffer.clear();
            }
        }
        self.out_->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
        self.out_->flush();
        return n;
    }

private:
    std::ostream* out_;
};

struct write_marcxml {
    explicit write_marcxml(std::ostream& out, marc::marcxml_writer::options opts = {})
        : out_{&out}, opts_{std::move(opts)} {}

    template <typename Range>
        requires ranges::input_range<Range>
    friend std::uint64_t operator|(Range&& records, write_marcxml self) {
        marc::marcxml_writer writer{*self.out_, self.opts_};
        for (auto&& item : records) writer.write(record_of(item));
        writer.finish();
        return writer.records_written();
    }

private:
    std::ostream* out_;
    marc::marcxml_writer::options opts_;
};

}  // namespace marcpipe::pipeline
