// custom-filter: how to put your own step into the pipeline. This one keeps the holdings of some
// libraries only (852 $b), between the 001/004 rewrite and the writer; any range-v3 view or
// function of a holding_record fits the same place.
//
//   ALMA_API_KEY=... custom-filter --region na --library LAW --library MUSIC ids.txt -o law-music.xml
#include <marcpipe/marcpipe.hpp>

#include <CLI/CLI.hpp>
#include <range/v3/view/filter.hpp>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

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
    std::string input, output = "-", base_url;
    std::vector<std::string> libraries;
    double rate = 25;
    CLI::App app{"Holdings records of some libraries only (852 $b), as MARCXML. Key from ALMA_API_KEY."};
    app.add_option("INPUT", input, "bib export or list of MMS IDs")->required();
    app.add_option("-o,--output", output, "MARCXML output (- for stdout)");
    app.add_option("--base-url", base_url, "Alma API base URL")->required();
    app.add_option("--library", libraries, "library code in 852 $b (repeatable)")->required();
    app.add_option("--rate", rate, "requests per second (Alma allows 25)")->check(CLI::PositiveNumber);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }
    std::string key;
    try {
        key = alma::load_api_key(std::nullopt);
    } catch (alma::config_error const& e) {
        std::cerr << "custom-filter: " << e.what() << "\n";
        return 2;
    }

    net::client_options options;
    options.api_key = key;
    options.rate = rate;
    net::http_client http{options};
    alma::client client{http, base_url};

    std::ofstream file;
    if (output != "-") file.open(output, std::ios::binary);
    std::ostream& out = output == "-" ? std::cout : file;
    try {
        auto written = pipeline::bibs(input, &client.problems())  //
                       | pipeline::holdings_ids(client)           //
                       | pipeline::holdings_records(client)       //
                       | pipeline::rewrite_001_004                //
                       | held_by(libraries)                       // <- the custom step
                       | pipeline::write_marcxml(out);
        std::uint64_t problems = 0;
        client.problems().release_all([&](std::uint64_t, alma::problem const& p) {
            ++problems;
            std::cerr << "custom-filter: " << alma::describe(p) << "\n";
        });
        std::cerr << "custom-filter: " << written << " records written\n";
        return problems ? 1 : 0;
    } catch (alma::fatal_error const& e) {
        std::cerr << "custom-filter: stopped: " << http.scrub(e.what()) << "\n";
        return 3;
    }
}
