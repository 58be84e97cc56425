// dry_run_output: reads the figures of a `--dry-run`'s output for the program tests. A figure the
// output does not have fails the test: a missing line must never pass as some number.
#pragma once

#include <sstream>
#include <string>

#include "catch.hpp"

namespace marcpipe::testing {

// The number after "name: " on a line of a --dry-run's output, digits only ("at least 12" gives 12).
inline long dry_run_value(std::string const& out, std::string const& name) {
    std::istringstream in{out};
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + ": ", 0) == 0) {
            auto digits = line.find_first_of("0123456789", name.size() + 2);
            if (digits != std::string::npos) return std::stol(line.substr(digits));
        }
    FAIL("the dry run's output has no line \"" << name << ": N\"");
    return -1;
}

}  // namespace marcpipe::testing
