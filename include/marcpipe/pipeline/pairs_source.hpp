// pairs_source: (MMS ID, holding ID) pairs as the source of a pipeline, the way an export is —
//
//   auto p = std::make_shared<pipeline::report_pairs const>(pipeline::read_pairs_file(...));
//   run.write(pipeline::pairs(run, p) | pipeline::holdings_records(run) | pipeline::rewrite_001_004);
//
// — the bibs the pairs name, in first-seen order and numbered so (seq), each bib's holdings
// ascending by holding ID and each once. With an export instead, the export decides the bibs and
// their order: `run.bibs() | holdings_ids(run, {.pairs = p})` (io_stages.hpp), where a bib the
// pairs do not name gets its holdings list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "marcpipe/coro/generator.hpp"
#include "marcpipe/pipeline/context.hpp"
#include "marcpipe/pipeline/io_stages.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/pairs.hpp"

namespace marcpipe::pipeline {

// The bibs the pairs name, numbered in first-seen order, from the first unfinished bib on (a
// resumed run's). Each is held (context::hold_mark) until the consumer has taken it, as a run's
// own source does.
inline coro::generator<bib> pair_bibs(context& c, std::shared_ptr<report_pairs const> pairs) {
    std::uint64_t const first = c.bibs_done();
    std::uint64_t next = first;
    context::mark const held = c.hold_mark([&next]() -> std::optional<std::uint64_t> { return next; });
    auto const& ids = pairs->bibs();
    for (std::uint64_t seq = first; seq < ids.size(); ++seq) {
        next = seq;
        bib b{seq, ids[seq]};
        co_yield b;
        next = seq + 1;
    }
    next = UINT64_MAX;
}

// The holding_refs of the pairs: a source stage.
inline coro::generator<holding_ref> pairs(context& c, std::shared_ptr<report_pairs const> p,
                                          holdings_ids_options opt = {}) {
    opt.source = holdings_source::list;
    opt.pairs = p;
    return pair_bibs(c, std::move(p)) | holdings_ids(c, std::move(opt));
}

// Reads the report's pairs (read_report_pairs) while the holdings records they name are already
// asked for: the report's pages come one after another (each answer carries the token for the
// next), and without this the rate would stand idle until the last one. The pages go first (the
// analytics calls' priority); a record asked for now waits in the context (prefetch_holding) for
// the holdings_records stage that takes it, so this is for a pipeline that has one. `given`: the
// bibs of the export or set in their order (a pair of another bib is not asked for); empty, the
// pairs name the bibs. At most `held` records wait this way.
inline report_pairs read_report_ahead(context& c, std::string const& path, pair_columns const& cols,
                                      alma::analytics_reading& seen, std::vector<std::string> const& given,
                                      alma::analytics_options opt = {}, std::size_t held = 4096) {
    std::unordered_map<std::string, std::uint64_t> position;
    for (std::uint64_t seq = 0; seq < given.size(); ++seq) position.try_emplace(given[seq], seq);
    c.enable_prefetch(held);
    auto ask_early = [&](report_pairs const& so_far, std::string const& mms, std::string const& holding) {
        std::optional<std::uint64_t> seq;
        if (given.empty()) {
            seq = so_far.position(mms);
        } else if (auto it = position.find(mms); it != position.end()) {
            seq = it->second;
        }
        if (seq && *seq >= c.bibs_done()) c.prefetch_holding(*seq, mms, holding);
    };
    return read_report_pairs(c.client(), path, cols, seen, opt, ask_early);
}

}  // namespace marcpipe::pipeline
