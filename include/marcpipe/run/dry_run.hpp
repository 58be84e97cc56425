// dry_run: what a run would cost, asked of Alma with the availability calls alone (one per 100
// bibs), against the calls the institution has left today. A run that exhausts the day's quota
// stops every other integration of the institution until Alma's day rolls over, so a large job
// is best weighed first.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/http_policy.hpp"
#include "marcpipe/net/quota_floor.hpp"
#include "marcpipe/pipeline/bib_records_stage.hpp"
#include "marcpipe/pipeline/sources.hpp"
#include "marcpipe/run/call_estimate.hpp"
#include "marcpipe/run/run.hpp"

namespace marcpipe::pipeline {

struct dry_run_options {
    dry_run_options() {}
    std::string program = "marcpipe";  // names it in messages
    std::string input;                 // the export or ID list
    std::string institution;           // --institution: only its AVA count (none, without it)
    holdings_source source = holdings_source::list;  // the mode the run would use
    std::optional<long long> keep_calls;             // the floor; default a tenth of what is left
    bool bib_records = false;  // the run fetches the records of bibs that came without one
                               // (with_bib_records: --west from a list of MMS IDs)
};

// --dry-run: the availability calls only, then what a full run costs against what is left today.
// Exit 0 when the run fits above the calls to keep, 3 when it does not.
inline int dry_run(alma::client& client, dry_run_options const& s, std::ostream& out = std::cout,
                   std::ostream& err = std::cerr) {
    std::vector<std::string> mms_ids;
    std::vector<bool> without_record;
    alma::problem_log unreadable;
    try {
        for (auto const& b : bibs(s.input, &unreadable)) {
            mms_ids.push_back(b.mms_id);
            without_record.push_back(!b.record);
        }
    } catch (std::exception const& e) {
        throw setup_error(s.program + ": " + e.what());  // nothing asked of Alma yet
    }
    auto e = estimate_calls(client, mms_ids, s.institution);
    if (s.bib_records) {
        // with_bib_records asks once for each group of 100 bibs with a bib that lacks its record.
        std::size_t const per_call = bib_records_options{}.bibs_per_call;
        for (std::size_t first = 0; first < e.bibs.size(); first += per_call) {
            auto const end = std::min(e.bibs.size(), first + per_call);
            if (std::any_of(without_record.begin() + static_cast<std::ptrdiff_t>(first),
                            without_record.begin() + static_cast<std::ptrdiff_t>(end), [](bool w) { return w; }))
                e.bibs[first].records_call = true;
        }
    }
    auto const source = s.source;
    auto const bound = [&](std::uint64_t n) {
        return (e.exact() ? "exactly " : "at least ") + std::to_string(n);
    };
    std::uint64_t const list_calls = e.calls_for(holdings_source::list);
    std::uint64_t const bulk_calls = e.calls_for(holdings_source::bibs);
    out << "bibs: " << e.bibs.size() << "\n"
        << "bibs Alma no longer knows: " << e.unknown() << "\n"
        << "holdings found: " << (e.exact() ? "" : "at least ") << e.holdings() << "\n"
        << "bibs whose availability cannot vouch for their holdings: " << e.open() << "\n"
        << "calls a full run needs, --holdings-source list: " << bound(list_calls) << "\n"
        << "calls a full run needs, --holdings-source bibs: " << bound(bulk_calls) << "\n";
    if (e.groups_failed)
        err << s.program << ": " << e.groups_failed
            << " availability calls failed; their bibs count as needing a holdings list, with no "
               "holdings\n";
    // The smallest count seen: answers can come back out of order.
    auto const left = client.http().floor().remaining();
    if (!left) {
        out << "calls left today: unknown (no " << alma::quota_header << " in the answers)\n";
        return run_result::ok;
    }
    // The floor a run started now would keep: --keep-calls, else a tenth of what is left.
    long long const keep =
        s.keep_calls ? *s.keep_calls : net::quota_floor{net::quota_keep{}}.calls_to_keep_of(*left);
    std::uint64_t const budget = *left > keep ? static_cast<std::uint64_t>(*left - keep) : 0;
    std::uint64_t const needed = source == holdings_source::list ? list_calls : bulk_calls;
    out << "calls left today: " << *left << "\n"
        << "calls to keep: " << keep << "\n";
    if (needed <= budget) {
        out << "the run fits: " << needed << " of the " << budget
            << " calls above the floor (--holdings-source "
            << (s.source == holdings_source::bibs ? "bibs" : "list") << ")\n";
        return run_result::ok;
    }
    out << "the run does not fit today: " << (e.exact() ? "" : "at least ") << needed
        << " calls needed, " << budget << " above the floor; the first "
        << e.bibs_within(source, budget) << " of " << e.bibs.size()
        << " bibs would fit (--holdings-source "
        << (s.source == holdings_source::bibs ? "bibs" : "list") << ")\n";
    return run_result::stopped_early;
}

}  // namespace marcpipe::pipeline
