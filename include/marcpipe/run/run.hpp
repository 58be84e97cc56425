// run: one export run — the context its stages share (pipeline/context.hpp), its input, and its
// files (run_files.hpp), so that it can be stopped at any moment (a signal, a fatal answer such
// as a bad key or the daily threshold) with its state saved, and resumed later.
//
//   pipeline::run run{client, options};               // options.input, .output, .report, .resume
//   auto result = run.write(run.bibs() | pipeline::holdings_ids(run) |
//   pipeline::holdings_records(run)
//                           | pipeline::rewrite_001_004 | pipeline::require_field("583"));
//   std::cerr << run.summary(result) << "\n";
//   return result.exit_code();
//
// Problems are released in input order: a problem of bib N is written to the report (or, with no
// report, shown on standard error) once every bib before N is finished, so two runs of one job
// write the same report and a resumed run can cut it where the output was cut.
//
// Which bibs are finished the context learns from the marks of the stages that hold bibs back
// (the run's source holds the bib it is handing on). A stage of your own that holds items back
// must hold a mark too, or checkpoints would run ahead of the output.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <iostream>
#include <optional>
#include <range/v3/range/access.hpp>
#include <string>
#include <utility>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/report.hpp"
#include "marcpipe/coro/generator.hpp"
#include "marcpipe/pipeline/context.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/sources.hpp"
#include "marcpipe/run/background_sync.hpp"
#include "marcpipe/run/progress_line.hpp"
#include "marcpipe/run/run_files.hpp"
#include "marcpipe/run/run_options.hpp"
#include "marcpipe/run/setup_error.hpp"
#include "marcpipe/run/signal_watch.hpp"
#include "marcpipe/run/summary.hpp"

namespace marcpipe::pipeline {

class run : public context {
public:
    // A run whose stages share `client`. With the default options it writes to standard output
    // and keeps no state on disk; name an output file to make it resumable.
    explicit run(alma::client& client, run_options options = {})
        : context{client},
          options_{std::move(options)},
          files_{options_, client.urls().api_root(), *this} {
        bibs_done_ = first_bib();
        problems_reported_ = files_.start().problems;
        if (files_.already_finished()) return;
        open_input();
        files_.create();
        keep_answers(files_.answers());
    }
    ~run() override {
        if (tick_) loop().cancel(*tick_);
        // The requests still in flight fill this run's tables.
        loop().destroy_spawned();
    }

    // Bibs before this one were finished by an earlier run of the job.
    std::uint64_t first_bib() const noexcept { return files_.start().bibs_done; }
    // How many bibs the input holds, when it is a file (counted before the run starts).
    std::optional<std::uint64_t> total_bibs() const noexcept { return total_bibs_; }

    // The bibs of options.input from first_bib() on; bad records become problems of this run.
    // None when the earlier run had finished: write() then only reports it.
    coro::generator<bib> bibs() {
        if (files_.already_finished()) return nothing_left();
        if (!input_) throw setup_error(options_.program + ": the run was given no input");
        opened_input in = std::move(*input_);
        input_.reset();
        return from_input(std::move(in));
    }

    // Writes the records of `holdings` (holding_records) to the output and ends the run:
    // finished (problems released, files renamed, journal removed) or stopped (state saved).
    // A record that cannot be written becomes a problem; the records around it are written.
    template <typename Range>
    run_result write(Range&& holdings) {
        writes_records_ = true;
        return drive(std::forward<Range>(holdings), [this](auto const& h) {
            if (auto trouble = files_.records().write(h.bib_seq, record_of(h)))
                problems().add(h.bib_seq,
                               alma::problem{alma::stage::write_record, h.mms_id, h.holding_id, 0,
                                             "", trouble->message(), ""});
        });
    }

    // Runs `items` to its end, handing each item to `consume` (a program that writes something
    // other than records: holding IDs, say), and ends the run as write() does.
    template <typename Range, typename Consume>
    run_result drive(Range&& items, Consume consume) {
        run_result result;
        result.resumable = files_.resumable();
        if (files_.already_finished()) {
            result.already_finished = true;
            result.bibs_done = files_.start().bibs_done;
            result.records = files_.start().records;
            result.problems = files_.start().problems;
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
            result.stop_reason = client().http().scrub(e.what());
        } catch (alma::config_error const&) {
            // Pointed wrong (http:// to a TLS port): nothing could be asked, so nothing is kept.
            stop_ticking();
            driving_ = false;
            files_.abandon();
            throw;
        }
        stop_ticking();
        result.seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        auto const& stats = client().http().stats();
        result.requests = stats.requests;
        result.retries = stats.retries;
        if (result.stopped) {
            files_.save_state();
        } else {
            bibs_finished(UINT64_MAX);
            files_.finish(writes_records_, problems_reported_);
        }
        driving_ = false;
        result.bibs_done = bibs_done_;
        result.records = files_.records().records();
        result.problems = problems_reported_;
        return result;
    }

    // What a program says when the run ends (summary.hpp).
    std::string summary(run_result const& r) {
        run_facts f;
        f.program = options_.program;
        f.output = options_.output;
        f.report = options_.report;
        f.format = options_.format;
        f.input = input_format_;
        f.no_input = options_.input.empty();
        f.total_bibs = total_bibs_;
        f.first_bib = first_bib();
        f.bibs_seen = progress().bibs_listed;
        f.recalled = files_.recalled();
        f.bibs_listed_after_availability = progress().bibs_listed_after_availability;
        f.quota_remaining = client().http().stats().quota_remaining;
        f.why_not_resumable = files_.why_not_resumable();
        return pipeline::summary(r, f);
    }

protected:
    // The first `n` bibs are finished: their problems go out, and a checkpoint says so. A
    // pipeline iterated by its user rather than by drive() or write() keeps its problems in
    // problems() for the user to release.
    void bibs_finished(std::uint64_t n) override {
        if (n <= bibs_done_ && n != UINT64_MAX) return;
        if (!driving_) return context::bibs_finished(n);
        bibs_done_ = n;
        problems().release_before(
            n, [this](std::uint64_t seq, alma::problem const& p) { release(seq, p); });
        if (n == UINT64_MAX) return;
        files_.bibs_finished(n, problems_reported_);
        if (on_bibs_finished) on_bibs_finished(n);
    }

private:
    void open_input() {
        if (options_.input.empty()) return;
        try {
            input_.emplace(pipeline::open_input(options_.input));
        } catch (std::exception const& e) {
            throw setup_error(options_.program + ": " + e.what());
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

    static coro::generator<bib> nothing_left() { co_return; }

    coro::generator<bib> from_input(opened_input in) {
        // The bib about to be handed on is held here until the consumer takes it.
        std::uint64_t next = first_bib();
        mark held = hold_mark([&next]() -> std::optional<std::uint64_t> { return next; });
        for (auto& b : pipeline::bibs(std::move(in), &problems())) {
            if (b.seq < first_bib()) continue;  // finished by the earlier run
            next = b.seq;
            co_yield b;
            next = b.seq + 1;
        }
        next = UINT64_MAX;
    }

    void release(std::uint64_t seq, alma::problem const& p) {
        if (seq < first_bib()) return;  // found again while reading past the finished bibs
        ++problems_reported_;
        // Every row and line passes here: each field scrubbed of the key and cut, wherever shown.
        auto const safe = [this](alma::problem const& q) {
            return alma::shown(
                q, [this](std::string_view text) { return client().http().scrub(text); });
        };
        if (auto* report = files_.report()) {
            report->write(alma::csv_row(safe(p)));
        } else if (shown_ < options_.problems_shown) {
            ++shown_;
            std::cerr << (progress_shown_ ? "\r\x1b[K" : "") << options_.program << ": "
                      << alma::describe(safe(p)) << "\n";
        }
    }

    // Signals, the progress line and background syncing live as long as write().
    void start_ticking() {
        if (options_.stop_on_signals) signals_.emplace();
        show_progress_ = options_.show_progress.value_or(::isatty(STDERR_FILENO) == 1);
        syncer_.emplace(files_.durable_fds());
        progress_line_.emplace(progress(), total_bibs_, first_bib());
        schedule_tick();
    }
    void schedule_tick() {
        tick_ =
            loop().call_at(net::event_loop::clock::now() + std::chrono::milliseconds{500}, [this] {
                tick_.reset();
                auto& http = client().http();
                if (int sig = signals_ ? signals_->caught() : 0)
                    http.stop("interrupted by signal " + std::to_string(sig));
                if (show_progress_) {
                    std::cerr << progress_line_->line(http.stats().requests, problems().found())
                              << std::flush;
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
        signals_.reset();
    }

    run_options options_;
    run_files files_;
    bool writes_records_ = false;
    bool driving_ = false;
    std::uint64_t problems_reported_ = 0;
    std::size_t shown_ = 0;
    std::optional<opened_input> input_;
    marc::input_format input_format_ = marc::input_format::iso2709;
    std::optional<std::uint64_t> total_bibs_;

    std::optional<signal_watch> signals_;
    std::optional<background_sync> syncer_;
    std::optional<progress_line> progress_line_;
    std::optional<net::event_loop::timer_id> tick_;
    bool show_progress_ = false;
    bool progress_shown_ = false;
};

}  // namespace marcpipe::pipeline
