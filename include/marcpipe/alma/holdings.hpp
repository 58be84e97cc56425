// holdings: what Alma answers about holdings — the holdings list of a bib, one holdings record,
// and the availability fields (AVA) of a bulk bibs answer — parsed from the XML bodies, and what
// availability can vouch for.
//
// Parsing never throws: each function returns the parsed value or a parse_failure saying what
// was wrong and at which byte, because a body that does not parse is usually a truncated or
// garbled transfer that the caller retries, not a reason to stop the run.
#pragma once

#include <pugixml.hpp>
#include <tl/expected.hpp>

#include <algorithm>
#include <cstddef>
#include <exception>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "marcpipe/marc/detail/marcxml_check.hpp"
#include "marcpipe/marc/marcxml.hpp"
#include "marcpipe/marc/record.hpp"

namespace marcpipe::alma {

struct parse_failure {
    parse_failure() = default;
    parse_failure(std::string what_, std::ptrdiff_t offset_, bool final_ = false)
        : what{std::move(what_)}, offset{offset_}, final{final_} {}
    std::string what;
    std::ptrdiff_t offset = -1;  // byte offset in the body, -1 when it is not about one spot
    // The answer was read and is refused for what it says (see max_holdings_per_bib): asking
    // again would bring the same. Otherwise the body is taken as garbled on the way, and retried.
    bool final = false;

    std::string message() const {
        return offset >= 0 ? what + " at byte " + std::to_string(offset) : what;
    }
};

template <typename T>
using parsed = tl::expected<T, parse_failure>;

namespace parse_detail {

// Element text with surrounding whitespace removed (pretty-printed bodies indent it).
inline std::string trimmed_text(pugi::xml_node node) {
    std::string_view text = node.child_value();
    auto const first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return {};
    auto const last = text.find_last_not_of(" \t\r\n");
    return std::string{text.substr(first, last - first + 1)};
}

// Local name of an element, whatever prefix it carries.
inline std::string_view local_name(pugi::xml_node node) {
    std::string_view name = node.name();
    auto const colon = name.find(':');
    return colon == std::string_view::npos ? name : name.substr(colon + 1);
}

inline pugi::xml_node child_named(pugi::xml_node parent, std::string_view name) {
    for (pugi::xml_node c = parent.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_element && local_name(c) == name) return c;
    return {};
}

// Where the first character reference to U+0000 (&#0;, &#x00;, ...) is, or npos. pugixml
// decodes it to a NUL that ends the element's text there, so the rest would be lost unseen; other
// characters XML cannot carry come through and are the writers' business (marc/replacement.hpp).
inline std::size_t nul_reference(std::string_view body) noexcept {
    for (std::size_t at = body.find("&#"); at != std::string_view::npos; at = body.find("&#", at + 2)) {
        std::size_t i = at + 2;
        if (i < body.size() && (body[i] == 'x' || body[i] == 'X')) ++i;
        std::size_t const digits = i;
        while (i < body.size() && body[i] == '0') ++i;
        if (i > digits && i < body.size() && body[i] == ';') return at;
    }
    return std::string_view::npos;
}

// An undeclared entity (&lol9;) or a malformed reference, which pugixml would leave in the text
// literally, is refused as the MARCXML reader refuses it in an export: the answer says what it
// says, so asking again would bring the same (final).
inline parsed<pugi::xml_document*> load(pugi::xml_document& doc, std::string_view body) {
    if (auto const at = nul_reference(body); at != std::string_view::npos)
        return tl::unexpected(parse_failure{"a character reference to U+0000, which XML cannot carry", static_cast<std::ptrdiff_t>(at)});
    if (auto fault = marc::detail::check_references(body, true, false))
        return tl::unexpected(parse_failure{"malformed XML: " + fault->detail, fault->offset, true});
    pugi::xml_parse_result const r =
        doc.load_buffer(body.data(), body.size(), pugi::parse_default | pugi::parse_ws_pcdata_single, pugi::encoding_utf8);
    if (!r) return tl::unexpected(parse_failure{std::string("malformed XML: ") + r.description(), r.offset});
    return &doc;
}

}  // namespace parse_detail

// The most holdings one bib may have in a run. A library's bib has a handful, a union
// catalogue's a few thousand; a list of 500,000 holding IDs from a server is not a job to start
// (half a million calls, each holding ID kept until its record is in), so it is a problem of the
// bib instead.
inline constexpr std::size_t max_holdings_per_bib = 10'000;

// Retrieve Holdings List: every holding_id in document order. `<holdings total_record_count="0"/>`
// is a normal answer (a bib with no holdings) and gives an empty list. More holdings than
// max_holdings_per_bib is a final failure naming how many.
inline parsed<std::vector<std::string>> parse_holdings_list(std::string_view body) {
    pugi::xml_document doc;
    if (auto loaded = parse_detail::load(doc, body); !loaded) return tl::unexpected(loaded.error());
    pugi::xml_node const root = doc.document_element();
    if (parse_detail::local_name(root) != "holdings")
        return tl::unexpected(parse_failure{
            "expected a <holdings> list, found <" + std::string(root.name()) + ">", -1});
    std::size_t listed = 0;
    for (pugi::xml_node h = root.first_child(); h; h = h.next_sibling())
        if (h.type() == pugi::node_element && parse_detail::local_name(h) == "holding") ++listed;
    auto const count = root.attribute("total_record_count");
    std::size_t const said = count ? static_cast<std::size_t>(count.as_ullong()) : 0;
    if (std::max(listed, said) > max_holdings_per_bib)
        return tl::unexpected(parse_failure{
            "the bib has " + std::to_string(std::max(listed, said)) + " holdings, more than the " +
                std::to_string(max_holdings_per_bib) + " one bib may have in a run; none fetched",
            -1, true});
    std::vector<std::string> ids;
    for (pugi::xml_node h = root.first_child(); h; h = h.next_sibling()) {
        if (h.type() != pugi::node_element || parse_detail::local_name(h) != "holding") continue;
        std::string id = parse_detail::trimmed_text(parse_detail::child_named(h, "holding_id"));
        if (id.empty())
            return tl::unexpected(parse_failure{"a <holding> without <holding_id>", h.offset_debug()});
        ids.push_back(std::move(id));
    }
    // A list shorter than its own count is a truncated answer, not fewer holdings.
    if (count && said > ids.size())
        return tl::unexpected(parse_failure{
            "the list says total_record_count=" + std::string(count.value()) + " but holds " +
                std::to_string(ids.size()) + " holdings",
            -1});
    return ids;
}

// Retrieve Holdings Record: the holding ID and the MARC record in <record> (un-namespaced
// MARCXML in Alma's answers). Other elements of <holding> are ignored.
struct holding {
    holding() = default;
    holding(std::string id, marc::record r) : holding_id{std::move(id)}, record{std::move(r)} {}
    std::string holding_id;
    marc::record record;
};

inline parsed<holding> parse_holding_record(std::string_view body) {
    pugi::xml_document doc;
    if (auto loaded = parse_detail::load(doc, body); !loaded) return tl::unexpected(loaded.error());
    pugi::xml_node const root = doc.document_element();
    if (parse_detail::local_name(root) != "holding")
        return tl::unexpected(parse_failure{
            "expected a <holding> record, found <" + std::string(root.name()) + ">", -1});
    pugi::xml_node const rec = parse_detail::child_named(root, "record");
    if (!rec) return tl::unexpected(parse_failure{"a <holding> without <record>", root.offset_debug()});
    try {
        return holding{parse_detail::trimmed_text(parse_detail::child_named(root, "holding_id")),
                       marc::from_marcxml(rec)};
    } catch (std::exception const& e) {
        return tl::unexpected(parse_failure{std::string("bad <record>: ") + e.what(), rec.offset_debug()});
    }
}

// Retrieve Bibs with view=full&expand=p_avail: for each <bib>, its MMS ID and its AVA fields.
// Requested IDs that are missing from the answer are bibs Alma does not know (deleted since the
// export).
//
// What AVA can and cannot say (Ex Libris's documentation of the call): there is one AVA per
// holding with items, but $8 (the holding ID) only for items in their permanent location; items
// in a temporary location give an AVA without $8, and a holding without items gives no AVA at
// all. AVA also lists holdings of related records ($0 names the other bib) and, against a
// Network Zone key, every member's holdings ($a is the institution code).
struct availability_field {
    availability_field() = default;
    availability_field(std::string holding, std::string inst, std::string bib)
        : holding_id{std::move(holding)}, institution{std::move(inst)}, bib_id{std::move(bib)} {}
    std::string holding_id;   // $8; empty: items in a temporary location
    std::string institution;  // $a
    std::string bib_id;       // $0; empty when Alma leaves it out
};

struct bib_availability {
    bib_availability() = default;
    bib_availability(std::string mms, std::vector<availability_field> f)
        : mms_id{std::move(mms)}, fields{std::move(f)} {}
    std::string mms_id;
    std::vector<availability_field> fields;  // in the order Alma lists them
};

inline parsed<std::vector<bib_availability>> parse_bibs_availability(std::string_view body) {
    pugi::xml_document doc;
    if (auto loaded = parse_detail::load(doc, body); !loaded) return tl::unexpected(loaded.error());
    pugi::xml_node const root = doc.document_element();
    if (parse_detail::local_name(root) != "bibs")
        return tl::unexpected(parse_failure{
            "expected a <bibs> list, found <" + std::string(root.name()) + ">", -1});
    std::vector<bib_availability> bibs;
    for (pugi::xml_node b = root.first_child(); b; b = b.next_sibling()) {
        if (b.type() != pugi::node_element || parse_detail::local_name(b) != "bib") continue;
        bib_availability entry;
        entry.mms_id = parse_detail::trimmed_text(parse_detail::child_named(b, "mms_id"));
        if (entry.mms_id.empty())
            return tl::unexpected(parse_failure{"a <bib> without <mms_id>", b.offset_debug()});
        pugi::xml_node const rec = parse_detail::child_named(b, "record");
        for (pugi::xml_node f = rec.first_child(); f; f = f.next_sibling()) {
            if (f.type() != pugi::node_element || parse_detail::local_name(f) != "datafield" ||
                std::string_view(f.attribute("tag").value()) != "AVA")
                continue;
            availability_field ava;
            for (pugi::xml_node s = f.first_child(); s; s = s.next_sibling()) {
                if (s.type() != pugi::node_element || parse_detail::local_name(s) != "subfield") continue;
                std::string_view const code = s.attribute("code").value();
                if (code == "8")
                    ava.holding_id = parse_detail::trimmed_text(s);
                else if (code == "a")
                    ava.institution = parse_detail::trimmed_text(s);
                else if (code == "0")
                    ava.bib_id = parse_detail::trimmed_text(s);
            }
            entry.fields.push_back(std::move(ava));
        }
        bibs.push_back(std::move(entry));
    }
    return bibs;
}

// Holding IDs in ascending order: digit strings (Alma's IDs) by their numeric value, anything
// else after them in byte order. Both ways of learning a bib's holdings hand them on in this
// order, so their outputs can be compared byte for byte.
inline bool holding_id_before(std::string_view a, std::string_view b) noexcept {
    auto const digits = [](std::string_view s) {
        return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
    };
    auto const significant = [](std::string_view s) {
        auto const first = s.find_first_not_of('0');
        return first == std::string_view::npos ? std::string_view{} : s.substr(first);
    };
    bool const da = digits(a), db = digits(b);
    if (da != db) return da;
    if (!da) return a < b;
    std::string_view const sa = significant(a), sb = significant(b);
    if (sa.size() != sb.size()) return sa.size() < sb.size();
    return sa != sb ? sa < sb : a < b;
}

inline void sort_holding_ids(std::vector<std::string>& ids) {
    std::sort(ids.begin(), ids.end(), [](std::string const& a, std::string const& b) { return holding_id_before(a, b); });
}

// What a bib's availability says about its holdings. `complete` when it vouches for every one:
// at least one AVA of this bib, each with its $8. Otherwise only the holdings list can say (a
// holding with items in a temporary location, a bib whose holdings have no items, or no
// holdings at all), and `holding_ids` is a lower bound.
struct availability_holdings {
    std::vector<std::string> holding_ids;  // ascending, each once
    bool complete = false;
};

// `institution`: the code in AVA $a of the institution whose holdings are wanted. Only an AVA
// naming it is this run's holding: a Network Zone key sees every member's AVA, and another
// institution's must never vouch for this one's holdings. An AVA whose owner cannot be told (it
// names an institution and the run knows none, or the run knows one and it names none) might be
// a holding of this run's that availability does not fully show, so its bib is left to the list.
// Without `institution`, then, availability that names any institution vouches for nothing.
inline availability_holdings holdings_from_availability(bib_availability const& bib,
                                                        std::string_view institution = {}) {
    availability_holdings seen;
    std::size_t own = 0, without_id = 0;
    bool owner_unknown = false;
    for (auto const& ava : bib.fields) {
        if (!ava.bib_id.empty() && ava.bib_id != bib.mms_id) continue;  // a related record's holding
        if (ava.institution != institution) {
            owner_unknown = owner_unknown || institution.empty() || ava.institution.empty();
            continue;
        }
        ++own;
        if (ava.holding_id.empty()) {
            ++without_id;
            continue;
        }
        seen.holding_ids.push_back(ava.holding_id);
    }
    sort_holding_ids(seen.holding_ids);
    // One AVA per holding; a repeated $8 would otherwise fetch a holding twice.
    seen.holding_ids.erase(std::unique(seen.holding_ids.begin(), seen.holding_ids.end()), seen.holding_ids.end());
    seen.complete = own > 0 && without_id == 0 && !owner_unknown;
    return seen;
}

}  // namespace marcpipe::alma
