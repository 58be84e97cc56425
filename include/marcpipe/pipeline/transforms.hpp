// transforms: the stages that need no network — the WEST rewrite of 001/004, the bib's OCLC
// number copied into the holdings record, and the require_field filter — as pipeline stages
// (stage.hpp) over holdings records or marc::records.
#pragma once

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <range/v3/range/concepts.hpp>
#include <range/v3/range/traits.hpp>

#include "marcpipe/coro/generator.hpp"
#include "marcpipe/marc/record.hpp"
#include "marcpipe/pipeline/items.hpp"
#include "marcpipe/pipeline/stage.hpp"

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

struct has_fields {
    std::vector<std::string> tags;
    template <typename Item>
    bool operator()(Item const& item) const {
        return std::all_of(tags.begin(), tags.end(), [&](std::string const& t) { return record_of(item).has(t); });
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

inline constexpr std::string_view oclc_prefix = "(OCoLC)";

inline void check_oclc_tag(std::string_view tag) {
    if (tag.size() != 3 || marc::is_control_tag(tag))
        throw std::invalid_argument("the OCLC number goes in a data field, not in \"" + std::string{tag} + "\"");
}
}  // namespace detail

// The bib's OCLC number: the first 035 $a that starts with "(OCoLC)", as the bib has it — the
// prefix and any "ocm"/"ocn"/"on" after it kept ("(OCoLC)ocm00012345"), since WEST and OCLC
// normalise numbers themselves and a holding should carry what its bib carries. A cancelled
// number ($z) does not count; "(OCoLC)" is matched exactly, as MARC organisation codes are. Empty
// when the record has none.
inline std::string_view oclc_number(marc::record const& bib) noexcept {
    constexpr std::string_view prefix = detail::oclc_prefix;
    for (auto const& f : bib.fields()) {
        if (f.tag != "035") continue;
        for (auto const& s : f.subfields)
            if (s.code == 'a' && s.value.starts_with(prefix) && s.value.size() > prefix.size())
                return s.value;
    }
    return {};
}

// Adds an OCLC number ("(OCoLC)...", as oclc_number gives it) to a holdings record, in the field
// `tag`, placed before the first field whose tag sorts after it:
//   035 (the default):  035 __ $a (OCoLC)ocm00012345
//   014 (MARC 21 holdings, Linkage Number; first indicator 1 = bibliographic record number,
//        $a the number, $b its source):  014 1_ $a ocm00012345 $b OCoLC
//   any other data field tag:  TAG __ $a (OCoLC)ocm00012345
// Nothing is added when a field with that tag already has that $a. Returns whether it added one.
// Throws std::invalid_argument for a tag that is not three characters or is a control field's.
inline bool add_oclc_number(marc::record& holding, std::string_view number, std::string_view tag = "035") {
    detail::check_oclc_tag(tag);
    constexpr std::string_view prefix = detail::oclc_prefix;
    bool const linkage = tag == "014";
    marc::field added{std::string{tag}, linkage ? '1' : ' ', ' '};
    if (linkage) {
        if (number.starts_with(prefix)) number.remove_prefix(prefix.size());
        added.subfields = {marc::subfield{'a', std::string{number}}, marc::subfield{'b', "OCoLC"}};
    } else {
        added.subfields = {marc::subfield{'a', std::string{number}}};
    }
    auto& fields = holding.fields();
    std::string_view const value = added.subfields.front().value;
    bool const present = std::any_of(fields.begin(), fields.end(), [&](marc::field const& f) {
        return f.tag == tag && f.subfield_value('a') == value;
    });
    if (present) return false;
    auto const after = std::find_if(fields.begin(), fields.end(), [&](marc::field const& f) { return f.tag > tag; });
    fields.insert(after, std::move(added));
    return true;
}

namespace detail {
struct copy_oclc_fn {
    std::string tag;
    void operator()(holding_record& h) const {
        if (!h.bib_record) return;
        if (std::string_view number = oclc_number(*h.bib_record); !number.empty())
            add_oclc_number(h.record, number, tag);
    }
};
}  // namespace detail

// `holdings | copy_oclc_number()`: each holdings record gets its bib's OCLC number (see
// oclc_number, add_oclc_number) in `tag`, 035 or 014. A holding whose bib has no OCLC number, or
// whose bib record is not known (the input was a list of MMS IDs), passes unchanged.
inline auto copy_oclc_number(std::string tag = "035") {
    detail::check_oclc_tag(tag);
    return modify(detail::copy_oclc_fn{std::move(tag)});
}

// `records | require_fields(tags)`: keeps the records that have every one of the tags (--require
// given several times); with none, every record.
inline auto require_fields(std::vector<std::string> tags) {
    return stage{[keep = detail::has_fields{std::move(tags)}](auto upstream) {
        return detail::keep_if(std::move(upstream), keep);
    }};
}

// `records | require_field("583")`: keeps the records that have at least one field with the tag.
inline auto require_field(std::string tag) { return require_fields({std::move(tag)}); }

}  // namespace marcpipe::pipeline
