// option_checks: the ranges the tools' numeric options must lie in, as CLI11 validators, shared
// by the tools; the tools' own command-line code, not part of the library.
//
// CLI11's PositiveNumber and Range pass "nan" (every comparison with NaN is false): `--rate nan`
// turned the rate limit off, and `--rate 1e-5` let one call start a day. A value is checked to be
// a finite number in its range before anything is asked of Alma; a wrong one is a usage error
// (exit 2) naming the option.
#pragma once

#include <CLI/CLI.hpp>

#include <cmath>
#include <sstream>
#include <string>

namespace marcpipe::tools {

// A finite number from `lo` to `hi` (both allowed); with `zero_too`, 0 as well (a program's
// "0 = no limit").
inline CLI::Validator finite_range(double lo, double hi, bool zero_too = false) {
    std::ostringstream range;
    range << lo << " - " << hi;
    std::string const stated = range.str();
    CLI::Validator v{[lo, hi, zero_too, stated](std::string& input) -> std::string {
                         double value = 0;
                         if (!CLI::detail::lexical_cast(input, value) || !std::isfinite(value))
                             return "'" + input + "' is not a finite number";
                         if (zero_too && value == 0) return {};
                         if (value < lo || value > hi)
                             return input + " is not in [" + stated + "]" + (zero_too ? " or 0" : "");
                         return {};
                     },
                     "FINITE in [" + stated + "]" + (zero_too ? " or 0" : "")};
    return v;
}

// Requests per second: Alma allows 25 per institution; a tenth of one a second is the slowest
// pace worth starting a run at, a thousand more than any Alma allows.
inline CLI::Validator rate_range() { return finite_range(0.1, 1000); }

// A field's tag for --require: three characters, or the run would keep nothing and not say why.
inline CLI::Validator field_tag() {
    return CLI::Validator{[](std::string& tag) {
                              return tag.size() == 3 ? std::string{} : "a tag has three characters, not '" + tag + "'";
                          },
                          "TAG"};
}

}  // namespace marcpipe::tools
