// custom-filter: how to put your own step into the pipeline. This one keeps the holdings of some
// libraries only (852 $b), between the 001/004 rewrite and the writer; any range-v3 view or
// function of a holding_record fits the same place. The output is MARCXML on standard output or
// for a name ending in .xml, MARC21 for any other name, or what --format says.
//
//   ALMA_API_KEY=... custom-filter --region na --library LAW --library MUSIC ids.txt -o law-music.xml
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marcpipe.hpp>

#include <CLI/CLI.hpp>
#include <range/v3/view/filter.hpp>

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "option_checks.hpp"

namespace alma = marcpipe::alma;
namespace net = marcpipe::net;
namespace pipeline = marcpipe::pipeline;

namespace {

// The user's own stage: a predicate on a holdings record, made pipeable by range-v3.
auto held_by(std::vector<std::string> libraries) {
    return ranges::views::filter([libraries = std::move(libraries)](pipeline::holding_record const& h) {
        for (auto const& f : h.record.fields())
            if (f.tag == "852" &&
                std::find(libraries.begin(), libraries.end(), f.subfield_value('b')) != libraries.end())
                return true;
        return false;
    });
}

}  // namespace

int main(int argc, char** argv) {
    std::string input, output = "-", base_url, format;
    std::vector<std::string> libraries;
    double rate = 25;
    std::string patience = "10m", cacert;
    CLI::App app{"Holdings records of some libraries only (852 $b). Key from ALMA_API_KEY."};
    // Every option's default shows in --help.
    app.option_defaults()->always_capture_default();
    app.add_option("INPUT", input, "bib export or list of MMS IDs")->required();
    app.add_option("-o,--output", output, "where the records go; - for standard output");
    app.add_option("--format", format,
                   "marc21 or marcxml (default: marcxml for a .xml output or standard output, else marc21)")
        ->check(CLI::IsMember({"marc21", "marcxml"}));
    app.add_option("--base-url", base_url, "Alma API base URL")->required();
    // One code each time, so that `--library LAW INPUT` leaves INPUT to be the input.
    app.add_option("--library", libraries, "library code in 852 $b (repeatable)")->required()->allow_extra_args(false);
    app.add_option("--rate", rate, "requests per second (Alma allows 25)")->check(marcpipe::examples::rate_range());
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
    auto const output_format = marcpipe::marc::output_format_for(output, format, marcpipe::marc::output_format::marcxml);
    if (marcpipe::marc::binary_on_terminal(output_format, output)) {
        std::cerr << "custom-filter: " << marcpipe::marc::binary_on_terminal_hint << "\n";
        return 2;
    }
    std::string key;
    try {
        key = alma::load_api_key(std::nullopt);
    } catch (alma::config_error const& e) {
        std::cerr << "custom-filter: " << e.what() << "\n";
        return 2;
    }

    net::client_options options = alma::http_options(key);
    options.rate = rate;
    options.retry.patience = *net::parse_duration(patience);
    options.loop.ca_file = cacert;
    net::http_client http{options};
    alma::client client{http, base_url};

    try {
        pipeline::run_options o;
        o.program = "custom-filter";
        o.input = input;
        o.output = output;
        o.format = output_format;
        pipeline::run run{client, o};
        auto result = run.write(run.bibs()                       //
                                | pipeline::holdings_ids(run)     //
                                | pipeline::holdings_records(run) //
                                | pipeline::rewrite_001_004       //
                                | held_by(libraries));            // <- the custom step
        std::cerr << run.summary(result) << "\n";
        return result.exit_code();
    } catch (std::exception const& e) {
        // The input unreadable, or the output cannot be created.
        std::cerr << "custom-filter: " << http.scrub(e.what()) << "\n";
        return 2;
    }
}
