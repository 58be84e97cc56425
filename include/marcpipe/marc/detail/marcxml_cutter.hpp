// marcxml_cutter: cuts record elements out of a MARCXML input, for pugixml to parse one at a
// time or a run of them at once.
//
// Inside a record only tag names matter: '<' cannot occur in an attribute value, so the cutter
// looks at each tag's name and leaves the rest of the tag to pugixml. A record ends at its end
// tag; it was never closed when another record starts first, or when an element around it
// closes. A run of plain records ends at the last record end tag within a size limit, short of
// the first comment, CDATA section or processing instruction (which the run path does not
// handle).
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <marcpipe/marc/detail/marcxml_element.hpp>
#include <marcpipe/marc/detail/marcxml_tokenizer.hpp>
#include <marcpipe/marc/detail/read_buffer.hpp>

namespace marcpipe::marc::detail {

// Where a record element ends.
struct record_cut {
    bool closed;       // false: another record starts, or an element around it closes, first
    std::uint64_t at;  // closed: one past its end tag; else the '<' of the tag that cut it short
};

// Finds the end of the record element `qname` whose start tag starts at `begin` and ends at
// `from`, holding the record in `in` meanwhile (the caller has called in.hold). `is_open(name)`:
// whether an element around the record has that name. `truncated(what)` is called, and must
// throw, when the input ends inside the record.
template <class IsOpen, class Truncated>
record_cut cut_record(read_buffer& in, std::uint64_t begin, std::uint64_t from,
                      std::string const& qname, IsOpen&& is_open, Truncated&& truncated) {
    auto ends_inside_record = [&] {
        truncated("<" + qname + "> that starts at byte " + std::to_string(begin));
    };
    std::uint64_t pos = from;
    for (;;) {
        in.keep_from(in.over_limit() ? pos : begin);
        auto const lt = find_lt(in, pos);
        if (!lt) ends_inside_record();
        if (in.over_limit()) in.keep_from(*lt);
        if (!in.ensure(*lt + 2)) ends_inside_record();
        char const c1 = *in.at(*lt + 1);
        if (c1 == '!' || c1 == '?') {  // comment, CDATA section, processing instruction
            pos = read_token(in, *lt, truncated).end;
            continue;
        }
        bool const end_tag = c1 == '/';
        std::uint64_t const name_begin = *lt + (end_tag ? 2 : 1);
        std::uint64_t const name_end = scan_name(in, name_begin);
        std::string_view const name = in.text(name_begin, name_end);
        pos = name_end;
        if (!end_tag) {
            // The next record begins: this one was never closed.
            if (is_record_name(name)) return {false, *lt};
            continue;
        }
        if (is_record_name(name)) {
            auto const gt = in.find(">", name_end, *lt);
            if (!gt) truncated("a tag");
            return {true, *gt + 1};
        }
        if (is_open(name)) return {false, *lt};
    }
}

// Where "<!" or "<?" first occurs in [p, p + n), or n.
inline std::size_t find_section(char const* p, std::size_t n) noexcept {
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

// A run of records to parse at once.
struct record_run {
    std::string_view bytes;  // from the first record's '<' to its last end tag; empty if none
    std::size_t window;      // how many bytes were looked at
};

// The run that starts with the record whose start tag is `start`: up to `max_bytes` long, cut
// at the last end tag like the first record's, and short of any comment, CDATA section or
// processing instruction. The bytes stay valid until `in` reads more.
inline record_run cut_run(read_buffer& in, token const& start, std::size_t max_bytes) {
    std::uint64_t const begin = start.begin;
    in.keep_from(begin);
    in.ensure(begin + max_bytes);
    std::size_t window = static_cast<std::size_t>(std::min(in.avail(), begin + max_bytes) - begin);
    char const* const w = in.at(begin);
    window = find_section(w, window);
    // The last end tag of a record like the first one closes the run.
    std::string close = "</";
    close += in.text(start.name_begin, start.name_end);
    close += '>';
    std::string_view const run{w, window};
    std::size_t const last = run.rfind(close);
    if (last == std::string_view::npos) return {{}, window};
    return {run.substr(0, last + close.size()), window};
}

}  // namespace marcpipe::marc::detail
