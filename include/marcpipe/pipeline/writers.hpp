// writers: the end of a pipeline — `records | write_marc21(out)` or `| write_marcxml(out)` —
// consuming the range and writing each record (a holdings record or a plain marc::record).
//
// The ISO 2709 writer recomputes leader 00-04 and 12-16 and sets 09 = 'a' (the records are
// UTF-8); other leader positions are written as they came. Both return how many records they
// wrote.
//
// A record that cannot be written (over 99,999 bytes or a field over 9,999 as ISO 2709, a tag that
// is not letters or digits; a record needing replacements when the MARCXML options say
// on_error::stop) is left out, and the records before and after it are written. A record written
// with replacements (marc/replacement.hpp: a delimiter in a value, a character XML cannot carry)
// is reported the same way, so nothing is altered silently. Given a problem log, the writer reports it there
// (stage write_record: its number among the records the writer was handed, the output offset
// where it would have started, its MMS ID and holding ID) keyed by the holding's bib_seq — so it
// lands in order among the problems of the stages before — or, for a plain marc::record, by its
// position in the writer's input (0-based). Without a log the writer stops at such a record:
// what came before it is written, and marc_error is thrown, as the sources do without a log
// (write_marcxml hands a record written with replacements to the options' on_problem when one is
// set, and goes on).
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include <range/v3/range/concepts.hpp>

#include "marcpipe/alma/report.hpp"
#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/iso2709_writer.hpp"
#include "marcpipe/marc/marcxml_writer.hpp"
#include "marcpipe/pipeline/items.hpp"

namespace marcpipe::pipeline {

namespace detail {

// Reports a record the writer left out (or wrote with replacements), or throws when there is no
// log to report it to.
// `index`: the record's position among those handed to the writer (0-based).
template <typename Item>
void report_record(alma::problem_log* log, Item const& item, std::uint64_t index, marc::marc_error const& e) {
    if (!log) throw e;
    alma::problem p{alma::stage::write_record, "", "", 0, "", e.problem().message(), ""};
    std::uint64_t key = index;
    if constexpr (std::is_same_v<std::remove_cvref_t<Item>, holding_record>) {
        p.mms_id = item.mms_id;
        p.holding_id = item.holding_id;
        key = item.bib_seq;
    }
    log->add(key, std::move(p));
}

}  // namespace detail

struct write_marc21 {
    explicit write_marc21(std::ostream& out) : out_{&out} {}
    // Records that cannot be written go to `problems`, and writing goes on.
    write_marc21(std::ostream& out, alma::problem_log& problems) : out_{&out}, log_{&problems} {}

    template <typename Range>
        requires ranges::input_range<Range>
    friend std::uint64_t operator|(Range&& records, write_marc21 self) {
        std::string buffer;
        std::uint64_t seen = 0, written = 0, flushed = 0;
        auto const flush = [&] {
            self.out_->write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            flushed += buffer.size();
            buffer.clear();
        };
        for (auto&& item : records) {
            try {
                std::size_t const at = buffer.size();
                auto replaced = marc::append_iso2709(record_of(item), buffer,
                                                     marc::write_position{seen + 1, flushed + at});
                if (replaced && !self.log_) {
                    buffer.resize(at);
                    throw marc::marc_error{std::move(*replaced)};
                }
                ++written;
                if (replaced) detail::report_record(self.log_, item, seen, marc::marc_error{std::move(*replaced)});
            } catch (marc::marc_error const& e) {
                if (!self.log_) flush();  // what came before is written, then the error goes up
                detail::report_record(self.log_, item, seen, e);
            }
            ++seen;
            if (buffer.size() >= (1u << 16)) flush();
        }
        flush();
        self.out_->flush();
        return written;
    }

private:
    std::ostream* out_;
    alma::problem_log* log_ = nullptr;
};

struct write_marcxml {
    explicit write_marcxml(std::ostream& out, marc::marcxml_writer::options opts = {})
        : out_{&out}, opts_{std::move(opts)} {}
    // Records that cannot be written, and records written with replacements, go to `problems`,
    // and writing goes on.
    write_marcxml(std::ostream& out, alma::problem_log& problems, marc::marcxml_writer::options opts = {})
        : out_{&out}, opts_{std::move(opts)}, log_{&problems} {}

    template <typename Range>
        requires ranges::input_range<Range>
    friend std::uint64_t operator|(Range&& records, write_marcxml self) {
        std::optional<marc::read_problem> replaced;
        if (self.log_)
            self.opts_.on_problem = [&replaced](marc::read_problem const& p) { replaced = p; };
        else if (!self.opts_.on_problem)
            self.opts_.policy = marc::on_error::stop;  // nowhere to report: refuse, and throw
        marc::marcxml_writer writer{*self.out_, self.opts_};
        std::uint64_t seen = 0;
        for (auto&& item : records) {
            try {
                replaced.reset();
                writer.write(record_of(item));
                if (replaced) detail::report_record(self.log_, item, seen, marc::marc_error{std::move(*replaced)});
            } catch (marc::marc_error const& e) {
                // (Without a log this throws; the writer then hands on what came before.)
                detail::report_record(self.log_, item, seen, e);
            }
            ++seen;
        }
        writer.finish();
        return writer.records_written();
    }

private:
    std::ostream* out_;
    marc::marcxml_writer::options opts_;
    alma::problem_log* log_ = nullptr;
};

}  // namespace marcpipe::pipeline
