// holdings-ids: the second step of the old scripts on its own — MMS IDs (or a bib export) in,
// one `holding_id<TAB>mms_id` line per holding out, in input order.
//
//   ALMA_API_KEY=... holdings-ids --region eu bib-export.mrc > holdings.tsv
//   ALMA_API_KEY=... holdings-ids --region eu --set 1234567890000541 > holdings.tsv
//
// Exit status: 0 every bib answered; 1 some bibs failed (reported on stderr or in --errors);
// 2 usage or configuration error; 3 stopped (bad key, daily threshold).
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marcpipe.hpp>

#include <CLI/CLI.hpp>
#include <iostream>
#include <optional>
#include <string>

#include "common/alma_options.hpp"

namespace alma = marcpipe::alma;
namespace pipeline = marcpipe::pipeline;

int main(int argc, char** argv) {
    std::string input, output = "-", errors, source = "list", set_id;
    marcpipe::tools::alma_options connection;
    CLI::App app{"List the holding IDs of bibs: holding_id<TAB>mms_id, one line per holding, in input order.\n"
                 "The API key comes from ALMA_API_KEY or --api-key-file."};
    app.set_version_flag("--version", std::string{"holdings-ids (marcpipe) 0.1.0"});
    app.option_defaults()->always_capture_default();  // every default shows in --help
    auto* input_option =
        app.add_option("INPUT", input, "list of MMS IDs (one a line) or a MARC21/MARCXML bib export; - for stdin");
    app.add_option("--set", set_id, "take the MMS IDs from this Alma set of bibs (BIB_MMS) instead of INPUT")
        ->excludes(input_option);
    app.add_option("-o,--output", output, "where the lines go; - for standard output");
    connection.add_to(app);
    app.add_option("--holdings-source", source, "list (one call per bib) or bibs (100 bibs per call, AVA $8)")
        ->check(CLI::IsMember({"list", "bibs"}));
    app.add_option("--errors", errors, "write the CSV report of bibs that failed here");
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    std::string key;
    try {
        // A run that cannot be resumed: a set's members live in a temporary file while it reads them.
        pipeline::chosen_input chosen{input, set_id, "holdings-ids"};
        std::string const base_url = connection.base();
        key = connection.api_key();
        // Checked, and locked, before the output is opened: opening empties it.
        std::optional<pipeline::run_lock> output_lock;
        auto const paths = pipeline::check_paths(input, output, errors);
        if (paths.output.is_file()) output_lock.emplace(paths.output.file, "holdings-ids");
        marcpipe::marc::output_stream opened{output};
        if (!opened) throw pipeline::setup_error("holdings-ids: " + opened.problem());
        std::ostream& out = opened.stream();

        marcpipe::net::http_client http{connection.http_options(key)};
        alma::client client{http, base_url};
        pipeline::holdings_ids_options ids;
        ids.source = source == "bibs" ? pipeline::holdings_source::bibs : pipeline::holdings_source::list;
        ids.window = source == "bibs" ? 400 : 2 * connection.concurrency;
        // Problems come out in input order, beside the lines they concern.
        pipeline::run_options o;
        o.program = "holdings-ids";
        o.input = chosen.path(client, false, std::cerr);
        o.report = errors;
        o.show_progress = false;
        pipeline::run run{client, o};
        auto result = run.drive(run.bibs() | pipeline::holdings_ids(run, ids),
                                [&](pipeline::holding_ref const& ref) { out << ref.holding_id << '\t' << ref.mms_id << '\n'; });
        out.flush();
        if (result.stopped)
            std::cerr << run.summary(result) << "\n";
        else
            std::cerr << "holdings-ids: " << run.progress().bibs_listed << " bibs, " << run.progress().holdings_listed
                      << " holdings, " << result.problems << " problems, " << result.requests << " requests\n";
        return result.exit_code();
    } catch (...) {
        return pipeline::report_failure("holdings-ids", key, pipeline::run_result::usage);
    }
}
