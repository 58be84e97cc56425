// journal_error: a journal, or the output it counts, that a run cannot resume from.
//
// Its own header because both the journal and the staged files throw it: a staged file that is
// shorter than the journal says is the same trouble as a journal of another job.
#pragma once

#include <stdexcept>

namespace marcpipe::pipeline {

// A journal that cannot be used (it belongs to another job, or is unreadable).
class journal_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace marcpipe::pipeline
