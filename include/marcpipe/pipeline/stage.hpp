// stage: the closure that makes a pipeline step pipeable and a segment of steps reusable.
//
// A stage wraps a function object that takes its upstream range (a view, or a container piped
// in as a temporary, which the stage then owns) and returns the downstream range — usually a
// coro::generator. Stages compose the way range-v3's view closures do:
//
//   range | stage               the stage applied to the range
//   stage | stage               a stage doing both, in order
//   stage | view_closure        a stage, then a range-v3 view (ranges::views::filter(f), ...)
//   view_closure | stage        a range-v3 view, then a stage
//
// so `auto west = rewrite_001_004 | require_field("583");` is a value that can be stored and
// piped into as often as wanted. Nothing runs until the final range is iterated.
//
// Why not range-v3's own closures (make_view_closure) for every stage: range-v3 takes only
// viewable ranges, and a stage is often handed what it must own — a container piped in as a
// temporary, or a coroutine generator that only one consumer may drive — so the stage takes its
// upstream by value and owns it for the life of its coroutine. A step that owns nothing is
// range-v3's own view (ranges::views::filter, transform) and composes with stages both ways.
//
// `when(condition, s)` is s when the condition holds and a stage that hands items on as they come
// otherwise: a step that a program's options decide on is left out by the composition.
//
// `modify(f)` is the stage for a step that edits each item in place (f takes it by non-const
// reference); for a step that drops items, ranges::views::filter works as it is; for anything
// else, write a function returning a coro::generator and wrap it in `stage{...}`.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

#include <range/v3/range/concepts.hpp>
#include <range/v3/range/traits.hpp>
#include <range/v3/view/view.hpp>

#include "marcpipe/coro/generator.hpp"
#include "marcpipe/pipeline/items.hpp"

namespace marcpipe::pipeline {

struct stage_base;

// Whether T is a pipeline stage (a pipeline::stage, or a type derived from one).
template <typename T>
concept pipeable_stage = std::derived_from<std::remove_cvref_t<T>, stage_base>;

// Whether T is a range-v3 view closure: ranges::views::filter(f), views::transform(g), views::take(n), ...
template <typename T>
concept view_closure = std::derived_from<std::remove_cvref_t<T>, ranges::views::view_closure_base>;

namespace detail {

// A container handed over as a temporary, made a view by a coroutine that owns it: range-v3 views
// refuse rvalue containers, and this one would otherwise die with the stage that received it.
template <typename Container>
coro::generator<ranges::range_value_t<Container>> owned(Container c) {
    for (auto& item : c) co_yield item;
}

template <typename Upstream>
auto as_view(Upstream up) {
    if constexpr (ranges::view_<Upstream>)
        return up;
    else
        return owned(std::move(up));
}

// Applies a range-v3 view closure to what a stage hands it.
template <typename Closure>
struct apply_view {
    Closure closure;
    template <typename Upstream>
    auto operator()(Upstream up) const {
        return as_view(std::move(up)) | closure;
    }
};

// First one step, then the other, on what the first hands on.
template <typename First, typename Second>
struct then {
    First first;
    Second second;
    template <typename Upstream>
    auto operator()(Upstream up) const {
        return second(as_upstream(first(std::move(up))));
    }
};
// (clang 14 deduces no aggregate's template arguments: P1816 came in clang 17.)
template <typename First, typename Second>
then(First, Second) -> then<First, Second>;

}  // namespace detail

// What every stage derives from; `range | stage` is found through it by argument-dependent lookup.
struct stage_base {
    template <typename Range, pipeable_stage Stage>
        requires ranges::input_range<Range>
    friend auto operator|(Range&& upstream, Stage const& s) {
        return s.apply(detail::as_upstream(std::forward<Range>(upstream)));
    }
};

// A stage made of a function object taking the upstream (by value) and returning a range.
template <typename Fn>
class stage : public stage_base {
public:
    constexpr explicit stage(Fn fn) : fn_{std::move(fn)} {}

    template <typename Upstream>
    auto apply(Upstream up) const {
        return fn_(std::move(up));
    }
    Fn const& function() const noexcept { return fn_; }

private:
    Fn fn_;
};
template <typename Fn>
stage(Fn) -> stage<Fn>;

// Composition. (Namespace-scope, found by argument-dependent lookup on the stage operand: they
// name `stage`, which is defined after stage_base.)
template <pipeable_stage First, pipeable_stage Second>
auto operator|(First const& a, Second const& b) {
    return stage{detail::then{a.function(), b.function()}};
}
template <pipeable_stage First, view_closure Closure>
auto operator|(First const& a, Closure b) {
    return stage{detail::then{a.function(), detail::apply_view<Closure>{std::move(b)}}};
}
template <view_closure Closure, pipeable_stage Second>
auto operator|(Closure a, Second const& b) {
    return stage{detail::then{detail::apply_view<Closure>{std::move(a)}, b.function()}};
}

namespace detail {

template <typename Range, typename F>
coro::generator<ranges::range_value_t<Range>> modify_each(Range upstream, F f) {
    using item_type = ranges::range_value_t<Range>;
    for (auto&& item : upstream) {
        if constexpr (std::is_const_v<std::remove_reference_t<decltype(item)>>) {
            item_type copy = item;
            f(copy);
            co_yield copy;
        } else {
            f(item);
            co_yield item;
        }
    }
}

}  // namespace detail

// `items | modify(f)`: calls f(item) on each item, by non-const reference, and hands the item on.
// The item is changed where it is — a container piped in by name sees its elements changed, as
// with std::for_each — except items of a const range, which are copied first.
template <typename F>
auto modify(F f) {
    return stage{[f = std::move(f)](auto upstream) { return detail::modify_each(std::move(upstream), f); }};
}

namespace detail {

// One item type whichever branch `when` takes: its stages are chosen at run time.
template <typename Item, typename Range>
coro::generator<Item> hand_on(Range items) {
    for (auto&& item : items) co_yield item;
}

}  // namespace detail

// `items | when(condition, s)`: `items | s` when the condition holds, else the items as they are.
// s must hand on items of the type it takes (a filter, a check, a step that edits).
template <pipeable_stage Stage>
auto when(bool condition, Stage s) {
    return stage{[condition, s = std::move(s)](auto upstream) {
        using item = ranges::range_value_t<decltype(upstream)>;
        return condition ? detail::hand_on<item>(s.apply(std::move(upstream)))
                         : detail::hand_on<item>(std::move(upstream));
    }};
}

}  // namespace marcpipe::pipeline
