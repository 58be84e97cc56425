// marcxml_plain: reads a run of MARCXML records written in the plain, common shape straight into
// records, without building an XML tree first; anything else is left to the full parser.
//
// Nearly every MARCXML file in the wild (yaz-marcdump's, Alma's, this library's own output) is
// a `<collection>` of bare `<record>`s whose children are exactly `leader`, `controlfield tag`,
// `datafield tag ind1 ind2` and `subfield code`, with whitespace between elements. For that
// shape a single forward scan is enough, and it is several times cheaper than a DOM parse
// followed by a walk over the tree. The scan accepts only what it fully understands, and says
// "not mine" for everything else -- a prefix, a namespace declaration, an empty-element tag, an
// unknown element or attribute, text between elements, a carriage return, an attribute value
// with a reference or a tab, a value the MARC rules reject (a bad tag, indicator or code, a
// leader that is not 24 bytes, a second leader). The caller then parses the same run with the
// full parser, which gives the same records, or names the problem exactly.
//
// The caller has already checked the run as XML characters and references (check_xml_chunk):
// only well-formed UTF-8, no forbidden characters, every '&' a predefined entity or a reference
// to an XML character. That is why a reference can be decoded here without further checks.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <marcpipe/marc/record.hpp>
#include <marcpipe/marc/utf8.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace marcpipe::marc::detail {

// Kept by the reader from run to run: the fields and subfields a shorter record did not need
// wait here for a longer one, so that reading allocates nearly nothing once warmed up.
class plain_marcxml_scan {
public:
    // Reads every record of `run` (records and whitespace only, as cut by the reader) into
    // records[0..count), reusing their storage. False, with records unspecified, when the run
    // is not entirely in the plain shape.
    bool read_run(std::string_view run, std::vector<record>& records, std::size_t& count) {
        // A literal CR would need end-of-line normalisation; leave such input to the parser.
        if (std::memchr(run.data(), '\r', run.size())) return false;
        p_ = run.data();
        e_ = run.data() + run.size();
        count = 0;
        for (;;) {
            skip_space();
            if (p_ == e_) return true;
            if (count == records.size()) records.emplace_back();
            if (!read_record(records[count])) return false;
            ++count;
        }
    }

private:
    static bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n'; }
    void skip_space() noexcept {
        while (p_ != e_ && is_space(*p_)) ++p_;
    }
    // Takes a literal; its size is known at compile time, so the comparison is a few loads.
    template <std::size_t N>
    bool take(char const (&s)[N]) noexcept {
        constexpr std::size_t n = N - 1;
        if (static_cast<std::size_t>(e_ - p_) < n || std::memcmp(p_, s, n) != 0) return false;
        p_ += n;
        return true;
    }
    // `</name` already taken: optional whitespace and '>'.
    bool end_of_end_tag() noexcept {
        skip_space();
        return take(">");
    }

    // The attributes a MARCXML element may carry; null when absent.
    struct attributes {
        std::string_view tag, ind1, ind2, code;
        bool has_tag = false, has_ind1 = false, has_ind2 = false, has_code = false;
    };

    // The attributes as nearly every writer of MARCXML puts them, matched whole in a few
    // comparisons: ` code="a">`, ` tag="001">`, ` tag="245" ind1="1" ind2="0">`, each value of
    // one byte or a three-byte tag that the general loop below would take as it is (no quote, no
    // '&', '<', tab or LF). They are most of a file's bytes outside the text, and the loop spends
    // a test per byte on them. False, with nothing taken, for any other spelling.
    bool read_usual_attributes(attributes& a) noexcept {
        auto const left = static_cast<std::size_t>(e_ - p_);
        auto plain = [](char c) {
            return c != '"' && c != '&' && c != '<' && c != '\t' && c != '\n';
        };
        char const* const p = p_;
        if (left >= 10 && std::memcmp(p, " code=\"", 7) == 0 && plain(p[7]) && p[8] == '"' &&
            p[9] == '>') {
            a.code = {p + 7, 1};
            a.has_code = true;
            p_ += 10;
            return true;
        }
        if (left < 11 || std::memcmp(p, " tag=\"", 6) != 0 || !plain(p[6]) || !plain(p[7]) ||
            !plain(p[8]) || p[9] != '"')
            return false;
        if (p[10] == '>') {
            a.tag = {p + 6, 3};
            a.has_tag = true;
            p_ += 11;
            return true;
        }
        if (left < 29 || std::memcmp(p + 9, "\" ind1=\"", 8) != 0 || !plain(p[17]) ||
            std::memcmp(p + 18, "\" ind2=\"", 8) != 0 || !plain(p[26]) || p[27] != '"' ||
            p[28] != '>')
            return false;
        a.tag = {p + 6, 3};
        a.ind1 = {p + 17, 1};
        a.ind2 = {p + 26, 1};
        a.has_tag = a.has_ind1 = a.has_ind2 = true;
        p_ += 29;
        return true;
    }

    // After the element name: attributes up to '>'. False for '/>' (an empty element), an
    // attribute this scan does not know, a repeated one, or a value holding a reference, a
    // '<' or whitespace other than a space.
    bool read_attributes(attributes& a) noexcept {
        if (!a.has_tag && !a.has_ind1 && !a.has_ind2 && !a.has_code && read_usual_attributes(a))
            return true;
        for (;;) {
            char const* const before = p_;
            skip_space();
            if (p_ == e_) return false;
            if (*p_ == '>') {
                ++p_;
                return true;
            }
            if (p_ == before) return false;  // attributes are separated by whitespace
            char const* const name = p_;
            while (p_ != e_ && *p_ != '=' && !is_space(*p_) && *p_ != '>' && *p_ != '/') ++p_;
            std::string_view const n{name, static_cast<std::size_t>(p_ - name)};
            skip_space();
            if (!take("=")) return false;
            skip_space();
            if (p_ == e_ || (*p_ != '"' && *p_ != '\'')) return false;
            char const quote = *p_++;
            auto const* close =
                static_cast<char const*>(std::memchr(p_, quote, static_cast<std::size_t>(e_ - p_)));
            if (!close) return false;
            std::string_view const v{p_, static_cast<std::size_t>(close - p_)};
            for (char c : v)
                if (c == '&' || c == '<' || c == '\t' || c == '\n') return false;
            p_ = close + 1;
            std::string_view* slot = nullptr;
            bool* seen = nullptr;
            if (n.size() == 3 && n[0] == 't' && n[1] == 'a' && n[2] == 'g') {
                slot = &a.tag;
                seen = &a.has_tag;
            } else if (n.size() == 4 && n[0] == 'i' && n[1] == 'n' && n[2] == 'd' && n[3] == '1') {
                slot = &a.ind1;
                seen = &a.has_ind1;
            } else if (n.size() == 4 && n[0] == 'i' && n[1] == 'n' && n[2] == 'd' && n[3] == '2') {
                slot = &a.ind2;
                seen = &a.has_ind2;
            } else if (n.size() == 4 && n[0] == 'c' && n[1] == 'o' && n[2] == 'd' && n[3] == 'e') {
                slot = &a.code;
                seen = &a.has_code;
            } else {
                return false;
            }
            if (*seen) return false;
            *seen = true;
            *slot = v;
        }
    }

    // Character data up to the next '<', references decoded, into out.
    bool read_text(std::string& out) {
        auto const* lt =
            static_cast<char const*>(std::memchr(p_, '<', static_cast<std::size_t>(e_ - p_)));
        if (!lt) return false;
        char const* b = p_;
        p_ = lt;
        out.clear();
        for (;;) {
            auto const* amp =
                static_cast<char const*>(std::memchr(b, '&', static_cast<std::size_t>(lt - b)));
            if (!amp) {
                out.append(b, static_cast<std::size_t>(lt - b));
                return true;
            }
            out.append(b, static_cast<std::size_t>(amp - b));
            auto const* semi =
                static_cast<char const*>(std::memchr(amp, ';', static_cast<std::size_t>(lt - amp)));
            if (!semi) return false;
            if (!append_reference({amp + 1, static_cast<std::size_t>(semi - amp - 1)}, out))
                return false;
            b = semi + 1;
        }
    }

    // The reference between '&' and ';' (already checked to be allowed), as UTF-8.
    static bool append_reference(std::string_view ref, std::string& out) {
        if (ref == "amp") return out += '&', true;
        if (ref == "lt") return out += '<', true;
        if (ref == "gt") return out += '>', true;
        if (ref == "quot") return out += '"', true;
        if (ref == "apos") return out += '\'', true;
        if (ref.size() < 2 || ref[0] != '#') return false;
        bool const hex = ref[1] == 'x';
        std::string_view const digits = ref.substr(hex ? 2 : 1);
        if (digits.empty() || digits.size() > 8) return false;
        std::uint32_t cp = 0;
        for (char d : digits) {
            std::uint32_t v;
            if (d >= '0' && d <= '9')
                v = static_cast<std::uint32_t>(d - '0');
            else if (hex && d >= 'a' && d <= 'f')
                v = static_cast<std::uint32_t>(d - 'a' + 10);
            else if (hex && d >= 'A' && d <= 'F')
                v = static_cast<std::uint32_t>(d - 'A' + 10);
            else
                return false;
            cp = cp * (hex ? 16 : 10) + v;
        }
        if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        append_utf8(out, cp);
        return true;
    }

    static bool is_ascii_graphic(char c) noexcept { return c > 0x20 && c < 0x7F; }
    static bool valid_tag(std::string_view t) noexcept {
        return t.size() == 3 && is_ascii_graphic(t[0]) && is_ascii_graphic(t[1]) &&
               is_ascii_graphic(t[2]);
    }
    // Missing or empty is a blank; otherwise exactly one ASCII character.
    static bool indicator(bool present, std::string_view v, char& out) noexcept {
        if (!present || v.empty()) {
            out = ' ';
            return true;
        }
        if (v.size() != 1 || static_cast<unsigned char>(v[0]) >= 0x80) return false;
        out = v[0];
        return true;
    }

    // `<record>` ... `</record>`, children in any order, exactly one leader.
    bool read_record(record& r) {
        if (!take("<record")) return false;
        attributes none;
        if (!read_attributes(none) || none.has_tag || none.has_ind1 || none.has_ind2 ||
            none.has_code)
            return false;
        std::vector<field>& fields = r.fields();
        std::size_t nfields = 0;
        bool has_leader = false;
        for (;;) {
            skip_space();
            if (!take("<")) return false;
            if (take("/record")) {
                if (!end_of_end_tag() || !has_leader) return false;
                shrink(fields, nfields, spare_fields_);
                return true;
            }
            attributes a;
            if (take("leader")) {
                if (has_leader || !read_attributes(a) || a.has_tag || a.has_ind1 || a.has_ind2 ||
                    a.has_code)
                    return false;
                has_leader = true;
                if (!read_text(r.leader()) || r.leader().size() != leader_length) return false;
                if (!take("</leader") || !end_of_end_tag()) return false;
                continue;
            }
            if (nfields == fields.size()) grow(fields, spare_fields_);
            field& f = fields[nfields++];
            if (take("controlfield")) {
                if (!read_attributes(a) || !a.has_tag || a.has_ind1 || a.has_ind2 || a.has_code ||
                    !valid_tag(a.tag) || !is_control_tag(a.tag))
                    return false;
                f.tag.assign(a.tag);
                f.ind1 = f.ind2 = ' ';
                shrink(f.subfields, 0, spare_subfields_);
                if (!read_text(f.value)) return false;
                if (!take("</controlfield") || !end_of_end_tag()) return false;
                continue;
            }
            if (!take("datafield")) return false;
            if (!read_attributes(a) || !a.has_tag || a.has_code || !valid_tag(a.tag) ||
                is_control_tag(a.tag) || !indicator(a.has_ind1, a.ind1, f.ind1) ||
                !indicator(a.has_ind2, a.ind2, f.ind2))
                return false;
            f.tag.assign(a.tag);
            f.value.clear();
            std::vector<subfield>& subs = f.subfields;
            std::size_t nsubs = 0;
            for (;;) {
                skip_space();
                if (take("</datafield")) {
                    if (!end_of_end_tag()) return false;
                    break;
                }
                if (!take("<subfield")) return false;
                attributes sa;
                if (!read_attributes(sa) || !sa.has_code || sa.has_tag || sa.has_ind1 ||
                    sa.has_ind2 || sa.code.size() != 1 ||
                    static_cast<unsigned char>(sa.code[0]) >= 0x80)
                    return false;
                if (nsubs == subs.size()) grow(subs, spare_subfields_);
                subfield& s = subs[nsubs++];
                s.code = sa.code[0];
                if (!read_text(s.value)) return false;
                if (!take("</subfield") || !end_of_end_tag()) return false;
            }
            shrink(subs, nsubs, spare_subfields_);
        }
    }

    // Appends one element to v, taking a spare one (with its storage) when there is one.
    template <class T>
    static void grow(std::vector<T>& v, std::vector<T>& spare) {
        if (spare.empty()) {
            v.emplace_back();
        } else {
            v.push_back(std::move(spare.back()));
            spare.pop_back();
        }
    }
    // Cuts v down to n elements, keeping the rest as spares instead of freeing their storage.
    template <class T>
    static void shrink(std::vector<T>& v, std::size_t n, std::vector<T>& spare) {
        while (v.size() > n) {
            spare.push_back(std::move(v.back()));
            v.pop_back();
        }
    }

    char const* p_ = nullptr;
    char const* e_ = nullptr;
    std::vector<field> spare_fields_;
    std::vector<subfield> spare_subfields_;
};

}  // namespace marcpipe::marc::detail
