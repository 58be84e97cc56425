// holdings-records: the third step of the old scripts on its own — `holding_id<TAB>mms_id` lines
// in (what holdings-ids writes), the holdings records out with 001 = the holding ID and 004 = the
// MMS ID, in input order: MARCXML for an output named *.xml and on standard output, MARC21 for
// any other name, or what --format says. An Alma Analytics report exported as CSV or
// tab-separated (UTF-8 or UTF-16), with "MMS Id" and "Holding Id" columns, is read too: its bibs in
// first-seen order, each bib's holdings ascending and each once.
//
//   ALMA_API_KEY=... holdings-records --region eu holdings.tsv -o holdings.xml
//   ALMA_API_KEY=... holdings-records --region eu west-holdings-report.csv -o holdings.xml
//
// Exit status: 0 every holding delivered; 1 some failed (reported); 2 usage or configuration
// error; 3 stopped (bad key, daily threshold).
#include <marcpipe/alma/ids.hpp>
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marcpipe.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/alma_options.hpp"
#include "common/command_line.hpp"

namespace alma = marcpipe::alma;
namespace pipeline = marcpipe::pipeline;

namespace {

// `holding_id<TAB>mms_id` lines as holding_refs, each line its own position. A line that is not
// one is a problem of its position (stage `export`: the run's input), reported and counted like
// a holding that could not be fetched.
marcpipe::coro::generator<pipeline::holding_ref> pairs(std::istream& in, alma::problem_log& problems) {
    std::string line;
    std::uint64_t number = 0;
    auto const bad = [&](std::string what) {
        problems.add(number - 1, alma::problem{alma::stage::export_record, "", "", 0, "",
                                               "line " + std::to_string(number) + ": " + std::move(what), ""});
    };
    while (std::getline(in, line)) {
        ++number;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty()) continue;
        auto tab = line.find('\t');
        if (tab == std::string::npos || tab == 0 || tab + 1 == line.size()) {
            bad("expected holding_id<TAB>mms_id");
            continue;
        }
        std::string_view const holding_id = std::string_view{line}.substr(0, tab);
        std::string_view const mms_id = std::string_view{line}.substr(tab + 1);
        if (!alma::is_valid_id(holding_id) || !alma::is_valid_id(mms_id)) {
            // It would name another resource than a holding's in the request's path.
            bool const holding_ok = alma::is_valid_id(holding_id);
            bad(alma::invalid_id_message(holding_ok ? "MMS ID" : "holding ID", holding_ok ? mms_id : holding_id));
            continue;
        }
        pipeline::holding_ref ref{number - 1, std::string{mms_id}, std::string{holding_id}};
        co_yield ref;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::string input, output = "-", errors, format;
    std::vector<std::string> require;
    marcpipe::tools::alma_options connection;
    CLI::App app{"Fetch holdings records for holding_id<TAB>mms_id lines; write them with 001 = holding ID and\n"
                 "004 = MMS ID. The API key comes from ALMA_API_KEY or --api-key-file."};
    app.set_version_flag("--version", std::string{"holdings-records (marcpipe) 0.1.0"});
    app.option_defaults()->always_capture_default();  // every default shows in --help
    app.add_option("INPUT", input,
                   "holding_id<TAB>mms_id lines, or an Analytics export (CSV or tab-separated) with MMS Id and "
                   "Holding Id columns; - for stdin")->required();
    app.add_option("-o,--output", output, "where the records go; - for standard output");
    app.add_option("--format", format,
                   "marc21 or marcxml (default: marcxml for a .xml output or standard output, else marc21)")->check(CLI::IsMember({"marc21", "marcxml"}));
    connection.add_to(app);
    // One tag each time, so that `--require 583 INPUT` leaves INPUT to be the input.
    app.add_option("--require", require, "keep only records with this field (repeatable)")
        ->allow_extra_args(false)->check(marcpipe::tools::field_tag());
    app.add_option("--errors", errors, "write the CSV report of holdings that failed here");
    bool restart = false;
    app.add_flag("--restart", restart,
                 "discard what an earlier run that did not finish left at the output (its journal and saved answers) and "
                 "start over; without it, a run over such a journal is refused");
    if (auto done = marcpipe::tools::parse_command_line(app, argc, argv)) return *done;

    std::string key;
    try {
        auto const output_format = marcpipe::marc::output_format_for(output, format, marcpipe::marc::output_format::marcxml);
        if (marcpipe::marc::binary_on_terminal(output_format, output))
            throw pipeline::setup_error("holdings-records: " + std::string{marcpipe::marc::binary_on_terminal_hint});
        std::string const base_url = connection.base();
        key = connection.api_key();
        // The run checks its output and report; the input it is not given is checked here.
        pipeline::check_paths(input, output, errors);
        std::ifstream in_file;
        if (input != "-") {
            in_file.open(input);
            if (!in_file) throw pipeline::setup_error("holdings-records: cannot read " + input);
        }
        std::istream& in_stream = input == "-" ? std::cin : in_file;
        // Read whole: an Analytics export is checked through before any call.
        std::istringstream in{std::string{std::istreambuf_iterator<char>{in_stream}, std::istreambuf_iterator<char>{}}};
        std::shared_ptr<pipeline::report_pairs const> exported;
        if (pipeline::looks_like_pairs_export(in.str()))
            exported = std::make_shared<pipeline::report_pairs const>(
                pipeline::read_pairs_text(in.str(), input == "-" ? "standard input" : input, {}, "holdings-records"));
        marcpipe::net::http_client http{connection.http_options(key)};
        alma::client client{http, base_url};

        pipeline::holdings_records_options fetch;
        fetch.window = 4 * connection.concurrency;
        pipeline::run_options o;
        o.program = "holdings-records";
        o.output = output;
        o.format = output_format;
        o.report = errors;
        o.restart = restart;
        o.show_progress = false;
        pipeline::run run{client, o};
        auto rest = [&](auto refs) {
            return run.write(std::move(refs) | pipeline::holdings_records(run, fetch) | pipeline::rewrite_001_004 |
                             pipeline::require_fields(require));
        };
        auto result = exported ? rest(pipeline::pairs(run, exported)) : rest(pairs(in, run.problems()));
        if (result.stopped)
            std::cerr << run.summary(result) << "\n";
        else
            std::cerr << "holdings-records: " << result.records << " records written, " << result.problems
                      << " problems, " << result.requests << " requests\n";
        return result.stopped ? result.exit_code() : result.problems ? 1 : 0;
    } catch (...) {
        return pipeline::report_failure("holdings-records", key, pipeline::run_result::usage);
    }
}
