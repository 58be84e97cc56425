// sets: Alma's answers about a set — Retrieve a Set (GET /conf/sets/{set_id}: its content type,
// BIB_MMS for bibliographic records) and Retrieve Set Members (GET /conf/sets/{set_id}/members,
// up to 100 a page with limit and offset) — read into plain values; and the members' bib records
// (Retrieve Bibs, view=full), for a run that needs what an export would have given it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "marcpipe/alma/holdings.hpp"

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

// Retrieve Bibs with view=full: each <bib>'s MMS ID and MARC record, in the answer's order.
// Requested IDs missing from the answer are bibs Alma does not know.
struct bib_record {
    bib_record() = default;
    bib_record(std::string mms, marc::record r) : mms_id{std::move(mms)}, record{std::move(r)} {}
    std::string mms_id;
    marc::record record;
};

inline parsed<std::vector<bib_record>> parse_bib_records(std::string_view body) {
    pugi::xml_document doc;
    if (auto loaded = parse_detail::load(doc, body); !loaded) return tl::unexpected(loaded.error());
    pugi::xml_node const root = doc.document_element();
    if (parse_detail::local_name(root) != "bibs")
        return tl::unexpected(parse_failure{"expected a <bibs> list, found <" + std::string(root.name()) + ">", -1});
    std::vector<bib_record> out;
    for (pugi::xml_node b = root.first_child(); b; b = b.next_sibling()) {
        if (b.type() != pugi::node_element || parse_detail::local_name(b) != "bib") continue;
        std::string mms_id = parse_detail::trimmed_text(parse_detail::child_named(b, "mms_id"));
        pugi::xml_node const rec = parse_detail::child_named(b, "record");
        if (mms_id.empty() || !rec)
            return tl::unexpected(parse_failure{"a <bib> without <mms_id> or <record>", b.offset_debug()});
        try {
            out.emplace_back(std::move(mms_id), marc::from_marcxml(rec));
        } catch (std::exception const& e) {
            return tl::unexpected(parse_failure{std::string("bad <record>: ") + e.what(), rec.offset_debug()});
        }
    }
    return out;
}

}  // namespace marcpipe::alma
