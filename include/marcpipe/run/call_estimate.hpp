// call_estimate: what a run will cost in API calls, learned from the availability calls alone
// (one per 100 bibs), before the run spends any of the institution's daily quota (--dry-run).
//
//   auto e = pipeline::estimate_calls(client, mms_ids, institution);   // drives the client's loop
//   e.calls_for(holdings_source::list)        calls a full run needs: exact where availability
//   e.exact()                                 vouches for every bib, else a lower bound
//   e.bibs_within(holdings_source::bibs, n)   how many bibs from the start a budget of n calls covers
//
// Per bib a run makes: in list mode, one holdings-list call (a bib Alma no longer knows too: it
// answers 402203) and one call per holding; in bulk mode, one call per 100 bibs, a holdings-list
// call for each bib whose availability cannot vouch for its holdings (a bib missing from the
// availability answer too: only its list tells a deleted bib from one left out), and one call per
// holding. For such a bib the holdings its availability names are all that is known: the count
// is a lower bound. A run that fetches the bibs' records (--west from a list) makes one more
// call per group of 100 bibs that holds a bib without its record. Retries are not counted: they are what the floor of --keep-calls is for.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/coro/task.hpp"
#include "marcpipe/pipeline/io_stages.hpp"

namespace marcpipe::pipeline {

struct bib_estimate {
    bool known = true;            // Alma knows the bib (it is in the availability answer)
    bool vouched = false;         // availability names every holding of it
    std::uint32_t holdings = 0;   // holdings seen; a lower bound unless vouched
    bool records_call = false;    // the run asks for the records of the group it begins
                                  // (with_bib_records, for bibs that came without one)
};

class call_estimate {
public:
    std::vector<bib_estimate> bibs;  // in input order
    std::uint64_t groups_failed = 0; // availability calls that failed for good (their bibs count as open)
    std::uint64_t calls_made = 0;    // by the estimate itself

    std::uint64_t unknown() const { return count([](bib_estimate const& b) { return !b.known; }); }
    std::uint64_t open() const { return count([](bib_estimate const& b) { return b.known && !b.vouched; }); }
    std::uint64_t holdings() const {
        std::uint64_t n = 0;
        for (auto const& b : bibs) n += b.holdings;
        return n;
    }
    bool exact() const { return open() == 0; }

    // The calls a run needs for the first `n` bibs (all of them by default).
    std::uint64_t calls_for(holdings_source source, std::size_t n = SIZE_MAX) const {
        n = std::min(n, bibs.size());
        std::uint64_t calls = 0;
        for (std::size_t i = 0; i < n; ++i) calls += cost(source, i);
        return calls;
    }

    // How many bibs from the start a run can finish within `budget` calls.
    std::size_t bibs_within(holdings_source source, std::uint64_t budget) const {
        std::uint64_t spent = 0;
        for (std::size_t i = 0; i < bibs.size(); ++i) {
            spent += cost(source, i);
            if (spent > budget) return i;
        }
        return bibs.size();
    }

private:
    template <typename Pred>
    std::uint64_t count(Pred pred) const {
        return static_cast<std::uint64_t>(std::count_if(bibs.begin(), bibs.end(), pred));
    }
    std::uint64_t cost(holdings_source source, std::size_t i) const {
        bib_estimate const& b = bibs[i];
        std::uint64_t const records = b.records_call ? 1 : 0;
        if (source == holdings_source::list) return records + 1 + b.holdings;
        std::uint64_t const group = i % alma::endpoints::max_bibs_per_call == 0 ? 1 : 0;
        return records + group + (b.vouched ? 0 : 1) + b.holdings;
    }
};

namespace detail {

struct estimate_group {
    std::size_t first = 0;
    std::vector<std::string> ids;
    bool done = false;
};

inline coro::task<void> estimate_group_calls(alma::client& client, call_estimate& e, std::shared_ptr<estimate_group> g,
                                             std::string institution) {
    auto answer = co_await client.bibs_availability(g->ids, net::priority_key{g->first});
    ++e.calls_made;
    g->done = true;
    if (!answer) {
        ++e.groups_failed;
        co_return;  // the bibs stay open: a holdings-list call each, holdings unknown
    }
    for (std::size_t i = 0; i < g->ids.size(); ++i) {
        bib_estimate& b = e.bibs[g->first + i];
        auto found = std::find_if(answer->begin(), answer->end(),
                                  [&](alma::bib_availability const& a) { return a.mms_id == g->ids[i]; });
        if (found == answer->end()) {
            b.known = false;
            continue;
        }
        auto seen = alma::holdings_from_availability(*found, institution);
        b.vouched = seen.complete;
        b.holdings = static_cast<std::uint32_t>(seen.holding_ids.size());
    }
}

}  // namespace detail

// Asks Alma for the availability of every bib, at most `in_flight` calls at once on the
// client's loop. A fatal answer (bad key, daily threshold) throws alma::fatal_error.
inline call_estimate estimate_calls(alma::client& client, std::vector<std::string> const& mms_ids,
                                    std::string const& institution = {}, std::size_t in_flight = 8) {
    call_estimate e;
    e.bibs.resize(mms_ids.size());
    std::size_t const per_call = alma::endpoints::max_bibs_per_call;
    std::vector<std::shared_ptr<detail::estimate_group>> groups;
    for (std::size_t first = 0; first < mms_ids.size(); first += per_call) {
        auto g = std::make_shared<detail::estimate_group>();
        g->first = first;
        g->ids.assign(mms_ids.begin() + static_cast<std::ptrdiff_t>(first),
                      mms_ids.begin() + static_cast<std::ptrdiff_t>(std::min(first + per_call, mms_ids.size())));
        groups.push_back(std::move(g));
    }
    auto& http = client.http();
    std::size_t next = 0, finished = 0;
    while (finished < groups.size()) {
        while (next < groups.size() && next - finished < in_flight)
            client.loop().spawn(detail::estimate_group_calls(client, e, groups[next++], institution));
        http.loop().run_until([&] { return http.stopped() || groups[finished]->done; });
        if (http.stopped()) throw alma::fatal_error(http.stop_reason());
        while (finished < next && groups[finished]->done) ++finished;
    }
    return e;
}

}  // namespace marcpipe::pipeline
