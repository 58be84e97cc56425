// pairs_dry_run: --dry-run for a run whose holdings come from (MMS ID, holding ID) pairs (an
// Analytics report or its exported file): the report is read (its calls are the only ones made),
// and what a full run costs is weighed against the calls the institution has left today.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "marcpipe/alma/analytics.hpp"
#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/http_policy.hpp"
#include "marcpipe/net/quota_floor.hpp"
#include "marcpipe/pipeline/pairs.hpp"
#include "marcpipe/run/run_options.hpp"

namespace marcpipe::pipeline {

// `input`: the MMS IDs an export or set gives (empty: the pairs name the bibs). Exit 0 when the
// run fits above the calls to keep, 3 when it does not.
inline int dry_run_pairs(alma::client& client, report_pairs const& pairs, std::vector<std::string> const& input,
                         alma::analytics_reading const& reading, std::optional<long long> keep_calls,
                         std::ostream& out) {
    std::uint64_t records = pairs.pairs(), lists = 0;
    if (!input.empty()) {
        auto const c = cover(pairs, input);
        records = c.pairs_used;
        lists = c.bibs_without_pair;
    }
    std::uint64_t const pages = reading.calls - reading.polls;
    std::uint64_t const needed = pages + records + lists;
    out << "calls reading the report: " << reading.calls << " (" << pages << " pages, " << reading.polls
        << " while it was computed)\n"
        << "holdings records: " << records << "\n"
        << "bibs without a pair (a holdings list each, then their holdings' records): " << lists << "\n"
        << "calls a full run needs: " << (lists ? "at least " : "exactly ") << needed << "\n";
    auto const left = client.http().floor().remaining();
    if (!left) {
        out << "calls left today: unknown (no " << alma::quota_header << " in the answers)\n";
        return run_result::ok;
    }
    long long const keep = keep_calls ? *keep_calls : net::quota_floor{net::quota_keep{}}.calls_to_keep_of(*left);
    std::uint64_t const budget = *left > keep ? static_cast<std::uint64_t>(*left - keep) : 0;
    out << "calls left today: " << *left << "\n"
        << "calls to keep: " << keep << "\n";
    if (needed <= budget) {
        out << "the run fits: " << needed << " of the " << budget << " calls above the floor\n";
        return run_result::ok;
    }
    out << "the run does not fit today: " << needed << " calls needed, " << budget << " above the floor\n";
    return run_result::stopped_early;
}

}  // namespace marcpipe::pipeline
