// custom-filter: how to put your own step into the pipeline. This one keeps the holdings of some
// libraries only (852 $b), between the 001/004 rewrite and the writer; any range-v3 view or
// function of a holding_record fits the same place. The output is MARCXML on standard output or
// for a name ending in .xml, MARC21 for any other name, or what --format says.
//
//   ALMA_API_KEY=... custom-filter --region na --library LAW --library MUSIC ids.txt -o law-music.xml
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marcpipe.hpp>

#include <CLI/CLI.hpp>
#include <range/v3/algorithm/any_of.hpp>
#include <range/v3/view/filter.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "alma_options.hpp"

namespace alma = marcpipe::alma;
namespace pipeline = marcpipe::pipeline;

namespace {

// The user's own stage: a predicate on a holdings record, made pipeable by range-v3.
auto held_by(std::vector<std::string> libraries) {
    return ranges::views::filter([libraries = std::move(libraries)](pipeline::holding_record const& h) {
        // Any 852 of the holding (one per location) at one of the libraries.
        return ranges::any_of(h.record.find_all("852"), [&](marcpipe::marc::field const& f) {
            return std::find(libraries.begin(), libraries.end(), f.subfield_value('b')) != libraries.end();
        });
    });
}

}  // namespace

int main(int argc, char** argv) {
    std::string input, output = "-", format;
    std::vector<std::string> libraries;
    marcpipe::examples::alma_options connection;  // --region or --base-url, --rate, ...
    CLI::App app{"Holdings records of some libraries only (852 $b). Key from ALMA_API_KEY or --api-key-file."};
    app.option_defaults()->always_capture_default();  // every default shows in --help
    app.add_option("INPUT", input, "bib export or list of MMS IDs")->required();
    app.add_option("-o,--output", output, "where the records go; - for standard output");
    app.add_option("--format", format,
                   "marc21 or marcxml (default: marcxml for a .xml output or standard output, else marc21)")
        ->check(CLI::IsMember({"marc21", "marcxml"}));
    // One code each time, so that `--library LAW INPUT` leaves INPUT to be the input.
    app.add_option("--library", libraries, "library code in 852 $b (repeatable)")->required()->allow_extra_args(false);
    bool restart = false;
    app.add_flag("--restart", restart,
                 "discard what an earlier run that did not finish left at the output (its journal and saved answers) and "
                 "start over; without it, a run over such a journal is refused");
    connection.add_to(app);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    std::string key;
    try {
        pipeline::run_options o;
        o.program = "custom-filter";
        o.input = input;
        o.output = output;
        o.restart = restart;
        o.format = marcpipe::marc::output_format_for(output, format, marcpipe::marc::output_format::marcxml);
        if (marcpipe::marc::binary_on_terminal(o.format, output))
            throw pipeline::setup_error("custom-filter: " + std::string{marcpipe::marc::binary_on_terminal_hint});
        std::string const base_url = connection.base();
        key = connection.api_key();
        marcpipe::net::http_client http{connection.http_options(key)};
        alma::client client{http, base_url};

        pipeline::run run{client, o};
        auto result = run.write(run.bibs()                       //
                                | pipeline::holdings_ids(run)     //
                                | pipeline::holdings_records(run) //
                                | pipeline::rewrite_001_004       //
                                | held_by(libraries));            // <- the custom step
        std::cerr << run.summary(result) << "\n";
        return result.exit_code();
    } catch (...) {
        // No key, the input unreadable, the output cannot be created: a usage error.
        return pipeline::report_failure("custom-filter", key, pipeline::run_result::usage);
    }
}
