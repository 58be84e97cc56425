// items: what flows between the pipeline stages — a bib from the export, a holding reference,
// a holdings record — each tagged with the bib's position in the export and carrying the bib's
// record, so a filter can select bibs by content and a holdings stage can use bib data (the
// OCLC number in 035, say). The bib record is shared, not copied: every holding of a bib points
// at the one record, and it is freed when the last of them has passed.
//
// The position (bib_seq, 0-based, counting every record of the export) is what makes a run
// reproducible and resumable: output comes in bib_seq order, problems are reported in bib_seq
// order, and a journal can say "the first N bibs are done" and mean the same bibs next time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

#include <range/v3/range/concepts.hpp>
#include <range/v3/view/all.hpp>

#include "marcpipe/marc/record.hpp"

namespace marcpipe::pipeline {

// A bib's record as read from the export; null when the input was a list of MMS IDs.
using shared_record = std::shared_ptr<marc::record const>;

struct bib {
    bib() = default;
    bib(std::uint64_t seq_, std::string mms, shared_record rec = nullptr, std::uint64_t offset = 0)
        : seq{seq_}, mms_id{std::move(mms)}, record{std::move(rec)}, byte_offset{offset} {}
    std::uint64_t seq = 0;
    std::string mms_id;
    shared_record record;          // the bib record, when the input was an export
    std::uint64_t byte_offset = 0;  // where the record (or the ID's line) starts in the input
    // Two bibs are the same bib of the same input; the record is not compared.
    friend bool operator==(bib const& a, bib const& b) noexcept {
        return a.seq == b.seq && a.mms_id == b.mms_id && a.byte_offset == b.byte_offset;
    }
};

struct holding_ref {
    holding_ref() = default;
    holding_ref(std::uint64_t seq, std::string mms, std::string holding, shared_record bib = nullptr)
        : bib_seq{seq}, mms_id{std::move(mms)}, holding_id{std::move(holding)}, bib_record{std::move(bib)} {}
    std::uint64_t bib_seq = 0;
    std::string mms_id;
    std::string holding_id;
    shared_record bib_record;  // the bib's record, when the input was an export
    friend bool operator==(holding_ref const& a, holding_ref const& b) noexcept {
        return a.bib_seq == b.bib_seq && a.mms_id == b.mms_id && a.holding_id == b.holding_id;
    }
};

struct holding_record {
    holding_record() = default;
    holding_record(std::uint64_t seq, std::string mms, std::string holding, marc::record r,
                   shared_record bib = nullptr)
        : bib_seq{seq}, mms_id{std::move(mms)}, holding_id{std::move(holding)}, record{std::move(r)},
          bib_record{std::move(bib)} {}
    std::uint64_t bib_seq = 0;
    std::string mms_id;
    std::string holding_id;
    marc::record record;
    shared_record bib_record;  // the bib's record, when the input was an export
};

// The MARC record inside an item, so filters and writers take holdings records and plain
// marc::records alike.
inline marc::record const& record_of(marc::record const& r) noexcept { return r; }
inline marc::record& record_of(marc::record& r) noexcept { return r; }
inline marc::record const& record_of(holding_record const& h) noexcept { return h.record; }
inline marc::record& record_of(holding_record& h) noexcept { return h.record; }

namespace detail {
// What a stage keeps of its upstream: a view of it, or the container itself when a temporary
// container is piped in (the stage's coroutine then owns it).
template <typename Range>
auto as_upstream(Range&& r) {
    if constexpr (ranges::viewable_range<Range>)
        return ranges::views::all(std::forward<Range>(r));
    else
        return std::remove_cvref_t<Range>(std::forward<Range>(r));
}
}  // namespace detail

}  // namespace marcpipe::pipeline
