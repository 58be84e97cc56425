// transforms: the stages that need no network — the WEST rewrite of 001/004 and the
// require_field filter — as pipeline stages (stage.hpp) over holdings records or marc::records.
#pragma once

#include <algorithm>
#include <iterator>
#include <string>
#include <string_view>
#include <utility>

#include <range/v3/range/concepts.hpp>
#include <range/v3/range/traits.hpp>

#include "../coro/generator.hpp"
#include "../marc/record.hpp"
#include "items.hpp"
#include "stage.hpp"

namespace marcpipe::pipeline {

namespace detail {

template <typename Range>
coro::generator<holding_record> rewrite_each(Range upstream);

struct rewrite_each_fn {
    template <typename Upstream>
    auto operator()(Upstream up) const {
        return rewrite_each(std::move(up));
    }
};

// The items of upstream for which keep(item) holds.
template <typename Range, typename Keep>
coro::generator<ranges::range_value_t<Range>> keep_if(Range upstream, Keep keep) {
    for (auto&& item : upstream)
        if (keep(std::as_const(item))) co_yield item;
}

struct has_field {
    std::string tag;
    template <typename Item>
    bool operator()(Item const& item) const {
        return record_of(item).has(tag);
    }
};

}  // namespace detail

// 001 := holding ID (replacing the first 001, or inserted as the first field); 004 := MMS ID
// (replacing the first 004, or inserted right after 001). Any further 001 or 004 is a stale
// legacy ID and is dropped: a record has one of each. Every other field keeps its content and
// place; the leader is left for the writer to recompute.
//
// Called on a record it rewrites that record; piped (`holdings | rewrite_001_004`) it rewrites
// each holdings record in place as it passes.
struct rewrite_001_004_fn : stage<detail::rewrite_each_fn> {
    constexpr rewrite_001_004_fn() : stage{detail::rewrite_each_fn{}} {}

    void operator()(marc::record& r, std::string_view holding_id, std::string_view mms_id) const {
        auto& fields = r.fields();
        auto const is = [](std::string_view tag) {
            return [tag](marc::field const& f) { return f.tag == tag; };
        };
        // Drop repeats first, so the positions found below stay valid.
        for (std::string_view tag : {std::string_view{"001"}, std::string_view{"004"}}) {
            auto first = std::find_if(fields.begin(), fields.end(), is(tag));
            if (first != fields.end())
                fields.erase(std::remove_if(std::next(first), fields.end(), is(tag)), fields.end());
        }
        auto f001 = std::find_if(fields.begin(), fields.end(), is("001"));
        if (f001 != fields.end())
            *f001 = marc::field{"001", std::string{holding_id}};
        else
            f001 = fields.insert(fields.begin(), marc::field{"001", std::string{holding_id}});
        auto f004 = std::find_if(fields.begin(), fields.end(), is("004"));
        if (f004 != fields.end())
            *f004 = marc::field{"004", std::string{mms_id}};
        else
            fields.insert(std::next(f001), marc::field{"004", std::string{mms_id}});
    }
    void operator()(holding_record& h) const { (*this)(h.record, h.holding_id, h.mms_id); }
};

inline constexpr rewrite_001_004_fn rewrite_001_004{};

namespace detail {
template <typename Range>
coro::generator<holding_record> rewrite_each(Range upstream) {
    for (auto&& item : upstream) {
        holding_record& h = item;
        rewrite_001_004(h);
        co_yield h;
    }
}
}  // namespace detail

// `records | require_field("583")`: keeps the records that have at least one field with the tag.
inline auto require_field(std::string tag) {
    return stage{[keep = detail::has_field{std::move(tag)}](auto upstream) {
        return detail::keep_if(std::move(upstream), keep);
    }};
}

}  // namespace marcpipe::pipeline
