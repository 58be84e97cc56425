// custom-filter: how to put your own step into the pipeline. This one keeps the holdings of some
// libraries only (852 $b), between the 001/004 rewrite and the writer; any range-v3 view or
// function of a holding_record fits the same place. The output is MARCXML on standard output
// ("-") or for a name ending in .xml, MARC21 for any other name.
//
//   export ALMA_API_KEY=... ALMA_REGION=na        (or ALMA_BASE_URL=https://...)
//   custom-filter ids.txt law-music.xml LAW MUSIC
//   custom-filter ids.txt law-music.xml LAW MUSIC --resume    (the same command, after a stop)
//   custom-filter ids.txt law-music.xml LAW MUSIC --restart   (after a stop: discard it, start over)
//
// Exit status: 0 done; 1 done, with problems (on standard error); 2 usage; 3 stopped early.
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marcpipe.hpp>

#include <range/v3/algorithm/any_of.hpp>
#include <range/v3/view/filter.hpp>

#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

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

std::string environment(char const* name) {
    char const* value = std::getenv(name);
    return value ? value : "";
}

// Where Alma is: ALMA_REGION (na, eu, ...) or ALMA_BASE_URL, one of them.
std::string alma_base_url() {
    std::string const region = environment("ALMA_REGION"), base_url = environment("ALMA_BASE_URL");
    if (region.empty() == base_url.empty())
        throw alma::config_error("set one of ALMA_REGION (" + alma::region_names() + ") and ALMA_BASE_URL");
    return alma::locate(region, base_url);
}

}  // namespace

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    bool const resume = std::erase(args, "--resume") > 0;
    bool const restart = std::erase(args, "--restart") > 0;
    if (args.size() < 3) {
        std::cerr << "usage: custom-filter INPUT OUTPUT LIBRARY... [--resume | --restart]\n"
                     "  with ALMA_API_KEY, and ALMA_REGION or ALMA_BASE_URL, in the environment\n";
        return 2;
    }
    std::vector<std::string> const libraries(args.begin() + 2, args.end());
    std::string key;
    try {
        key = alma::load_api_key(std::nullopt);  // from ALMA_API_KEY
        marcpipe::net::http_client http{alma::http_options(key)};
        alma::client client{http, alma_base_url()};

        pipeline::run_options o;
        o.program = "custom-filter";
        o.input = args[0];
        o.output = args[1];
        o.format = marcpipe::marc::output_format_for(o.output, "", marcpipe::marc::output_format::marcxml);
        o.job = "libraries=";  // resuming for other libraries would mix two outputs
        for (auto const& library : libraries) o.job += library + " ";
        o.resume = resume;
        o.restart = restart;
        pipeline::run run{client, o};

        auto result = run.write(run.bibs()                       //
                                | pipeline::holdings_ids(run)     //
                                | pipeline::holdings_records(run) //
                                | pipeline::rewrite_001_004       //
                                | held_by(libraries));            // <- the custom step
        std::cerr << run.summary(result) << "\n";
        if (result.stopped && result.resumable)
            std::cerr << "custom-filter: rerun it with --resume to finish\n";
        return result.exit_code();
    } catch (...) {
        // No key, Alma's place not set, the input unreadable, the output cannot be created: a
        // usage error; the message without the key.
        return pipeline::report_failure("custom-filter", key, pipeline::run_result::usage);
    }
}
