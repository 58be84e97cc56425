// marcxml_tokenizer: the markup tokens of a MARCXML input, read straight from the read_buffer.
//
// The reader only needs to know, outside records, which elements open and close (with their
// namespace declarations) and where comments, CDATA sections, processing instructions and a
// DOCTYPE begin and end; inside a record, only where each tag's name is. So this is not an XML
// parser: it finds a token's bounds -- minding quoted attribute values that contain '>' -- and
// leaves the rest to pugixml. The scans that run on every tag of a record (find_lt, scan_name)
// look at 16 bytes at a time where SSE2 is there.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <marcpipe/marc/detail/read_buffer.hpp>

namespace marcpipe::marc::detail {

enum class token_kind { start_tag, empty_tag, end_tag, comment, pi, cdata, doctype };
struct token {
    token_kind kind;
    std::uint64_t begin, end;  // absolute offsets: '<' and one past '>'
    std::uint64_t name_begin, name_end;
};

inline bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Reads the markup token starting at `lt` ('<'). When the input ends inside it, calls
// `truncated(what)` ("a comment", "a tag", ...), which must throw.
template <class Truncated>
token read_token(read_buffer& in, std::uint64_t lt, Truncated&& truncated) {
    if (!in.ensure(lt + 2)) truncated("a tag");
    char const c1 = *in.at(lt + 1);
    if (c1 == '?') {
        auto e = in.find("?>", lt + 2, lt);
        if (!e) truncated("a processing instruction");
        return {token_kind::pi, lt, *e + 2, lt + 2, lt + 2};
    }
    if (c1 == '!') {
        in.ensure(lt + 9);
        std::string_view const head = in.text(lt, std::min(in.avail(), lt + 9));
        if (head.substr(0, 4) == "<!--") {
            auto e = in.find("-->", lt + 4, lt);
            if (!e) truncated("a comment");
            return {token_kind::comment, lt, *e + 3, lt, lt};
        }
        if (head == "<![CDATA[") {
            auto e = in.find("]]>", lt + 9, lt);
            if (!e) truncated("a CDATA section");
            return {token_kind::cdata, lt, *e + 3, lt, lt};
        }
        // <!DOCTYPE ...>, maybe with an internal subset in brackets.
        int depth = 0;
        char quote = 0;
        for (std::uint64_t p = lt + 2;; ++p) {
            if (!in.ensure(p + 1)) truncated("a document type declaration");
            char const c = *in.at(p);
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
            auto gt = in.find(">", p, lt);
            if (!gt) truncated("a tag");
            // Any quote between here and '>'?
            char const* s = in.at(p);
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
            auto close = in.find(std::string_view{&quote, 1}, p, lt);
            if (!close) truncated("an attribute value");
            quote = 0;
            p = *close + 1;
        }
    }
    std::uint64_t name_end = name_begin;
    while (name_end < p && !is_space(*in.at(name_end)) && *in.at(name_end) != '/' &&
           *in.at(name_end) != '>')
        ++name_end;
    token_kind kind = end_tag
                          ? token_kind::end_tag
                          : (*in.at(p - 1) == '/' ? token_kind::empty_tag : token_kind::start_tag);
    return {kind, lt, p + 1, name_begin, name_end};
}

// The next '<' at or after `from`: find("<") without a call per tag, since tags inside a
// record are only a few bytes apart.
inline std::optional<std::uint64_t> find_lt(read_buffer& in, std::uint64_t from) {
#if defined(__SSE2__)
    char const* p = in.at(from);
    char const* const e = in.at(in.avail());
    __m128i const lt = _mm_set1_epi8('<');
    while (e - p >= 16) {
        auto const mask = static_cast<unsigned>(_mm_movemask_epi8(
            _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<__m128i const*>(p)), lt)));
        if (mask != 0)
            return in.avail() - static_cast<std::uint64_t>(e - p) +
                   static_cast<std::uint64_t>(std::countr_zero(mask));
        p += 16;
    }
    from = in.avail() - static_cast<std::uint64_t>(e - p);
#endif
    return in.find("<", from);
}

// One past the end of the tag name that starts at `from`.
inline std::uint64_t scan_name(read_buffer& in, std::uint64_t from) {
#if defined(__SSE2__)
    // Names are short: one 16-byte look finds the end of nearly all of them.
    if (in.avail() - from >= 16) {
        __m128i const x = _mm_loadu_si128(reinterpret_cast<__m128i const*>(in.at(from)));
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
        char const* s = in.at(p);
        char const* const e = in.at(in.avail());
        while (s != e && !is_space(*s) && *s != '>' && *s != '/' && *s != '<') ++s;
        p = in.avail() - static_cast<std::uint64_t>(e - s);
        if (s != e || !in.fill()) return p;
    }
}

// The xmlns declarations in a start tag (outside records, so rarely called).
inline std::vector<std::pair<std::string, std::string>> namespace_declarations(read_buffer& in,
                                                                               token const& t) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string_view const s = in.text(t.name_end, t.end - 1);
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

}  // namespace marcpipe::marc::detail
