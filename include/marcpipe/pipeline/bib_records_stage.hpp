// with_bib_records: each bib's own record for bibs that came without one (from a list of MMS IDs),
// so that a later stage can use the bib's data: copy_oclc_number, which the WEST preset needs.
// One call per hundred bibs (Retrieve Bibs, GET /bibs?mms_id=...), a few calls read ahead; a bib
// that came with its record (from an export) is handed on as it came, and asks nothing.
//
//   run.bibs() | pipeline::with_bib_records(run) | pipeline::holdings_ids(run) | ...
//
// A bib Alma does not return, or whose call failed for good, goes on without a record: its
// holdings are still fetched and written, and a stage that wants the bib's data sees what it
// would see from a list (the WEST checks then report the missing OCLC number of each holding).
#pragma once

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <range/v3/range/access.hpp>

#include "../alma/client.hpp"
#include "../coro/generator.hpp"
#include "../coro/task.hpp"
#include "io_stages.hpp"
#include "items.hpp"
#include "run.hpp"
#include "stage.hpp"

namespace marcpipe::pipeline {

struct bib_records_options {
    bool fetch = true;  // false: every bib is handed on as it came, and nothing is asked (a
                        // program whose options decide whether it needs the bibs' data)
    std::size_t bibs_per_call = alma::endpoints::max_bibs_per_call;
    std::size_t calls_ahead = 2;  // enough to have the next group's records when a group is handed on
};

namespace detail {

struct bib_records_slot {
    std::vector<bib> bibs;
    bool done = false;
};

inline coro::task<void> ask_bib_records(run& c, std::shared_ptr<bib_records_slot> slot) {
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

template <typename Range>
coro::generator<bib> bibs_with_records(Range upstream, run& c, bib_records_options opt) {
    std::size_t const per_call =
        opt.fetch ? std::clamp<std::size_t>(opt.bibs_per_call, 1, alma::endpoints::max_bibs_per_call) : 1;
    std::deque<std::shared_ptr<bib_records_slot>> ahead;
    held_bibs held;
    run::mark const mark = hold_groups(c, held, ahead);
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    for (;;) {
        while (ahead.size() < std::max<std::size_t>(opt.calls_ahead, 1) && it != end) {
            auto slot = std::make_shared<bib_records_slot>();
            slot->bibs = gather_bibs(it, end, per_call, held);
            if (opt.fetch)
                c.loop().spawn(ask_bib_records(c, slot));
            else
                slot->done = true;
            ahead.push_back(std::move(slot));
            held.filling.reset();
        }
        held.exhausted = it == end;
        if (ahead.empty()) break;
        c.wait_until([&] { return ahead.front()->done; });
        std::shared_ptr<bib_records_slot> slot = std::move(ahead.front());
        ahead.pop_front();
        for (auto& b : slot->bibs) {
            held.handing_on = b.seq;
            co_yield b;
        }
        held.handing_on.reset();
    }
}

}  // namespace detail

// `bibs | with_bib_records(run)`: the same bibs in the same order, each with its record.
inline auto with_bib_records(run& c, bib_records_options opt = {}) {
    return stage{[&c, opt](auto upstream) { return detail::bibs_with_records(std::move(upstream), c, opt); }};
}

}  // namespace marcpipe::pipeline
