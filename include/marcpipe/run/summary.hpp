// summary: what a run says when it ends, in the library's words: one line when it finished, three
// when it stopped. A program adds its own hints (which option finishes a stopped run).
#pragma once

#include <cstdint>
#include <iomanip>
#include <optional>
#include <sstream>
#include <string>

#include "marcpipe/marc/any_reader.hpp"
#include "marcpipe/marc/output_format.hpp"
#include "marcpipe/net/printable.hpp"
#include "marcpipe/run/progress_line.hpp"
#include "marcpipe/run/run_options.hpp"

namespace marcpipe::pipeline {

// What the summary tells beside the result.
struct run_facts {
    std::string program, output, report;
    marc::output_format format = marc::output_format::marc21;
    marc::input_format input = marc::input_format::iso2709;
    bool no_input = false;  // the bibs came from the pipeline's source stage (a report's pairs, say)
    std::optional<std::uint64_t> total_bibs;  // when the input was counted
    std::uint64_t first_bib = 0;              // bibs an earlier run had finished
    std::uint64_t bibs_seen = 0;              // bibs met by this run, when not counted before
    std::uint64_t recalled = 0;               // answers taken from the interrupted run
    std::uint64_t bibs_listed_after_availability = 0;
    std::optional<long long> quota_remaining;  // calls left today, as Alma last said
    std::string why_not_resumable;             // empty: a stopped run can be resumed
};

inline std::string summary(run_result const& r, run_facts const& f) {
    std::ostringstream o;
    std::string const& p = f.program;
    bool const to_stdout = f.output == "-";
    if (r.already_finished) {
        o << p << ": the run had already finished: " << r.records << " records in "
          << net::printable(f.output) << ", " << r.problems << " problems";
        return o.str();
    }
    auto stats = [&] {
        o << r.requests << " requests (" << r.retries << " retries) in "
          << format_duration(r.seconds) << ", " << std::fixed << std::setprecision(1)
          << (r.seconds > 0 ? static_cast<double>(r.requests) / r.seconds : 0.0) << " req/s";
        if (f.quota_remaining) o << "; Alma says " << *f.quota_remaining << " calls left today";
    };
    if (r.stopped) {
        o << p << ": stopped: " << r.stop_reason << "\n"
          << p << ": " << r.bibs_done
          << (f.total_bibs ? " of " + std::to_string(*f.total_bibs) : "")
          << " bibs finished and saved; ";
        stats();
        o << "\n" << p << ": ";
        if (f.why_not_resumable.empty())
            o << "fix the cause, then resume the run to finish";
        else
            o << net::printable(f.why_not_resumable)
              << ", so this run cannot be resumed; fix the cause and run it again";
        return o.str();
    }
    std::string const source = f.no_input ? std::string{"the pipeline's source"}
                               : f.input == marc::input_format::mms_id_list
                                   ? std::string{"a list of MMS IDs"}
                                   : "a " + std::string{to_string(f.input)} + " export";
    o << p << ": " << (f.total_bibs ? *f.total_bibs : f.first_bib + f.bibs_seen) << " bibs from "
      << source << ", " << r.records << " holdings records written to "
      << (to_stdout ? std::string{"standard output"} : net::printable(f.output)) << " ("
      << to_string(f.format) << ")";
    if (f.first_bib) o << ", resumed after bib " << f.first_bib;
    if (f.recalled) o << " (" << f.recalled << " answers taken from the interrupted run)";
    o << "; " << r.problems << " problems";
    if (r.problems && !f.report.empty()) o << " (see " << net::printable(f.report) << ")";
    if (f.bibs_listed_after_availability)
        o << "; " << f.bibs_listed_after_availability
          << " bibs asked for their holdings list (availability could not vouch for them)";
    o << "; ";
    stats();
    return o.str();
}

}  // namespace marcpipe::pipeline
