// west-holdings: the whole WEST holdings export in one run — from a bib export (or a list of MMS
// IDs, or an Alma set) to a file of holdings records whose 001 is the holding ID and 004 the MMS
// ID, at the rate Alma allows, resumable after any interruption.
//
//   ALMA_API_KEY=... west-holdings --region na --require 583 --errors problems.csv
//       -o SYMBOL.alma.archived.20260101.mrc bib-export.mrc
//   ALMA_API_KEY=... west-holdings --region na --west UCB --set 1234567890000541 --errors problems.csv -o out/
//   ALMA_API_KEY=... west-holdings --region na --analytics "/shared/U/Reports/WEST holdings" -o out.mrc
//   ALMA_API_KEY=... west-holdings --region na --pairs west-holdings.csv -o out.mrc bib-export.mrc
//
// Exit status: 0 all delivered; 1 finished, some records failed for good (see --errors);
// 2 usage or configuration error; 3 stopped early (bad key, daily threshold, the calls of the day
// that --keep-calls keeps, interrupted): rerun the same command with --resume to finish.
// With --dry-run: 0 when the run fits in what is left of the day's calls, 3 when it does not.
#include <marcpipe/marcpipe.hpp>
#include <marcpipe/west/west_stage.hpp>

#include <CLI/CLI.hpp>

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/alma_options.hpp"
#include "common/command_line.hpp"

#ifndef MARCPIPE_VERSION
#define MARCPIPE_VERSION "unknown"
#endif

namespace alma = marcpipe::alma;
namespace marc = marcpipe::marc;
namespace pipeline = marcpipe::pipeline;

int main(int argc, char** argv) {
    std::string input, output = "-", format, errors, source = "list", institution, set_id, west;
    std::string analytics, pairs_file, analytics_columns;
    std::vector<std::string> require;
    bool resume = false, restart = false, progress = false, no_progress = false, dry_run = false, west_strict = false;
    std::optional<long long> keep_calls;
    marcpipe::tools::alma_options connection;

    CLI::App app{"Export Alma holdings records for WEST: bib export (or MMS IDs) in, holdings records out,\n"
                 "001 = holding ID, 004 = MMS ID. The API key comes from ALMA_API_KEY or --api-key-file."};
    app.set_version_flag("--version", std::string{"west-holdings (marcpipe) "} + MARCPIPE_VERSION);
    app.option_defaults()->always_capture_default();  // every default shows in --help
    auto* input_option = app.add_option("INPUT", input,
        "MARC21 or MARCXML bib export, or a list of MMS IDs (one a line); - for stdin. An ID that is not digits, "
        "or repeats an earlier one, is a problem row and not asked for");
    auto* output_option = app.add_option("-o,--output", output,
        "where the holdings records go; - for standard output; a link is followed, a device or FIFO written "
        "directly (not resumable); a directory or the input itself is refused");
    auto* format_option = app.add_option("--format", format, "marc21 or marcxml (default: marcxml for a .xml output, else marc21)")
        ->check(CLI::IsMember({"marc21", "marcxml"}));
    connection.add_to(app);
    // One tag each time, so that `--require 583 INPUT` leaves INPUT to be the input.
    app.add_option("--require", require, "keep only records with this field (repeatable)")
        ->allow_extra_args(false)->check(marcpipe::tools::field_tag());
    app.add_option("--errors", errors, "write the CSV report of bibs and holdings that failed here (not the -o file)");
    auto* resume_flag = app.add_flag(
        "--resume", resume, "finish a run that stopped early (same command, plus --resume; same base URL and unchanged input)");
    app.add_flag("--restart", restart,
                 "discard what an earlier run that did not finish left at the output (its journal and saved answers) "
                 "and start over; without it, a run over such a journal is refused")
        ->excludes(resume_flag);
    app.add_option("--holdings-source", source,
                   "list: one holdings-list call per bib (every holding); bibs: 100 bibs per call, holding IDs from "
                   "availability (AVA $8), and a holdings-list call for each bib whose availability cannot vouch for "
                   "all its holdings (a holding without items beside holdings with items stays unseen)")
        ->check(CLI::IsMember({"list", "bibs"}));
    auto* on = app.add_flag("--progress", progress, "show a progress line on stderr (default: when it is a terminal)");
    app.add_flag("--no-progress", no_progress, "no progress line")->excludes(on);
    app.add_option("--institution", institution,
                   "bulk mode: the institution code in AVA $a (01ABC_INST); only its AVA vouch for a bib's holdings "
                   "(a Network Zone key sees every member's). Without it every bib gets a holdings-list call");
    app.add_flag("--dry-run", dry_run,
                 "ask only for availability (one call per 100 bibs), print what a full run costs in each mode "
                 "and the calls left today; exit 3 when the run does not fit above --keep-calls");
    app.add_option("--keep-calls", keep_calls,
                   "never spend the last N of today's API calls: stop (exit 3, resumable) before "
                   "X-Exl-Api-Remaining goes below N (default: 10% of the calls left when the run starts)")
        ->check(CLI::NonNegativeNumber);
    app.add_option("--set", set_id,
                   "take the MMS IDs from this Alma set of bibs (BIB_MMS) instead of INPUT; the members are saved "
                   "beside the output (OUTPUT.set-members) for --resume")
        ->excludes(input_option);
    auto* analytics_option = app.add_option(
        "--analytics", analytics,
        "take the (MMS ID, holding ID) pairs from the Alma Analytics report at this catalogue path (Physical Items: "
        "MMS Id, Holding Id) instead of a holdings list per bib; with INPUT or --set, those decide the bibs. The "
        "pairs are saved beside the output (OUTPUT.analytics-pairs) for --resume");
    app.add_option("--pairs", pairs_file,
                   "the same pairs from the file the report was exported to (CSV, or tab-separated UTF-8 or UTF-16)")
        ->excludes(analytics_option);
    app.add_option("--analytics-columns", analytics_columns,
                   "the headings of the MMS ID and holding ID columns of the report or file, as \"MMS HEADING,HOLDING "
                   "HEADING\" (default \"MMS Id,Holding Id\"; case, spaces and underscores do not matter)");
    auto* west_option = app.add_option("--west", west,
        "WEST archive preset for library SYMBOL: keep records with a 583, copy the bib's OCLC number into 035, "
        "report records failing WEST's checks (see west-check), write SYMBOL.alma.archived.YYYYMMDD.mrc (in the "
        "directory -o DIR/ names, else the current one; the date the run started)")->excludes(format_option);
    app.add_flag("--west-strict", west_strict, "with --west: leave out the records that fail a check (still reported)")
        ->needs(west_option);
    if (auto done = marcpipe::tools::parse_command_line(app, argc, argv)) return *done;

    std::string key;
    try {
        // What decides the output goes into the job: a resumed run must be the same job.
        std::optional<pipeline::west_preset> preset;
        // Given empty (an unset shell variable) is refused with the rest, never a plain export.
        if (west_option->count() > 0) {
            preset = pipeline::west_output(west, west_strict, output, output_option->count() > 0, resume, "west-holdings");
            output = preset->path;
            if (std::find(require.begin(), require.end(), "583") == require.end()) require.push_back("583");
        }
        std::string tags;
        for (auto const& t : require) tags += t + ",";
        bool const from_pairs = !analytics.empty() || !pairs_file.empty();
        pipeline::pair_columns columns;
        if (!analytics_columns.empty()) {
            auto c = pipeline::parse_pair_columns(analytics_columns);
            if (!c)
                throw pipeline::setup_error("west-holdings: --analytics-columns takes two headings, \"MMS HEADING,HOLDING "
                                            "HEADING\", not \"" + analytics_columns + "\"");
            columns = *c;
        }
        if (!from_pairs && !analytics_columns.empty())
            throw pipeline::setup_error("west-holdings: --analytics-columns goes with --analytics or --pairs");
        if (from_pairs && source != "list")
            throw pipeline::setup_error("west-holdings: --analytics and --pairs give the holdings; --holdings-source "
                                        "does not go with them");
        // The whole file is checked before anything else is done.
        std::shared_ptr<pipeline::report_pairs const> pairs;
        if (!pairs_file.empty())
            pairs = std::make_shared<pipeline::report_pairs const>(
                pipeline::read_pairs_file(pairs_file, columns, "west-holdings"));
        pipeline::job_parts job{{"source", source}, {"require", tags}};
        if (!analytics.empty()) job.emplace_back("analytics", analytics);
        if (!pairs_file.empty()) job.emplace_back("pairs", std::filesystem::absolute(pairs_file).string());
        if (from_pairs) job.emplace_back("columns", columns.mms_id + "," + columns.holding_id);
        if (!institution.empty()) job.emplace_back("institution", institution);
        if (!set_id.empty()) job.emplace_back("set", set_id);
        if (preset)
            for (auto& part : preset->job()) job.push_back(std::move(part));

        pipeline::run_options o;
        o.program = "west-holdings";
        o.output = output;
        o.format = marc::output_format_for(output, format, marc::output_format::marc21);
        o.report = errors;
        o.resume = resume;
        o.restart = restart;
        o.job = pipeline::job_line(job);
        if (!pairs_file.empty()) o.more_inputs.push_back({pairs_file, "the pairs file"});
        if (progress || no_progress) o.show_progress = progress;
        if (marc::binary_on_terminal(o.format, output))
            throw pipeline::setup_error("west-holdings: " + std::string{marc::binary_on_terminal_hint});
        // A dry run keeps nothing: a set's members go to a temporary file. The pairs alone may
        // name the bibs.
        std::optional<pipeline::chosen_input> chosen;
        if (!from_pairs || !input.empty() || !set_id.empty()) chosen.emplace(input, set_id, "west-holdings", dry_run ? "" : output);
        // The pairs are saved beside an output that can be resumed: a resume neither reads the
        // report again nor trusts a pairs file that may have changed since.
        std::string saved_pairs;
        if (from_pairs && !dry_run && output != "-") try {
                if (auto t = pipeline::resolve_output(output); t.is_file()) saved_pairs = t.pairs_path();
            } catch (pipeline::path_refused const&) {
            }

        std::string const base_url = connection.base();
        key = connection.api_key();
        auto http_options = connection.http_options(key);
        http_options.keep_quota = marcpipe::net::quota_keep{.calls = keep_calls};
        marcpipe::net::http_client http{http_options};
        alma::client client{http, base_url};
        // --west copies each bib's OCLC number: a set is saved with its bibs' records.
        auto input_path = [&] { return chosen ? chosen->path(client, resume, std::cerr, preset.has_value()) : std::string{}; };
        alma::analytics_reading reading;
        bool pairs_recalled = false;
        // The input's MMS IDs in their order, read once: the report's pairs are matched to them
        // while it is read, and again for the summary.
        std::optional<std::vector<std::string>> given_bibs;
        auto input_bibs = [&](std::string const& path) -> std::vector<std::string> const& {
            if (!given_bibs) {
                given_bibs.emplace();
                if (!path.empty())
                    for (auto const& b : pipeline::bibs(path)) given_bibs->push_back(b.mms_id);
            }
            return *given_bibs;
        };
        // The report is read once the locks are held (or for a dry run, now); --resume takes the
        // pairs saved when an earlier run had read them (the report, or the pairs file). Within
        // a run (`run`), the records of the pairs already read are asked for while later pages
        // come.
        auto take_pairs = [&](std::string const& in, pipeline::context* run) {
            if (!from_pairs) return;
            if (resume && !saved_pairs.empty() && std::filesystem::exists(saved_pairs)) {
                pairs = std::make_shared<pipeline::report_pairs const>(pipeline::load_saved_pairs(saved_pairs, "west-holdings"));
                pairs_recalled = true;
                return;
            }
            if (!analytics.empty())
                pairs = std::make_shared<pipeline::report_pairs const>(
                    run && !resume ? pipeline::read_report_ahead(*run, analytics, columns, reading, input_bibs(in))
                                   : pipeline::read_report_pairs(client, analytics, columns, reading));
            if (!saved_pairs.empty()) pipeline::save_pairs(saved_pairs, *pairs);
        };
        auto pairs_line = [&](std::string const& path) {
            std::string const from = !pairs_file.empty() ? "pairs file " + pairs_file + (pairs_recalled ? " (saved pairs)" : "")
                                     : pairs_recalled    ? "report " + analytics + " (saved pairs)"
                                                         : "report " + analytics + " (" + std::to_string(reading.calls) +
                                                               " calls, " + std::to_string(reading.polls) + " while it was computed, " +
                                                               std::to_string(static_cast<long>(reading.pending_seconds * 1000)) +
                                                               " ms waiting for it)";
            std::optional<pipeline::pair_coverage> c;
            if (!path.empty()) c = pipeline::cover(*pairs, input_bibs(path));
            return "west-holdings: " + pipeline::describe_pairs(*pairs, from, c);
        };
        auto const holdings_from = source == "bibs" ? pipeline::holdings_source::bibs : pipeline::holdings_source::list;
        if (dry_run && from_pairs) {
            std::string const in = input_path();
            take_pairs(in, nullptr);
            std::cout << pairs_line(in) << "\n";
            return pipeline::dry_run_pairs(client, *pairs, input_bibs(in), reading, keep_calls, std::cout);
        }
        if (dry_run) {
            pipeline::dry_run_options d;
            d.program = "west-holdings";
            d.input = input_path();
            d.institution = institution;
            d.source = holdings_from;
            d.keep_calls = keep_calls;
            d.bib_records = preset.has_value();
            return pipeline::dry_run(client, d);
        }
        // A set and a report are read, and pairs saved, once the run holds its locks and has
        // checked every path.
        if ((chosen && chosen->from_set()) || from_pairs)
            o.input_source = [&](pipeline::context& run) {
                std::string in = input_path();
                take_pairs(in, &run);
                return in;
            };
        else
            o.input = input;
        pipeline::run run{client, o};
        std::string const input_used = chosen ? input_path() : std::string{};

        // Read-ahead windows a few times the concurrency: enough to keep every slot busy while the
        // oldest answer is slow, and all that a kill -9 can cost in repeated requests.
        pipeline::holdings_ids_options ids;
        ids.source = holdings_from;
        ids.institution = institution;
        ids.window = holdings_from == pipeline::holdings_source::bibs ? 4 * alma::endpoints::max_bibs_per_call
                                                                      : std::max<std::size_t>(4 * connection.concurrency, 16);
        pipeline::holdings_records_options records;
        records.window = std::max<std::size_t>(4 * connection.concurrency, 32);
        // With --west, bibs from a list of MMS IDs get their records (their OCLC numbers are
        // copied), and every record is checked against WEST's rules.
        bool const west_archive = preset.has_value();
        auto const mode = west_archive ? preset->mode() : pipeline::west_mode::report;

        ids.pairs = pairs;
        auto export_holdings = [&](auto bibs) {
            return run.write(std::move(bibs) | pipeline::when(west_archive, pipeline::with_bib_records(run)) |
                             pipeline::holdings_ids(run, ids) | pipeline::holdings_records(run, records) |
                             pipeline::rewrite_001_004 | pipeline::require_fields(require) |
                             pipeline::when(west_archive, pipeline::west_archive(run, mode)));
        };
        // Without an export or a set, the pairs name the bibs.
        auto result = pairs && !chosen ? export_holdings(pipeline::pair_bibs(run, pairs)) : export_holdings(run.bibs());
        if (pairs) std::cerr << pairs_line(input_used) << "\n";
        std::cerr << run.summary(result) << "\n";
        if (result.stopped && result.resumable)
            std::cerr << "west-holdings: rerun the same command with --resume to finish\n";
        if (chosen) chosen->finished(result.stopped);  // the set's members are kept while the run can be resumed
        std::error_code gone;
        if (!result.stopped && !saved_pairs.empty()) std::filesystem::remove(saved_pairs, gone);
        return result.exit_code();
    } catch (...) {
        return pipeline::report_failure("west-holdings", key);
    }
}
