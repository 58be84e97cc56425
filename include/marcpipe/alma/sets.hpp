// sets: Alma's answers about a set — Retrieve a Set (GET /conf/sets/{set_id}: its content type,
// BIB_MMS for bibliographic records) and Retrieve Set Members (GET /conf/sets/{set_id}/members,
// up to 100 a page with limit and offset) — read into plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "holdings.hpp"

namespace marcpipe::alma {

// What a set is: its ID, name, content type ("BIB_MMS", "ITEM", ...) and size.
struct set_info {
    std::string id;
    std::string name;
    std::string content;       // the code, as <content> holds it
    std::string content_desc;  // how Alma names it ("All Titles")
    std::uint64_t members = 0;
};

// The content type of a set of bibliographic records.
inline constexpr std::string_view bib_set_content = "BIB_MMS";

// One page of members: their IDs in the set's order, and the set's whole count.
struct set_page {
    std::uint64_t total = 0;
    std::vector<std::string> ids;
};

inline parsed<set_info> parse_set(std::string_view body) {
    pugi::xml_document doc;
    if (auto loaded = parse_detail::load(doc, body); !loaded) return tl::unexpected(loaded.error());
    pugi::xml_node const root = doc.document_element();
    if (parse_detail::local_name(root) != "set")
        return tl::unexpected(parse_failure{"expected a <set>, found <" + std::string(root.name()) + ">", -1});
    set_info s;
    s.id = parse_detail::trimmed_text(parse_detail::child_named(root, "id"));
    s.name = parse_detail::trimmed_text(parse_detail::child_named(root, "name"));
    pugi::xml_node const content = parse_detail::child_named(root, "content");
    s.content = parse_detail::trimmed_text(content);
    s.content_desc = content.attribute("desc").value();
    s.members = parse_detail::child_named(root, "number_of_members").text().as_ullong();
    if (s.content.empty()) return tl::unexpected(parse_failure{"a <set> without <content>", root.offset_debug()});
    return s;
}

// A page may be empty (`<members total_record_count="0"/>`, or an offset past the end).
inline parsed<set_page> parse_set_members(std::string_view body) {
    pugi::xml_document doc;
    if (auto loaded = parse_detail::load(doc, body); !loaded) return tl::unexpected(loaded.error());
    pugi::xml_node const root = doc.document_element();
    if (parse_detail::local_name(root) != "members")
        return tl::unexpected(parse_failure{"expected <members>, found <" + std::string(root.name()) + ">", -1});
    auto const count = root.attribute("total_record_count");
    if (!count) return tl::unexpected(parse_failure{"<members> without total_record_count", root.offset_debug()});
    set_page page;
    page.total = count.as_ullong();
    for (pugi::xml_node m = root.first_child(); m; m = m.next_sibling()) {
        if (m.type() != pugi::node_element || parse_detail::local_name(m) != "member") continue;
        std::string id = parse_detail::trimmed_text(parse_detail::child_named(m, "id"));
        if (id.empty()) return tl::unexpected(parse_failure{"a <member> without <id>", m.offset_debug()});
        page.ids.push_back(std::move(id));
    }
    return page;
}

}  // namespace marcpipe::alma
