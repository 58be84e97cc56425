// west-holdings: the whole WEST holdings export in one run — from a bib export (or a list of MMS
// IDs) to a file of holdings records whose 001 is the holding ID and 004 the MMS ID, at the rate
// Alma allows, resumable after any interruption.
//
//   ALMA_API_KEY=... west-holdings --region na --require 583 --errors problems.csv
//       -o SYMBOL.alma.archived.20260101.mrc bib-export.mrc
//
// Exit status: 0 all delivered; 1 finished, some records failed for good (see --errors);
// 2 usage or configuration error; 3 stopped early (bad key, daily threshold, interrupted):
// rerun the same command with --resume to finish.
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marcpipe.hpp>

#include <CLI/CLI.hpp>
#include <range/v3/view/filter.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#ifndef MARCPIPE_VERSION
#define MARCPIPE_VERSION "unknown"
#endif

namespace alma = marcpipe::alma;
namespace marc = marcpipe::marc;
namespace net = marcpipe::net;
namespace pipeline = marcpipe::pipeline;

namespace {

constexpr int exit_ok = 0, exit_some_failed = 1, exit_usage = 2, exit_stopped = 3;

std::atomic<int> interrupted{0};
extern "C" void on_signal(int sig) { interrupted = sig; }

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
};

// Encodes records for the output file, keeping the bytes in a buffer until a checkpoint hands
// them to the file, and remembering where the current bib's records started so a checkpoint
// can name a point between bibs.
class record_output {
public:
    record_output(pipeline::staged_file& file, bool xml, bool fresh) : file_{file}, xml_{xml} {
        if (xml_) {
            xml_writer_.emplace(buffer_, marc::marcxml_output_options());
            // The collection's opening is already in a resumed file.
            if (!fresh) buffer_.clear();
        }
    }

    // Writes one record; a record ISO 2709 cannot hold throws marc_error (nothing written).
    void write(pipeline::holding_record const& h) {
        if (!last_bib_ || *last_bib_ != h.bib_seq) {
            last_bib_ = h.bib_seq;
            bib_start_bytes_ = file_.bytes() + buffer_.size();
            bib_start_records_ = records_;
        }
        if (xml_)
            xml_writer_->write(h.record);
        else
            marc::append_iso2709(h.record, buffer_, marc::write_position{records_ + 1, file_.bytes() + buffer_.size()});
        ++records_;
        if (buffer_.size() >= (1u << 20)) drain();
    }

    void drain() {
        if (buffer_.empty()) return;
        file_.write(buffer_);
        buffer_.clear();
    }

    // Output bytes and records of the bibs before `bibs_done`, all written to the file.
    std::pair<std::uint64_t, std::uint64_t> prefix_before(std::uint64_t bibs_done) {
        drain();
        if (last_bib_ && *last_bib_ >= bibs_done) return {bib_start_bytes_, bib_start_records_};
        return {file_.bytes(), records_};
    }

    void finish() {
        if (xml_) xml_writer_->finish();
        drain();
    }

    void set_records(std::uint64_t n) { records_ = n; }
    std::uint64_t records() const noexcept { return records_; }

private:
    pipeline::staged_file& file_;
    bool xml_;
    std::string buffer_;
    std::optional<marc::marcxml_writer> xml_writer_;
    std::optional<std::uint64_t> last_bib_;
    std::uint64_t bib_start_bytes_ = 0;
    std::uint64_t bib_start_records_ = 0;
    std::uint64_t records_ = 0;
};

std::string job_description(settings const& s, std::string const& format) {
    std::string job = "input=" + s.input;
    struct stat st{};
    if (s.input != "-" && ::stat(s.input.c_str(), &st) == 0)
        job += " size=" + std::to_string(st.st_size) + " mtime=" + std::to_string(st.st_mtim.tv_sec) + "." +
               std::to_string(st.st_mtim.tv_nsec);
    job += " format=" + format + " source=" + s.holdings_source + " require=";
    for (auto const& t : s.require) job += t + ",";
    job += " errors=" + s.errors;
    return job;
}

std::string format_duration(double seconds) {
    if (seconds < 0 || seconds > 1e7) return "--:--";
    auto total = static_cast<long>(seconds + 0.5);
    char buf[32];
    if (total >= 3600)
        std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
    else
        std::snprintf(buf, sizeof buf, "%ld:%02ld", total / 60, total % 60);
    return buf;
}

}  // namespace

int main(int argc, char** argv) {
    settings s;
    CLI::App app{"Export Alma holdings records for WEST: bib export (or MMS IDs) in, holdings records out,\n"
                 "001 = holding ID, 004 = MMS ID. The API key comes from ALMA_API_KEY or --api-key-file."};
    app.set_version_flag("--version", std::string{"west-holdings (marcpipe) "} + MARCPIPE_VERSION);
    // Every option's default shows in --help.
    app.option_defaults()->always_capture_default();
    app.add_option("INPUT", s.input, "MARC21 or MARCXML bib export, or a list of MMS IDs (one a line); - for stdin")
        ->required();
    app.add_option("-o,--output", s.output, "where the holdings records go; - for standard output");
    app.add_option("--format", s.format, "marc21 or marcxml (default: marcxml for a .xml output, else marc21)")
        ->check(CLI::IsMember({"marc21", "marcxml"}));
    auto* base = app.add_option("--base-url", s.base_url, "Alma API base URL (https://..., or http:// on loopback)");
    app.add_option("--region", s.region, "Alma region: " + alma::region_names())->excludes(base);
    app.add_option("--api-key-file", s.api_key_file, "read the API key from this file instead of ALMA_API_KEY");
    app.add_option("--rate", s.rate, "requests per second (Alma allows 25 per institution)")->check(CLI::PositiveNumber);
    app.add_option("--concurrency", s.concurrency, "requests in flight at once")->check(CLI::Range(1, 1024));
    // One tag each time, so that `--require 583 INPUT` leaves INPUT to be the input.
    app.add_option("--require", s.require, "keep only records with this field (repeatable)")->allow_extra_args(false);
    app.add_option("--errors", s.errors, "write the CSV report of bibs and holdings that failed here");
    app.add_flag("--resume", s.resume, "finish a run that stopped early (same command, plus --resume)");
    app.add_option("--holdings-source", s.holdings_source,
                   "list: one holdings-list call per bib (every holding); bibs: 100 bibs per call, "
                   "holding IDs from availability (AVA $8)")
        ->check(CLI::IsMember({"list", "bibs"}));
    auto* on = app.add_flag("--progress", s.progress, "show a progress line on stderr (default: when it is a terminal)");
    app.add_flag("--no-progress", s.no_progress, "no progress line")->excludes(on);
    app.add_option("--max-attempts", s.max_attempts, "tries per request before it is reported as failed")
        ->check(CLI::Range(1, 100));
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }
    for (auto const& t : s.require)
        if (t.size() != 3) {
            std::cerr << "west-holdings: --require takes a three-character tag, not '" << t << "'\n";
            return exit_usage;
        }
    marc::output_format const output_format = marc::output_format_for(s.output, s.format, marc::output_format::marc21);
    if (marc::binary_on_terminal(output_format, s.output)) {
        std::cerr << "west-holdings: " << marc::binary_on_terminal_hint << "\n";
        return exit_usage;
    }
    std::string const format{to_string(output_format)};

    // ---- configuration ---------------------------------------------------------------
    std::string base_url;
    if (!s.base_url.empty()) {
        base_url = s.base_url;
    } else if (!s.region.empty()) {
        auto url = alma::base_url_for_region(s.region);
        if (!url) {
            std::cerr << "west-holdings: unknown region '" << s.region << "'; one of " << alma::region_names() << "\n";
            return exit_usage;
        }
        base_url = *url;
    } else {
        std::cerr << "west-holdings: say where Alma is: --region (" << alma::region_names() << ") or --base-url URL\n";
        return exit_usage;
    }
    if (auto problem = net::check_url(alma::endpoints{base_url}.api_root())) {
        std::cerr << "west-holdings: " << *problem << "\n";
        return exit_usage;
    }
    std::string key;
    try {
        key = alma::load_api_key(s.api_key_file);
    } catch (alma::config_error const& e) {
        std::cerr << "west-holdings: " << e.what() << "\n";
        return exit_usage;
    }
    bool const to_stdout = s.output == "-";
    if (s.resume && to_stdout) {
        std::cerr << "west-holdings: --resume needs an output file (-o PATH), not standard output\n";
        return exit_usage;
    }
    if (s.resume && s.input == "-") {
        std::cerr << "west-holdings: --resume needs the input as a file, not standard input\n";
        return exit_usage;
    }
    for (std::string const& path : {s.output, s.errors}) {
        if (path.empty() || path == "-") continue;
        auto dir = std::filesystem::path{path}.parent_path();
        if (!dir.empty() && !std::filesystem::is_directory(dir)) {
            std::cerr << "west-holdings: cannot write " << path << ": there is no directory " << dir.string() << "\n";
            return exit_usage;
        }
    }
    std::string const journal_path = to_stdout ? std::string{} : s.output + ".journal";
    std::string const answers_path = to_stdout ? std::string{} : s.output + ".answers";
    std::string const job = job_description(s, format);

    // ---- where this run starts -------------------------------------------------------
    std::optional<pipeline::journal_state> previous;
    if (s.resume) {
        // The last checkpoint whose bytes are all in the files written aside.
        auto size_of = [](std::string const& path) -> std::uint64_t {
            std::error_code ec;
            auto n = std::filesystem::file_size(path + ".part", ec);
            return ec ? 0 : n;
        };
        std::uint64_t const output_size = size_of(s.output);
        std::uint64_t const report_size = s.errors.empty() ? 0 : size_of(s.errors);
        try {
            previous = pipeline::journal::read(journal_path, [&](pipeline::checkpoint const& c) {
                return c.output_bytes <= output_size && c.report_bytes <= report_size;
            });
        } catch (pipeline::journal_error const& e) {
            std::cerr << "west-holdings: " << e.what() << "\n";
            return exit_usage;
        }
        if (previous && previous->job != pipeline::journal::one_line(job)) {
            std::cerr << "west-holdings: " << journal_path
                      << " belongs to a different job (other input, options or output format); rerun without "
                         "--resume to start over\n";
            return exit_usage;
        }
        if (!previous) std::cerr << "west-holdings: no journal at " << journal_path << "; starting from the beginning\n";
    }
    pipeline::checkpoint start;
    bool const fresh = !(previous && previous->last);
    if (!fresh) start = *previous->last;

    // A run that had finished and was stopped only before its renames.
    if (previous && previous->finished) {
        try {
            for (std::string const& path : {s.output, s.errors}) {
                if (path.empty() || path == "-") continue;
                if (std::filesystem::exists(path + ".part")) std::filesystem::rename(path + ".part", path);
            }
            std::filesystem::remove(journal_path);
            alma::answer_log::remove_files(answers_path);
        } catch (std::exception const& e) {
            std::cerr << "west-holdings: " << e.what() << "\n";
            return exit_usage;
        }
        std::cerr << "west-holdings: the run had already finished: " << start.records << " records in " << s.output
                  << ", " << start.problems << " problems\n";
        return start.problems ? exit_some_failed : exit_ok;
    }

    pipeline::opened_input input = [&]() -> pipeline::opened_input {
        try {
            return pipeline::open_input(s.input);
        } catch (std::exception const& e) {
            std::cerr << "west-holdings: " << e.what() << "\n";
            std::exit(exit_usage);
        }
    }();
    pipeline::input_format const input_format = input.format;

    // Known totals make the progress line useful; a file can be counted quickly first.
    std::optional<std::uint64_t> total_bibs;
    if (s.input != "-") {
        try {
            alma::problem_log ignore;
            std::uint64_t n = 0;
            for (auto const& b : pipeline::bibs(s.input, &ignore)) n = b.seq + 1;
            total_bibs = n;
        } catch (std::exception const&) {
        }
    }

    try {
        pipeline::staged_file out{s.output, fresh, start.output_bytes};
        std::optional<pipeline::staged_file> report;
        if (!s.errors.empty()) {
            report.emplace(s.errors, fresh, start.report_bytes);
            if (fresh) report->write(alma::report_header);
        }
        std::optional<pipeline::journal> journal;
        if (!to_stdout) journal.emplace(journal_path, job, fresh);
        // Answers that arrive ahead of the output, kept so a resumed run does not ask for them again.
        std::optional<alma::answer_log> answers;
        if (!to_stdout) answers.emplace(answers_path, fresh, start.bibs_done);

        record_output records{out, format == "marcxml", fresh};
        records.set_records(start.records);

        net::client_options http_options = alma::http_options(key);
        http_options.rate = s.rate;
        http_options.loop.max_in_flight = s.concurrency;
        http_options.retry.max_attempts = s.max_attempts;
        net::http_client http{http_options};
        alma::client client{http, base_url};
        if (answers) client.keep_answers(*answers);

        bool const show_progress = s.progress || (!s.no_progress && ::isatty(STDERR_FILENO));
        std::uint64_t problems = start.problems;
        std::uint64_t shown = 0;
        std::uint64_t bibs_done = start.bibs_done;
        std::uint64_t const skip = start.bibs_done;
        auto release = [&](std::uint64_t seq, alma::problem const& p) {
            if (seq < skip) return;  // found again while skipping finished bibs
            ++problems;
            if (report) report->write(alma::csv_row(p));
            if (!report && shown < 20) {
                ++shown;
                std::cerr << (show_progress ? "\r\x1b[K" : "") << "west-holdings: " << http.scrub(alma::describe(p))
                          << "\n";
            }
        };

        std::vector<int> durable{out.is_stdout() ? -1 : out.fd()};
        if (report) durable.push_back(report->fd());
        if (journal) durable.push_back(journal->fd());
        pipeline::background_sync syncer{durable};
        auto save = [&](std::uint64_t done) {
            if (done <= bibs_done) return;
            bibs_done = done;
            auto [bytes, recs] = records.prefix_before(done);
            client.problems().release_before(done, release);
            if (answers) answers->bibs_done(done);
            if (!journal) return;
            journal->record(pipeline::checkpoint{done, bytes, report ? report->bytes() : 0, recs, problems});
        };
        client.on_bibs_complete = save;

        // Signals stop the run the way a fatal answer does: state saved, exit 3.
        std::signal(SIGINT, on_signal);
        std::signal(SIGTERM, on_signal);
        std::signal(SIGHUP, on_signal);

        auto const started = std::chrono::steady_clock::now();
        bool progress_shown = false;
        std::function<void()> tick = [&] {
            if (interrupted) http.stop("interrupted by signal " + std::to_string(interrupted.load()));
            if (show_progress) {
                double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
                auto const& p = client.progress();
                std::uint64_t listed = skip + p.bibs_listed;
                double req_rate = elapsed > 0 ? static_cast<double>(http.stats().requests) / elapsed : 0;
                double eta = -1;
                if (total_bibs && p.bibs_listed > 0 && *total_bibs >= listed)
                    eta = static_cast<double>(*total_bibs - listed) * elapsed / static_cast<double>(p.bibs_listed);
                char line[256];
                std::snprintf(line, sizeof line, "\r\x1b[Kbibs %llu/%s  holdings %llu/%llu  %.1f req/s  ETA %s  errors %llu",
                              static_cast<unsigned long long>(listed),
                              total_bibs ? std::to_string(*total_bibs).c_str() : "?",
                              static_cast<unsigned long long>(p.holdings_fetched),
                              static_cast<unsigned long long>(p.holdings_listed), req_rate,
                              format_duration(eta).c_str(),
                              static_cast<unsigned long long>(client.problems().found()));
                std::cerr << line << std::flush;
                progress_shown = true;
            }
            http.loop().call_at(net::event_loop::clock::now() + std::chrono::milliseconds{500}, tick);
        };
        http.loop().call_at(net::event_loop::clock::now() + std::chrono::milliseconds{500}, tick);

        // Read-ahead windows a few times the concurrency: enough to keep every slot busy while the
        // oldest answer is slow, and all that a kill -9 can cost in repeated requests.
        pipeline::holdings_ids_options ids_options;
        ids_options.window = std::max<std::size_t>(4 * s.concurrency, 16);
        pipeline::holdings_records_options records_options;
        records_options.window = std::max<std::size_t>(4 * s.concurrency, 32);
        ids_options.source = s.holdings_source == "bibs" ? pipeline::holdings_source::bibs : pipeline::holdings_source::list;
        if (ids_options.source == pipeline::holdings_source::bibs) ids_options.window = 4 * alma::endpoints::max_bibs_per_call;
        std::vector<std::string> const required = s.require;
        auto wanted = [&required](pipeline::holding_record const& h) {
            for (auto const& tag : required)
                if (!h.record.has(tag)) return false;
            return true;
        };
        auto not_done = [skip](pipeline::bib const& b) { return b.seq >= skip; };

        bool stopped = false;
        std::string stop_reason;
        try {
            for (auto& h : pipeline::bibs(std::move(input), &client.problems()) | ranges::views::filter(not_done) |
                               pipeline::holdings_ids(client, ids_options) | pipeline::holdings_records(client, records_options) |
                               pipeline::rewrite_001_004 | ranges::views::filter(wanted)) {
                try {
                    records.write(h);
                } catch (marc::marc_error const& e) {
                    client.problems().add(h.bib_seq, alma::problem{alma::stage::write_record, h.mms_id, h.holding_id, 0,
                                                                   "", e.what(), ""});
                }
            }
        } catch (alma::fatal_error const& e) {
            stopped = true;
            stop_reason = http.scrub(e.what());
        }
        if (progress_shown) std::cerr << "\r\x1b[K";

        double const elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto const& stats = http.stats();
        auto summary = [&](std::ostream& o) {
            o << stats.requests << " requests (" << stats.retries << " retries) in " << format_duration(elapsed) << ", "
              << std::fixed << std::setprecision(1) << (elapsed > 0 ? static_cast<double>(stats.requests) / elapsed : 0.0) << " req/s";
            if (stats.quota_remaining) o << "; Alma says " << *stats.quota_remaining << " calls left today";
        };

        syncer.stop();
        if (stopped) {
            records.drain();
            out.sync();
            if (report) report->sync();
            if (journal) journal->sync();
            std::cerr << "west-holdings: stopped: " << stop_reason << "\n"
                      << "west-holdings: " << bibs_done << (total_bibs ? " of " + std::to_string(*total_bibs) : "")
                      << " bibs finished and saved; ";
            summary(std::cerr);
            std::cerr << "\n";
            if (to_stdout)
                std::cerr << "west-holdings: the output went to standard output, so this run cannot be resumed; "
                             "fix the cause and run it again\n";
            else
                std::cerr << "west-holdings: fix the cause, then rerun the same command with --resume to finish\n";
            return exit_stopped;
        }

        client.problems().release_all(release);
        records.finish();
        pipeline::checkpoint const final_state{UINT64_MAX, out.bytes(), report ? report->bytes() : 0, records.records(),
                                               problems};
        out.sync();
        if (report) report->sync();
        if (journal) journal->record_finished(final_state);
        out.commit();
        if (report) report->commit();
        if (journal) journal->remove();
        if (answers) answers->remove();

        std::string const source = input_format == marc::input_format::mms_id_list
                                       ? std::string{"a list of MMS IDs"}
                                       : "a " + std::string{to_string(input_format)} + " export";
        std::cerr << "west-holdings: " << (total_bibs ? *total_bibs : skip + client.progress().bibs_listed)
                  << " bibs from " << source << ", " << records.records() << " holdings records written to "
                  << (to_stdout ? std::string{"standard output"} : s.output) << " (" << format << ")";
        if (skip) std::cerr << ", resumed after bib " << skip;
        if (answers && answers->recalled())
            std::cerr << " (" << answers->recalled() << " answers taken from the interrupted run)";
        std::cerr << "; " << problems << " problems";
        if (problems && report) std::cerr << " (see " << s.errors << ")";
        std::cerr << "; ";
        summary(std::cerr);
        std::cerr << "\n";
        return problems ? exit_some_failed : exit_ok;
    } catch (pipeline::journal_error const& e) {
        std::cerr << "west-holdings: " << e.what() << "\n";
        return exit_usage;
    } catch (std::exception const& e) {
        std::cerr << "west-holdings: " << net::scrub(e.what(), key) << "\n";
        return exit_stopped;
    }
}
