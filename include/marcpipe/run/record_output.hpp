// record_output: a run's records on their way into its output file — encoded as MARC21 or
// MARCXML, held in a buffer until a checkpoint hands them to the file, and tracked bib by bib so
// a checkpoint can name a point between two bibs (a resumed run cuts the file back to it).
//
// A record that the format cannot hold (over 99,999 bytes, a tag that is not letters or digits) is
// not written: write() says why, with the byte offset where it would have started, and the records
// before and after it are written. A record written with replacements (marc/replacement.hpp: a
// value holding a delimiter or a character XML cannot carry) is a problem too: write() says what
// was replaced, so that no record is altered without a report row.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/iso2709_writer.hpp"
#include "marcpipe/marc/marcxml_writer.hpp"
#include "marcpipe/marc/output_format.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/run/staged_file.hpp"

namespace marcpipe::pipeline {

class record_output {
public:
    // `resumed`: the file already holds a resumed run's first part, the collection's opening
    // (MARCXML) and `records` records among it.
    record_output(staged_file& file, marc::output_format format, bool resumed, std::uint64_t records = 0)
        : file_{file}, records_{records} {
        if (format == marc::output_format::marcxml) {
            auto options = marc::marcxml_output_options();
            options.on_problem = [this](marc::read_problem const& p) { replaced_ = p; };
            xml_writer_.emplace(buffer_, std::move(options));
            if (resumed) buffer_.clear();
        }
    }
    record_output(record_output const&) = delete;
    record_output& operator=(record_output const&) = delete;

    // Writes one record of the bib at `bib_seq`. Returns the problem to report, if any (record
    // number in the output, byte offset where it starts or would have started): a record that
    // cannot be written is left out; one written with replacements says what was replaced.
    std::optional<marc::read_problem> write(std::uint64_t bib_seq, marc::record const& r) {
        if (!last_bib_ || *last_bib_ != bib_seq) {
            last_bib_ = bib_seq;
            bib_start_bytes_ = position();
            bib_start_records_ = records_;
        }
        marc::write_position const where{records_ + 1, position()};
        replaced_.reset();
        try {
            if (xml_writer_)
                xml_writer_->write(r);
            else
                replaced_ = marc::append_iso2709(r, buffer_, where);
        } catch (marc::marc_error const& e) {
            return placed(e.problem(), where);
        }
        ++records_;
        if (buffer_.size() >= (1u << 20)) drain();
        if (replaced_) return placed(std::move(*replaced_), where);
        return std::nullopt;
    }

    // Hands the buffered bytes to the file.
    void drain() {
        if (buffer_.empty()) return;
        file_.write(buffer_);
        buffer_.clear();
    }

    // Output bytes and records of the bibs before `bibs_done`, all handed to the file.
    std::pair<std::uint64_t, std::uint64_t> prefix_before(std::uint64_t bibs_done) {
        drain();
        if (last_bib_ && *last_bib_ >= bibs_done) return {bib_start_bytes_, bib_start_records_};
        return {file_.bytes(), records_};
    }

    // Closes the collection (MARCXML) and hands everything to the file.
    void finish() {
        if (xml_writer_) xml_writer_->finish();
        drain();
    }

    std::uint64_t records() const noexcept { return records_; }
    // Where the next record starts in the output.
    std::uint64_t position() const noexcept { return file_.bytes() + buffer_.size(); }

private:
    // The MARCXML writer counts records and bytes from its own start, but the file may begin with
    // a resumed run's part and the buffer is handed on as it fills: the output's numbers count.
    static marc::read_problem placed(marc::read_problem p, marc::write_position where) {
        p.record_number = where.record_number;
        p.byte_offset = where.byte_offset;
        return p;
    }

    staged_file& file_;
    std::string buffer_;
    std::optional<marc::marcxml_writer> xml_writer_;
    std::optional<marc::read_problem> replaced_;  // of the record being written
    std::optional<std::uint64_t> last_bib_;
    std::uint64_t bib_start_bytes_ = 0;
    std::uint64_t bib_start_records_ = 0;
    std::uint64_t records_ = 0;
};

}  // namespace marcpipe::pipeline
