// run_options, run_result: what a run is asked to do, and how it ended.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "marcpipe/marc/output_format.hpp"
#include "marcpipe/run/output_path.hpp"

namespace marcpipe::pipeline {

class context;

struct run_options {
    run_options() {}
    std::string program = "marcpipe";  // names the run in its messages
    std::string input;                 // the export or ID list; "-" standard input (not resumable)
    std::string output = "-";          // where records go; "-" standard output (not resumable)
    marc::output_format format = marc::output_format::marc21;
    std::string report;    // CSV report of the problems; empty: the first few on stderr
    std::string job;       // whatever else decides the output ("require=583"); a resumed
                           // run must have the same
    bool resume = false;   // carry on from the journal of an earlier run of the job
    bool restart = false;  // discard what an earlier, unfinished run left at the output
                           // and start over (without it, such a run is refused)
    // When set, gives the input once the paths are checked and the locks held, before anything
    // of an earlier run is trusted (an Alma set's members, read then); `input` is ignored. It is
    // given the run's context, whose calls it may start early (see pipeline::read_report_ahead).
    std::function<std::string(context&)> input_source;
    // Other files the run reads (a pairs file): like the input, none may be an output or a file
    // kept beside one.
    std::vector<named_input> more_inputs;
    bool stop_on_signals = true;        // SIGINT, SIGTERM and SIGHUP stop the run, state saved
    std::optional<bool> show_progress;  // a progress line on stderr; default: when it is a terminal
    std::size_t problems_shown = 20;    // without a report, how many problems stderr shows
};

// How a run ended, and the status a program exits with.
struct run_result {
    bool stopped =
        false;  // stopped early: state saved; resumable says whether a resume finishes it
    bool resumable = false;         // a resumed run can finish it (the files are regular files)
    bool already_finished = false;  // an earlier run had finished; only its renames were left
    std::string stop_reason;
    std::uint64_t bibs_done = 0;  // bibs finished and saved (all of them when not stopped)
    std::uint64_t records = 0;    // records in the output
    std::uint64_t problems = 0;   // problems reported
    std::uint64_t requests = 0, retries = 0;
    double seconds = 0;

    static constexpr int ok = 0, some_failed = 1, usage = 2, stopped_early = 3;
    int exit_code() const noexcept { return stopped ? stopped_early : problems ? some_failed : ok; }
};

}  // namespace marcpipe::pipeline
