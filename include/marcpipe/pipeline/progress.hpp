// progress: how far a run has got, counted by the stages as they hand items on (the line a
// program shows on a terminal is run/progress_line.hpp).
#pragma once

#include <cstdint>

namespace marcpipe::pipeline {

struct run_progress {
    std::uint64_t bibs_listed = 0;       // bibs whose holdings are known (or reported)
    std::uint64_t holdings_listed = 0;   // holding IDs found
    std::uint64_t holdings_fetched = 0;  // holdings records received (or reported)
    std::uint64_t bibs_listed_after_availability = 0;  // bulk mode: bibs whose availability could
                                                       // not vouch for their holdings, so their
                                                       // holdings list was asked for
};

}  // namespace marcpipe::pipeline
