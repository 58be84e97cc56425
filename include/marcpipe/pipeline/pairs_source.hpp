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

#include "../coro/generator.hpp"
#include "io_stages.hpp"
#include "items.hpp"
#include "pairs.hpp"
#include "run.hpp"

namespace marcpipe::pipeline {

// The bibs the pairs name, numbered in first-seen order, from the run's first unfinished bib on.
// Each is held (run::hold_mark) until the consumer has taken it, as the run's own source does.
inline coro::generator<bib> pair_bibs(run& r, std::shared_ptr<report_pairs const> pairs) {
    std::uint64_t next = r.first_bib();
    run::mark const held = r.hold_mark([&next]() -> std::optional<std::uint64_t> { return next; });
    auto const& ids = pairs->bibs();
    for (std::uint64_t seq = r.first_bib(); seq < ids.size(); ++seq) {
        next = seq;
        bib b{seq, ids[seq]};
        co_yield b;
        next = seq + 1;
    }
    next = UINT64_MAX;
}

// The holding_refs of the pairs: a source stage.
inline coro::generator<holding_ref> pairs(run& r, std::shared_ptr<report_pairs const> p, holdings_ids_options opt = {}) {
    opt.source = holdings_source::list;
    opt.pairs = p;
    return pair_bibs(r, std::move(p)) | holdings_ids(r, std::move(opt));
}

}  // namespace marcpipe::pipeline
