// with_bib_records: each bib's own record for bibs that came without one (from a list of MMS IDs),
// so that a later stage can use the bib's data: copy_oclc_number, which the WEST preset needs.
// One call per hundred bibs (Retrieve Bibs, GET /bibs?mms_id=...), a few calls read ahead; a bib
// that came with its record (from an export) is handed on as it came, and asks nothing.
//
//   run.bibs() | pipeline::with_bib_records(run) | pipeline::holdings_ids(run) | ...
//
// A program that needs the bibs' data only sometimes leaves the stage out (pipeline::when).
//
// A bib Alma does not return, or whose call failed for good, goes on without a record: its
// holdings are still fetched and written, and a stage that wants the bib's data sees what it
// would see from a list (the WEST checks then report the missing OCLC number of each holding).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <range/v3/range/access.hpp>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/coro/generator.hpp"
#include "marcpipe/coro/task.hpp"
#include "marcpipe/pipeline/context.hpp"
#include "marcpipe/pipeline/detail/ordered_window.hpp"
#include "marcpipe/pipeline/io_stages.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/stage.hpp"

namespace marcpipe::pipeline {

struct bib_records_options {
    std::size_t bibs_per_call = alma::endpoints::max_bibs_per_call;
    std::size_t calls_ahead = 2;  // enough to have the next group's records when a group is handed on
};

namespace detail {

struct bib_records_slot {
    std::vector<bib> bibs;
    bool done = false;
};

inline coro::task<void> ask_bib_records(context& c, std::shared_ptr<bib_records_slot> slot) {
    std::vector<std::string> ids;
    for (auto const& b : slot->bibs)
        if (!b.record && !b.mms_id.empty()) ids.push_back(b.mms_id);
    if (!ids.empty() && !c.stopped()) {
        // Ahead of the holdings calls of these bibs, as the bulk availability call is: the group
        // holds up every bib in it.
        auto answer = co_await c.client().bib_records(std::move(ids), net::priority_key{0});
        if (answer)
            for (auto& b : slot->bibs) {
                if (b.record) continue;
                auto found = std::find_if(answer->begin(), answer->end(),
                                          [&](alma::bib_record const& r) { return r.mms_id == b.mms_id; });
                if (found != answer->end()) b.record = std::make_shared<marc::record const>(found->record);
            }
    }
    slot->done = true;
}

struct bib_records_ready {
    bool operator()(bib_records_slot const& s) const noexcept { return s.done; }
};

template <typename Range>
coro::generator<bib> bibs_with_records(Range upstream, context& c, bib_records_options opt) {
    std::size_t const per_call = std::clamp<std::size_t>(opt.bibs_per_call, 1, alma::endpoints::max_bibs_per_call);
    ordered_window<bib_records_slot, group_first_bib, bib_records_ready> window{c, opt.calls_ahead};
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    auto const ask = [&](auto& from, auto const& to, held_bibs& held) {
        auto slot = std::make_shared<bib_records_slot>();
        gather_bibs(from, to, per_call, held, slot->bibs);
        c.loop().spawn(ask_bib_records(c, slot));
        return slot;
    };
    while (std::shared_ptr<bib_records_slot> slot = window.next(it, end, ask))
        for (auto& b : slot->bibs) {
            window.handing_on(b.seq);
            co_yield b;
        }
}

}  // namespace detail

// `bibs | with_bib_records(context)`: the same bibs in the same order, each with its record.
inline auto with_bib_records(context& c, bib_records_options opt = {}) {
    return stage{[&c, opt](auto upstream) { return detail::bibs_with_records(std::move(upstream), c, opt); }};
}

}  // namespace marcpipe::pipeline
