// west_stage: the --west preset's stage — each holdings record gets its bib's OCLC number in
// 035 and is checked against WEST's rules (west_checks.hpp); a failure is a problem of its bib
// in the context's problem log (the run's report), and the record is kept (mode report) or left out (mode strict).
//
//   run.write(... | pipeline::rewrite_001_004 | pipeline::require_field("583")
//             | pipeline::west_archive(run, pipeline::west_mode::report));
//
// A program whose options decide on it composes pipeline::when(wanted, west_archive(...)).
#pragma once

#include <string>
#include <utility>

#include "marcpipe/coro/generator.hpp"
#include "marcpipe/pipeline/context.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/stage.hpp"
#include "marcpipe/pipeline/transforms.hpp"
#include "marcpipe/west/west_checks.hpp"
#include "marcpipe/west/west_output.hpp"

namespace marcpipe::pipeline {

namespace detail {
template <typename Range>
coro::generator<holding_record> west_each(Range upstream, context* r, west_mode mode) {
    // The stage puts the number in 035 itself, so 035 is where every record must have it.
    west_checker checker{oclc_place::f035};
    copy_oclc_fn const copy{"035"};
    for (auto&& item : upstream) {
        holding_record& h = item;
        copy(h);
        auto const failures = checker.check(h.record);
        for (auto const& f : failures)
            r->problems().add(h.bib_seq, alma::problem{alma::stage::west_check, h.mms_id, h.holding_id, 0, "",
                                                       f.rule + ": " + printable(f.found), ""});
        if (mode == west_mode::strict && !failures.empty()) continue;
        co_yield h;
    }
}
}  // namespace detail

// `holdings | west_archive(context, mode)`; after rewrite_001_004, so 001 and 004 are checked as
// they will be written.
inline auto west_archive(context& r, west_mode mode) {
    return stage{[r = &r, mode](auto upstream) { return detail::west_each(std::move(upstream), r, mode); }};
}

}  // namespace marcpipe::pipeline
