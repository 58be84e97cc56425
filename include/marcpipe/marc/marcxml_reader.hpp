// marcxml_reader: reads MARCXML record by record, in bounded memory, from a file of any size.
//
// Accepted shapes: a `<collection>` of `<record>`s, a single `<record>`, or records inside any
// other wrapper (an Alma `<holding>`, an OAI-PMH response). A record element counts when its
// local name is `record` and it is in the MARC21/slim namespace (http://www.loc.gov/MARC21/slim),
// with a prefix (`<marc:record>`) or as the default namespace, or in no namespace at all (Alma's
// holdings records have none). Elements in other namespaces, and unknown elements, are ignored.
//
// Why not one pugixml document: pugixml parses whole documents, and an export can be gigabytes.
// So a small scanner walks the input, tracking only what lies outside records (the open
// ancestors and their namespace declarations), cuts each `<record ...> ... </record>` out of
// the stream -- minding comments, CDATA sections, processing instructions and quoted attribute
// values that contain '>' -- and hands just that chunk to pugixml, resolving its prefixes
// against the declarations the scanner saw on the ancestors. Memory is the read buffer plus the
// largest record.
//
// Text is taken exactly as the document has it: leader, control field and subfield values are
// not trimmed, pretty-printed or not. Before pugixml sees a chunk it is checked for what XML 1.0
// forbids and pugixml lets through: bytes that are not UTF-8, control characters, references
// to characters XML does not allow, undeclared entities. The input must be UTF-8 (or ASCII);
// another declared encoding is refused with a clear message. A DOCTYPE is skipped; entities
// it declares are not expanded (they are reported as undeclared).
//
// Errors: each problem is a read_problem naming the record number (1-based, counting every
// record element met) and the byte offset in the input where it was found. With on_error::stop
// next() throws marc_error; with on_error::skip the record is reported to options::on_problem
// (or kept in problems()), and reading resumes at the next record. Either way the bad record
// has been consumed, so a caller that catches the error may call next() again. A record that is not closed
// before the next record starts, or before its parent closes, is reported and the next record
// is still read. Structural MARC rules: a record has exactly one leader of 24 bytes; tags are
// three ASCII characters, `controlfield` only for 00X tags and `datafield` only for others;
// indicators are one ASCII character (missing or empty means blank); subfield codes are one
// ASCII character.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <pugixml.hpp>

#include <marcpipe/marc/error.hpp>
#include <marcpipe/marc/record.hpp>
#include <marcpipe/marc/source.hpp>
#include <marcpipe/marc/xml_escape.hpp>

namespace marcpipe::marc {

namespace detail {

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
inline std::string_view name_prefix(std::string_view qname) noexcept {
    auto const colon = qname.find(':');
    return colon == std::string_view::npos ? std::string_view{} : qname.substr(0, colon);
}

// The namespace URI bound to `prefix` by an xmlns attribute of this element, if any.
inline std::optional<std::string_view> declared_namespace(pugi::xml_node element,
                                                          std::string_view prefix) {
    for (auto a = element.first_attribute(); a; a = a.next_attribute()) {
        std::string_view const n = a.name();
        if (n.size() < 5 || n.compare(0, 5, "xmlns") != 0) continue;
        if (prefix.empty() ? n.size() == 5
                           : (n.size() == 6 + prefix.size() && n[5] == ':' &&
                              n.substr(6) == prefix))
            return std::string_view{a.value()};
    }
    return std::nullopt;
}

inline bool declares_namespaces(pugi::xml_node element) {
    for (auto a = element.first_attribute(); a; a = a.next_attribute())
        if (std::strncmp(a.name(), "xmlns", 5) == 0) return true;
    return false;
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

// The character data of an element: its text and CDATA children, joined.
inline std::string element_text(pugi::xml_node element) {
    auto const first = element.first_child();
    if (!first) return {};
    if (!first.next_sibling() &&
        (first.type() == pugi::node_pcdata || first.type() == pugi::node_cdata))
        return first.value();
    std::string s;
    for (auto c = first; c; c = c.next_sibling())
        if (c.type() == pugi::node_pcdata || c.type() == pugi::node_cdata) s += c.value();
    return s;
}

inline bool is_ascii_graphic(char c) noexcept { return c > 0x20 && c < 0x7F; }

inline std::string in_quotes(std::string_view s) {
    std::string q = "\"";
    q += s;
    q += '"';
    return q;
}

// Builds a record from a record element whose namespace has been checked. Children in other
// namespaces, and unknown children, are ignored. Throws marcxml_fault.
inline record build_record(pugi::xml_node rec, std::string const& rec_ns,
                           namespace_lookup const& outer) {
    auto fault = [](error_code c, pugi::xml_node at, std::string detail) {
        return marcxml_fault{c, element_offset(at), std::move(detail)};
    };
    // A child has its parent's namespace unless it changes prefix or declares namespaces.
    auto in_marc_namespace = [&](pugi::xml_node child, pugi::xml_node parent,
                                 std::string const& parent_ns) {
        if (!declares_namespaces(child) &&
            name_prefix(child.name()) == name_prefix(parent.name()))
            return is_marc_namespace(parent_ns);
        auto ns = element_namespace(child, outer);
        if (!ns)
            throw fault(error_code::malformed_xml, child,
                        "namespace prefix of <" + std::string{child.name()} + "> is not declared");
        return is_marc_namespace(*ns);
    };
    auto tag_of = [&](pugi::xml_node f) {
        auto const a = f.attribute("tag");
        std::string_view const kind = local_name(f.name());
        if (!a) throw fault(error_code::not_marc, f, std::string{kind} + " without a tag");
        std::string_view const t = a.value();
        if (t.size() != 3 || !std::all_of(t.begin(), t.end(), is_ascii_graphic))
            throw fault(error_code::not_marc, f,
                        std::string{kind} + " tag " + in_quotes(t) +
                            " is not three ASCII letters or digits");
        return std::string{t};
    };
    auto indicator = [&](pugi::xml_node f, char const* name, std::string const& tag) {
        std::string_view const v = f.attribute(name).value();
        if (v.empty()) return ' ';
        if (v.size() != 1 || static_cast<unsigned char>(v[0]) >= 0x80)
            throw fault(error_code::bad_indicator, f,
                        "field " + tag + " " + name + " " + in_quotes(v) +
                            " is not one ASCII character");
        return v[0];
    };

    std::optional<std::string> leader;
    std::vector<field> fields;
    for (auto child = rec.first_child(); child; child = child.next_sibling()) {
        if (child.type() != pugi::node_element) continue;
        if (!in_marc_namespace(child, rec, rec_ns)) continue;
        std::string_view const kind = local_name(child.name());
        if (kind == "leader") {
            if (leader) throw fault(error_code::bad_leader, child, "more than one leader");
            leader = element_text(child);
            if (leader->size() != leader_length)
                throw fault(error_code::bad_leader, child,
                            "leader " + in_quotes(*leader) + " has " +
                                std::to_string(leader->size()) + " bytes, not 24");
        } else if (kind == "controlfield") {
            std::string tag = tag_of(child);
            if (!is_control_tag(tag))
                throw fault(error_code::not_marc, child,
                            "controlfield with tag " + tag + ": only 00X tags are control fields");
            fields.emplace_back(std::move(tag), element_text(child));
        } else if (kind == "datafield") {
            std::string tag = tag_of(child);
            if (is_control_tag(tag))
                throw fault(error_code::not_marc, child,
                            "datafield with tag " + tag + ": 00X tags are control fields");
            char const i1 = indicator(child, "ind1", tag);
            char const i2 = indicator(child, "ind2", tag);
            std::vector<subfield> subs;
            std::string df_ns = rec_ns;
            if (declares_namespaces(child) || name_prefix(child.name()) != name_prefix(rec.name())) {
                auto ns = element_namespace(child, outer);
                if (!ns) throw fault(error_code::malformed_xml, child, "undeclared prefix");
                df_ns = std::move(*ns);
            }
            for (auto s = child.first_child(); s; s = s.next_sibling()) {
                if (s.type() != pugi::node_element) continue;
                if (!in_marc_namespace(s, child, df_ns)) continue;
                if (local_name(s.name()) != "subfield") continue;
                auto const code = s.attribute("code");
                std::string_view const c = code.value();
                if (!code)
                    throw fault(error_code::bad_subfield, s,
                                "field " + tag + ": subfield without a code");
                if (c.size() != 1 || static_cast<unsigned char>(c[0]) >= 0x80)
                    throw fault(error_code::bad_subfield, s,
                                "field " + tag + ": subfield code " + in_quotes(c) +
                                    " is not one ASCII character");
                subs.emplace_back(c[0], element_text(s));
            }
            fields.emplace_back(std::move(tag), i1, i2, std::move(subs));
        }
    }
    if (!leader) throw fault(error_code::bad_leader, rec, "record has no leader");
    return record{std::move(*leader), std::move(fields)};
}

// Checks a record element's name and namespace, then builds it.
inline record record_from_element(pugi::xml_node rec, namespace_lookup const& outer) {
    if (rec.type() != pugi::node_element || local_name(rec.name()) != "record")
        throw marcxml_fault{error_code::not_marc, element_offset(rec),
                            "expected a <record> element, found <" + std::string{rec.name()} +
                                ">"};
    auto ns = element_namespace(rec, outer);
    if (!ns)
        throw marcxml_fault{error_code::malformed_xml, element_offset(rec),
                            "namespace prefix of <" + std::string{rec.name()} +
                                "> is not declared"};
    if (!is_marc_namespace(*ns))
        throw marcxml_fault{error_code::not_marc, element_offset(rec),
                            "<record> is in namespace " + in_quotes(*ns) +
                                ", not MARC21/slim or none"};
    return build_record(rec, *ns, outer);
}

// What XML 1.0 forbids in a chunk and pugixml would let through: bad bytes, control
// characters, references to non-characters, entities other than the five predefined ones.
// Returns the problem with its offset in `bytes`, if any.
inline std::optional<marcxml_fault> check_xml_chunk(std::string_view bytes) {
    if (auto bad = find_non_xml_char(bytes)) {
        bool const utf8 = bad.what == "invalid UTF-8";
        return marcxml_fault{utf8 ? error_code::invalid_utf8 : error_code::malformed_xml,
                             static_cast<std::ptrdiff_t>(bad.offset), std::move(bad.what)};
    }
    // Comments, CDATA sections and processing instructions hold no references.
    std::size_t markup = bytes.find("<!");
    std::size_t pi = bytes.find("<?");
    for (std::size_t amp = bytes.find('&'); amp != std::string_view::npos;
         amp = bytes.find('&', amp + 1)) {
        bool in_section = false;
        while (std::min(markup, pi) < amp) {
            std::size_t const open = std::min(markup, pi);
            std::string_view const close = open == pi                           ? "?>"
                                           : bytes.substr(open, 4) == "<!--" ? "-->"
                                                                              : "]]>";
            std::size_t const end = bytes.find(close, open + 2);
            if (end == std::string_view::npos) return std::nullopt;  // pugixml reports it
            markup = bytes.find("<!", end);
            pi = bytes.find("<?", end);
            if (amp < end) {
                amp = end;
                in_section = true;
                break;
            }
        }
        if (in_section) continue;
        auto const semi = bytes.find(';', amp + 1);
        std::string_view const ref =
            bytes.substr(amp + 1, semi == std::string_view::npos ? 12 : semi - amp - 1);
        auto bad = [&](std::string why) {
            return marcxml_fault{error_code::malformed_xml, static_cast<std::ptrdiff_t>(amp),
                                 std::move(why)};
        };
        if (semi == std::string_view::npos || ref.size() > 12)
            return bad("'&' that does not start a reference (write &amp;)");
        if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos")
            continue;
        if (ref.size() >= 2 && ref[0] == '#') {
            bool const hex = ref[1] == 'x';
            std::string_view const digits = ref.substr(hex ? 2 : 1);
            std::uint32_t cp = 0;
            bool ok = !digits.empty() && digits.size() <= 8;
            for (char d : digits) {
                int v = d >= '0' && d <= '9'                ? d - '0'
                        : hex && d >= 'a' && d <= 'f'       ? d - 'a' + 10
                        : hex && d >= 'A' && d <= 'F'       ? d - 'A' + 10
                                                            : -1;
                if (v < 0 || cp > 0x10FFFF) {
                    ok = false;
                    break;
                }
                cp = cp * (hex ? 16 : 10) + static_cast<std::uint32_t>(v);
            }
            if (!ok) return bad("malformed character reference &" + std::string{ref} + ";");
            if (!is_xml_char(cp))
                return bad("character reference &" + std::string{ref} +
                           "; names a character XML 1.0 does not allow");
            continue;
        }
        return bad("undeclared entity &" + std::string{ref} + ";");
    }
    return std::nullopt;
}

inline std::string describe_parse_error(pugi::xml_parse_result const& r) {
    switch (r.status) {
        case pugi::status_end_element_mismatch: return "start and end tags do not match";
        case pugi::status_bad_start_element: return "bad start tag";
        case pugi::status_bad_end_element: return "bad end tag";
        case pugi::status_bad_attribute: return "bad attribute";
        default: return r.description();
    }
}

}  // namespace detail

class marcxml_reader {
public:
    struct options {
        options() {}  // (a default member initialiser needs a user-provided constructor here)
        on_error policy = on_error::stop;
        // Called for each problem met under on_error::skip; when empty, problems are kept in
        // problems().
        std::function<void(read_problem const&)> on_problem;
        // A record element larger than this is reported (record_too_long) and skipped, so
        // that one runaway record cannot take all memory.
        std::size_t max_record_bytes = 64u << 20;
    };

    // Reads `source` to its end, in blocks.
    explicit marcxml_reader(std::unique_ptr<byte_source> source, options opts = options())
        : opts_{std::move(opts)}, source_{std::move(source)} {}

    // The file at `path` ("-" is standard input); throws std::system_error if it cannot be
    // opened.
    static marcxml_reader from_file(std::filesystem::path const& path, options o = options()) {
        return marcxml_reader{std::make_unique<file_source>(path.string()), std::move(o)};
    }
    // A file descriptor (a pipe, stdin), read to its end and not closed.
    static marcxml_reader from_fd(int fd, options o = options()) {
        return marcxml_reader{std::make_unique<fd_source>(fd), std::move(o)};
    }
    static marcxml_reader from_stream(std::istream& in, options o = options()) {
        return marcxml_reader{std::make_unique<istream_source>(in), std::move(o)};
    }
    // Bytes in memory, which must outlive the reader.
    static marcxml_reader from_memory(std::string_view bytes, options o = options()) {
        return marcxml_reader{std::make_unique<memory_source>(bytes), std::move(o)};
    }

    marcxml_reader(marcxml_reader&&) = default;
    marcxml_reader& operator=(marcxml_reader&&) = default;

    // The next record, or nullopt at the end of the input. With on_error::stop a bad record
    // throws marc_error; with skip it is reported and the next good record is returned.
    std::optional<record> next() {
        for (;;) {
            if (finished_) return std::nullopt;
            try {
                if (auto r = next_record()) return r;
            } catch (problem_found& p) {
                report(std::move(p.problem));
            }
        }
    }

    // Problems skipped so far, when no on_problem callback was given.
    std::vector<read_problem> const& problems() const noexcept { return problems_; }
    // How many problems were met, whether kept, handed to the callback or thrown.
    std::uint64_t problem_count() const noexcept { return problem_count_; }
    // How many record elements were met, good or bad.
    std::uint64_t records_seen() const noexcept { return record_number_; }

private:
    struct problem_found {
        read_problem problem;
    };
    struct open_element {
        std::string qname;
        std::vector<std::pair<std::string, std::string>> namespaces;  // prefix, URI
    };
    enum class token_kind { start_tag, empty_tag, end_tag, comment, pi, cdata, doctype };
    struct token {
        token_kind kind;
        std::uint64_t begin, end;  // absolute offsets: '<' and one past '>'
        std::uint64_t name_begin, name_end;
    };

    // ---- the buffer: absolute input offsets, bytes before keep_ may be dropped ----

    char* at(std::uint64_t abs) noexcept { return buf_.data() + (abs - base_); }
    std::uint64_t avail() const noexcept { return base_ + len_; }

    // Reads more input; false at the end of the input.
    bool fill() {
        if (eof_) return false;
        std::size_t const drop = static_cast<std::size_t>(std::min<std::uint64_t>(keep_, avail()) - base_);
        if (drop > 0 && drop >= len_ / 2) {
            std::memmove(buf_.data(), buf_.data() + drop, len_ - drop);
            len_ -= drop;
            base_ += drop;
        }
        if (buf_.size() - len_ < read_block / 2) buf_.resize(std::max(buf_.size() * 2, len_ + read_block));
        std::size_t const got = source_->read(buf_.data() + len_, buf_.size() - len_);
        if (got == 0) {
            eof_ = true;
            return false;
        }
        len_ += got;
        return true;
    }
    // Makes [.., abs) available; false if the input ends first.
    bool ensure(std::uint64_t abs) {
        while (avail() < abs)
            if (!fill()) return false;
        return true;
    }
    // First occurrence of `needle` at or after `from`, or nullopt at the end of the input.
    // `token` is where the markup being read starts, or nullopt when searching text: then
    // nothing before `from` is needed, and a long text does not pile up in the buffer.
    std::optional<std::uint64_t> find(std::string_view needle, std::uint64_t from,
                                      std::optional<std::uint64_t> token = std::nullopt) {
        for (;;) {
            if (from + needle.size() <= avail()) {
                char const* const hay = at(from);
                std::size_t const n = static_cast<std::size_t>(avail() - from);
                void const* hit = needle.size() == 1 ? std::memchr(hay, needle[0], n)
                                                     : ::memmem(hay, n, needle.data(), needle.size());
                if (hit) return from + static_cast<std::uint64_t>(static_cast<char const*>(hit) - hay);
                from = avail() - (needle.size() - 1);
            }
            // Inside a record the whole record is kept, up to the limit; past it, or outside
            // records, only what the current search still needs.
            if (in_record_ && !record_oversized_ && avail() - record_begin_ > opts_.max_record_bytes)
                record_oversized_ = true;
            if (!in_record_ || record_oversized_) keep_ = token ? *token : from;
            if (!fill()) return std::nullopt;
        }
    }

    [[noreturn]] void fail(error_code c, std::uint64_t offset, std::string detail,
                           std::uint64_t record_number) {
        throw problem_found{read_problem{c, record_number, offset, std::move(detail)}};
    }

    void report(read_problem p) {
        ++problem_count_;
        if (opts_.policy == on_error::stop) throw marc_error{std::move(p)};
        if (opts_.on_problem)
            opts_.on_problem(p);
        else
            problems_.push_back(std::move(p));
    }

    // ---- the scanner ----

    static bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

    std::string_view text(std::uint64_t b, std::uint64_t e) { return {at(b), static_cast<std::size_t>(e - b)}; }

    // Reads the markup token starting at `lt` ('<'). Throws problem_found when the input ends
    // inside it.
    token read_token(std::uint64_t lt) {
        auto truncated = [&](char const* what) {
            finished_ = true;
            fail(error_code::truncated_record, avail(),
                 std::string{"input ends inside "} + what,
                 in_record_ ? record_number_ : record_number_ + 1);
        };
        if (!ensure(lt + 2)) truncated("a tag");
        char const c1 = *at(lt + 1);
        if (c1 == '?') {
            auto e = find("?>", lt + 2, lt);
            if (!e) truncated("a processing instruction");
            return {token_kind::pi, lt, *e + 2, lt + 2, lt + 2};
        }
        if (c1 == '!') {
            ensure(lt + 9);
            std::string_view const head = text(lt, std::min(avail(), lt + 9));
            if (head.substr(0, 4) == "<!--") {
                auto e = find("-->", lt + 4, lt);
                if (!e) truncated("a comment");
                return {token_kind::comment, lt, *e + 3, lt, lt};
            }
            if (head == "<![CDATA[") {
                auto e = find("]]>", lt + 9, lt);
                if (!e) truncated("a CDATA section");
                return {token_kind::cdata, lt, *e + 3, lt, lt};
            }
            // <!DOCTYPE ...>, maybe with an internal subset in brackets.
            int depth = 0;
            char quote = 0;
            for (std::uint64_t p = lt + 2;; ++p) {
                if (!ensure(p + 1)) truncated("a document type declaration");
                char const c = *at(p);
                if (quote) {
                    if (c == quote) quote = 0;
                } else if (c == '"' || c == '\'') {
                    quote = c;
                } else if (c == '[') {
                    ++depth;
                } else if (c == ']') {
                    --depth;
                } else if (c == '>' && depth <= 0) {
                    return {token_kind::doctype, lt, p + 1, lt, lt};
                }
            }
        }
        bool const end_tag = c1 == '/';
        std::uint64_t const name_begin = lt + (end_tag ? 2 : 1);
        // The tag ends at the first '>' outside quotes; most tags have no '>' in attributes.
        std::uint64_t p = name_begin;
        char quote = 0;
        for (;;) {
            if (!quote) {
                auto gt = find(">", p, lt);
                if (!gt) truncated("a tag");
                // Any quote between here and '>'?
                char const* s = at(p);
                std::size_t const n = static_cast<std::size_t>(*gt - p);
                char const* q1 = static_cast<char const*>(std::memchr(s, '"', n));
                char const* q2 = static_cast<char const*>(std::memchr(s, '\'', n));
                char const* q = q1 && q2 ? std::min(q1, q2) : q1 ? q1 : q2;
                if (!q) {
                    p = *gt;
                    break;
                }
                quote = *q;
                p = p + static_cast<std::uint64_t>(q - s) + 1;
            } else {
                auto close = find(std::string_view{&quote, 1}, p, lt);
                if (!close) truncated("an attribute value");
                quote = 0;
                p = *close + 1;
            }
        }
        std::uint64_t name_end = name_begin;
        while (name_end < p && !is_space(*at(name_end)) && *at(name_end) != '/' &&
               *at(name_end) != '>')
            ++name_end;
        token_kind kind = end_tag ? token_kind::end_tag
                                  : (*at(p - 1) == '/' ? token_kind::empty_tag : token_kind::start_tag);
        return {kind, lt, p + 1, name_begin, name_end};
    }

    // The xmlns declarations in a start tag (outside records, so rarely called).
    std::vector<std::pair<std::string, std::string>> namespace_declarations(token const& t) {
        std::vector<std::pair<std::string, std::string>> out;
        std::string_view const s = text(t.name_end, t.end - 1);
        std::size_t i = 0;
        while (i < s.size()) {
            while (i < s.size() && (is_space(s[i]) || s[i] == '/')) ++i;
            std::size_t const nb = i;
            while (i < s.size() && s[i] != '=' && !is_space(s[i])) ++i;
            std::string_view const name = s.substr(nb, i - nb);
            while (i < s.size() && (is_space(s[i]) || s[i] == '=')) ++i;
            if (i >= s.size() || (s[i] != '"' && s[i] != '\'')) break;
            char const q = s[i++];
            std::size_t const vb = i;
            while (i < s.size() && s[i] != q) ++i;
            std::string_view const value = s.substr(vb, i - vb);
            ++i;
            if (name == "xmlns")
                out.emplace_back(std::string{}, std::string{value});
            else if (name.size() > 6 && name.substr(0, 6) == "xmlns:")
                out.emplace_back(std::string{name.substr(6)}, std::string{value});
        }
        return out;
    }

    // Namespace bound to `prefix` by the open ancestors (innermost first).
    std::optional<std::string> outer_namespace(std::string_view prefix) const {
        for (auto it = stack_.rbegin(); it != stack_.rend(); ++it)
            for (auto const& [p, uri] : it->namespaces)
                if (p == prefix) return uri;
        return std::nullopt;
    }

    // Whether a start tag outside records opens a MARC record element.
    bool opens_record(token const& t, std::vector<std::pair<std::string, std::string>> const& own) {
        std::string_view const qname = text(t.name_begin, t.name_end);
        if (detail::local_name(qname) != "record") return false;
        std::string_view const prefix = detail::name_prefix(qname);
        for (auto const& [p, uri] : own)
            if (p == prefix) return detail::is_marc_namespace(uri);
        if (auto uri = outer_namespace(prefix)) return detail::is_marc_namespace(*uri);
        if (prefix.empty()) return true;
        // An undeclared prefix: take it as a record so that the error names it.
        return true;
    }

    // Skips the byte-order mark and checks the declared encoding once, at the start.
    void check_prolog() {
        prolog_checked_ = true;
        ensure(4);
        std::string_view const head = text(0, std::min<std::uint64_t>(avail(), 4));
        if (head.empty()) {  // an empty input holds no records, and that is no error
            finished_ = true;
            return;
        }
        if (head.substr(0, 3) == "\xEF\xBB\xBF") {
            pos_ = 3;
        } else if (head.substr(0, 2) == "\xFF\xFE" || head.substr(0, 2) == "\xFE\xFF" ||
                   (head.size() >= 2 && (head[0] == '\0' || head[1] == '\0'))) {
            fatal(error_code::not_marc, 0, "input is UTF-16 or UTF-32; MARCXML must be UTF-8");
        }
        keep_ = pos_;
        if (!ensure(pos_ + 5) || text(pos_, pos_ + 5) != "<?xml") return;
        auto const e = find("?>", pos_, pos_);
        if (!e) return;
        std::string decl{text(pos_, *e)};
        auto const enc = decl.find("encoding");
        if (enc == std::string::npos) return;
        auto const q = decl.find_first_of("\"'", enc);
        if (q == std::string::npos) return;
        auto const qe = decl.find(decl[q], q + 1);
        std::string name = decl.substr(q + 1, qe == std::string::npos ? std::string::npos : qe - q - 1);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        if (name != "utf-8" && name != "utf8" && name != "us-ascii" && name != "ascii")
            fatal(error_code::not_marc, pos_,
                  "declared encoding \"" + name + "\" is not supported; MARCXML must be UTF-8");
    }

    // A problem after which nothing more can be read.
    [[noreturn]] void fatal(error_code c, std::uint64_t offset, std::string detail) {
        finished_ = true;
        fail(c, offset, std::move(detail), record_number_ + 1);
    }

    // Finds the next record element and parses it; nullopt at the end of the input.
    std::optional<record> next_record() {
        if (!prolog_checked_) check_prolog();
        if (finished_) return std::nullopt;
        for (;;) {
            keep_ = pos_;
            if (!saw_root_) {
                // Only whitespace may come before the root element.
                while (ensure(pos_ + 1) && is_space(*at(pos_))) keep_ = ++pos_;
                if (pos_ < avail() && *at(pos_) != '<')
                    fatal(error_code::not_marc, pos_,
                          saw_markup_ ? "text before the root element" : "input is not XML");
            }
            auto const lt = find("<", pos_);
            if (!lt) return end_of_input();
            keep_ = *lt;
            token const t = read_token(*lt);
            pos_ = t.end;
            saw_markup_ = true;
            switch (t.kind) {
                case token_kind::pi:
                case token_kind::comment:
                case token_kind::doctype:
                case token_kind::cdata:
                    continue;
                case token_kind::end_tag: {
                    std::string_view const name = text(t.name_begin, t.name_end);
                    if (stack_.empty() || stack_.back().qname != name)
                        fail(error_code::malformed_xml, t.begin,
                             "end tag </" + std::string{name} + "> " +
                                 (stack_.empty() ? "without a start tag"
                                                 : "where </" + stack_.back().qname + "> belongs"),
                             record_number_ + 1);
                    stack_.pop_back();
                    continue;
                }
                case token_kind::start_tag:
                case token_kind::empty_tag: {
                    auto decls = namespace_declarations(t);
                    if (opens_record(t, decls)) {
                        saw_root_ = true;
                        ++record_number_;
                        return read_record(t);
                    }
                    if (!saw_root_) {
                        saw_root_ = true;
                        root_name_ = text(t.name_begin, t.name_end);
                    } else if (stack_.empty()) {
                        root_name_ = text(t.name_begin, t.name_end);
                    } else {
                        saw_other_element_ = true;
                    }
                    if (t.kind == token_kind::start_tag) {
                        if (stack_.size() >= max_depth)
                            fatal(error_code::malformed_xml, t.begin,
                                  "elements nested deeper than " + std::to_string(max_depth));
                        stack_.push_back(open_element{std::string{text(t.name_begin, t.name_end)},
                                                      std::move(decls)});
                    }
                    continue;
                }
            }
        }
    }

    std::optional<record> end_of_input() {
        finished_ = true;
        if (!stack_.empty()) {
            std::string const open = stack_.back().qname;
            stack_.clear();
            fail(error_code::truncated_record, avail(),
                 "input ends inside <" + open + ">; the document is cut short",
                 record_number_ + 1);
        }
        if (record_number_ == 0 && !saw_root_)
            fail(error_code::not_marc, avail(), "no XML element in the input", 1);
        if (record_number_ == 0 && (saw_other_element_ || !is_collection(root_name_)))
            fail(error_code::not_marc, avail(),
                 "no MARC <record> element in <" + root_name_ + ">", 1);
        return std::nullopt;
    }

    static bool is_collection(std::string_view qname) {
        return detail::local_name(qname) == "collection";
    }

    // Cuts the record element that starts with `start` out of the input and parses it.
    std::optional<record> read_record(token const& start) {
        std::uint64_t const begin = start.begin;
        std::string const qname{text(start.name_begin, start.name_end)};
        in_record_ = true;
        record_oversized_ = false;
        record_begin_ = begin;
        keep_ = begin;
        struct leave {
            marcxml_reader* r;
            ~leave() { r->in_record_ = false; }
        } guard{this};

        std::uint64_t end = start.end;
        if (start.kind == token_kind::start_tag) {
            for (;;) {
                keep_ = record_oversized_ ? pos_ : begin;
                auto const lt = find("<", pos_);
                if (!lt) {
                    finished_ = true;
                    fail(error_code::truncated_record, avail(),
                         "input ends inside <" + qname + "> that starts at byte " +
                             std::to_string(begin),
                         record_number_);
                }
                if (record_oversized_) keep_ = *lt;
                token const t = read_token(*lt);
                std::string_view const name = text(t.name_begin, t.name_end);
                if ((t.kind == token_kind::start_tag || t.kind == token_kind::empty_tag) &&
                    detail::local_name(name) == "record") {
                    // The next record begins: this one was never closed.
                    pos_ = t.begin;
                    unclosed(qname, begin, t.begin);
                }
                if (t.kind == token_kind::end_tag) {
                    if (detail::local_name(name) == "record") {
                        pos_ = end = t.end;
                        break;
                    }
                    for (auto const& a : stack_)
                        if (a.qname == name) {
                            pos_ = t.begin;
                            unclosed(qname, begin, t.begin);
                        }
                }
                pos_ = t.end;
            }
        }
        pos_ = end;
        if (record_oversized_)
            fail(error_code::record_too_long, begin,
                 "record element of " + std::to_string(end - begin) + " bytes exceeds the limit of " +
                     std::to_string(opts_.max_record_bytes),
                 record_number_);
        return parse_record(begin, end);
    }

    [[noreturn]] void unclosed(std::string const& qname, std::uint64_t begin, std::uint64_t at) {
        fail(error_code::malformed_xml, at,
             "<" + qname + "> that starts at byte " + std::to_string(begin) + " is not closed",
             record_number_);
    }

    [[noreturn]] void chunk_problem(std::uint64_t begin, detail::marcxml_fault const& f) {
        fail(f.code, begin + static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(f.offset, 0)),
             f.detail, record_number_);
    }

    record parse_record(std::uint64_t begin, std::uint64_t end) {
        char* const chunk = at(begin);
        std::size_t const size = static_cast<std::size_t>(end - begin);
        if (auto bad = detail::check_xml_chunk({chunk, size})) chunk_problem(begin, *bad);
        if (!doc_) doc_ = std::make_unique<pugi::xml_document>();
        auto const parsed = doc_->load_buffer_inplace(
            chunk, size,
            pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol | pugi::parse_wconv_attribute |
                pugi::parse_ws_pcdata,
            pugi::encoding_utf8);
        if (!parsed)
            chunk_problem(begin, {error_code::malformed_xml, parsed.offset,
                                  detail::describe_parse_error(parsed)});
        try {
            return detail::record_from_element(
                doc_->document_element(),
                [this](std::string_view prefix) { return outer_namespace(prefix); });
        } catch (detail::marcxml_fault const& f) {
            chunk_problem(begin, f);
        }
    }

    static constexpr std::size_t read_block = 256 * 1024;
    static constexpr std::size_t max_depth = 256;

    options opts_;
    std::unique_ptr<byte_source> source_;
    std::unique_ptr<pugi::xml_document> doc_;

    std::vector<char> buf_;
    std::size_t len_ = 0;        // bytes in buf_
    std::uint64_t base_ = 0;     // input offset of buf_[0]
    std::uint64_t keep_ = 0;     // input offset of the first byte still needed
    std::uint64_t pos_ = 0;      // scan position
    bool eof_ = false;
    bool finished_ = false;
    bool prolog_checked_ = false;

    std::vector<open_element> stack_;  // open elements outside records
    bool saw_root_ = false;
    bool saw_markup_ = false;
    bool saw_other_element_ = false;
    std::string root_name_;
    bool in_record_ = false;
    bool record_oversized_ = false;
    std::uint64_t record_begin_ = 0;
    std::uint64_t record_number_ = 0;
    std::vector<read_problem> problems_;
    std::uint64_t problem_count_ = 0;
};

// The record in a `<record>` element of a document already parsed with pugixml (an Alma
// `<holding><record>`); prefixes are resolved through the element's ancestors. Throws
// marc_error naming `record_number` and the element's offset in the parsed buffer.
inline record from_marcxml(pugi::xml_node record_node, std::uint64_t record_number = 1) {
    try {
        return detail::record_from_element(record_node, nullptr);
    } catch (detail::marcxml_fault const& f) {
        throw marc_error{read_problem{f.code, record_number,
                                      static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(f.offset, 0)),
                                      f.detail}};
    }
}

// The single record of a MARCXML document held in a string (a `<record>`, a `<collection>` of
// one, or a wrapper such as `<holding>` around one). Throws marc_error if there is none, more
// than one, or the document is bad.
inline record from_marcxml(std::string_view document) {
    auto reader = marcxml_reader::from_memory(document);
    auto first = reader.next();
    if (!first)
        throw marc_error{read_problem{error_code::not_marc, 1, 0, "no MARC record in the document"}};
    if (reader.next())
        throw marc_error{read_problem{error_code::not_marc, 2, 0,
                                      "expected one MARC record, found more"}};
    return std::move(*first);
}

}  // namespace marcpipe::marc
