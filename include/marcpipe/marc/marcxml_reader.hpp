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
// Plain runs of records (no comment, CDATA section or processing instruction among them) are
// cut at a record end up to 256 KiB long and parsed as one batch, which is most of the speed;
// anything unusual in a run sends it through the record-by-record path, with the same results.
//
// Text is taken exactly as the document has it: leader, control field and subfield values are
// not trimmed, pretty-printed or not. (One exception: whitespace-only text beside an unknown
// child element inside a subfield -- mixed content, which MARCXML does not have -- is dropped
// in plain runs.) Before pugixml sees a chunk it is checked for what XML 1.0
// forbids and pugixml lets through: bytes that are not UTF-8, control characters, references
// to characters XML does not allow, undeclared entities. The input must be UTF-8 (or ASCII);
// another declared encoding is refused with a clear message. A DOCTYPE is skipped; entities
// it declares are not expanded (they are reported as undeclared).
//
// Errors: each problem is a read_problem naming the record number (1-based, counting every
// record element met) and the byte offset in the input where it was found. With on_error::stop
// next() throws marc_error; with on_error::skip the record is reported to options::on_problem
// (or kept in problems()), and reading resumes at the next record. Either way the bad record
// has been consumed, so a caller that catches the error may call next() again. A record that is not
// closed before the next record starts, or before its parent closes, is reported and the next
// record is still read. Structural MARC rules: a record has exactly one leader of 24 bytes; tags
// are three ASCII characters, `controlfield` only for 00X tags and `datafield` only for others;
// indicators are one ASCII character (missing or empty means blank); subfield codes are one
// ASCII character.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <istream>
#include <memory>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <marcpipe/marc/error.hpp>
#include <marcpipe/marc/marcxml_plain.hpp>
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

// What XML 1.0 forbids in a chunk and pugixml would let through: bad bytes, control
// characters, references to non-characters, entities other than the five predefined ones.
// Returns the problem with its offset in `bytes`, if any.
// `sections`: whether the chunk may hold comments, CDATA sections or processing instructions
// (the batch path has made sure it holds none).
inline std::optional<marcxml_fault> check_xml_chunk(std::string_view bytes, bool sections = true) {
    if (auto bad = find_non_xml_char(bytes)) {
        bool const utf8 = bad.what == "invalid UTF-8";
        return marcxml_fault{utf8 ? error_code::invalid_utf8 : error_code::malformed_xml,
                             static_cast<std::ptrdiff_t>(bad.offset), std::move(bad.what)};
    }
    // Comments, CDATA sections and processing instructions hold no references; they are
    // looked for only between references, and only when there is a reference at all.
    std::size_t sections_checked = sections ? 0 : bytes.size();  // none before here
    for (std::size_t amp = bytes.find('&'); amp != std::string_view::npos;
         amp = bytes.find('&', amp + 1)) {
        bool in_section = false;
        while (sections_checked < amp) {
            std::size_t open = bytes.find('<', sections_checked);
            if (open >= amp) {
                sections_checked = amp;
                break;
            }
            char const next = open + 1 < bytes.size() ? bytes[open + 1] : 0;
            if (next != '!' && next != '?') {
                sections_checked = open + 1;
                continue;
            }
            std::string_view const close = next == '?'                       ? "?>"
                                           : bytes.substr(open, 4) == "<!--" ? "-->"
                                                                             : "]]>";
            std::size_t const end = bytes.find(close, open + 2);
            if (end == std::string_view::npos) return std::nullopt;  // pugixml reports it
            sections_checked = end + close.size();
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
        if (ref == "amp" || ref == "lt" || ref == "gt" || ref == "quot" || ref == "apos") continue;
        if (ref.size() >= 2 && ref[0] == '#') {
            bool const hex = ref[1] == 'x';
            std::string_view const digits = ref.substr(hex ? 2 : 1);
            std::uint32_t cp = 0;
            bool ok = !digits.empty() && digits.size() <= 8;
            for (char d : digits) {
                int v = d >= '0' && d <= '9'          ? d - '0'
                        : hex && d >= 'a' && d <= 'f' ? d - 'a' + 10
                        : hex && d >= 'A' && d <= 'F' ? d - 'A' + 10
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
        case pugi::status_end_element_mismatch:
            return "start and end tags do not match";
        case pugi::status_bad_start_element:
            return "bad start tag";
        case pugi::status_bad_end_element:
            return "bad end tag";
        case pugi::status_bad_attribute:
            return "bad attribute";
        default:
            return r.description();
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
        record r;
        if (!read(r)) return std::nullopt;
        return r;
    }

    // Like next(), into a record whose storage is reused: the fast way to convert a large
    // file (`record r; while (reader.read(r)) writer.write(r);`). False at the end of the
    // input; after a thrown problem `into` holds a partial record.
    bool read(record& into) {
        for (;;) {
            if (finished_) return false;
            try {
                return next_record(into);
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

    char* at(std::uint64_t abs) noexcept { return buf_.get() + (abs - base_); }
    std::uint64_t avail() const noexcept { return base_ + len_; }

    // Reads more input; false at the end of the input.
    bool fill() {
        if (eof_) return false;
        std::size_t const drop =
            static_cast<std::size_t>(std::min<std::uint64_t>(keep_, avail()) - base_);
        if (drop > 0 && drop >= len_ / 2) {
            std::memmove(buf_.get(), buf_.get() + drop, len_ - drop);
            len_ -= drop;
            base_ += drop;
        }
        if (capacity_ - len_ < read_block / 2) {
            // Small input in memory gets a buffer its size, not a full block.
            std::size_t want = std::max(capacity_ * 2, len_ + read_block);
            if (capacity_ == 0)
                if (auto whole = source_->contiguous()) want = std::min(want, whole->size() + 1);
            auto bigger = std::make_unique_for_overwrite<char[]>(want);
            if (len_ != 0) std::memcpy(bigger.get(), buf_.get(), len_);
            buf_ = std::move(bigger);
            capacity_ = want;
        }
        std::size_t const got = source_->read(buf_.get() + len_, capacity_ - len_);
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
                void const* hit = needle.size() == 1
                                      ? std::memchr(hay, needle[0], n)
                                      : ::memmem(hay, n, needle.data(), needle.size());
                if (hit)
                    return from + static_cast<std::uint64_t>(static_cast<char const*>(hit) - hay);
                from = avail() - (needle.size() - 1);
            }
            // Inside a record the whole record is kept, up to the limit; past it, or outside
            // records, only what the current search still needs.
            if (in_record_ && !record_oversized_ &&
                avail() - record_begin_ > opts_.max_record_bytes)
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

    static bool is_space(char c) noexcept {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    std::string_view text(std::uint64_t b, std::uint64_t e) {
        return {at(b), static_cast<std::size_t>(e - b)};
    }

    // Reads the markup token starting at `lt` ('<'). Throws problem_found when the input ends
    // inside it.
    token read_token(std::uint64_t lt) {
        auto truncated = [&](char const* what) {
            finished_ = true;
            fail(error_code::truncated_record, avail(), std::string{"input ends inside "} + what,
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
        token_kind kind = end_tag
                              ? token_kind::end_tag
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
        std::string name =
            decl.substr(q + 1, qe == std::string::npos ? std::string::npos : qe - q - 1);
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
    bool next_record(record& out) {
        if (batch_next_ || plain_next_ < plain_count_) return take_from_batch(out);
        if (!prolog_checked_) check_prolog();
        if (finished_) return false;
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
                        if (start_batch(t)) return take_from_batch(out);
                        ++record_number_;
                        return read_record(t, out);
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

    bool end_of_input() {
        finished_ = true;
        if (!stack_.empty()) {
            std::string const open = stack_.back().qname;
            stack_.clear();
            fail(error_code::truncated_record, avail(),
                 "input ends inside <" + open + ">; the document is cut short", record_number_ + 1);
        }
        if (record_number_ == 0 && !saw_root_)
            fail(error_code::not_marc, avail(), "no XML element in the input", 1);
        if (record_number_ == 0 && (saw_other_element_ || !is_collection(root_name_)))
            fail(error_code::not_marc, avail(), "no MARC <record> element in <" + root_name_ + ">",
                 1);
        return false;
    }

    static bool is_collection(std::string_view qname) {
        return detail::local_name(qname) == "collection";
    }

    // Cuts the record element that starts with `start` out of the input and parses it.
    bool read_record(token const& start, record& out) {
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
                auto const lt = find_lt(pos_);
                if (!lt) {
                    finished_ = true;
                    fail(error_code::truncated_record, avail(),
                         "input ends inside <" + qname + "> that starts at byte " +
                             std::to_string(begin),
                         record_number_);
                }
                if (record_oversized_) keep_ = *lt;
                if (!ensure(*lt + 2)) {
                    finished_ = true;
                    fail(error_code::truncated_record, avail(),
                         "input ends inside <" + qname + "> that starts at byte " +
                             std::to_string(begin),
                         record_number_);
                }
                char const c1 = *at(*lt + 1);
                if (c1 == '!' || c1 == '?') {  // comment, CDATA section, processing instruction
                    pos_ = read_token(*lt).end;
                    continue;
                }
                // Inside a record only tag names matter: '<' cannot occur in an attribute
                // value, so the rest of a tag is left to pugixml.
                bool const end_tag = c1 == '/';
                std::uint64_t const name_begin = *lt + (end_tag ? 2 : 1);
                std::uint64_t const name_end = scan_name(name_begin);
                std::string_view const name = text(name_begin, name_end);
                pos_ = name_end;
                if (!end_tag) {
                    if (detail::is_record_name(name)) {
                        // The next record begins: this one was never closed.
                        pos_ = *lt;
                        unclosed(qname, begin, *lt);
                    }
                    continue;
                }
                if (detail::is_record_name(name)) {
                    auto const gt = find(">", name_end, *lt);
                    if (!gt) {
                        finished_ = true;
                        fail(error_code::truncated_record, avail(), "input ends inside a tag",
                             record_number_);
                    }
                    pos_ = end = *gt + 1;
                    break;
                }
                for (auto const& a : stack_)
                    if (a.qname == name) {
                        pos_ = *lt;
                        unclosed(qname, begin, *lt);
                    }
            }
        }
        pos_ = end;
        if (end - begin > opts_.max_record_bytes) record_oversized_ = true;
        if (record_oversized_)
            fail(error_code::record_too_long, begin,
                 "record element of " + std::to_string(end - begin) +
                     " bytes exceeds the limit of " + std::to_string(opts_.max_record_bytes),
                 record_number_);
        parse_record(begin, end, out);
        return true;
    }

    // The next '<' at or after `from`: find("<") without a call per tag, since tags inside a
    // record are only a few bytes apart.
    std::optional<std::uint64_t> find_lt(std::uint64_t from) {
#if defined(__SSE2__)
        char const* p = at(from);
        char const* const e = at(avail());
        __m128i const lt = _mm_set1_epi8('<');
        while (e - p >= 16) {
            auto const mask = static_cast<unsigned>(_mm_movemask_epi8(
                _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<__m128i const*>(p)), lt)));
            if (mask != 0)
                return avail() - static_cast<std::uint64_t>(e - p) +
                       static_cast<std::uint64_t>(std::countr_zero(mask));
            p += 16;
        }
        from = avail() - static_cast<std::uint64_t>(e - p);
#endif
        return find("<", from);
    }

    // One past the end of the tag name that starts at `from`.
    std::uint64_t scan_name(std::uint64_t from) {
#if defined(__SSE2__)
        // Names are short: one 16-byte look finds the end of nearly all of them.
        if (avail() - from >= 16) {
            __m128i const x = _mm_loadu_si128(reinterpret_cast<__m128i const*>(at(from)));
            __m128i const space = _mm_set1_epi8(0x20);
            __m128i const stop =
                _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, space), x),  // whitespace and controls
                             _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('>')),
                                                       _mm_cmpeq_epi8(x, _mm_set1_epi8('/'))),
                                          _mm_cmpeq_epi8(x, _mm_set1_epi8('<'))));
            auto const mask = static_cast<unsigned>(_mm_movemask_epi8(stop));
            if (mask != 0) return from + static_cast<std::uint64_t>(std::countr_zero(mask));
        }
#endif
        std::uint64_t p = from;
        for (;;) {
            char const* s = at(p);
            char const* const e = at(avail());
            while (s != e && !is_space(*s) && *s != '>' && *s != '/' && *s != '<') ++s;
            p = avail() - static_cast<std::uint64_t>(e - s);
            if (s != e || !fill()) return p;
        }
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

    // ---- batches: many records, one pugixml parse ----
    //
    // Cutting out and parsing record by record costs a scan of every tag and a parse per
    // record. In the common case -- records side by side with no comment, CDATA section or
    // processing instruction among them -- a run of records up to batch_bytes long is cut at
    // the last record end tag in it, checked, and parsed at once. Anything unusual in the run
    // (a section, an element that is not a record, XML that does not parse, a character XML
    // forbids) sends that run through the careful record-by-record path instead, which finds
    // and names the bad record exactly as it would have without batches.

    // Where "<!" or "<?" first occurs in [p, p + n), or n.
    static std::size_t find_section(char const* p, std::size_t n) noexcept {
        std::size_t i = 0;
#if defined(__SSE2__)
        __m128i const lt = _mm_set1_epi8('<'), bang = _mm_set1_epi8('!'), q = _mm_set1_epi8('?');
        for (; i + 17 <= n; i += 16) {
            __m128i const x = _mm_loadu_si128(reinterpret_cast<__m128i const*>(p + i));
            __m128i const y = _mm_loadu_si128(reinterpret_cast<__m128i const*>(p + i + 1));
            __m128i const hit = _mm_and_si128(
                _mm_cmpeq_epi8(x, lt), _mm_or_si128(_mm_cmpeq_epi8(y, bang), _mm_cmpeq_epi8(y, q)));
            auto const mask = static_cast<unsigned>(_mm_movemask_epi8(hit));
            if (mask != 0) return i + static_cast<std::size_t>(std::countr_zero(mask));
        }
#endif
        for (; i + 1 < n; ++i)
            if (p[i] == '<' && (p[i + 1] == '!' || p[i + 1] == '?')) return i;
        return n;
    }

    // Tries to parse a batch of records starting with the record whose start tag is `start`.
    bool start_batch(token const& start) {
        std::uint64_t const begin = start.begin;
        // (A batch holds whole records only, so it must not hold one over the size limit.)
        if (begin < careful_until_ || opts_.max_record_bytes < batch_bytes) return false;
        keep_ = begin;
        ensure(begin + batch_bytes);
        std::size_t window =
            static_cast<std::size_t>(std::min(avail(), begin + batch_bytes) - begin);
        char const* const w = at(begin);
        window = find_section(w, window);
        // The last end tag of a record like the first one closes the batch.
        std::string close = "</";
        close += text(start.name_begin, start.name_end);
        close += '>';
        std::string_view const run{w, window};
        std::size_t const last = run.rfind(close);
        auto careful = [&](std::size_t upto) {
            careful_until_ = begin + std::max<std::size_t>(upto, 1);
            return false;
        };
        if (last == std::string_view::npos) return careful(window);
        std::size_t const size = last + close.size();
        std::string_view const bytes = run.substr(0, size);
        if (detail::check_xml_chunk(bytes, false)) return careful(size);
        // Records in the plain shape are read straight from the bytes, with no tree (see
        // marcxml_plain.hpp); they are bare <record>s, so the default namespace must be MARC's.
        if (auto const ns = outer_namespace(""); !ns || detail::is_marc_namespace(*ns)) {
            if (plain_scan_.read_run(bytes, plain_, plain_count_)) {
                plain_next_ = 0;
                batch_begin_ = begin;
                pos_ = begin + size;
                return true;  // a run starts with a record, so it holds one at least
            }
            plain_count_ = 0;
        }

        batch_buf_.assign(batch_open);
        batch_buf_.append(bytes);
        batch_buf_.append(batch_close);
        if (!batch_doc_) batch_doc_ = std::make_unique<pugi::xml_document>();
        auto const parsed = batch_doc_->load_buffer_inplace(
            batch_buf_.data(), batch_buf_.size(),
            pugi::parse_escapes | pugi::parse_eol | pugi::parse_wconv_attribute |
                pugi::parse_ws_pcdata_single | pugi::parse_embed_pcdata,
            pugi::encoding_utf8);
        if (!parsed) return careful(size);
        auto const wrapper = batch_doc_->document_element();
        // Every element in the run must be a MARC record; text between them is ignored.
        for (auto c = wrapper.first_child(); c; c = c.next_sibling()) {
            if (c.type() != pugi::node_element) continue;
            if (!detail::is_record_name(c.name())) return careful(size);
            auto ns = detail::element_namespace(
                c, [this](std::string_view prefix) { return outer_namespace(prefix); });
            if (!ns || !detail::is_marc_namespace(*ns)) return careful(size);
        }
        batch_next_ = wrapper.first_child();
        while (batch_next_ && batch_next_.type() != pugi::node_element)
            batch_next_ = batch_next_.next_sibling();
        batch_begin_ = begin;
        pos_ = begin + size;
        return true;
    }

    bool take_from_batch(record& out) {
        if (plain_next_ < plain_count_) {
            ++record_number_;
            std::swap(out, plain_[plain_next_++]);  // out's storage goes back to the pool
            return true;
        }
        pugi::xml_node const node = batch_next_;
        batch_next_ = node.next_sibling();
        while (batch_next_ && batch_next_.type() != pugi::node_element)
            batch_next_ = batch_next_.next_sibling();
        ++record_number_;
        try {
            detail::record_from_element(
                node, [this](std::string_view prefix) { return outer_namespace(prefix); }, out);
        } catch (detail::marcxml_fault const& f) {
            std::ptrdiff_t const in_batch = std::max<std::ptrdiff_t>(
                f.offset - static_cast<std::ptrdiff_t>(batch_open.size()), 0);
            fail(f.code, batch_begin_ + static_cast<std::uint64_t>(in_batch), f.detail,
                 record_number_);
        }
        return true;
    }

    void parse_record(std::uint64_t begin, std::uint64_t end, record& out) {
        char* const chunk = at(begin);
        std::size_t const size = static_cast<std::size_t>(end - begin);
        if (auto bad = detail::check_xml_chunk({chunk, size})) chunk_problem(begin, *bad);
        if (!doc_) doc_ = std::make_unique<pugi::xml_document>();
        auto const parsed = doc_->load_buffer_inplace(
            chunk, size,
            pugi::parse_cdata | pugi::parse_escapes | pugi::parse_eol |
                pugi::parse_wconv_attribute | pugi::parse_ws_pcdata | pugi::parse_embed_pcdata,
            pugi::encoding_utf8);
        if (!parsed)
            chunk_problem(begin, {error_code::malformed_xml, parsed.offset,
                                  detail::describe_parse_error(parsed)});
        try {
            detail::record_from_element(
                doc_->document_element(),
                [this](std::string_view prefix) { return outer_namespace(prefix); }, out);
        } catch (detail::marcxml_fault const& f) {
            chunk_problem(begin, f);
        }
    }

    static constexpr std::size_t read_block = 256 * 1024;
    static constexpr std::size_t max_depth = 256;

    options opts_;
    std::unique_ptr<byte_source> source_;
    std::unique_ptr<pugi::xml_document> doc_;

    static constexpr std::size_t batch_bytes = 256 * 1024;
    static constexpr std::string_view batch_open = "<batch>";
    static constexpr std::string_view batch_close = "</batch>";
    std::unique_ptr<pugi::xml_document> batch_doc_;
    std::string batch_buf_;
    pugi::xml_node batch_next_;  // the next record of the current batch, if any
    detail::plain_marcxml_scan plain_scan_;
    std::vector<record> plain_;        // a plain batch's records, and their storage
    std::size_t plain_count_ = 0;      // how many of plain_ the batch filled
    std::size_t plain_next_ = 0;       // the next of them to hand out
    std::uint64_t batch_begin_ = 0;    // input offset of the batch's first byte
    std::uint64_t careful_until_ = 0;  // no batch starts before this offset

    std::unique_ptr<char[]> buf_;
    std::size_t capacity_ = 0;
    std::size_t len_ = 0;     // bytes in buf_
    std::uint64_t base_ = 0;  // input offset of buf_[0]
    std::uint64_t keep_ = 0;  // input offset of the first byte still needed
    std::uint64_t pos_ = 0;   // scan position
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
//
// What the document holds is what the caller's parse kept: pugi::parse_default drops
// whitespace-only text, so a subfield that is one space comes back empty; parse with
// `pugi::parse_default | pugi::parse_ws_pcdata_single` to keep it. pugixml does not check
// characters, so bytes XML forbids pass through here (the streaming reader checks them).
inline record from_marcxml(pugi::xml_node record_node, std::uint64_t record_number = 1) {
    try {
        record r;
        detail::record_from_element(record_node, nullptr, r);
        return r;
    } catch (detail::marcxml_fault const& f) {
        throw marc_error{read_problem{
            f.code, record_number,
            static_cast<std::uint64_t>(std::max<std::ptrdiff_t>(f.offset, 0)), f.detail}};
    }
}

// The single record of a MARCXML document held in a string (a `<record>`, a `<collection>` of
// one, or a wrapper such as `<holding>` around one). Throws marc_error if there is none, more
// than one, or the document is bad.
inline record from_marcxml(std::string_view document) {
    auto reader = marcxml_reader::from_memory(document);
    auto first = reader.next();
    if (!first)
        throw marc_error{
            read_problem{error_code::not_marc, 1, 0, "no MARC record in the document"}};
    if (reader.next())
        throw marc_error{
            read_problem{error_code::not_marc, 2, 0, "expected one MARC record, found more"}};
    return std::move(*first);
}

}  // namespace marcpipe::marc
