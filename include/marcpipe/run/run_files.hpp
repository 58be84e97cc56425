// run_files: the files of one run and what makes it safe to stop at any moment —
//
//   - the output and the CSV report are written aside (PATH.part) and renamed at the end (a
//     link's target is; a device or FIFO is written directly and cannot be resumed, and paths
//     that must not be written are refused before the first call: see output_path.hpp);
//   - a lock on each file written aside keeps a second run off it (run_lock.hpp);
//   - a journal records a checkpoint each time the first N bibs are finished, naming the bytes
//     of output and report that hold exactly their records and problems (journal.hpp);
//   - every answer is kept on disk as it arrives (answer_log.hpp), so a resumed run asks
//     again only for what was in flight;
//   - a resume carries on from the last checkpoint of the same job, and finishes a run that had
//     finished but was stopped before its renames; a fresh run over an unfinished one is
//     refused unless it is asked to discard it (restart).
//
// Everything that can go wrong before the first call goes wrong in the constructor or in
// create(), as a setup_error naming the file.
#pragma once

#include <cstdint>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "marcpipe/alma/report.hpp"
#include "marcpipe/pipeline/context.hpp"
#include "marcpipe/run/answer_log.hpp"
#include "marcpipe/run/job_identity.hpp"
#include "marcpipe/run/journal.hpp"
#include "marcpipe/run/output_path.hpp"
#include "marcpipe/run/record_output.hpp"
#include "marcpipe/run/run_lock.hpp"
#include "marcpipe/run/run_options.hpp"
#include "marcpipe/run/setup_error.hpp"
#include "marcpipe/run/staged_file.hpp"

namespace marcpipe::pipeline {

class run_files {
public:
    // The files of a run of `options` against Alma at `api_root` (part of the job's identity).
    // Reads `options.input_source`, when set, once the paths are checked and the locks held,
    // giving it the run's `owner`.
    run_files(run_options& options, std::string api_root, context& owner)
        : options_{&options}, api_root_{std::move(api_root)}, owner_{&owner} {
        before_any_call([this] { open(); });
    }
    run_files(run_files const&) = delete;
    run_files& operator=(run_files const&) = delete;

    // Where the run starts: the earlier run's last checkpoint (nothing finished: all zero).
    checkpoint const& start() const noexcept { return start_; }
    // An earlier run had finished and was stopped only before its renames, which are now done.
    bool already_finished() const noexcept { return already_finished_; }
    bool to_stdout() const noexcept { return options_->output == "-"; }
    // A run whose outputs are all regular files keeps a journal and can be resumed; standard
    // output, a device or a FIFO is written directly, with nothing to go back to.
    bool resumable() const noexcept {
        return output_target_.is_file() && (!report_target_ || report_target_->is_file());
    }
    // Why a stopped run cannot be resumed, in the library's words; empty when it can.
    std::string why_not_resumable() const {
        if (to_stdout()) return "the output went to standard output";
        if (!output_target_.is_file()) return "the output went to a device or FIFO";
        if (!resumable())
            return "the report went to " + options_->report +
                   ", a device or FIFO (a resumable run needs its report in a regular file)";
        return {};
    }

    record_output& records() noexcept { return *records_; }
    staged_file* report() noexcept { return report_ ? &*report_ : nullptr; }
    answer_log* answers() noexcept { return answers_ ? &*answers_ : nullptr; }
    // Answers an earlier run left and this one used (known once the run has finished).
    std::uint64_t recalled() const noexcept { return recalled_; }

    // The descriptors worth syncing while the run goes on (what is written aside, the journal).
    std::vector<int> durable_fds() const {
        std::vector<int> fds{output_->is_direct() ? -1 : output_->fd()};
        if (report_ && !report_->is_direct()) fds.push_back(report_->fd());
        if (journal_) fds.push_back(journal_->fd());
        return fds;
    }

    // The first `n` bibs are finished, with `problems` problems reported in all: a checkpoint.
    void bibs_finished(std::uint64_t n, std::uint64_t problems) {
        auto [bytes, recs] = records_->prefix_before(n);
        if (answers_) answers_->bibs_done(n);
        if (journal_)
            journal_->record(checkpoint{n, bytes, report_ ? report_->bytes() : 0, recs, problems});
    }

    // Stopped: what is written so far is made durable, for a resume.
    void save_state() {
        records_->drain();
        output_->sync();
        if (report_) report_->sync();
        if (journal_) journal_->sync();
    }

    // The run could ask nothing (it was configured wrong): a fresh run's files go, as if it had
    // never started; a resumed run's are saved, as a stop saves them.
    void abandon() {
        if (!fresh_ || earlier_answers_) return save_state();
        for (auto* f : {&output_, &report_})
            if (*f && !(*f)->is_direct()) std::filesystem::remove((*f)->side_path());
        if (journal_) journal_->remove();
        if (answers_) answers_->remove();
    }

    // Finished: the files are closed and renamed into place, and the journal and answers go.
    void finish(bool writes_records, std::uint64_t problems) {
        // A MARCXML collection is opened and closed only in a run that writes records.
        if (writes_records) records_->finish();
        checkpoint const final_state{UINT64_MAX, output_->bytes(), report_ ? report_->bytes() : 0,
                                     records_->records(), problems};
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

private:
    // Beside the file the output goes to (a link followed), where its lock is: one job's state
    // whichever name the output is given by.
    std::string journal_path() const { return output_target_.journal_path(); }
    std::string answers_path() const { return output_target_.answers_path(); }

    // The job's identity in the journal (job_identity.hpp): where it asks (the base URL), the
    // input as it is on disk (its content hashed), and whatever else decides the output.
    job_parts job_identity_parts() const {
        job_parts parts{{"base", api_root_}};
        for (auto& part : input_identity(options_->input)) parts.push_back(std::move(part));
        parts.emplace_back("format", std::string{to_string(options_->format)});
        parts.emplace_back("errors", absolute_name(options_->report));
        if (!options_->job.empty()) parts.emplace_back("options", options_->job);
        return parts;
    }
    std::string job_identity() const { return job_line(job_identity_parts()); }

    void open() {
        run_options& o = *options_;
        std::string const& p = o.program;
        if (o.resume && to_stdout())
            throw setup_error(p + ": --resume needs an output file (-o PATH), not standard output");
        if (o.resume && o.input == "-")
            throw setup_error(p + ": --resume needs the input as a file, not standard input");
        if (o.resume && o.restart)
            throw setup_error(
                p + ": --resume finishes an earlier run, --restart discards it: give one of them");
        // The paths first, then the locks: a refused path must not leave a lock file behind,
        // and nothing of an earlier run (journal, side files) is read or cut before the locks
        // are held.
        auto paths = check_paths(o.input, o.output, o.report, o.more_inputs);
        output_target_ = paths.output;
        report_target_ = paths.report;
        if (o.resume && !resumable())
            for (auto const* t : {&output_target_, report_target_ ? &*report_target_ : nullptr})
                if (t && t->is_stream())
                    throw setup_error(
                        p + ": --resume needs regular files; " + t->path +
                        " is a device or FIFO, written directly, with nothing kept to resume");
        for (auto const* t : {&output_target_, report_target_ ? &*report_target_ : nullptr})
            if (t && t->is_file()) locks_.emplace_back(t->file, p);
        if (output_target_.is_file() && !o.resume) unfinished_run_met();

        // An Alma set's members are read only now, with the locks held and every path checked.
        if (o.input_source) {
            o.input = o.input_source(*owner_);
            check_paths(o.input, o.output, o.report, o.more_inputs);
        }
        std::string const job = resumable() ? job_identity() : std::string{};

        // Where this run starts: the last checkpoint whose bytes are all in the files written
        // aside.
        std::optional<journal_state> previous;
        if (o.resume) previous = earlier_run();
        bool const fresh = !(previous && previous->last);
        if (!fresh) start_ = *previous->last;

        if (previous && previous->finished) {
            // Finished, and stopped only before its renames.
            for (auto const* t : {&output_target_, report_target_ ? &*report_target_ : nullptr})
                if (t && std::filesystem::exists(t->side_path()))
                    std::filesystem::rename(t->side_path(), t->file);
            std::filesystem::remove(journal_path());
            answer_log::remove_files(answers_path());
            already_finished_ = true;
            return;
        }

        job_ = job;
        fresh_ = fresh;
        earlier_answers_ = previous.has_value();
    }

public:
    // Creates (or, resuming, reopens) the files the run writes; after the input is opened, so
    // that an input that cannot be read leaves nothing behind.
    void create() {
        before_any_call([this] { make_files(); });
    }

private:
    // What goes wrong here is a setup error: nothing has been asked of Alma yet.
    template <typename F>
    void before_any_call(F f) {
        try {
            f();
        } catch (path_refused const& e) {
            throw setup_error(options_->program + ": " + e.what());
        } catch (run_lock_held const& e) {
            throw setup_error(options_->program + ": " + e.what());
        } catch (journal_error const& e) {
            throw setup_error(options_->program + ": " + e.what());
        } catch (std::system_error const& e) {
            // A file that cannot be opened or created.
            throw setup_error(options_->program + ": " + e.what());
        }
    }

    void make_files() {
        output_.emplace(output_target_, fresh_, start_.output_bytes);
        if (report_target_) {
            report_.emplace(*report_target_, fresh_, start_.report_bytes);
            if (fresh_) report_->write(alma::report_header);
        }
        if (resumable()) {
            journal_.emplace(journal_path(), job_, fresh_);
            // Answers of an earlier run of this job are kept even when it was killed before its
            // first checkpoint: they are all that run achieved.
            answers_.emplace(answers_path(), !earlier_answers_, start_.bibs_done);
        }
        records_.emplace(*output_, options_->format, !fresh_, start_.records);
    }

    // The journal of the run being resumed, checked to be of the same job; nothing when there
    // is none (then the whole job runs).
    std::optional<journal_state> earlier_run() const {
        std::string const& p = options_->program;
        auto size_of = [](output_target const& t) -> std::uint64_t {
            std::error_code ec;
            auto n = std::filesystem::file_size(t.side_path(), ec);
            return ec ? 0 : n;
        };
        std::uint64_t const output_size = size_of(output_target_);
        std::uint64_t const report_size = report_target_ ? size_of(*report_target_) : 0;
        std::optional<journal_state> previous;
        try {
            previous = journal::read(journal_path(), [&](checkpoint const& c) {
                return c.output_bytes <= output_size && c.report_bytes <= report_size;
            });
        } catch (journal_error const& e) {
            throw setup_error(p + ": " + e.what());
        }
        if (previous && !same_job(job_identity_parts(), previous->job))
            throw setup_error(
                p + ": " + journal_path() + " belongs to a different job: " +
                job_difference(job_identity_parts(), previous->job) +
                "; rerun with --restart instead of --resume to discard it and start over");
        // No journal, and the output there: the run that wrote it finished.
        if (!previous && std::filesystem::exists(output_target_.file))
            throw setup_error(
                p + ": --resume: " + options_->output + " is complete (no journal at " +
                journal_path() +
                ": the run that wrote it finished); nothing to resume. To run the job again, leave "
                "out --resume");
        if (!previous)
            std::cerr << p << ": no journal at " << journal_path()
                      << "; starting from the beginning\n";
        return previous;
    }

    // A run that is not a resume, at an output where an earlier run left its journal: refused,
    // since starting again would throw away what that run did (its calls included); with
    // `restart`, what it left is discarded.
    void unfinished_run_met() {
        std::string const& p = options_->program;
        if (options_->restart) {
            std::filesystem::remove(journal_path());
            answer_log::remove_files(answers_path());
            return;
        }
        std::optional<journal_state> earlier;
        try {
            earlier = journal::read(journal_path());
        } catch (journal_error const& e) {
            throw setup_error(p + ": " + e.what() +
                              "; remove it, or rerun with --restart to start over");
        }
        if (!earlier) return;
        std::string const state =
            earlier->finished ? "finished but was stopped before renaming its files"
                              : "did not finish (" +
                                    std::to_string(earlier->last ? earlier->last->bibs_done : 0) +
                                    " bibs finished and saved)";
        // Whether --resume fits can be told when the input is known (a set's is read later).
        std::string fits = " (if it is the same job)";
        if (!options_->input_source && resumable()) {
            auto const mine = job_identity_parts();
            fits = same_job(mine, earlier->job) ? " (it is the same job)"
                                                : " (if it were the same job; it is not: " +
                                                      job_difference(mine, earlier->job) + ")";
        }
        throw setup_error(p + ": " + journal_path() + " holds an earlier run of " +
                          options_->output + " that " + state +
                          "; rerun with --resume to finish it" + fits +
                          ", or with --restart to discard it and start over");
    }

    run_options* options_;
    std::string api_root_;
    context* owner_;
    checkpoint start_;
    std::string job_;
    bool fresh_ = true;
    bool earlier_answers_ = false;
    bool already_finished_ = false;
    std::uint64_t recalled_ = 0;

    // Declared before the files, so they are held until the files are closed.
    std::vector<run_lock> locks_;
    output_target output_target_;
    std::optional<output_target> report_target_;
    std::optional<staged_file> output_;
    std::optional<staged_file> report_;
    std::optional<journal> journal_;
    std::optional<answer_log> answers_;
    std::optional<record_output> records_;
};

}  // namespace marcpipe::pipeline
