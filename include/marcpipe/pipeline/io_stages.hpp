// io_stages: the two stages that ask Alma — holdings_ids (bib → its holding IDs) and
// holdings_records (holding ID → the holdings record) — as pipeable range stages that keep many
// requests in flight on the context's one event loop.
//
// How a stage works: it reads ahead a bounded window of upstream items and spawns one coroutine
// per item that awaits the Alma call on the shared loop. When it is asked for its next item it
// drives the loop until the oldest item of the window is answered, and hands that on. So output
// comes in input order, at most `window` answers wait in memory, and while one stage waits for
// its front item the loop keeps every other request of every stage moving. When both stages are
// chained, holdings_ids also asks for each record as soon as its bib's list arrives (bounded by
// the records window, see context::prefetch_holding), so a bib whose list is being retried
// does not hold back the records of the bibs after it.
//
// Each stage tells the context the oldest bib it holds (detail/ordered_window.hpp), which is how
// the context knows which bibs are finished (and a run writes its checkpoints). When the context
// keeps answers, every answer is kept as it arrives and taken from there instead of Alma when a
// resumed run comes to it again (answer_memo.hpp).
//
// Problems (a deleted bib, an unknown holding, a request that failed for good) go to the context's
// problem_log, tagged with the bib's position in the export; the run goes on. A fatal stop (bad
// key, daily threshold) surfaces as alma::fatal_error from the stage.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <range/v3/range/access.hpp>
#include <range/v3/range/concepts.hpp>
#include <range/v3/view/all.hpp>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/ids.hpp"
#include "marcpipe/coro/generator.hpp"
#include "marcpipe/coro/task.hpp"
#include "marcpipe/pipeline/context.hpp"
#include "marcpipe/pipeline/detail/ordered_window.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/pairs.hpp"
#include "marcpipe/pipeline/stage.hpp"

namespace marcpipe::pipeline {

// Where holdings_ids learns a bib's holding IDs.
enum class holdings_source {
    list,  // Retrieve Holdings List, one call per bib: every holding, the default
    bibs,  // Retrieve Bibs with p_avail, 100 bibs per call: what availability sees (AVA $8),
           // and the holdings list of each bib whose availability cannot vouch for all its holdings
};

struct holdings_ids_options {
    holdings_ids_options() {}
    holdings_source source = holdings_source::list;
    std::size_t window = 256;  // bibs read ahead (list) or bibs per window of bulk calls
    std::size_t bibs_per_call = alma::endpoints::max_bibs_per_call;
    // Bulk mode: AVA $a of the wanted holdings; other institutions' are ignored. Empty: no AVA
    // naming an institution vouches for a bib (alma::holdings_from_availability).
    std::string institution;
    // List mode: a bib these (MMS ID, holding ID) pairs name gets its holdings from them, with no
    // call; a bib they do not name, from its holdings list (pairs.hpp).
    std::shared_ptr<report_pairs const> pairs;
};

struct holdings_records_options {
    holdings_records_options() {}
    std::size_t window = 512;  // holdings read ahead
};

namespace detail {

// Asks early for the records of a bib whose holding IDs just arrived (see context::prefetch_holding).
inline void prefetch_holdings(context& c, bib const& b, alma::outcome<std::vector<std::string>> const& ids) {
    if (ids && c.prefetching())
        for (auto const& id : *ids) c.prefetch_holding(b.seq, b.mms_id, id);
}

// One bib's holdings-list answer, filled by the coroutine that asks for it.
struct list_slot {
    explicit list_slot(bib b_) : b{std::move(b_)} {}
    bib b;
    bool done = false;
    alma::outcome<std::vector<std::string>> result;
};

// Holding IDs in an answer (a holdings list, AVA $8) are input like any other: one that is not an
// Alma ID would change the path of the record's request, so it becomes a problem of its bib,
// naming the MMS ID whose answer carried it, and the bib's other holdings go on.
inline void drop_invalid_holding_ids(context& c, bib const& b,
                                     alma::outcome<std::vector<std::string>>& listed) {
    if (!listed) return;
    auto& ids = *listed;
    auto const bad = std::stable_partition(
        ids.begin(), ids.end(), [](std::string const& id) { return alma::is_valid_id(id); });
    for (auto it = bad; it != ids.end(); ++it)
        c.problems().add(
            b.seq,
            alma::problem{alma::stage::holdings_list, b.mms_id, alma::shown_id(*it), 200, "",
                          "Alma's answer lists " + alma::invalid_id_message("holding ID", *it) +
                              "; not asked for",
                          ""});
    ids.erase(bad, ids.end());
}

inline coro::task<void> ask_list(context& c, std::shared_ptr<list_slot> slot) {
    slot->result = co_await c.holdings_of(slot->b.seq, slot->b.mms_id);
    drop_invalid_holding_ids(c, slot->b, slot->result);
    slot->done = true;
    prefetch_holdings(c, slot->b, slot->result);
}

// Up to 100 bibs asked for in one bulk call; their answers are kept per bib in input order.
// A bib whose availability cannot vouch for its holdings gets its holdings list asked for
// beside the others, so the slot is done once the bulk answer and every such list are in.
struct bulk_slot {
    std::vector<bib> bibs;
    bool answered = false;
    std::size_t lists_pending = 0;
    std::vector<std::optional<alma::outcome<std::vector<std::string>>>> results;  // one per bib
    bool done() const noexcept { return answered && lists_pending == 0; }
};

inline coro::task<void> ask_list_of(context& c, std::shared_ptr<bulk_slot> slot, std::size_t i) {
    auto answer = co_await c.holdings_of(slot->bibs[i].seq, slot->bibs[i].mms_id);
    drop_invalid_holding_ids(c, slot->bibs[i], answer);
    slot->results[i] = std::move(answer);
    --slot->lists_pending;
    prefetch_holdings(c, slot->bibs[i], *slot->results[i]);
}

inline coro::task<void> ask_bulk(context& c, std::shared_ptr<bulk_slot> slot, std::string institution) {
    // Bibs whose answer an earlier run of the job received are not asked for again.
    auto& known = slot->results;
    known.resize(slot->bibs.size());
    std::vector<std::string> ids;
    ids.reserve(slot->bibs.size());
    for (std::size_t i = 0; i < slot->bibs.size(); ++i) {
        if (auto* log = c.answers()) known[i] = log->recall_list(slot->bibs[i].seq, slot->bibs[i].mms_id);
        if (!known[i]) ids.push_back(slot->bibs[i].mms_id);
    }
    std::vector<std::size_t> need_list;
    if (!ids.empty()) {
        // Ahead of every record: one bulk call unlocks the records of a hundred bibs, and the
        // few groups read ahead would otherwise wait until every record before them had gone,
        // leaving the rate unused for an answer's latency each time. One call per hundred bibs
        // delays the oldest bib's records by little.
        auto answer = co_await c.client().bibs_availability(ids, net::priority_key{0});
        if (answer) {
            for (std::size_t i = 0; i < slot->bibs.size(); ++i) {
                if (known[i]) continue;
                bib const& b = slot->bibs[i];
                auto found = std::find_if(answer->begin(), answer->end(),
                                          [&](alma::bib_availability const& a) { return a.mms_id == b.mms_id; });
                if (found == answer->end()) {
                    // Alma leaves out a bib deleted since the export, but a bib left out may
                    // still have holdings: only its holdings list says which (402203 if gone).
                    need_list.push_back(i);
                    continue;
                }
                auto seen = alma::holdings_from_availability(*found, institution);
                // An AVA whose $8 is no holding ID vouches for nothing: the list decides.
                if (!seen.complete || !std::all_of(seen.holding_ids.begin(), seen.holding_ids.end(),
                                                   [](std::string const& id) { return alma::is_valid_id(id); })) {
                    need_list.push_back(i);  // only the holdings list knows them all
                    continue;
                }
                known[i] = std::move(seen.holding_ids);
                // A bulk answer settles every bib it vouches for; the others, missing ones
                // included, are remembered with their holdings list.
                if (auto* log = c.answers(); log && !c.stopped()) log->remember_list(b.seq, b.mms_id, *known[i]);
            }
            c.progress().bibs_listed_after_availability += need_list.size();
        } else if (!c.stopped()) {
            // The whole call failed for good: ask bib by bib, so each bib gets its own answer.
            for (std::size_t i = 0; i < slot->bibs.size(); ++i)
                if (!known[i]) need_list.push_back(i);
        }
    }
    slot->answered = true;
    if (c.stopped()) co_return;  // the stage throws fatal_error and looks at no result
    slot->lists_pending = need_list.size();
    for (std::size_t i : need_list) c.loop().spawn(ask_list_of(c, slot, i));
    for (std::size_t i = 0; i < slot->bibs.size(); ++i)
        if (known[i]) {
            drop_invalid_holding_ids(c, slot->bibs[i], *known[i]);
            prefetch_holdings(c, slot->bibs[i], *known[i]);
        }
}

struct list_first_bib {
    std::uint64_t operator()(list_slot const& s) const noexcept { return s.b.seq; }
};
struct list_ready {
    bool operator()(list_slot const& s) const noexcept { return s.done; }
};

template <typename Range>
coro::generator<holding_ref> list_holdings(Range upstream, context& c, holdings_ids_options opt) {
    ordered_window<list_slot, list_first_bib, list_ready> window{c, opt.window};
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    auto const ask = [&c, pairs = opt.pairs.get()](auto& from, auto const&, held_bibs& held) {
        bib const& b = *from;
        held.last_pulled = b.seq;
        auto slot = std::make_shared<list_slot>(b);
        ++from;
        if (auto const* known = pairs ? pairs->holdings_of(slot->b.mms_id) : nullptr) {
            slot->result = *known;
            slot->done = true;
            prefetch_holdings(c, slot->b, slot->result);
        } else {
            c.loop().spawn(ask_list(c, slot));
        }
        return slot;
    };
    while (std::shared_ptr<list_slot> slot = window.next(it, end, ask)) {
        ++c.progress().bibs_listed;
        if (!slot->result) {
            c.problems().add(slot->b.seq, std::move(slot->result.error()));
            continue;
        }
        c.progress().holdings_listed += slot->result->size();
        window.handing_on(slot->b.seq);
        alma::sort_holding_ids(*slot->result);
        for (auto& id : *slot->result) {
            holding_ref ref{slot->b.seq, slot->b.mms_id, std::move(id), slot->b.record};
            co_yield ref;
        }
    }
}

struct group_first_bib {
    template <typename Slot>
    std::uint64_t operator()(Slot const& s) const noexcept { return s.bibs.front().seq; }
};
struct bulk_ready {
    bool operator()(bulk_slot const& s) const noexcept { return s.done(); }
};

template <typename Range>
coro::generator<holding_ref> bulk_holdings(Range upstream, context& c, holdings_ids_options opt) {
    std::size_t const per_call = std::clamp<std::size_t>(opt.bibs_per_call, 1, alma::endpoints::max_bibs_per_call);
    ordered_window<bulk_slot, group_first_bib, bulk_ready> window{c, opt.window / per_call};
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    auto const ask = [&](auto& from, auto const& to, held_bibs& held) {
        auto slot = std::make_shared<bulk_slot>();
        gather_bibs(from, to, per_call, held, slot->bibs);
        c.loop().spawn(ask_bulk(c, slot, opt.institution));
        return slot;
    };
    while (std::shared_ptr<bulk_slot> slot = window.next(it, end, ask)) {
        for (std::size_t i = 0; i < slot->bibs.size(); ++i) {
            bib const& b = slot->bibs[i];
            auto& result = *slot->results[i];
            window.handing_on(b.seq);
            ++c.progress().bibs_listed;
            if (!result) {
                c.problems().add(b.seq, std::move(result.error()));
                continue;
            }
            c.progress().holdings_listed += result->size();
            alma::sort_holding_ids(*result);
            for (auto& id : *result) {
                holding_ref ref{b.seq, b.mms_id, std::move(id), b.record};
                co_yield ref;
            }
        }
    }
}

struct record_slot {
    record_slot(holding_ref r, std::shared_ptr<pending_holding> a) : ref{std::move(r)}, answer{std::move(a)} {}
    holding_ref ref;
    std::shared_ptr<pending_holding> answer;
};

struct record_first_bib {
    std::uint64_t operator()(record_slot const& s) const noexcept { return s.ref.bib_seq; }
};
struct record_ready {
    bool operator()(record_slot const& s) const noexcept { return s.answer->done; }
};

template <typename Range>
coro::generator<holding_record> fetch_records(Range upstream, context& c, holdings_records_options opt) {
    ordered_window<record_slot, record_first_bib, record_ready> window{c, opt.window};
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    c.enable_prefetch(std::max<std::size_t>(opt.window, 1));
    auto const ask = [&c](auto& from, auto const&, held_bibs& held) {
        holding_ref const& ref = *from;
        auto answer = c.take_prefetched(ref.mms_id, ref.holding_id);
        if (!answer) {
            answer = std::make_shared<pending_holding>();
            c.loop().spawn(c.fill(answer, ref.bib_seq, ref.mms_id, ref.holding_id));
        }
        held.last_pulled = ref.bib_seq;
        auto slot = std::make_shared<record_slot>(ref, std::move(answer));
        ++from;
        return slot;
    };
    // Taking the next holding from upstream may wait for a bib's list; that wait is worth it
    // only while the oldest record is still awaited. Once it is in, it is handed on first, or
    // the first records would wait for the lists of a whole window of bibs.
    auto const oldest_awaited = [](record_slot const* oldest) { return !oldest || !oldest->answer->done; };
    while (std::shared_ptr<record_slot> slot = window.next(it, end, ask, oldest_awaited)) {
        ++c.progress().holdings_fetched;
        auto& result = slot->answer->result;
        if (!result) {
            c.problems().add(slot->ref.bib_seq, std::move(result.error()));
            continue;
        }
        holding_record h{slot->ref.bib_seq, std::move(slot->ref.mms_id), std::move(slot->ref.holding_id),
                         std::move(result->record), std::move(slot->ref.bib_record)};
        co_yield h;
    }
}

}  // namespace detail

// `bibs | holdings_ids(context)`: each bib's holding IDs, as holding_refs in input order. A bib
// with no holdings yields nothing; a bib Alma does not know goes to the context's problem log.
inline auto holdings_ids(context& c, holdings_ids_options opt = {}) {
    return stage{[&c, opt](auto upstream) {
        return opt.source == holdings_source::bibs ? detail::bulk_holdings(std::move(upstream), c, opt)
                                                   : detail::list_holdings(std::move(upstream), c, opt);
    }};
}

// `refs | holdings_records(context)`: the holdings record of each holding_ref, in input order.
// An unknown holding goes to the context's problem log.
inline auto holdings_records(context& c, holdings_records_options opt = {}) {
    return stage{[&c, opt](auto upstream) {
        return detail::fetch_records(std::move(upstream), c, opt);
    }};
}

}  // namespace marcpipe::pipeline
