// west-holdings: the whole WEST holdings export in one run — from a bib export (or a list of MMS
// IDs) to a file of holdings records whose 001 is the holding ID and 004 the MMS ID, at the rate
// Alma allows, resumable after any interruption.
//
//   ALMA_API_KEY=... west-holdings --region na --require 583 --errors problems.csv
//       -o SYMBOL.alma.archived.20260101.mrc bib-export.mrc
//   ALMA_API_KEY=... west-holdings --region na --west UCB --set 1234567890000541 --errors problems.csv -o out/
//
// Exit status: 0 all delivered; 1 finished, some records failed for good (see --errors);
// 2 usage or configuration error; 3 stopped early (bad key, daily threshold, the calls of the day
// that --keep-calls keeps, interrupted): rerun the same command with --resume to finish.
// With --dry-run: 0 when the run fits in what is left of the day's calls, 3 when it does not.
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marcpipe.hpp>
#include <marcpipe/pipeline/set_input.hpp>
#include <marcpipe/pipeline/west_output.hpp>
#include <marcpipe/pipeline/west_stage.hpp>

#include <CLI/CLI.hpp>
#include <range/v3/view/filter.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "option_checks.hpp"

#ifndef MARCPIPE_VERSION
#define MARCPIPE_VERSION "unknown"
#endif

namespace alma = marcpipe::alma;
namespace marc = marcpipe::marc;
namespace net = marcpipe::net;
namespace pipeline = marcpipe::pipeline;

namespace {

// The command line, with its defaults.
struct settings {
    std::string input;
    std::string output = "-";
    std::string format;
    std::string base_url;
    std::string region;
    std::optional<std::string> api_key_file;
    double rate = 25;
    std::size_t concurrency = 48;
    std::vector<std::string> require;
    std::string errors;
    bool resume = false;
    std::string holdings_source = "list";
    bool progress = false;
    bool no_progress = false;
    int max_attempts = 10;
    std::string patience = "10m";
    std::string cacert;
    // Bulk mode and the daily quota.
    std::string institution;
    bool dry_run = false;
    std::optional<long long> keep_calls;
    // Sets and the WEST preset.
    std::string set_id;
    std::string west;
    std::string west_date;  // YYYYMMDD in the output's name
    bool west_strict = false;
};

}  // namespace

int main(int argc, char** argv) {
    settings s;
    CLI::App app{"Export Alma holdings records for WEST: bib export (or MMS IDs) in, holdings records out,\n"
                 "001 = holding ID, 004 = MMS ID. The API key comes from ALMA_API_KEY or --api-key-file."};
    app.set_version_flag("--version", std::string{"west-holdings (marcpipe) "} + MARCPIPE_VERSION);
    // Every option's default shows in --help.
    app.option_defaults()->always_capture_default();
    auto* input = app.add_option("INPUT", s.input,
                                 "MARC21 or MARCXML bib export, or a list of MMS IDs (one a line); - for stdin. "
                                 "An ID that is not digits, or repeats an earlier one, is a problem row and not "
                                 "asked for");
    auto* output = app.add_option("-o,--output", s.output,
                                  "where the holdings records go; - for standard output; a link is followed, a device "
                                  "or FIFO written directly (not resumable); a directory or the input itself is refused");
    auto* format = app.add_option("--format", s.format, "marc21 or marcxml (default: marcxml for a .xml output, else marc21)")
        ->check(CLI::IsMember({"marc21", "marcxml"}));
    auto* base = app.add_option("--base-url", s.base_url, "Alma API base URL (https://..., or http:// on loopback)");
    app.add_option("--region", s.region, "Alma region: " + alma::region_names())->excludes(base);
    app.add_option("--api-key-file", s.api_key_file, "read the API key from this file instead of ALMA_API_KEY");
    app.add_option("--rate", s.rate, "requests per second (Alma allows 25 per institution)")->check(marcpipe::examples::rate_range());
    app.add_option("--concurrency", s.concurrency, "requests in flight at once")->check(CLI::Range(1, 1024));
    // One tag each time, so that `--require 583 INPUT` leaves INPUT to be the input.
    app.add_option("--require", s.require, "keep only records with this field (repeatable)")->allow_extra_args(false);
    app.add_option("--errors", s.errors, "write the CSV report of bibs and holdings that failed here (not the -o file)");
    app.add_flag("--resume", s.resume,
                 "finish a run that stopped early (same command, plus --resume; same base URL and unchanged input)");
    app.add_option("--holdings-source", s.holdings_source,
                   "list: one holdings-list call per bib (every holding); bibs: 100 bibs per call, "
                   "holding IDs from availability (AVA $8), and a holdings-list call for each bib whose "
                   "availability cannot vouch for all its holdings (a holding without items beside holdings "
                   "with items stays unseen)")
        ->check(CLI::IsMember({"list", "bibs"}));
    auto* on = app.add_flag("--progress", s.progress, "show a progress line on stderr (default: when it is a terminal)");
    app.add_flag("--no-progress", s.no_progress, "no progress line")->excludes(on);
    app.add_option("--max-attempts", s.max_attempts, "tries per request before it is reported as failed")
        ->check(CLI::Range(1, 100));
    // The network: how long an outage is waited out, and whom TLS trusts.
    app.add_option("--patience", s.patience, "how long to go on while no call succeeds (network or Alma down): 90s, 10m, 1h or seconds; then exit 3, --resume finishes")
        ->type_name("DURATION")
        ->check([](std::string const& v) { return net::check_patience(v); });
    app.add_option("--cacert", s.cacert, "CA bundle (PEM) to verify TLS with, e.g. the certificate of a proxy that inspects TLS")->check(CLI::ExistingFile);
    // Bulk mode and the daily quota.
    app.add_option("--institution", s.institution,
                   "bulk mode: the institution code in AVA $a (01ABC_INST); other institutions' availability, "
                   "which a Network Zone key sees, is ignored");
    app.add_flag("--dry-run", s.dry_run,
                 "ask only for availability (one call per 100 bibs), print what a full run costs in each mode "
                 "and the calls left today; exit 3 when the run does not fit above --keep-calls");
    app.add_option("--keep-calls", s.keep_calls,
                   "never spend the last N of today's API calls: stop (exit 3, resumable) before "
                   "X-Exl-Api-Remaining goes below N (default: 10% of the calls left when the run starts)")
        ->check(CLI::NonNegativeNumber);
    // Sets and the WEST preset.
    app.add_option("--set", s.set_id,
                   "take the MMS IDs from this Alma set of bibs (BIB_MMS) instead of INPUT; the members are saved "
                   "beside the output (OUTPUT.set-members) for --resume")
        ->excludes(input);
    auto* west = app.add_option("--west", s.west,
                                "WEST archive preset for library SYMBOL: keep records with a 583, copy the bib's OCLC "
                                "number into 035, report records failing WEST's checks (see west-check), write "
                                "SYMBOL.alma.archived.YYYYMMDD.mrc (in the directory -o DIR/ names, else the current "
                                "one; the date the run started)")
                     ->excludes(format);
    app.add_flag("--west-strict", s.west_strict, "with --west: leave out the records that fail a check (still reported)")
        ->needs(west);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? pipeline::run_result::ok : pipeline::run_result::usage;
    }
    if (s.input.empty() == s.set_id.empty()) {
        std::cerr << "west-holdings: give an INPUT (export or list of MMS IDs) or --set SET_ID\n";
        return pipeline::run_result::usage;
    }
    if (!s.set_id.empty() && !alma::is_valid_id(s.set_id)) {
        std::cerr << "west-holdings: --set takes an Alma set ID (digits), not " << alma::quoted_id(s.set_id) << "\n";
        return pipeline::run_result::usage;
    }
    // The set's members are saved beside the output before the run opens: its directory must be there.
    if (auto dir = std::filesystem::path{s.output}.parent_path();
        !s.set_id.empty() && s.output != "-" && !dir.empty() && !std::filesystem::is_directory(dir)) {
        std::cerr << "west-holdings: cannot write " << s.output << ": there is no directory " << dir.string() << "\n";
        return pipeline::run_result::usage;
    }
    if (!s.west.empty()) {
        auto named = pipeline::west_output(s.west, s.output, output->count() > 0, s.resume, std::cerr, "west-holdings");
        if (!named) return pipeline::run_result::usage;
        s.output = named->path;
        s.west_date = named->date;
        if (std::find(s.require.begin(), s.require.end(), "583") == s.require.end()) s.require.push_back("583");
    }
    for (auto const& t : s.require)
        if (t.size() != 3) {
            std::cerr << "west-holdings: --require takes a three-character tag, not '" << t << "'\n";
            return pipeline::run_result::usage;
        }

    pipeline::run_options o;
    o.program = "west-holdings";
    o.input = s.input;
    o.output = s.output;
    o.format = marc::output_format_for(s.output, s.format, marc::output_format::marc21);
    o.report = s.errors;
    o.resume = s.resume;
    o.job = "source=" + s.holdings_source + " require=";
    for (auto const& t : s.require) o.job += t + ",";
    if (!s.institution.empty()) o.job += " institution=" + s.institution;
    if (!s.set_id.empty()) o.job += " set=" + s.set_id;
    auto const west_mode = s.west.empty() ? pipeline::west_mode::off
                           : s.west_strict ? pipeline::west_mode::strict
                                           : pipeline::west_mode::report;
    if (!s.west.empty())
        o.job += " west=" + s.west + (s.west_strict ? ",strict " : " ") + std::string{pipeline::west_date_key} +
                 s.west_date;
    if (s.progress || s.no_progress) o.show_progress = s.progress;
    if (marc::binary_on_terminal(o.format, s.output)) {
        std::cerr << "west-holdings: " << marc::binary_on_terminal_hint << "\n";
        return pipeline::run_result::usage;
    }

    std::string key;
    try {
        std::string const base_url = alma::locate(s.region, s.base_url);
        key = alma::load_api_key(s.api_key_file);
        net::client_options http_options = alma::http_options(key);
        http_options.rate = s.rate;
        http_options.loop.max_in_flight = s.concurrency;
        http_options.retry.max_attempts = s.max_attempts;
        http_options.retry.patience = *net::parse_duration(s.patience);
        http_options.loop.ca_file = s.cacert;
        net::quota_keep keep;
        keep.calls = s.keep_calls;
        http_options.keep_quota = keep;
        net::http_client http{http_options};
        alma::client client{http, base_url};
        // A set's members are read (or, resuming, taken from where the first run saved them)
        // before the run opens: they are its input. On standard output the run cannot be
        // resumed: there the members live as long as it.
        pipeline::scoped_file const temporary{
            !s.set_id.empty() && s.output == "-" ? pipeline::temporary_members_path("west-holdings") : ""};
        std::string members_file;
        if (!s.set_id.empty()) {
            members_file = s.output == "-" ? temporary.path() : s.output + ".set-members";
            // --west copies each bib's OCLC number: the set is saved with its bib records.
            o.input = pipeline::set_input(client, s.set_id, members_file, s.resume, std::cerr, "west-holdings",
                                          !s.west.empty());
        }
        if (s.dry_run) {
            if (!s.set_id.empty()) s.input = o.input;
            pipeline::dry_run_options d;
            d.program = "west-holdings";
            d.input = s.input;
            d.institution = s.institution;
            d.source = s.holdings_source == "bibs" ? pipeline::holdings_source::bibs : pipeline::holdings_source::list;
            d.keep_calls = s.keep_calls;
            d.bib_records = !s.west.empty();
            return pipeline::dry_run(client, d);
        }
        pipeline::run run{client, o};

        // Read-ahead windows a few times the concurrency: enough to keep every slot busy while the
        // oldest answer is slow, and all that a kill -9 can cost in repeated requests.
        pipeline::holdings_ids_options ids;
        ids.window = std::max<std::size_t>(4 * s.concurrency, 16);
        ids.institution = s.institution;
        if (s.holdings_source == "bibs") {
            ids.source = pipeline::holdings_source::bibs;
            ids.window = 4 * alma::endpoints::max_bibs_per_call;
        }
        pipeline::holdings_records_options records;
        records.window = std::max<std::size_t>(4 * s.concurrency, 32);
        auto const wanted = [required = s.require](pipeline::holding_record const& h) {
            return std::all_of(required.begin(), required.end(), [&](auto const& tag) { return h.record.has(tag); });
        };

        // --west copies each bib's OCLC number: bibs from a list of MMS IDs get their records.
        pipeline::bib_records_options bib_records;
        bib_records.fetch = !s.west.empty();

        auto result = run.write(run.bibs() | pipeline::with_bib_records(run, bib_records) |
                                pipeline::holdings_ids(run, ids) | pipeline::holdings_records(run, records) |
                                pipeline::rewrite_001_004 | ranges::views::filter(wanted) |
                                pipeline::west_archive(run, west_mode));
        std::cerr << run.summary(result) << "\n";
        // Kept while the run can still be resumed.
        if (!members_file.empty() && !result.stopped) std::filesystem::remove(members_file);
        return result.exit_code();
    } catch (pipeline::set_error const& e) {
        std::cerr << "west-holdings: " << net::scrub(e.what(), key) << "\n";
        return e.exit_code;
    } catch (alma::config_error const& e) {
        std::cerr << "west-holdings: " << e.what() << "\n";
        return pipeline::run_result::usage;
    } catch (pipeline::setup_error const& e) {
        std::cerr << e.what() << "\n";
        return pipeline::run_result::usage;
    } catch (pipeline::journal_error const& e) {
        std::cerr << "west-holdings: " << e.what() << "\n";
        return pipeline::run_result::usage;
    } catch (std::exception const& e) {
        std::cerr << "west-holdings: " << net::printable(net::scrub(e.what(), key)) << "\n";
        return pipeline::run_result::stopped_early;
    }
}
