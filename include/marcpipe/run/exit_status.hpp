// exit_status: what a program says, and the status it exits with, when a run cannot start or
// cannot go on. One mapping for every program, so that the same trouble ends the same way:
//
//   2  the command cannot work as given: a configuration error (no key, an unknown region), a
//      path refused, a run that cannot start (setup_error), a pairs file at fault (pairs_error),
//      a journal it cannot resume from
//   set_error's and alma::analytics_error's own: 2 when the set or report is wrong, 3 when Alma
//      could not be asked (or the report could not be read whole)
//   `otherwise` anything else (the output could not be written, Alma stayed out of reach):
//      by default 3, stopped early, for a run that saved its state
//
// The message is scrubbed of the API key and of bytes a terminal would act on.
//
//   try { ... } catch (...) { return pipeline::report_failure("west-holdings", key); }
#pragma once

#include <exception>
#include <iostream>
#include <string>
#include <string_view>

#include "marcpipe/alma/analytics.hpp"
#include "marcpipe/alma/client.hpp"
#include "marcpipe/net/printable.hpp"
#include "marcpipe/net/url.hpp"
#include "marcpipe/pipeline/pairs.hpp"
#include "marcpipe/run/output_path.hpp"
#include "marcpipe/run/run.hpp"
#include "marcpipe/run/set_input.hpp"
#include "marcpipe/run/setup_error.hpp"

namespace marcpipe::pipeline {

// Says what the exception being handled was, and returns the status to exit with. Call it in a
// catch block only.
inline int report_failure(std::string const& program, std::string_view api_key = {},
                          int otherwise = run_result::stopped_early, std::ostream& err = std::cerr) {
    auto const say = [&](std::string_view what) {
        err << program << ": " << net::printable(net::scrub(what, api_key)) << "\n";
    };
    try {
        throw;
    } catch (setup_error const& e) {
        err << net::printable(net::scrub(e.what(), api_key)) << "\n";  // names the program itself
        return run_result::usage;
    } catch (pairs_error const& e) {
        err << net::printable(net::scrub(e.what(), api_key)) << "\n";  // names the program itself
        return run_result::usage;
    } catch (set_error const& e) {
        say(e.what());
        return e.exit_code;
    } catch (alma::analytics_error const& e) {
        say(e.what());
        return e.exit_code;
    } catch (alma::config_error const& e) {
        say(e.what());
        return run_result::usage;
    } catch (path_refused const& e) {
        say(e.what());
        return run_result::usage;
    } catch (journal_error const& e) {
        say(e.what());
        return run_result::usage;
    } catch (std::exception const& e) {
        say(e.what());
        return otherwise;
    }
}

}  // namespace marcpipe::pipeline
