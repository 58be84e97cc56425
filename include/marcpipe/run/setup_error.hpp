// setup_error: a run that cannot start as asked. Its own header because what is checked before
// a run opens (the choice of input, a set's place beside the output, the --west preset) throws
// it too, without needing the run.
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

}  // namespace marcpipe::pipeline
