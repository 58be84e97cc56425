// ordered_window: the read-ahead every stage that asks Alma shares — keep a window of upstream
// items in flight, hand them on in input order, and tell the context the oldest bib held.
//
// A stage makes one slot per upstream item (or per group of bibs, for a call that asks about a
// hundred at once), starts its requests, and asks the window for the oldest slot; the window
// drives the event loop until that slot is ready. The coroutine that yields stays in the stage
// (a generator cannot yield from a function it calls), so a stage reads:
//
//   ordered_window<slot, first_bib, is_ready> window{context, size};
//   while (auto s = window.next(it, end, make_slot)) { ... window.handing_on(seq); co_yield ...; }
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <utility>

#include "marcpipe/pipeline/context.hpp"

namespace marcpipe::pipeline::detail {

// The oldest bib a stage holds: the one it is handing on, else the oldest read ahead, else
// (upstream not yet exhausted) the last one it took, of which more items may come.
// The context may ask in the middle of a refill (an upstream stage waiting), so the oldest read
// ahead is looked up when asked, never remembered.
// A stage that gathers bibs into a group before it asks (a bulk call) holds the group's first
// bib from the moment it took it: pulling the next one may run the event loop (an upstream
// stage waiting for an answer), and the context then looks for finished bibs.
struct held_bibs {
    std::optional<std::uint64_t> handing_on;
    std::optional<std::uint64_t> last_pulled;
    std::optional<std::uint64_t> filling;  // the first bib of the group being gathered
    bool exhausted = false;
    std::optional<std::uint64_t> oldest(std::optional<std::uint64_t> oldest_ahead) const {
        if (handing_on) return handing_on;
        if (oldest_ahead) return oldest_ahead;
        if (filling) return filling;
        if (!exhausted) return last_pulled;
        return std::nullopt;
    }
};

// Slot: what one request (or one group's requests) fills. FirstBib(slot): the first bib it holds.
// Ready(slot): its answers are in.
template <typename Slot, typename FirstBib, typename Ready>
class ordered_window {
public:
    ordered_window(context& c, std::size_t size) : context_{&c}, size_{size < 1 ? 1 : size} {}
    ordered_window(ordered_window const&) = delete;
    ordered_window& operator=(ordered_window const&) = delete;

    // Reads ahead from [it, end) while there is room and `more(oldest)` allows (oldest: the
    // oldest slot, or null), making each slot with `make(it, end, held)`, which takes what it
    // needs from upstream (noting each bib it takes in held.last_pulled) and starts its
    // requests. Then drives the loop until the oldest slot is ready and hands it over; null when
    // upstream and window are both empty. Throws alma::fatal_error once the client has stopped.
    template <typename It, typename End, typename Make, typename More>
    std::shared_ptr<Slot> next(It& it, End const& end, Make make, More more) {
        held_.handing_on.reset();
        while (ahead_.size() < size_ && it != end &&
               more(ahead_.empty() ? nullptr : ahead_.front().get())) {
            ahead_.push_back(make(it, end, held_));
            held_.filling.reset();
        }
        held_.exhausted = it == end;
        if (ahead_.empty()) return nullptr;
        context_->wait_until([this] { return Ready{}(*ahead_.front()); });
        std::shared_ptr<Slot> slot = std::move(ahead_.front());
        ahead_.pop_front();
        return slot;
    }
    template <typename It, typename End, typename Make>
    std::shared_ptr<Slot> next(It& it, End const& end, Make make) {
        return next(it, end, std::move(make), [](Slot const*) { return true; });
    }

    // The bib whose items the stage is handing on now: held until the stage asks for its next slot.
    void handing_on(std::uint64_t bib_seq) noexcept { held_.handing_on = bib_seq; }

private:
    context* context_;
    std::size_t size_;
    std::deque<std::shared_ptr<Slot>> ahead_;
    held_bibs held_;
    context::mark const mark_ = context_->hold_mark([this] {
        return held_.oldest(ahead_.empty() ? std::nullopt
                                           : std::optional{FirstBib{}(*ahead_.front())});
    });
};

// Takes up to `n` bibs from upstream into a group, holding the first from the moment it is
// taken (the window releases it once the group is among the slots ahead).
template <typename It, typename End, typename Bib>
void gather_bibs(It& it, End const& end, std::size_t n, held_bibs& held, std::vector<Bib>& group) {
    while (group.size() < n && it != end) {
        auto const& b = *it;
        held.last_pulled = b.seq;
        if (!held.filling) held.filling = b.seq;
        group.push_back(b);
        ++it;
    }
}

}  // namespace marcpipe::pipeline::detail
