// setup_error, journal_error: why a run cannot start as asked. Their own header because what is
// checked before a run opens (the choice of input, a set's place beside the output, the --west
// preset, a journal and the staged files it counts) throws them too, without needing the run.
#pragma once

#include <stdexcept>

namespace marcpipe::pipeline {

// The run cannot start as asked (no directory for the output, a journal of another job,
// --resume with standard output): the programs exit 2, nothing was asked of Alma. The message
// is whole, the program's name first.
class setup_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// A journal, or the output it counts, that a run cannot resume from (another job's, unreadable,
// a staged file shorter than the journal says): the run that meets it turns it into a
// setup_error naming itself.
class journal_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

}  // namespace marcpipe::pipeline
