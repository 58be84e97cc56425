// context: what every stage of a composition is given — the Alma client and its event loop, the
// problems found (in input order), the progress counts, the answers an interrupted run kept, and
// the marks that say which bibs are finished.
//
// A stage that reads ahead holds bibs back from the consumer. It tells the context the oldest bib
// it holds (hold_mark); when the consumer asks for its next item, every bib before the oldest one
// held by any stage has had all its records taken: those bibs are finished. What is done with
// that (a checkpoint, the release of their problems) is the business of whoever owns the context:
// run/run.hpp writes a journal; a pipeline of one's own can watch on_bibs_finished.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/report.hpp"
#include "marcpipe/coro/task.hpp"
#include "marcpipe/pipeline/answer_memo.hpp"
#include "marcpipe/pipeline/progress.hpp"

namespace marcpipe::pipeline {

// A holdings record asked for ahead of its turn; `done` once the answer (or the problem) is in.
struct pending_holding {
    bool done = false;
    alma::outcome<alma::holding> result;
};

class context {
public:
    explicit context(alma::client& client) : client_{&client} {}
    context(context const&) = delete;
    context& operator=(context const&) = delete;
    virtual ~context() {
        // The requests still in flight fill this context's tables.
        client_->loop().destroy_spawned();
    }

    alma::client& client() noexcept { return *client_; }
    net::event_loop& loop() noexcept { return client_->loop(); }
    alma::problem_log& problems() noexcept { return problems_; }
    run_progress& progress() noexcept { return progress_; }
    run_progress const& progress() const noexcept { return progress_; }
    answer_memo* answers() noexcept { return answers_; }
    bool stopped() const noexcept { return client_->http().stopped(); }

    // Drives the loop until `ready()` holds; throws (alma::throw_stop) once the client has
    // stopped (every stage waiting on the loop then unwinds). Whoever waits here was called by the
    // consumer asking for its next item, so this is also a moment to see which bibs are finished.
    template <typename Ready>
    void wait_until(Ready ready) {
        note_finished_bibs();
        auto& http = client_->http();
        http.loop().run_until([&] { return http.stopped() || ready(); });
        if (http.stopped()) alma::throw_stop(http);
    }

    // Alma's calls for a bib go in the order of the bib's position (bib_seq is their
    // priority_key): a record of the oldest unfinished bib goes before the list of a later one,
    // so records reach the output from the first seconds and checkpoints advance steadily.

    // The holding IDs of the bib at `bib_seq`: from the kept answers, or from Alma.
    coro::task<alma::outcome<std::vector<std::string>>> holdings_of(std::uint64_t bib_seq,
                                                                    std::string mms_id) {
        if (answers_)
            if (auto known = answers_->recall_list(bib_seq, mms_id)) co_return std::move(*known);
        auto answer = co_await client_->holdings_list(mms_id, bib_seq);
        if (keeps(answer)) answers_->remember_list(bib_seq, mms_id, answer);
        co_return answer;
    }

    // Asks for a holdings record of the bib at `bib_seq` into `pending`: from the kept answers, or
    // Alma.
    coro::task<void> fill(std::shared_ptr<pending_holding> pending, std::uint64_t bib_seq,
                          std::string mms_id, std::string holding_id) {
        if (answers_)
            if (auto known = answers_->recall_record(bib_seq, mms_id, holding_id)) {
                pending->result = std::move(*known);
                pending->done = true;
                co_return;
            }
        pending->result = co_await client_->holding_record(mms_id, holding_id, bib_seq);
        if (keeps(pending->result))
            answers_->remember_record(bib_seq, mms_id, holding_id, pending->result);
        pending->done = true;
    }

    // Asking early for holdings records. The stage that fetches records turns this on; the stage
    // that lists holdings then asks for each record as soon as its bib's list arrives, even while
    // an earlier bib's answer is still being retried, so one slow answer does not leave the rate
    // unused. At most `limit` records are held this way.
    void enable_prefetch(std::size_t limit) noexcept { prefetch_limit_ = limit; }
    bool prefetching() const noexcept { return prefetch_limit_ > 0; }
    void prefetch_holding(std::uint64_t bib_seq, std::string const& mms_id,
                          std::string const& holding_id) {
        if (prefetched_.size() >= prefetch_limit_ || stopped()) return;
        auto key = std::make_pair(mms_id, holding_id);
        if (prefetched_.count(key)) return;
        auto pending = std::make_shared<pending_holding>();
        prefetched_.emplace(std::move(key), pending);
        loop().spawn(fill(pending, bib_seq, mms_id, holding_id));
    }
    // The early request for this holding, if there is one; the caller takes it over.
    std::shared_ptr<pending_holding> take_prefetched(std::string const& mms_id,
                                                     std::string const& holding_id) {
        auto it = prefetched_.find(std::make_pair(mms_id, holding_id));
        if (it == prefetched_.end()) return nullptr;
        auto pending = std::move(it->second);
        prefetched_.erase(it);
        return pending;
    }

    // The oldest bib a stage holds (nothing: none), asked whenever the context looks for finished
    // bibs. The mark lasts as long as the returned handle.
    using oldest_held = std::function<std::optional<std::uint64_t>()>;
    class mark {
    public:
        mark() = default;
        mark(context& c, oldest_held f)
            : context_{&c}, it_{c.marks_.insert(c.marks_.end(), std::move(f))} {}
        mark(mark&& o) noexcept : context_{std::exchange(o.context_, nullptr)}, it_{o.it_} {}
        mark& operator=(mark&& o) noexcept {
            if (this != &o) {
                release();
                context_ = std::exchange(o.context_, nullptr);
                it_ = o.it_;
            }
            return *this;
        }
        ~mark() { release(); }

    private:
        void release() noexcept {
            if (context_) context_->marks_.erase(it_);
            context_ = nullptr;
        }
        context* context_ = nullptr;
        std::list<oldest_held>::iterator it_;
    };
    [[nodiscard]] mark hold_mark(oldest_held f) { return mark{*this, std::move(f)}; }

    // The first N bibs are finished (an owner that resumes a run starts with the earlier run's):
    // a source stage hands on bibs from here.
    std::uint64_t bibs_done() const noexcept { return bibs_done_; }

    // Called with N whenever the first N bibs are finished (after the owner's own bookkeeping).
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

protected:
    // The first `n` bibs are finished. An owner that keeps state per finished bib (a journal)
    // does its part, then calls this.
    virtual void bibs_finished(std::uint64_t n) {
        if (n <= bibs_done_ && n != UINT64_MAX) return;
        bibs_done_ = n;
        if (on_bibs_finished) on_bibs_finished(n);
    }
    // Answers an earlier run of the same job kept, recalled instead of asked again, and where the
    // answers of this one are kept; nothing: every question goes to Alma.
    void keep_answers(answer_memo* memo) noexcept { answers_ = memo; }

    std::uint64_t bibs_done_ = 0;

private:
    // Whether an answer is kept: one that settles its question, and not one cut short by the
    // client stopping.
    template <typename T>
    bool keeps(alma::outcome<T> const& answer) const {
        return answers_ && !stopped() && alma::settled(answer);
    }

    alma::client* client_;
    alma::problem_log problems_;
    run_progress progress_;
    answer_memo* answers_ = nullptr;
    std::list<oldest_held> marks_;
    std::size_t prefetch_limit_ = 0;
    std::map<std::pair<std::string, std::string>, std::shared_ptr<pending_holding>> prefetched_;
};

}  // namespace marcpipe::pipeline
