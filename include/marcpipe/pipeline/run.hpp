// run: one export run. It holds what the stages share — the Alma client, the problems found,
// progress, holdings records asked for early, the answer log — and, when the output is a file,
// what makes the run safe to stop at any moment:
//
//   - the output and the CSV report are written aside (PATH.part) and renamed at the end (a
//     link's target is; a device or FIFO is written directly and cannot be resumed, and paths
//     that must not be written are refused before the first call: see output_path.hpp);
//   - a lock on each file written aside keeps a second run off it (run_lock.hpp);
//   - a journal records a checkpoint each time the first N bibs are finished, naming the bytes
//     of output and report that hold exactly their records and problems;
//   - every answer is kept on disk as it arrives (alma::answer_log), so a resumed run asks
//     again only for what was in flight;
//   - a signal or a fatal answer (bad key, daily threshold) stops the run with that state saved;
//   - `resume` carries on from the last checkpoint, and finishes a run that had finished but was
//     stopped before its renames.
//
//   pipeline::run run{client, options};               // options.input, .output, .report, .resume
//   auto result = run.write(run.bibs() | pipeline::holdings_ids(run) | pipeline::holdings_records(run)
//                           | pipeline::rewrite_001_004 | pipeline::require_field("583"));
//   std::cerr << run.summary(result) << "\n";
//   return result.exit_code();
//
// Problems are released in input order: a problem of bib N is written to the report (or, with no
// report, shown on standard error) once every bib before N is finished, so two runs of one job
// write the same report and a resumed run can cut it where the output was cut.
//
// When are the first N bibs finished? Every stage hands items on in input order, so when the
// consumer asks for its next item, each bib before the oldest one still held by some stage (or
// not yet read from the input) has had all its records taken. Stages that read ahead tell the
// run the oldest bib they hold (hold_mark); the run's source does the same. A stage of your own
// that holds items back must do so too, or checkpoints would run ahead of the output.
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "../alma/answer_log.hpp"
#include "../alma/client.hpp"
#include "../alma/report.hpp"
#include "../coro/generator.hpp"
#include "../coro/task.hpp"
#include "../marc/output_format.hpp"
#include "../net/printable.hpp"
#include "background_sync.hpp"
#include "items.hpp"
#include "job_identity.hpp"
#include "journal.hpp"
#include "output_path.hpp"
#include "progress.hpp"
#include "record_output.hpp"
#include "run_lock.hpp"
#include "setup_error.hpp"
#include "sources.hpp"
#include "staged_file.hpp"

namespace marcpipe::pipeline {

struct run_options {
    run_options() {}
    std::string program = "marcpipe";  // names the run in its messages
    std::string input;                 // the export or ID list; "-" standard input (not resumable)
    std::string output = "-";          // where records go; "-" standard output (not resumable)
    marc::output_format format = marc::output_format::marc21;
    std::string report;                // CSV report of the problems; empty: the first few on stderr
    std::string job;                   // whatever else decides the output ("require=583"); a resumed
                                       // run must have the same
    bool resume = false;               // carry on from the journal of an earlier run of the job
    bool restart = false;              // discard what an earlier, unfinished run left at the output
                                       // and start over (without it, such a run is refused)
    // When set, gives the input once the paths are checked and the locks held, before anything
    // of an earlier run is trusted (an Alma set's members, read then); `input` is ignored.
    std::function<std::string()> input_source;
    bool stop_on_signals = true;       // SIGINT, SIGTERM and SIGHUP stop the run, state saved
    std::optional<bool> show_progress; // a progress line on stderr; default: when it is a terminal
    std::size_t problems_shown = 20;   // without a report, how many problems stderr shows
};

// How a run ended, and the status a program exits with.
struct run_result {
    bool stopped = false;            // stopped early: state saved, --resume finishes it
    bool already_finished = false;   // an earlier run had finished; only its renames were left
    std::string stop_reason;
    std::uint64_t bibs_done = 0;     // bibs finished and saved (all of them when not stopped)
    std::uint64_t records = 0;       // records in the output
    std::uint64_t problems = 0;      // problems reported
    std::uint64_t requests = 0, retries = 0;
    double seconds = 0;

    static constexpr int ok = 0, some_failed = 1, usage = 2, stopped_early = 3;
    int exit_code() const noexcept { return stopped ? stopped_early : problems ? some_failed : ok; }
};

// A holdings record asked for ahead of its turn; `done` once the answer (or the problem) is in.
struct pending_holding {
    bool done = false;
    alma::outcome<alma::holding> result;
};

namespace detail {
inline std::atomic<int> run_signal{0};
extern "C" inline void on_run_signal(int sig) { run_signal = sig; }
}  // namespace detail

class run {
public:
    // A run whose stages share `client`. With the default options it writes to standard output
    // and keeps no state on disk; name an output file to make it resumable.
    explicit run(alma::client& client, run_options options = {}) : client_{&client}, options_{std::move(options)} {
        open();
    }
    run(run const&) = delete;
    run& operator=(run const&) = delete;
    ~run() {
        if (tick_) client_->loop().cancel(*tick_);
        // The requests still in flight fill this run's tables.
        client_->loop().destroy_spawned();
    }

    // ---- what the stages share -----------------------------------------------------------

    alma::client& client() noexcept { return *client_; }
    net::event_loop& loop() noexcept { return client_->loop(); }
    alma::problem_log& problems() noexcept { return problems_; }
    run_progress& progress() noexcept { return progress_; }
    run_progress const& progress() const noexcept { return progress_; }
    alma::answer_log* answers() noexcept { return answers_ ? &*answers_ : nullptr; }
    bool stopped() const noexcept { return client_->http().stopped(); }

    // Drives the loop until `ready()` holds; throws alma::fatal_error once the run has stopped
    // (every stage waiting on the loop then unwinds). Whoever waits here was called by the
    // consumer asking for its next item, so this is also a moment to see which bibs are finished.
    template <typename Ready>
    void wait_until(Ready ready) {
        note_finished_bibs();
        auto& http = client_->http();
        http.loop().run_until([&] { return http.stopped() || ready(); });
        if (http.stopped()) throw alma::fatal_error(http.stop_reason());
    }

    // Alma's calls for a bib go in the order of the bib's position (bib_seq is their
    // priority_key): a record of the oldest unfinished bib goes before the list of a later one,
    // so records reach the output from the first seconds and checkpoints advance steadily.

    // The holding IDs of the bib at `bib_seq`: from the answer log, or from Alma.
    coro::task<alma::outcome<std::vector<std::string>>> holdings_of(std::uint64_t bib_seq, std::string mms_id) {
        if (answers_)
            if (auto known = answers_->recall_list(bib_seq, mms_id)) co_return std::move(*known);
        auto answer = co_await client_->holdings_list(mms_id, bib_seq);
        if (keeps(answer)) answers_->remember_list(bib_seq, mms_id, answer);
        co_return answer;
    }

    // Asks for a holdings record of the bib at `bib_seq` into `pending`: from the answer log, or Alma.
    coro::task<void> fill(std::shared_ptr<pending_holding> pending, std::uint64_t bib_seq, std::string mms_id,
                          std::string holding_id) {
        if (answers_)
            if (auto known = answers_->recall_record(bib_seq, mms_id, holding_id)) {
                pending->result = std::move(*known);
                pending->done = true;
                co_return;
            }
        pending->result = co_await client_->holding_record(mms_id, holding_id, bib_seq);
        if (keeps(pending->result)) answers_->remember_record(bib_seq, mms_id, holding_id, pending->result);
        pending->done = true;
    }

    // Asking early for holdings records. The stage that fetches records turns this on; the stage
    // that lists holdings then asks for each record as soon as its bib's list arrives, even while
    // an earlier bib's answer is still being retried, so one slow answer does not leave the rate
    // unused. At most `limit` records are held this way.
    void enable_prefetch(std::size_t limit) noexcept { prefetch_limit_ = limit; }
    bool prefetching() const noexcept { return prefetch_limit_ > 0; }
    void prefetch_holding(std::uint64_t bib_seq, std::string const& mms_id, std::string const& holding_id) {
        if (prefetched_.size() >= prefetch_limit_ || stopped()) return;
        auto key = std::make_pair(mms_id, holding_id);
        if (prefetched_.count(key)) return;
        auto pending = std::make_shared<pending_holding>();
        prefetched_.emplace(std::move(key), pending);
        loop().spawn(fill(pending, bib_seq, mms_id, holding_id));
    }
    // The early request for this holding, if there is one; the caller takes it over.
    std::shared_ptr<pending_holding> take_prefetched(std::string const& mms_id, std::string const& holding_id) {
        auto it = prefetched_.find(std::make_pair(mms_id, holding_id));
        if (it == prefetched_.end()) return nullptr;
        auto pending = std::move(it->second);
        prefetched_.erase(it);
        return pending;
    }

    // The oldest bib a stage holds (nothing: none), asked whenever the run looks for finished
    // bibs. The mark lasts as long as the returned handle.
    using oldest_held = std::function<std::optional<std::uint64_t>()>;
    class mark {
    public:
        mark() = default;
        mark(run& r, oldest_held f) : run_{&r}, it_{r.marks_.insert(r.marks_.end(), std::move(f))} {}
        mark(mark&& o) noexcept : run_{std::exchange(o.run_, nullptr)}, it_{o.it_} {}
        mark& operator=(mark&& o) noexcept {
            if (this != &o) {
                release();
                run_ = std::exchange(o.run_, nullptr);
                it_ = o.it_;
            }
            return *this;
        }
        ~mark() { release(); }

    private:
        void release() noexcept {
            if (run_) run_->marks_.erase(it_);
            run_ = nullptr;
        }
        run* run_ = nullptr;
        std::list<oldest_held>::iterator it_;
    };
    [[nodiscard]] mark hold_mark(oldest_held f) { return mark{*this, std::move(f)}; }

    // Called with N whenever the first N bibs are finished (after the run's own checkpoint).
    std::function<void(std::uint64_t)> on_bibs_finished;

    // Looks whether more bibs are finished; the consumer must have taken every item handed to it.
    void note_finished_bibs() {
        if (marks_.empty()) return;
        std::uint64_t oldest = UINT64_MAX;
        for (auto const& held : marks_)
            if (auto seq = held()) oldest = std::min(oldest, *seq);
        if (oldest == UINT64_MAX || oldest <= bibs_done_) return;
        bibs_finished(oldest);
    }

    // ---- input ---------------------------------------------------------------------------

    // Bibs before this one were finished by an earlier run of the job.
    std::uint64_t first_bib() const noexcept { return start_.bibs_done; }
    // How many bibs the input holds, when it is a file (counted before the run starts).
    std::optional<std::uint64_t> total_bibs() const noexcept { return total_bibs_; }

    // The bibs of options.input from first_bib() on; bad records become problems of this run.
    // None when the earlier run had finished: write() then only reports it.
    coro::generator<bib> bibs() {
        if (already_finished_) return nothing_left();
        if (!input_) throw setup_error(options_.program + ": the run was given no input");
        opened_input in = std::move(*input_);
        input_.reset();
        return from_input(std::move(in));
    }

    // ---- output --------------------------------------------------------------------------

    // Writes the records of `holdings` (holding_records) to the output and ends the run:
    // finished (problems released, files renamed, journal removed) or stopped (state saved).
    // A record that cannot be written becomes a problem; the records around it are written.
    template <typename Range>
    run_result write(Range&& holdings) {
        writes_records_ = true;
        return drive(std::forward<Range>(holdings), [this](auto const& h) {
            if (auto trouble = records_->write(h.bib_seq, record_of(h)))
                problems_.add(h.bib_seq, alma::problem{alma::stage::write_record, h.mms_id, h.holding_id, 0, "",
                                                       trouble->message(), ""});
        });
    }

    // Runs `items` to its end, handing each item to `consume` (a program that writes something
    // other than records: holding IDs, say), and ends the run as write() does.
    template <typename Range, typename Consume>
    run_result drive(Range&& items, Consume consume) {
        run_result result;
        if (already_finished_) {
            result.already_finished = true;
            result.bibs_done = start_.bibs_done;
            result.records = start_.records;
            result.problems = start_.problems;
            return result;
        }
        auto const started = std::chrono::steady_clock::now();
        driving_ = true;
        start_ticking();
        try {
            // Finished bibs are looked for once an item is consumed, before the next is asked
            // for: never while an item is on its way, whose bib is held by no stage any more.
            auto const end = ranges::end(items);
            for (auto it = ranges::begin(items); it != end; ++it) {
                consume(*it);
                note_finished_bibs();
            }
        } catch (alma::fatal_error const& e) {
            result.stopped = true;
            result.stop_reason = client_->http().scrub(e.what());
        }
        stop_ticking();
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto const& stats = client_->http().stats();
        result.requests = stats.requests;
        result.retries = stats.retries;
        if (result.stopped) {
            save_state();
        } else {
            bibs_finished(UINT64_MAX);
            finish_files();
        }
        driving_ = false;
        result.bibs_done = bibs_done_;
        result.records = records_->records();
        result.problems = problems_reported_;
        return result;
    }

    // What a program says when the run ends: one line, or three when it stopped.
    std::string summary(run_result const& r) const {
        std::ostringstream o;
        std::string const& p = options_.program;
        if (r.already_finished) {
            o << p << ": the run had already finished: " << r.records << " records in " << options_.output << ", "
              << r.problems << " problems";
            return o.str();
        }
        auto stats = [&] {
            o << r.requests << " requests (" << r.retries << " retries) in " << format_duration(r.seconds) << ", "
              << std::fixed << std::setprecision(1)
              << (r.seconds > 0 ? static_cast<double>(r.requests) / r.seconds : 0.0) << " req/s";
            if (auto left = client_->http().stats().quota_remaining) o << "; Alma says " << *left << " calls left today";
        };
        if (r.stopped) {
            o << p << ": stopped: " << r.stop_reason << "\n"
              << p << ": " << r.bibs_done << (total_bibs_ ? " of " + std::to_string(*total_bibs_) : "")
              << " bibs finished and saved; ";
            stats();
            o << "\n" << p << ": ";
            if (to_stdout())
                o << "the output went to standard output, so this run cannot be resumed; fix the cause and run it again";
            else if (!output_target_.is_file())
                o << "the output went to a device or FIFO, so this run cannot be resumed; fix the cause and run it "
                     "again";
            else if (!resumable())
                o << "the report went to " << options_.report
                  << ", a device or FIFO, so this run cannot be resumed (a resumable run needs its report in a "
                     "regular file); fix the cause and run it again";
            else
                o << "fix the cause, then rerun the same command with --resume to finish";
            return o.str();
        }
        // A run given no input took its bibs from its source stage (the pairs of a report, say).
        std::string const source = options_.input.empty() ? std::string{"the pipeline's source"}
                                   : input_format_ == marc::input_format::mms_id_list
                                       ? std::string{"a list of MMS IDs"}
                                       : "a " + std::string{to_string(input_format_)} + " export";
        o << p << ": " << (total_bibs_ ? *total_bibs_ : first_bib() + progress_.bibs_listed) << " bibs from " << source
          << ", " << r.records << " holdings records written to "
          << (to_stdout() ? std::string{"standard output"} : net::printable(options_.output)) << " ("
          << to_string(options_.format) << ")";
        if (first_bib()) o << ", resumed after bib " << first_bib();
        if (recalled_) o << " (" << recalled_ << " answers taken from the interrupted run)";
        o << "; " << r.problems << " problems";
        if (r.problems && !options_.report.empty()) o << " (see " << net::printable(options_.report) << ")";
        if (auto open = progress_.bibs_listed_after_availability)
            o << "; " << open << " bibs asked for their holdings list (availability could not vouch for them)";
        o << "; ";
        stats();
        return o.str();
    }

private:
    bool to_stdout() const noexcept { return options_.output == "-"; }
    // A run whose outputs are all regular files keeps a journal and can be resumed; standard
    // output, a device or a FIFO is written directly, with nothing to go back to.
    bool resumable() const noexcept {
        return output_target_.is_file() && (!report_target_ || report_target_->is_file());
    }
    // Beside the file the output goes to (a link followed), where its lock is: one job's state
    // whichever name the output is given by.
    std::string journal_path() const { return output_target_.journal_path(); }
    std::string answers_path() const { return output_target_.answers_path(); }

    // Whether an answer goes into the answer log: one that settles its question, and not one
    // cut short by the run stopping.
    template <typename T>
    bool keeps(alma::outcome<T> const& answer) const {
        return answers_ && !stopped() && alma::settled(answer);
    }

    // The job's identity in the journal (job_identity.hpp): where it asks (the base URL), the
    // input as it is on disk (its content hashed), and whatever else decides the output.
    job_parts job_identity_parts() const {
        job_parts parts{{"base", client_->urls().api_root()}};
        for (auto& part : input_identity(options_.input)) parts.push_back(std::move(part));
        parts.emplace_back("format", std::string{to_string(options_.format)});
        parts.emplace_back("errors", absolute_name(options_.report));
        if (!options_.job.empty()) parts.emplace_back("options", options_.job);
        return parts;
    }
    std::string job_identity() const { return job_line(job_identity_parts()); }

    // Everything that can go wrong before the first call goes wrong here.
    void open() {
        try {
            open_files();
        } catch (path_refused const& e) {
            throw setup_error(options_.program + ": " + e.what());
        } catch (run_lock_held const& e) {
            throw setup_error(options_.program + ": " + e.what());
        } catch (journal_error const& e) {
            throw setup_error(options_.program + ": " + e.what());
        } catch (std::system_error const& e) {
            // A file that cannot be opened or created: still before any call.
            throw setup_error(options_.program + ": " + e.what());
        }
    }

    void open_files() {
        std::string const& p = options_.program;
        if (options_.resume && to_stdout())
            throw setup_error(p + ": --resume needs an output file (-o PATH), not standard output");
        if (options_.resume && options_.input == "-")
            throw setup_error(p + ": --resume needs the input as a file, not standard input");
        if (options_.resume && options_.restart)
            throw setup_error(p + ": --resume finishes an earlier run, --restart discards it: give one of them");
        // The paths first, then the locks: a refused path must not leave a lock file behind,
        // and nothing of an earlier run (journal, side files) is read or cut before the locks
        // are held.
        auto paths = check_paths(options_.input, options_.output, options_.report);
        output_target_ = paths.output;
        report_target_ = paths.report;
        if (options_.resume && !resumable())
            for (auto const* t : {&output_target_, report_target_ ? &*report_target_ : nullptr})
                if (t && t->is_stream())
                    throw setup_error(p + ": --resume needs regular files; " + t->path +
                                      " is a device or FIFO, written directly, with nothing kept to resume");
        for (auto const* t : {&output_target_, report_target_ ? &*report_target_ : nullptr})
            if (t && t->is_file()) locks_.emplace_back(t->file, p);
        if (output_target_.is_file() && !options_.resume) unfinished_run_met();

        // An Alma set's members are read only now, with the locks held and every path checked.
        if (options_.input_source) {
            options_.input = options_.input_source();
            check_paths(options_.input, options_.output, options_.report);
        }
        std::string const job = resumable() ? job_identity() : std::string{};

        // Where this run starts: the last checkpoint whose bytes are all in the files written aside.
        std::optional<journal_state> previous;
        if (options_.resume) {
            auto size_of = [](output_target const& t) -> std::uint64_t {
                std::error_code ec;
                auto n = std::filesystem::file_size(t.side_path(), ec);
                return ec ? 0 : n;
            };
            std::uint64_t const output_size = size_of(output_target_);
            std::uint64_t const report_size = report_target_ ? size_of(*report_target_) : 0;
            try {
                previous = journal::read(journal_path(), [&](checkpoint const& c) {
                    return c.output_bytes <= output_size && c.report_bytes <= report_size;
                });
            } catch (journal_error const& e) {
                throw setup_error(p + ": " + e.what());
            }
            if (previous && !same_job(job_identity_parts(), previous->job))
                throw setup_error(p + ": " + journal_path() + " belongs to a different job: " +
                                  job_difference(job_identity_parts(), previous->job) +
                                  "; rerun with --restart instead of --resume to discard it and start over");
            // No journal, and the output there: the run that wrote it finished.
            if (!previous && std::filesystem::exists(output_target_.file))
                throw setup_error(p + ": --resume: " + options_.output +
                                  " is complete (no journal at " + journal_path() +
                                  ": the run that wrote it finished); nothing to resume. To run the job again, leave "
                                  "out --resume");
            if (!previous) std::cerr << p << ": no journal at " << journal_path() << "; starting from the beginning\n";
        }
        bool const fresh = !(previous && previous->last);
        if (!fresh) start_ = *previous->last;
        bibs_done_ = start_.bibs_done;
        problems_reported_ = start_.problems;

        if (previous && previous->finished) {
            // Finished, and stopped only before its renames.
            for (auto const* t : {&output_target_, report_target_ ? &*report_target_ : nullptr})
                if (t && std::filesystem::exists(t->side_path())) std::filesystem::rename(t->side_path(), t->file);
            std::filesystem::remove(journal_path());
            alma::answer_log::remove_files(answers_path());
            already_finished_ = true;
            return;
        }

        if (!options_.input.empty()) {
            try {
                input_.emplace(open_input(options_.input));
            } catch (std::exception const& e) {
                throw setup_error(p + ": " + e.what());
            }
            input_format_ = input_->format;
            // A known total makes the progress line and the summary useful; a file is counted first.
            if (options_.input != "-") {
                try {
                    alma::problem_log ignore;
                    std::uint64_t n = 0;
                    for (auto const& b : pipeline::bibs(options_.input, &ignore)) n = b.seq + 1;
                    total_bibs_ = n;
                } catch (std::exception const&) {
                }
            }
        }

        output_.emplace(output_target_, fresh, start_.output_bytes);
        if (report_target_) {
            report_.emplace(*report_target_, fresh, start_.report_bytes);
            if (fresh) report_->write(alma::report_header);
        }
        if (resumable()) {
            journal_.emplace(journal_path(), job, fresh);
            // Answers of an earlier run of this job are kept even when it was killed before its
            // first checkpoint: they are all that run achieved.
            answers_.emplace(answers_path(), !previous, start_.bibs_done);
        }
        records_.emplace(*output_, options_.format, !fresh, start_.records);
    }

    // A run that is not a resume, at an output where an earlier run left its journal: refused,
    // since starting again would throw away what that run did (its calls included); with
    // `restart`, what it left is discarded.
    void unfinished_run_met() {
        std::string const& p = options_.program;
        if (options_.restart) {
            std::filesystem::remove(journal_path());
            alma::answer_log::remove_files(answers_path());
            return;
        }
        std::optional<journal_state> earlier;
        try {
            earlier = journal::read(journal_path());
        } catch (journal_error const& e) {
            throw setup_error(p + ": " + e.what() + "; remove it, or rerun with --restart to start over");
        }
        if (!earlier) return;
        std::string const state =
            earlier->finished ? "finished but was stopped before renaming its files"
                              : "did not finish (" + std::to_string(earlier->last ? earlier->last->bibs_done : 0) +
                                    " bibs finished and saved)";
        // Whether --resume fits can be told when the input is known (a set's is read later).
        std::string fits = " (if it is the same job)";
        if (!options_.input_source && resumable()) {
            auto const mine = job_identity_parts();
            fits = same_job(mine, earlier->job) ? " (it is the same job)"
                                                : " (if it were the same job; it is not: " +
                                                      job_difference(mine, earlier->job) + ")";
        }
        throw setup_error(p + ": " + journal_path() + " holds an earlier run of " + options_.output + " that " + state +
                          "; rerun with --resume to finish it" + fits +
                          ", or with --restart to discard it and start over");
    }

    static coro::generator<bib> nothing_left() { co_return; }

    coro::generator<bib> from_input(opened_input in) {
        // The bib about to be handed on is held here until the consumer takes it.
        std::uint64_t next = first_bib();
        mark held = hold_mark([&next]() -> std::optional<std::uint64_t> { return next; });
        for (auto& b : pipeline::bibs(std::move(in), &problems_)) {
            if (b.seq < first_bib()) continue;  // finished by the earlier run
            next = b.seq;
            co_yield b;
            next = b.seq + 1;
        }
        next = UINT64_MAX;
    }

    // The first `n` bibs are finished: their problems go out, and a checkpoint says so. A
    // pipeline iterated by its user rather than by drive() or write() keeps its problems in
    // problems() for the user to release.
    void bibs_finished(std::uint64_t n) {
        if (n <= bibs_done_ && n != UINT64_MAX) return;
        bibs_done_ = n;
        if (!driving_) {
            if (on_bibs_finished) on_bibs_finished(n);
            return;
        }
        problems_.release_before(n, [this](std::uint64_t seq, alma::problem const& p) { release(seq, p); });
        if (n == UINT64_MAX) return;
        auto [bytes, recs] = records_->prefix_before(n);
        if (answers_) answers_->bibs_done(n);
        if (journal_) journal_->record(checkpoint{n, bytes, report_ ? report_->bytes() : 0, recs, problems_reported_});
        if (on_bibs_finished) on_bibs_finished(n);
    }

    void release(std::uint64_t seq, alma::problem const& p) {
        if (seq < first_bib()) return;  // found again while reading past the finished bibs
        ++problems_reported_;
        // Every row and line passes here: each field scrubbed of the key and cut, wherever shown.
        auto const safe = [this](alma::problem const& q) {
            return alma::shown(q, [this](std::string_view text) { return client_->http().scrub(text); });
        };
        if (report_) {
            report_->write(alma::csv_row(safe(p)));
        } else if (shown_ < options_.problems_shown) {
            ++shown_;
            std::cerr << (progress_shown_ ? "\r\x1b[K" : "") << options_.program << ": "
                      << alma::describe(safe(p)) << "\n";
        }
    }

    void save_state() {
        records_->drain();
        output_->sync();
        if (report_) report_->sync();
        if (journal_) journal_->sync();
    }

    void finish_files() {
        // A MARCXML collection is opened and closed only in a run that writes records.
        if (writes_records_) records_->finish();
        checkpoint const final_state{UINT64_MAX, output_->bytes(), report_ ? report_->bytes() : 0,
                                     records_->records(), problems_reported_};
        output_->sync();
        if (report_) report_->sync();
        if (journal_) journal_->record_finished(final_state);
        output_->commit();
        if (report_) report_->commit();
        if (journal_) journal_->remove();
        if (answers_) {
            recalled_ = answers_->recalled();
            answers_->remove();
        }
    }

    // Signals, the progress line and background syncing live as long as write().
    void start_ticking() {
        if (options_.stop_on_signals) {
            detail::run_signal = 0;
            for (int sig : {SIGINT, SIGTERM, SIGHUP}) previous_handlers_[sig] = std::signal(sig, detail::on_run_signal);
        }
        show_progress_ = options_.show_progress.value_or(::isatty(STDERR_FILENO) == 1);
        std::vector<int> durable{output_->is_direct() ? -1 : output_->fd()};
        if (report_ && !report_->is_direct()) durable.push_back(report_->fd());
        if (journal_) durable.push_back(journal_->fd());
        syncer_.emplace(durable);
        progress_line_.emplace(progress_, total_bibs_, first_bib());
        schedule_tick();
    }
    void schedule_tick() {
        tick_ = loop().call_at(net::event_loop::clock::now() + std::chrono::milliseconds{500}, [this] {
            tick_.reset();
            auto& http = client_->http();
            if (int sig = detail::run_signal.load()) http.stop("interrupted by signal " + std::to_string(sig));
            if (show_progress_) {
                std::cerr << progress_line_->line(http.stats().requests, problems_.found()) << std::flush;
                progress_shown_ = true;
            }
            schedule_tick();
        });
    }
    void stop_ticking() {
        if (tick_) loop().cancel(*tick_);
        tick_.reset();
        if (progress_shown_) std::cerr << "\r\x1b[K";
        progress_shown_ = false;
        syncer_.reset();
        for (auto const& [sig, handler] : previous_handlers_) std::signal(sig, handler);
        previous_handlers_.clear();
    }

    alma::client* client_;
    run_options options_;
    alma::problem_log problems_;
    run_progress progress_;
    std::list<oldest_held> marks_;
    std::size_t prefetch_limit_ = 0;
    std::map<std::pair<std::string, std::string>, std::shared_ptr<pending_holding>> prefetched_;

    checkpoint start_;
    bool already_finished_ = false;
    bool writes_records_ = false;
    bool driving_ = false;
    std::uint64_t bibs_done_ = 0;
    std::uint64_t problems_reported_ = 0;
    std::uint64_t recalled_ = 0;
    std::size_t shown_ = 0;
    std::optional<opened_input> input_;
    marc::input_format input_format_ = marc::input_format::iso2709;
    std::optional<std::uint64_t> total_bibs_;

    // Declared before the files, so they are held until the files are closed.
    std::vector<run_lock> locks_;
    output_target output_target_;
    std::optional<output_target> report_target_;
    std::optional<staged_file> output_;
    std::optional<staged_file> report_;
    std::optional<journal> journal_;
    std::optional<alma::answer_log> answers_;
    std::optional<record_output> records_;

    std::optional<background_sync> syncer_;
    std::optional<progress_line> progress_line_;
    std::optional<net::event_loop::timer_id> tick_;
    bool show_progress_ = false;
    bool progress_shown_ = false;
    std::map<int, void (*)(int)> previous_handlers_;
};

}  // namespace marcpipe::pipeline
