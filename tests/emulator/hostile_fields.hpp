// hostile_fields: the emulator's `--hostile-fields F` knob: a server whose holdings records carry
// random bytes in random places, for the property test that no byte a server sends can corrupt
// the programs' output or vanish from it unreported.
//
// A fraction F of the holdings records (chosen per record from --hostile-seed, the same on every
// call, so a retry gets the same answer) get one to four damages, each in a random place: the
// leader, a tag, an indicator, a subfield code, a control field's data or a subfield's value.
// The bytes put there are any of the 256, with more of the ones that matter drawn on purpose:
// the ISO 2709 delimiters 0x1D-0x1F, NUL, ESC, '<', '&', '>', "]]>", bytes that are not UTF-8
// (a cut sequence, a surrogate, U+FFFE). The answer is still sent as XML: markup characters are
// escaped and C0 controls go as character references (&#x1E;), which XML 1.0 does not allow
// but which parsers decode; bytes from 0x80 go raw, so bad UTF-8 arrives as it is.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <marcpipe/marc/record.hpp>

#include "catalogue.hpp"

namespace marcpipe::emulator {

struct hostile_fields {
    hostile_fields() = default;
    hostile_fields(double f, std::uint64_t s) : fraction{f}, seed{s} {}
    double fraction = 0;     // of holdings records damaged
    std::uint64_t seed = 1;  // which records, and how
};

namespace detail {

// A few bytes to put somewhere: one of the bytes that matter, or any byte at all.
inline std::string hostile_bytes(draw& d) {
    static constexpr std::string_view chosen[] = {
        "\x1D", "\x1E", "\x1F", std::string_view{"\0", 1}, "\x1B", "<", "&", ">", "]]>",
        "\xC3", "\xED\xA0\x80", "\xEF\xBF\xBE", "\x80", "\x7F", "\r", "\t", "\"",
    };
    std::string out;
    for (std::size_t n = 1 + d.below(3); n > 0; --n) {
        if (d.percent(50))
            out += chosen[d.below(std::size(chosen))];
        else
            out += static_cast<char>(d.below(256));
    }
    return out;
}

inline void insert_at_random(std::string& s, draw& d, std::string const& bytes) {
    s.insert(d.below(s.size() + 1), bytes);
}

}  // namespace detail

// Whether the holdings record (bib, holding) is served damaged.
inline bool is_hostile(hostile_fields const& k, std::size_t bib, std::size_t holding) {
    if (k.fraction <= 0) return false;
    detail::draw d{detail::hash(k.seed, bib, holding, 0x40511e)};
    return static_cast<double>(d.below(1000000)) < k.fraction * 1000000;
}

// Damages `r` as the knob says for (bib, holding); the same damage every time.
inline void damage(marc::record& r, hostile_fields const& k, std::size_t bib, std::size_t holding) {
    detail::draw d{detail::hash(k.seed, bib, holding, 0xDA3A6E)};
    auto& fields = r.fields();
    for (std::size_t n = 1 + d.below(4); n > 0; --n) {
        std::string const bytes = detail::hostile_bytes(d);
        auto const where = d.below(6);
        if (where == 0 || fields.empty()) {
            // Most often in place, so the leader keeps its 24 bytes and the record still parses.
            if (d.percent(80))
                r.leader()[d.below(marc::leader_length)] = bytes[0];
            else
                detail::insert_at_random(r.leader(), d, bytes);
            continue;
        }
        marc::field& f = fields[d.below(fields.size())];
        if (where == 1) {
            f.tag[d.below(f.tag.size())] = bytes[0];
        } else if (f.is_control() || f.subfields.empty()) {
            detail::insert_at_random(f.value, d, bytes);
        } else if (where == 2) {
            (d.percent(50) ? f.ind1 : f.ind2) = bytes[0];
        } else {
            marc::subfield& s = f.subfields[d.below(f.subfields.size())];
            if (where == 3)
                s.code = bytes[0];
            else
                detail::insert_at_random(s.value, d, bytes);
        }
    }
}

}  // namespace marcpipe::emulator
