// items: what flows between the pipeline stages — a bib from the export, a holding reference,
// a holdings record — each tagged with the bib's position in the export.
//
// The position (bib_seq, 0-based, counting every record of the export) is what makes a run
// reproducible and resumable: output comes in bib_seq order, problems are reported in bib_seq
// order, and a journal can say "the first N bibs are done" and mean the same bibs next time.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include <range/v3/range/concepts.hpp>
#include <range/v3/view/all.hpp>

#include "../marc/record.hpp"

namespace marcpipe::pipeline {

struct bib {
    bib() = default;
    bib(std::uint64_t seq_, std::string mms) : seq{seq_}, mms_id{std::move(mms)} {}
    std::uint64_t seq = 0;
    std::string mms_id;
    friend bool operator==(bib const&, bib const&) = default;
};

struct holding_ref {
    holding_ref() = default;
    holding_ref(std::uint64_t seq, std::string mms, std::string holding)
        : bib_seq{seq}, mms_id{std::move(mms)}, holding_id{std::move(holding)} {}
    std::uint64_t bib_seq = 0;
    std::string mms_id;
    std::string holding_id;
    friend bool operator==(holding_ref const&, holding_ref const&) = default;
};

struct holding_record {
    holding_record() = default;
    holding_record(std::uint64_t seq, std::string mms, std::string holding, marc::record r)
        : bib_seq{seq}, mms_id{std::move(mms)}, holding_id{std::move(holding)}, record{std::move(r)} {}
    std::uint64_t bib_seq = 0;
    std::string mms_id;
    std::string holding_id;
    marc::record record;
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
