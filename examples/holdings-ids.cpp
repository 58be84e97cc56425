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
#include <marcpipe/pipeline/set_input.hpp>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include "option_checks.hpp"

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;
namespace pipeline = marcpipe::pipeline;

int main(int argc, char** argv) {
    std::string input, output = "-", base_url, region, errors, source = "list";
    std::optional<std::string> key_file;
    double rate = 25;
    std::size_t concurrency = 48;
    std::string patience = "10m", cacert;
    CLI::App app{"List the holding IDs of bibs: holding_id<TAB>mms_id, one line per holding, in input order.\n"
                 "The API key comes from ALMA_API_KEY or --api-key-file."};
    app.set_version_flag("--version", std::string{"holdings-ids (marcpipe) 0.1.0"});
    // Every option's default shows in --help.
    app.option_defaults()->always_capture_default();
    auto* input_option =
        app.add_option("INPUT", input, "list of MMS IDs (one a line) or a MARC21/MARCXML bib export; - for stdin");
    std::string set_id;
    app.add_option("--set", set_id, "take the MMS IDs from this Alma set of bibs (BIB_MMS) instead of INPUT")
        ->excludes(input_option);
    app.add_option("-o,--output", output, "where the lines go; - for standard output");
    auto* base = app.add_option("--base-url", base_url, "Alma API base URL");
    app.add_option("--region", region, "Alma region: " + alma::region_names())->excludes(base);
    app.add_option("--api-key-file", key_file, "read the API key from this file instead of ALMA_API_KEY");
    app.add_option("--rate", rate, "requests per second")->check(marcpipe::examples::rate_range());
    app.add_option("--concurrency", concurrency, "requests in flight at once")->check(CLI::Range(1, 1024));
    app.add_option("--holdings-source", source, "list (one call per bib) or bibs (100 bibs per call, AVA $8)")
        ->check(CLI::IsMember({"list", "bibs"}));
    app.add_option("--errors", errors, "write the CSV report of bibs that failed here");
    // The network: how long an outage is waited out, and whom TLS trusts.
    app.add_option("--patience", patience, "how long to go on while no call succeeds (network or Alma down): 90s, 10m, 1h or seconds; then exit 3, --resume finishes")
        ->type_name("DURATION")
        ->check([](std::string const& v) { return net::check_patience(v); });
    app.add_option("--cacert", cacert, "CA bundle (PEM) to verify TLS with, e.g. the certificate of a proxy that inspects TLS")->check(CLI::ExistingFile);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    if (input.empty() == set_id.empty()) {
        std::cerr << "holdings-ids: give an INPUT (list of MMS IDs or export) or --set SET_ID\n";
        return 2;
    }
    std::string key;
    try {
        base_url = alma::locate(region, base_url);
        key = alma::load_api_key(key_file);
    } catch (std::exception const& e) {
        std::cerr << "holdings-ids: " << e.what() << "\n";
        return 2;
    }

    // Checked, and locked, before the output is opened: opening empties it.
    std::optional<pipeline::run_lock> output_lock;
    try {
        auto const paths = pipeline::check_paths(input, output, errors);
        if (paths.output.is_file()) output_lock.emplace(paths.output.file, "holdings-ids");
    } catch (std::exception const& e) {
        std::cerr << "holdings-ids: " << e.what() << "\n";
        return 2;
    }
    marcpipe::marc::output_stream opened{output};
    if (!opened) {
        std::cerr << "holdings-ids: " << opened.problem() << "\n";
        return 2;
    }
    std::ostream& out = opened.stream();

    net::client_options options = alma::http_options(key);
    options.rate = rate;
    options.loop.max_in_flight = concurrency;
    options.retry.patience = *net::parse_duration(patience);
    options.loop.ca_file = cacert;
    net::http_client http{options};
    alma::client client{http, base_url};
    pipeline::holdings_ids_options ids;
    ids.source = source == "bibs" ? pipeline::holdings_source::bibs : pipeline::holdings_source::list;
    ids.window = source == "bibs" ? 400 : 2 * concurrency;
    // A set's members, for as long as the run reads them.
    pipeline::scoped_file const members{set_id.empty() ? "" : pipeline::temporary_members_path("holdings-ids")};
    try {
        if (!set_id.empty()) input = pipeline::set_input(client, set_id, members.path(), false, std::cerr, "holdings-ids");
        // Problems come out in input order, beside the lines they concern.
        pipeline::run_options o;
        o.program = "holdings-ids";
        o.input = input;
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
    } catch (pipeline::set_error const& e) {
        std::cerr << "holdings-ids: " << http.scrub(e.what()) << "\n";
        return e.exit_code;
    } catch (std::exception const& e) {
        std::cerr << "holdings-ids: " << http.scrub(e.what()) << "\n";
        return 2;
    }
}
