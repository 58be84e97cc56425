// alma_sets: the sets the loopback emulator serves (GET /almaws/v1/conf/sets/{set_id} and
// .../members), made from its catalogue, and their answers in the shapes Alma sends.
//
// Three sets, whose IDs end in the institution code as Alma's do:
//   set_id(set_kind::all_bibs)   BIB_MMS, every bib Alma still has (deleted bibs leave sets)
//   set_id(set_kind::slice)      BIB_MMS, every third bib from the second, deleted ones included
//                                (a set made before they were deleted still lists them)
//   set_id(set_kind::items)      ITEM, one member per holding of the first bibs: a set of
//                                another type, which a holdings export must refuse
// Members come in pages: `limit` (default 10, at most 100) from `offset`, with the whole
// count in total_record_count, as Alma pages them.
#pragma once

#include <algorithm>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "alma_responses.hpp"
#include "catalogue.hpp"

namespace marcpipe::emulator {

enum class set_kind { all_bibs, slice, items };

inline std::string set_id(catalogue const& cat, set_kind k) {
    return "11" + detail::zero_pad(1000 + static_cast<std::size_t>(k), 11) + cat.institution_code();
}

inline std::optional<set_kind> find_set(catalogue const& cat, std::string_view id) {
    for (auto k : {set_kind::all_bibs, set_kind::slice, set_kind::items})
        if (set_id(cat, k) == id) return k;
    return std::nullopt;
}

// A member: its ID (MMS ID or item ID), its description, and the resource its link names.
struct set_member {
    std::string id;
    std::string description;
    std::string path;
};

// `left_out`: how many of its first members the set has lost since it was made.
inline std::vector<set_member> set_members(catalogue const& cat, set_kind k, std::size_t left_out = 0) {
    std::vector<set_member> out;
    auto bib_member = [&](std::size_t b) {
        auto s = cat.bib(b);
        out.push_back(set_member{s.mms_id, s.title, "/almaws/v1/bibs/" + s.mms_id});
    };
    switch (k) {
        case set_kind::all_bibs:
            for (std::size_t b = 0; b < cat.size(); ++b)
                if (!cat.deleted(b)) bib_member(b);
            break;
        case set_kind::slice:
            for (std::size_t b = 1; b < cat.size(); b += 3) bib_member(b);
            break;
        case set_kind::items:
            for (std::size_t b = 0; b < cat.size() && out.size() < 30; ++b)
                for (std::size_t h = 0; h < cat.holdings_count(b); ++h) {
                    std::string const item = "23" + cat.holding_id(b, h).substr(2);
                    out.push_back(set_member{item, "barcode " + item.substr(2, 9),
                                             "/almaws/v1/bibs/" + cat.mms_id(b) + "/holdings/" +
                                                 cat.holding_id(b, h) + "/items/" + item});
                }
            break;
    }
    out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(std::min(left_out, out.size())));
    return out;
}

// The MMS IDs of a set of bibs, in the set's order: what --set must read.
inline std::vector<std::string> set_mms_ids(catalogue const& cat, set_kind k, std::size_t left_out = 0) {
    std::vector<std::string> ids;
    for (auto const& m : set_members(cat, k, left_out)) ids.push_back(m.id);
    return ids;
}

// GET /almaws/v1/conf/sets/{set_id}
inline std::string set_xml(catalogue const& cat, set_kind k, std::string_view base_url, std::size_t left_out = 0) {
    std::string const id = set_id(cat, k);
    std::string const link = std::string{base_url} + "/almaws/v1/conf/sets/" + id;
    bool const bibs = k != set_kind::items;
    xml_out x{false};
    x.open("set", attr("link", link));
    x.text("id", id);
    x.text("name", k == set_kind::all_bibs ? "All titles" : k == set_kind::slice ? "WEST review" : "Items to move");
    x.text("description", "");
    x.text("type", "ITEMIZED", attr("desc", "Itemized"));
    x.text("content", bibs ? "BIB_MMS" : "ITEM", attr("desc", bibs ? "All Titles" : "Physical items"));
    x.text("private", "false", attr("desc", "No"));
    x.text("status", "ACTIVE", attr("desc", "Active"));
    x.text("origin", "UI", attr("desc", "Institution only"));
    x.text("number_of_members", std::to_string(set_members(cat, k, left_out).size()), attr("link", link + "/members"));
    x.close("set");
    return x.take();
}

// GET /almaws/v1/conf/sets/{set_id}/members?limit=L&offset=O
inline std::string set_members_xml(catalogue const& cat, set_kind k, std::size_t offset, std::size_t limit,
                                   std::string_view base_url, std::size_t left_out = 0) {
    auto const all = set_members(cat, k, left_out);
    xml_out x{false};
    auto const count = attr("total_record_count", std::to_string(all.size()));
    if (offset >= all.size() || limit == 0) {
        x.empty("members", count);
        return x.take();
    }
    x.open("members", count);
    for (std::size_t i = offset; i < all.size() && i < offset + limit; ++i) {
        x.open("member", attr("link", std::string{base_url} + all[i].path));
        x.text("id", all[i].id);
        x.text("description", all[i].description);
        x.close("member");
    }
    x.close("members");
    return x.take();
}

}  // namespace marcpipe::emulator
