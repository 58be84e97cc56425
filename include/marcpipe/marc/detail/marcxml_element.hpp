// marcxml_element: builds a record from a MARCXML `<record>` element that pugixml has parsed.
//
// Shared by the streaming reader (which parses one record, or a batch of them, at a time) and by
// from_marcxml on a document the caller parsed. A child element counts when its local name is a
// MARCXML one and it is in the MARC21/slim namespace or none; prefixes that the parsed chunk does
// not declare are looked up in the scope around it (namespace_lookup), which the reader keeps
// from the ancestors it has seen. Problems are thrown as marcxml_fault, with the element's offset
// in the parsed buffer; the caller adds the record number and where the buffer began.
#pragma once

#include <cstddef>
#include <cstring>
#include <functional>
#include <marcpipe/marc/error.hpp>
#include <marcpipe/marc/record.hpp>
#include <marcpipe/marc/xml_escape.hpp>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace marcpipe::marc::detail {

// A MARC rule broken inside one record element; the reader adds the record number.
struct marcxml_fault {
    error_code code;
    std::ptrdiff_t offset;  // within the parsed buffer, or -1 when unknown
    std::string detail;
};

inline std::string_view local_name(std::string_view qname) noexcept {
    auto const colon = qname.find(':');
    return colon == std::string_view::npos ? qname : qname.substr(colon + 1);
}
// Whether a qualified name's local part is "record".
inline bool is_record_name(std::string_view qname) noexcept {
    return qname.ends_with("record") && (qname.size() == 6 || qname[qname.size() - 7] == ':');
}
inline std::string_view name_prefix(std::string_view qname) noexcept {
    // Names are short; a plain loop beats a library call here.
    for (std::size_t i = 0; i < qname.size(); ++i)
        if (qname[i] == ':') return qname.substr(0, i);
    return {};
}

// The namespace URI bound to `prefix` by an xmlns attribute of this element, if any.
inline std::optional<std::string_view> declared_namespace(pugi::xml_node element,
                                                          std::string_view prefix) {
    for (auto a = element.first_attribute(); a; a = a.next_attribute()) {
        std::string_view const n = a.name();
        if (n.size() < 5 || n.compare(0, 5, "xmlns") != 0) continue;
        if (prefix.empty()
                ? n.size() == 5
                : (n.size() == 6 + prefix.size() && n[5] == ':' && n.substr(6) == prefix))
            return std::string_view{a.value()};
    }
    return std::nullopt;
}

// Outer scope: what the elements around a parsed chunk declared (none for a whole document).
using namespace_lookup = std::function<std::optional<std::string>(std::string_view prefix)>;

// The namespace of `element`: "" for none, nullopt when its prefix is not declared anywhere.
inline std::optional<std::string> element_namespace(pugi::xml_node element,
                                                    namespace_lookup const& outer) {
    std::string_view const prefix = name_prefix(element.name());
    if (prefix == "xml") return std::string{"http://www.w3.org/XML/1998/namespace"};
    for (auto n = element; n && n.type() == pugi::node_element; n = n.parent())
        if (auto uri = declared_namespace(n, prefix)) return std::string{*uri};
    if (outer)
        if (auto uri = outer(prefix)) return uri;
    if (prefix.empty()) return std::string{};
    return std::nullopt;
}

// Where an element's '<' is in the parsed buffer (pugixml gives the offset of its name).
inline std::ptrdiff_t element_offset(pugi::xml_node element) {
    std::ptrdiff_t const name = element.offset_debug();
    return name > 0 ? name - 1 : name;
}

inline bool is_marc_namespace(std::string_view uri) noexcept {
    return uri.empty() || uri == marcxml_namespace;
}

// The character data of an element: its text and CDATA children, joined. (The reader parses
// with parse_embed_pcdata, which keeps the first text in the element's own value.)
inline void element_text(pugi::xml_node element, std::string& out) {
    out.assign(element.value());
    for (auto c = element.first_child(); c; c = c.next_sibling())
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) out += c.value();
}

inline bool is_ascii_graphic(char c) noexcept { return c > 0x20 && c < 0x7F; }

inline std::string in_quotes(std::string_view s) {
    std::string q = "\"";
    q += s;
    q += '"';
    return q;
}

// The attributes MARCXML uses, found in one pass.
struct marc_attributes {
    char const* tag = nullptr;
    char const* ind1 = nullptr;
    char const* ind2 = nullptr;
    char const* code = nullptr;
    bool declares_namespaces = false;
};

inline marc_attributes read_attributes(pugi::xml_node e) {
    marc_attributes a;
    for (auto x = e.first_attribute(); x; x = x.next_attribute()) {
        char const* const n = x.name();
        switch (n[0]) {
            case 't':
                if (n[1] == 'a' && n[2] == 'g' && n[3] == 0) a.tag = x.value();
                break;
            case 'i':
                if (n[1] == 'n' && n[2] == 'd' && (n[3] == '1' || n[3] == '2') && n[4] == 0)
                    (n[3] == '1' ? a.ind1 : a.ind2) = x.value();
                break;
            case 'c':
                if (n[1] == 'o' && n[2] == 'd' && n[3] == 'e' && n[4] == 0) a.code = x.value();
                break;
            case 'x':
                if (std::strncmp(n, "xmlns", 5) == 0 && (n[5] == 0 || n[5] == ':'))
                    a.declares_namespaces = true;
                break;
            default:
                break;
        }
    }
    return a;
}

// Builds a record from a record element whose namespace has been checked, into `out`, whose
// strings and vectors are reused. Children in other namespaces, and unknown children, are
// ignored. Throws marcxml_fault (then `out` holds a partial record).
inline void build_record(pugi::xml_node rec, std::string const& rec_ns,
                         namespace_lookup const& outer, record& out) {
    auto fault = [](error_code c, pugi::xml_node at, std::string detail) {
        return marcxml_fault{c, element_offset(at), std::move(detail)};
    };
    // The local name of a child if it is in a MARC namespace, else empty. A child has its
    // parent's namespace unless it changes prefix or declares namespaces.
    auto marc_local_name = [&](pugi::xml_node child, std::string_view parent_prefix,
                               bool parent_is_marc, bool declares) -> std::string_view {
        std::string_view const name = child.name();
        std::string_view const prefix = name_prefix(name);
        std::string_view const local = prefix.empty() ? name : name.substr(prefix.size() + 1);
        if (!declares && prefix == parent_prefix)
            return parent_is_marc ? local : std::string_view{};
        auto ns = element_namespace(child, outer);
        if (!ns)
            throw fault(error_code::malformed_xml, child,
                        "namespace prefix of <" + std::string{name} + "> is not declared");
        return is_marc_namespace(*ns) ? local : std::string_view{};
    };
    auto tag_of = [&](pugi::xml_node f, char const* tag, std::string_view kind) {
        if (!tag) throw fault(error_code::not_marc, f, std::string{kind} + " without a tag");
        std::string_view const t = tag;
        if (t.size() != 3 || !is_ascii_graphic(t[0]) || !is_ascii_graphic(t[1]) ||
            !is_ascii_graphic(t[2]))
            throw fault(error_code::not_marc, f,
                        std::string{kind} + " tag " + in_quotes(t) +
                            " is not three ASCII letters or digits");
        return t;
    };
    // Fields and subfields are filled in place, so that reading record after record into the
    // same `out` allocates next to nothing.
    std::vector<field>& fields = out.fields();
    std::size_t nfields = 0;
    auto next_field = [&]() -> field& {
        if (nfields == fields.size()) fields.emplace_back();
        return fields[nfields++];
    };
    auto indicator = [&](pugi::xml_node f, char const* value, char const* name,
                         std::string const& tag) {
        if (!value || value[0] == 0) return ' ';
        if (value[1] != 0 || static_cast<unsigned char>(value[0]) >= 0x80)
            throw fault(error_code::bad_indicator, f,
                        "field " + tag + " " + name + " " + in_quotes(value) +
                            " is not one ASCII character");
        return value[0];
    };

    std::string_view const rec_prefix = name_prefix(rec.name());
    bool const rec_is_marc = is_marc_namespace(rec_ns);
    bool has_leader = false;
    for (auto child = rec.first_child(); child; child = child.next_sibling()) {
        if (child.type() != pugi::node_element) continue;
        marc_attributes const attrs = read_attributes(child);
        std::string_view const kind =
            marc_local_name(child, rec_prefix, rec_is_marc, attrs.declares_namespaces);
        if (kind == "subfield" || kind.empty()) continue;
        if (kind == "datafield") {
            std::string_view const tag = tag_of(child, attrs.tag, kind);
            if (is_control_tag(tag))
                throw fault(
                    error_code::not_marc, child,
                    "datafield with tag " + std::string{tag} + ": 00X tags are control fields");
            field& f = next_field();
            f.tag.assign(tag);
            f.value.clear();
            f.ind1 = indicator(child, attrs.ind1, "ind1", f.tag);
            f.ind2 = indicator(child, attrs.ind2, "ind2", f.tag);
            std::vector<subfield>& subs = f.subfields;
            std::size_t nsubs = 0;
            std::string_view const df_prefix = name_prefix(child.name());
            bool df_is_marc = true;
            if (attrs.declares_namespaces || df_prefix != rec_prefix) {
                auto ns = element_namespace(child, outer);
                df_is_marc = ns && is_marc_namespace(*ns);
            }
            for (auto s = child.first_child(); s; s = s.next_sibling()) {
                if (s.type() != pugi::node_element) continue;
                marc_attributes const sa = read_attributes(s);
                if (marc_local_name(s, df_prefix, df_is_marc, sa.declares_namespaces) != "subfield")
                    continue;
                if (!sa.code)
                    throw fault(error_code::bad_subfield, s,
                                "field " + f.tag + ": subfield without a code");
                if (sa.code[0] == 0 || sa.code[1] != 0 ||
                    static_cast<unsigned char>(sa.code[0]) >= 0x80)
                    throw fault(error_code::bad_subfield, s,
                                "field " + f.tag + ": subfield code " + in_quotes(sa.code) +
                                    " is not one ASCII character");
                if (nsubs == subs.size()) subs.emplace_back();
                subfield& sf = subs[nsubs++];
                sf.code = sa.code[0];
                element_text(s, sf.value);
            }
            subs.resize(nsubs);
        } else if (kind == "controlfield") {
            std::string_view const tag = tag_of(child, attrs.tag, kind);
            if (!is_control_tag(tag))
                throw fault(error_code::not_marc, child,
                            "controlfield with tag " + std::string{tag} +
                                ": only 00X tags are control fields");
            field& f = next_field();
            f.tag.assign(tag);
            element_text(child, f.value);
            f.ind1 = f.ind2 = ' ';
            f.subfields.clear();
        } else if (kind == "leader") {
            if (has_leader) throw fault(error_code::bad_leader, child, "more than one leader");
            has_leader = true;
            std::string& leader = out.leader();
            element_text(child, leader);
            if (leader.size() != leader_length)
                throw fault(error_code::bad_leader, child,
                            "leader " + in_quotes(leader) + " has " +
                                std::to_string(leader.size()) + " bytes, not 24");
        }
    }
    if (!has_leader) throw fault(error_code::bad_leader, rec, "record has no leader");
    fields.resize(nfields);
}

// Checks a record element's name and namespace, then builds it into `out`.
inline void record_from_element(pugi::xml_node rec, namespace_lookup const& outer, record& out) {
    if (rec.type() != pugi::node_element || local_name(rec.name()) != "record")
        throw marcxml_fault{error_code::not_marc, element_offset(rec),
                            "expected a <record> element, found <" + std::string{rec.name()} + ">"};
    auto ns = element_namespace(rec, outer);
    if (!ns)
        throw marcxml_fault{
            error_code::malformed_xml, element_offset(rec),
            "namespace prefix of <" + std::string{rec.name()} + "> is not declared"};
    if (!is_marc_namespace(*ns))
        throw marcxml_fault{
            error_code::not_marc, element_offset(rec),
            "<record> is in namespace " + in_quotes(*ns) + ", not MARC21/slim or none"};
    build_record(rec, *ns, outer, out);
}

}  // namespace marcpipe::marc::detail
