// serial-holdings: a tool of one's own, built from the library's parts (the README shows it
// whole) — the holdings records of the serials in a bib export that one library holds, each
// with its bib's OCLC number, as MARCXML; resumable after any interruption.
//
//   ALMA_API_KEY=... serial-holdings https://api-na.hosted.exlibrisgroup.com bibs.mrc LAW law.xml
//   ALMA_API_KEY=... serial-holdings ... --resume      (the same command, after a stop)
//   ALMA_API_KEY=... serial-holdings ... --restart     (after a stop: discard it, start over)
//
// Exit status: 0 done; 1 done, with problems (on standard error); 2 usage; 3 stopped early.
#include <marcpipe/marcpipe.hpp>

#include <range/v3/algorithm/any_of.hpp>
#include <range/v3/view/filter.hpp>

#include <iostream>
#include <optional>
#include <string>

namespace alma = marcpipe::alma;
namespace pipeline = marcpipe::pipeline;

int main(int argc, char** argv) {
    bool const resume = argc == 6 && std::string{argv[5]} == "--resume";
    bool const restart = argc == 6 && std::string{argv[5]} == "--restart";
    if (argc != 5 && !resume && !restart) {
        std::cerr << "usage: serial-holdings BASE_URL EXPORT LIBRARY OUTPUT.xml [--resume | --restart]\n";
        return 2;
    }
    std::string const library = argv[3];
    std::string key;
    try {
        key = alma::load_api_key(std::nullopt);  // from ALMA_API_KEY
        marcpipe::net::http_client http{alma::http_options(key)};
        alma::client client{http, alma::locate("", argv[1])};

        pipeline::run_options o;
        o.program = "serial-holdings";
        o.input = argv[2];
        o.output = argv[4];
        o.format = marcpipe::marc::output_format::marcxml;
        o.job = "library=" + library;  // resuming for another library would mix two outputs
        o.resume = resume;
        o.restart = restart;
        pipeline::run run{client, o};

        // Bibs carry their record: leader/07 says which are serials.
        auto serials = ranges::views::filter([](pipeline::bib const& b) { return b.record && b.record->leader()[7] == 's'; });
        // A holding may have an 852 for each location: any of them at this library will do.
        auto held_here = ranges::views::filter([library](pipeline::holding_record const& h) {
            return ranges::any_of(h.record.find_all("852"),
                                  [&](marcpipe::marc::field const& f) { return f.subfield_value('b') == library; });
        });
        // A segment of stages is a stage: stored, reused, piped like any other.
        auto for_this_library = pipeline::rewrite_001_004 | held_here | pipeline::copy_oclc_number("035");

        auto result = run.write(run.bibs() | serials | pipeline::holdings_ids(run) | pipeline::holdings_records(run) |
                                for_this_library);
        std::cerr << run.summary(result) << "\n";
        if (result.stopped && result.resumable)
            std::cerr << "serial-holdings: rerun it with --resume to finish\n";
        return result.exit_code();
    } catch (...) {
        // 2 for what the command got wrong (no key, a path refused), 3 when the output could not
        // be written; the message without the key.
        return pipeline::report_failure("serial-holdings", key);
    }
}
