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

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

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

}  // namespace marcpipe::pipeline
