// io_stages: the two stages that ask Alma — holdings_ids (bib → its holding IDs) and
// holdings_records (holding ID → the holdings record) — as pipeable range stages that keep many
// requests in flight on the run's one event loop.
//
// How a stage works: it reads ahead a bounded window of upstream items and spawns one coroutine
// per item that awaits the Alma call on the shared loop. When it is asked for its next item it
// drives the loop until the oldest item of the window is answered, and hands that on. So output
// comes in input order, at most `window` answers wait in memory, and while one stage waits for
// its front item the loop keeps every other request of every stage moving. When both stages are
// chained, holdings_ids also asks for each record as soon as its bib's list arrives (bounded by
// the records window, see alma::client::prefetch_holding), so a bib whose list is being retried
// does not hold back the records of the bibs after it.
//
// Each stage tells the run the oldest bib it holds (run::hold_mark), which is how the run knows
// which bibs are finished and writes its checkpoints. When the run keeps an answer log, every
// answer is kept as it arrives and taken from the log instead of Alma when a resumed run comes
// to it again (alma/answer_log.hpp).
//
// Problems (a deleted bib, an unknown holding, a request that failed for good) go to the run's
// problem_log, tagged with the bib's position in the export; the run goes on. A fatal stop (bad
// key, daily threshold) surfaces as alma::fatal_error from the stage.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <range/v3/range/access.hpp>
#include <range/v3/range/concepts.hpp>
#include <range/v3/view/all.hpp>

#include "../alma/client.hpp"
#include "../alma/ids.hpp"
#include "run.hpp"
#include "stage.hpp"
#include "../coro/generator.hpp"
#include "../coro/task.hpp"
#include "items.hpp"
#include "pairs.hpp"

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
    std::string institution;  // bulk mode: AVA $a of the wanted holdings; other institutions' are ignored
    // List mode: a bib these (MMS ID, holding ID) pairs name gets its holdings from them, with no
    // call; a bib they do not name, from its holdings list (pairs.hpp).
    std::shared_ptr<report_pairs const> pairs;
};

struct holdings_records_options {
    holdings_records_options() {}
    std::size_t window = 512;  // holdings read ahead
};

namespace detail {

// Asks early for the records of a bib whose holding IDs just arrived (see run::prefetch_holding).
inline void prefetch_holdings(run& c, bib const& b, alma::outcome<std::vector<std::string>> const& ids) {
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
inline void drop_invalid_holding_ids(run& c, bib const& b,
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

inline coro::task<void> ask_list(run& c, std::shared_ptr<list_slot> slot) {
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

inline coro::task<void> ask_list_of(run& c, std::shared_ptr<bulk_slot> slot, std::size_t i) {
    auto answer = co_await c.holdings_of(slot->bibs[i].seq, slot->bibs[i].mms_id);
    drop_invalid_holding_ids(c, slot->bibs[i], answer);
    slot->results[i] = std::move(answer);
    --slot->lists_pending;
    prefetch_holdings(c, slot->bibs[i], *slot->results[i]);
}

inline coro::task<void> ask_bulk(run& c, std::shared_ptr<bulk_slot> slot, std::string institution) {
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
                    // Alma leaves out what it does not know: a bib deleted since the export.
                    known[i] = tl::unexpected(alma::problem{
                        alma::stage::holdings_list, b.mms_id, "", 200, "",
                        "not in the answer to GET /bibs?mms_id=... (deleted, or not a valid MMS ID)", ""});
                } else if (auto seen = alma::holdings_from_availability(*found, institution);
                           seen.complete && std::all_of(seen.holding_ids.begin(), seen.holding_ids.end(),
                                                        [](std::string const& id) { return alma::is_valid_id(id); })) {
                    // An AVA whose $8 is no holding ID vouches for nothing: the list decides.
                    known[i] = std::move(seen.holding_ids);
                } else {
                    need_list.push_back(i);  // only the holdings list knows them all
                    continue;
                }
                // A bulk answer settles every bib it vouches for, the missing ones included;
                // the others are remembered with their holdings list.
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

// The oldest bib a stage holds: the one it is handing on, else the oldest read ahead, else
// (upstream not yet exhausted) the last one it took, of which more items may come.
// The run may ask in the middle of a refill (an upstream stage waiting), so the oldest read
// ahead is looked up when asked, never remembered.
// A stage that gathers bibs into a group before it asks (a bulk call) holds the group's first
// bib from the moment it took it: pulling the next one may run the event loop (an upstream
// stage waiting for an answer), and the run then looks for finished bibs.
struct held_bibs {
    std::optional<std::uint64_t> handing_on;
    std::optional<std::uint64_t> last_pulled;
    std::optional<std::uint64_t> filling;  // the first bib of the group being gathered
    bool exhausted = false;
    std::optional<std::uint64_t> oldest(std::optional<std::uint64_t> oldest_ahead) const {
        if (handing_on) return handing_on;
        if (oldest_ahead) return oldest_ahead;
        if (filling) return filling;
        if (!exhausted) return last_pulled;
        return std::nullopt;
    }
};

// The mark of a stage that asks for groups of bibs (slots with `bibs`): the first bib of its
// oldest group, unless it holds an older one (held_bibs).
template <typename Slots>
run::mark hold_groups(run& c, held_bibs const& held, Slots const& ahead) {
    return c.hold_mark([&held, &ahead] {
        return held.oldest(ahead.empty() ? std::nullopt : std::optional{ahead.front()->bibs.front().seq});
    });
}

// Takes up to `n` bibs from upstream into a group, holding the first from the moment it is
// taken; the caller clears `held.filling` once the group is among the groups ahead.
template <typename It, typename End>
std::vector<bib> gather_bibs(It& it, End const& end, std::size_t n, held_bibs& held) {
    std::vector<bib> group;
    while (group.size() < n && it != end) {
        bib const& b = *it;
        held.last_pulled = b.seq;
        if (!held.filling) held.filling = b.seq;
        group.push_back(b);
        ++it;
    }
    return group;
}

template <typename Range>
coro::generator<holding_ref> list_holdings(Range upstream, run& c, holdings_ids_options opt) {
    std::size_t const window = std::max<std::size_t>(opt.window, 1);
    std::deque<std::shared_ptr<list_slot>> ahead;
    held_bibs held;
    run::mark const mark = c.hold_mark([&] {
        return held.oldest(ahead.empty() ? std::nullopt : std::optional{ahead.front()->b.seq});
    });
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    for (;;) {
        while (ahead.size() < window && it != end) {
            bib const& b = *it;
            held.last_pulled = b.seq;
            auto slot = std::make_shared<list_slot>(b);
            ++it;
            if (auto const* known = opt.pairs ? opt.pairs->holdings_of(slot->b.mms_id) : nullptr) {
                slot->result = *known;
                slot->done = true;
                prefetch_holdings(c, slot->b, slot->result);
            } else {
                c.loop().spawn(ask_list(c, slot));
            }
            ahead.push_back(std::move(slot));
        }
        held.exhausted = it == end;
        if (ahead.empty()) break;
        c.wait_until([&] { return ahead.front()->done; });
        std::shared_ptr<list_slot> slot = std::move(ahead.front());
        ahead.pop_front();
        ++c.progress().bibs_listed;
        if (!slot->result) {
            c.problems().add(slot->b.seq, std::move(slot->result.error()));
            continue;
        }
        c.progress().holdings_listed += slot->result->size();
        held.handing_on = slot->b.seq;
        alma::sort_holding_ids(*slot->result);
        for (auto& id : *slot->result) {
            holding_ref ref{slot->b.seq, slot->b.mms_id, std::move(id), slot->b.record};
            co_yield ref;
        }
        held.handing_on.reset();
    }
}

template <typename Range>
coro::generator<holding_ref> bulk_holdings(Range upstream, run& c, holdings_ids_options opt) {
    std::size_t const per_call = std::clamp<std::size_t>(opt.bibs_per_call, 1, alma::endpoints::max_bibs_per_call);
    std::size_t const calls_ahead = std::max<std::size_t>(1, opt.window / per_call);
    std::deque<std::shared_ptr<bulk_slot>> ahead;
    held_bibs held;
    run::mark const mark = hold_groups(c, held, ahead);
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    for (;;) {
        while (ahead.size() < calls_ahead && it != end) {
            auto slot = std::make_shared<bulk_slot>();
            slot->bibs = gather_bibs(it, end, per_call, held);
            c.loop().spawn(ask_bulk(c, slot, opt.institution));
            ahead.push_back(std::move(slot));
            held.filling.reset();
        }
        held.exhausted = it == end;
        if (ahead.empty()) break;
        c.wait_until([&] { return ahead.front()->done(); });
        std::shared_ptr<bulk_slot> slot = std::move(ahead.front());
        ahead.pop_front();
        for (std::size_t i = 0; i < slot->bibs.size(); ++i) {
            bib const& b = slot->bibs[i];
            auto& result = *slot->results[i];
            held.handing_on = b.seq;
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
        held.handing_on.reset();
    }
}

struct record_slot {
    record_slot(holding_ref r, std::shared_ptr<pending_holding> a) : ref{std::move(r)}, answer{std::move(a)} {}
    holding_ref ref;
    std::shared_ptr<pending_holding> answer;
};

template <typename Range>
coro::generator<holding_record> fetch_records(Range upstream, run& c, holdings_records_options opt) {
    std::size_t const window = std::max<std::size_t>(opt.window, 1);
    std::deque<std::shared_ptr<record_slot>> ahead;
    held_bibs held;
    run::mark const mark = c.hold_mark([&] {
        return held.oldest(ahead.empty() ? std::nullopt : std::optional{ahead.front()->ref.bib_seq});
    });
    auto it = ranges::begin(upstream);
    auto const end = ranges::end(upstream);
    c.enable_prefetch(window);
    for (;;) {
        // Taking the next holding from upstream may wait for a bib's list; that wait is worth it
        // only while the oldest record is still awaited. Once it is in, it is handed on first, or
        // the first records would wait for the lists of a whole window of bibs.
        while (ahead.size() < window && it != end && (ahead.empty() || !ahead.front()->answer->done)) {
            holding_ref const& ref = *it;
            auto answer = c.take_prefetched(ref.mms_id, ref.holding_id);
            if (!answer) {
                answer = std::make_shared<pending_holding>();
                c.loop().spawn(c.fill(answer, ref.bib_seq, ref.mms_id, ref.holding_id));
            }
            held.last_pulled = ref.bib_seq;
            ahead.push_back(std::make_shared<record_slot>(ref, std::move(answer)));
            ++it;
        }
        held.exhausted = it == end;
        if (ahead.empty()) break;
        c.wait_until([&] { return ahead.front()->answer->done; });
        std::shared_ptr<record_slot> slot = std::move(ahead.front());
        ahead.pop_front();
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

// `bibs | holdings_ids(run)`: each bib's holding IDs, as holding_refs in input order. A bib
// with no holdings yields nothing; a bib Alma does not know goes to the run's problem log.
inline auto holdings_ids(run& c, holdings_ids_options opt = {}) {
    return stage{[&c, opt](auto upstream) {
        return opt.source == holdings_source::bibs ? detail::bulk_holdings(std::move(upstream), c, opt)
                                                   : detail::list_holdings(std::move(upstream), c, opt);
    }};
}

// `refs | holdings_records(run)`: the holdings record of each holding_ref, in input order.
// An unknown holding goes to the run's problem log.
inline auto holdings_records(run& c, holdings_records_options opt = {}) {
    return stage{[&c, opt](auto upstream) {
        return detail::fetch_records(std::move(upstream), c, opt);
    }};
}

}  // namespace marcpipe::pipeline
