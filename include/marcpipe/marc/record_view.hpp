// record_view: a non-owning, checked view over the bytes of one ISO 2709 (MARC21 binary) record.
//
// The structure is checked once, when the view is made; after that, walking fields and
// subfields trusts the directory and never allocates. That is what lets a reader pull the 001
// out of every record of a large export with full structural checks at memory speed.
//
// Layout assumed (MARC21): leader 24 bytes, directory entries of 12 bytes (tag 3, length 4,
// start 5), two indicators, one-character subfield codes. Leader 10-11 state the indicator count
// and code length: another digit there is a layout this view would misread (danMARC's three
// indicators) and is an error; blanks or letters there, and anything in 20-23, are passed over,
// because a record that gets them wrong but is otherwise intact should not be lost (a writer
// restores them).
//
// What the check requires: leader 00-04 digits equal to the record's size, a record terminator
// last and nowhere before; base address digits, inside the record, after a directory of whole
// 12-byte entries ending in a field terminator; each entry a tag of letters or digits and
// numeric length and start that stay inside the data; each field ending in a field terminator
// with none inside; a data field with two indicators that are not delimiters, then nothing or a
// subfield delimiter, and every delimiter followed by a code that is not a control character.
// Text between the indicators and the first delimiter is an error, not silently turned into a
// subfield (yaz makes "Granlund" into $r "anlund").
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif
// x86-64 processors from 2013 on have AVX2; a build for the baseline still uses it, chosen at run
// time, where the structural check goes over every byte of an export.
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MARCPIPE_MARC_AVX2_DISPATCH 1
#endif

#include "marcpipe/marc/error.hpp"
#include "marcpipe/marc/record.hpp"

namespace marcpipe::marc {

inline constexpr char subfield_delimiter = '\x1F';
inline constexpr char field_terminator = '\x1E';
inline constexpr char record_terminator = '\x1D';
inline constexpr std::size_t directory_entry_length = 12;
inline constexpr std::size_t max_record_length = 99'999;
inline constexpr std::size_t max_field_length = 9'999;

namespace detail {

// The value of n ASCII digits, or -1 when one of them is not a digit.
inline long parse_digits(char const* p, int n) noexcept {
    long v = 0;
    for (int i = 0; i < n; ++i) {
        unsigned d = static_cast<unsigned char>(p[i]) - unsigned{'0'};
        if (d > 9) return -1;
        v = v * 10 + static_cast<long>(d);
    }
    return v;
}

// The length (4 digits) and start (5 digits) of the directory entry at e, in e[3..11]; false
// when one of the nine is not a digit. Eight are checked and converted at once, as one 64-bit
// word: the directory is read for every field of every record.
inline bool entry_numbers(char const* e, std::size_t& length, std::size_t& start) noexcept {
    if constexpr (std::endian::native != std::endian::little) {
        long const l = parse_digits(e + 3, 4), s = parse_digits(e + 7, 5);
        if ((l | s) < 0) return false;
        length = static_cast<std::size_t>(l);
        start = static_cast<std::size_t>(s);
        return true;
    } else {
        std::uint64_t a;
        std::memcpy(&a, e + 3, 8);
        unsigned const last = static_cast<unsigned char>(e[11]) - unsigned{'0'};
        constexpr std::uint64_t high = 0xF0F0F0F0F0F0F0F0ULL, zeros = 0x3030303030303030ULL;
        // Each byte 0x30-0x39: its high nibble is 3, and still 3 after adding 6.
        if ((a & high) != zeros || ((a + 0x0606060606060606ULL) & high) != zeros || last > 9)
            return false;
        a &= 0x0F0F0F0F0F0F0F0FULL;
        a = (a * 10 + (a >> 8)) & 0x00FF00FF00FF00FFULL;    // pairs of digits
        a = (a * 100 + (a >> 16)) & 0x0000FFFF0000FFFFULL;  // fours: e[3..6], e[7..10]
        length = static_cast<std::size_t>(a & 0xFFFF);
        start = static_cast<std::size_t>(a >> 32) * 10 + last;
        return true;
    }
}

inline bool is_tag_char(char c) noexcept {
    auto u = static_cast<unsigned char>(c);
    return u - unsigned{'0'} < 10 || (u | 0x20U) - unsigned{'a'} < 26;
}

inline bool is_mark(char c) noexcept {
    return c == subfield_delimiter || c == field_terminator || c == record_terminator;
}

// Calls on_mark(p) for each byte in [s, end) that is a delimiter or terminator (0x1D-0x1F), in
// order, until it returns false; returns whether the scan reached the end. Those bytes are
// rare in text, so looking at 16 bytes at a time keeps the structural check near memory speed.
template <class OnMark>
bool scan_marks(char const* s, char const* end, OnMark&& on_mark) {
#if defined(__SSE2__)
    __m128i const lowest = _mm_set1_epi8(record_terminator);
    __m128i const two = _mm_set1_epi8(2);
    while (end - s >= 16) {
        __m128i x = _mm_loadu_si128(reinterpret_cast<__m128i const*>(s));
        __m128i t = _mm_sub_epi8(x, lowest);  // 0x1D-0x1F become 0-2
        auto mask = static_cast<unsigned>(
            _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(t, two), t)));
        while (mask) {
            if (!on_mark(s + std::countr_zero(mask))) return false;
            mask &= mask - 1;
        }
        s += 16;
    }
#endif
    for (; s != end; ++s)
        if (is_mark(*s) && !on_mark(s)) return false;
    return true;
}

inline bool data_marks_ok(char const* data, std::size_t n, std::size_t fields) noexcept;

#if defined(MARCPIPE_MARC_AVX2_DISPATCH)
inline bool has_avx2() noexcept {
    static bool const yes = [] {
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    }();
    return yes;
}

// data_marks_ok, 32 bytes at a time; the last n % 32 bytes go to the 16-byte version.
__attribute__((target("avx2"))) inline bool data_marks_ok_avx2(char const* data, std::size_t n,
                                                              std::size_t fields) noexcept {
    std::size_t terminators = 0;
    std::size_t k = 0;
    __m256i const fs = _mm256_set1_epi8(subfield_delimiter);
    __m256i const ft = _mm256_set1_epi8(field_terminator);
    __m256i const rt = _mm256_set1_epi8(record_terminator);
    __m256i const us = _mm256_set1_epi8(0x1F);
    __m256i const del = _mm256_set1_epi8(0x7F);
    __m256i bad = _mm256_setzero_si256();
    while (n - k >= 32) {
        // Per-lane counts of field terminators, summed before a lane can pass 255.
        __m256i counts = _mm256_setzero_si256();
        for (int round = 0; round < 255 && n - k >= 32; ++round, k += 32) {
            __m256i x = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(data + k));
            __m256i y = _mm256_loadu_si256(reinterpret_cast<__m256i const*>(data + k + 1));
            __m256i next_is_control = _mm256_or_si256(
                _mm256_cmpeq_epi8(_mm256_min_epu8(y, us), y), _mm256_cmpeq_epi8(y, del));
            bad = _mm256_or_si256(bad, _mm256_and_si256(_mm256_cmpeq_epi8(x, fs), next_is_control));
            bad = _mm256_or_si256(bad, _mm256_cmpeq_epi8(x, rt));
            counts = _mm256_sub_epi8(counts, _mm256_cmpeq_epi8(x, ft));
        }
        __m256i const sums = _mm256_sad_epu8(counts, _mm256_setzero_si256());
        terminators += static_cast<std::size_t>(_mm256_extract_epi64(sums, 0)) +
                       static_cast<std::size_t>(_mm256_extract_epi64(sums, 1)) +
                       static_cast<std::size_t>(_mm256_extract_epi64(sums, 2)) +
                       static_cast<std::size_t>(_mm256_extract_epi64(sums, 3));
    }
    if (!_mm256_testz_si256(bad, bad) || terminators > fields) return false;
    return data_marks_ok(data + k, n - k, fields - terminators);
}
#endif

// For a data area whose fields lie one after another: true when it holds exactly `fields` field
// terminators, no record terminator, and every subfield delimiter is followed by a code (not a
// control character). One pass, 16 (or 32) bytes at a time; false sends the caller to the exact
// check. data[n] must be readable (it is the record terminator).
inline bool data_marks_ok(char const* data, std::size_t n, std::size_t fields) noexcept {
#if defined(MARCPIPE_MARC_AVX2_DISPATCH)
    if (n >= 64 && has_avx2()) return data_marks_ok_avx2(data, n, fields);
#endif
    std::size_t terminators = 0;
    std::size_t k = 0;
#if defined(__SSE2__)
    __m128i const fs = _mm_set1_epi8(subfield_delimiter);
    __m128i const ft = _mm_set1_epi8(field_terminator);
    __m128i const rt = _mm_set1_epi8(record_terminator);
    __m128i const us = _mm_set1_epi8(0x1F);
    __m128i const del = _mm_set1_epi8(0x7F);
    __m128i bad = _mm_setzero_si128();
    while (n - k >= 16) {
        // Per-lane counts of field terminators, summed before a lane can pass 255.
        __m128i counts = _mm_setzero_si128();
        for (int round = 0; round < 255 && n - k >= 16; ++round, k += 16) {
            __m128i x = _mm_loadu_si128(reinterpret_cast<__m128i const*>(data + k));
            __m128i y = _mm_loadu_si128(reinterpret_cast<__m128i const*>(data + k + 1));
            __m128i next_is_control =
                _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(y, us), y), _mm_cmpeq_epi8(y, del));
            bad = _mm_or_si128(bad, _mm_and_si128(_mm_cmpeq_epi8(x, fs), next_is_control));
            bad = _mm_or_si128(bad, _mm_cmpeq_epi8(x, rt));
            counts = _mm_sub_epi8(counts, _mm_cmpeq_epi8(x, ft));
        }
        __m128i sums = _mm_sad_epu8(counts, _mm_setzero_si128());
        terminators += static_cast<std::size_t>(_mm_cvtsi128_si32(sums)) +
                       static_cast<std::size_t>(_mm_cvtsi128_si32(_mm_srli_si128(sums, 8)));
    }
    if (_mm_movemask_epi8(bad) != 0) return false;
#endif
    for (; k < n; ++k) {
        char c = data[k];
        if (c == field_terminator) {
            ++terminators;
        } else if (c == record_terminator) {
            return false;
        } else if (c == subfield_delimiter) {
            auto next = static_cast<unsigned char>(data[k + 1]);
            if (next < 0x20 || next == 0x7F) return false;
        }
    }
    return terminators == fields;
}

// Shows bytes from a record in a message: printable ASCII as is, the rest as \xNN.
inline std::string printable(std::string_view s) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7F) {
            out += c;
        } else {
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    return out;
}

}  // namespace detail

class subfield_view {
public:
    subfield_view() = default;
    subfield_view(char code, std::string_view value) : code_{code}, value_{value} {}
    char code() const noexcept { return code_; }
    std::string_view value() const noexcept { return value_; }

private:
    char code_ = 0;
    std::string_view value_;
};

// The subfields of a data field: the bytes after the indicators, each subfield starting with the
// delimiter 0x1F and its code.
class subfield_range {
public:
    class iterator {
    public:
        using value_type = subfield_view;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::forward_iterator_tag;
        using reference = subfield_view;
        using pointer = void;

        iterator() = default;
        iterator(char const* at, char const* end) : at_{at}, end_{end} { find_next(); }

        subfield_view operator*() const noexcept {
            return {at_[1], std::string_view(at_ + 2, static_cast<std::size_t>(next_ - at_ - 2))};
        }
        iterator& operator++() noexcept {
            at_ = next_;
            find_next();
            return *this;
        }
        iterator operator++(int) noexcept {
            auto old = *this;
            ++*this;
            return old;
        }
        friend bool operator==(iterator const& a, iterator const& b) noexcept {
            return a.at_ == b.at_;
        }

    private:
        void find_next() noexcept {
            if (at_ == end_) {
                next_ = end_;
                return;
            }
            auto const* hit = static_cast<char const*>(
                std::memchr(at_ + 1, subfield_delimiter, static_cast<std::size_t>(end_ - at_ - 1)));
            next_ = hit ? hit : end_;
        }
        char const* at_ = nullptr;
        char const* next_ = nullptr;
        char const* end_ = nullptr;
    };

    subfield_range() = default;
    explicit subfield_range(std::string_view bytes) : bytes_{bytes} {}
    iterator begin() const noexcept {
        return {bytes_.data(), bytes_.data() + bytes_.size()};
    }
    iterator end() const noexcept {
        auto const* e = bytes_.data() + bytes_.size();
        return {e, e};
    }

private:
    std::string_view bytes_;
};

class field_view {
public:
    field_view() = default;
    field_view(std::string_view tag, std::string_view data) : tag_{tag}, data_{data} {}

    std::string_view tag() const noexcept { return tag_; }
    // The field's bytes without the field terminator: for a data field, indicators and
    // subfields with their delimiters.
    std::string_view data() const noexcept { return data_; }
    bool is_control() const noexcept { return is_control_tag(tag_); }

    // Data fields only (a checked record guarantees they have two indicators).
    char ind1() const noexcept { return data_[0]; }
    char ind2() const noexcept { return data_[1]; }
    subfield_range subfields() const noexcept { return subfield_range{data_.substr(2)}; }

    // The first subfield with this code, or an empty view.
    std::string_view subfield_value(char code) const noexcept {
        for (auto s : subfields())
            if (s.code() == code) return s.value();
        return {};
    }

    field to_field() const {
        if (is_control()) return field{std::string{tag_}, std::string{data_}};
        field f{std::string{tag_}, ind1(), ind2()};
        for (auto s : subfields()) f.subfields.emplace_back(s.code(), std::string{s.value()});
        return f;
    }

private:
    std::string_view tag_;
    std::string_view data_;
};

// What is wrong with a record's structure, with the offset inside the record.
struct structure_problem {
    error_code code{};
    std::size_t offset = 0;
    std::string detail;
};

class record_view {
public:
    class iterator {
    public:
        using value_type = field_view;
        using difference_type = std::ptrdiff_t;
        using iterator_category = std::forward_iterator_tag;
        using reference = field_view;
        using pointer = void;

        iterator() = default;
        iterator(record_view const* r, std::size_t i) : r_{r}, i_{i} {}
        field_view operator*() const noexcept { return r_->field_at(i_); }
        iterator& operator++() noexcept {
            ++i_;
            return *this;
        }
        iterator operator++(int) noexcept {
            auto old = *this;
            ++i_;
            return old;
        }
        friend bool operator==(iterator const& a, iterator const& b) noexcept {
            return a.i_ == b.i_;
        }

    private:
        record_view const* r_ = nullptr;
        std::size_t i_ = 0;
    };

    record_view() = default;

    // Checks bytes as one whole record (leader through record terminator); throws marc_error
    // (record 1, offset inside bytes) when the structure is broken.
    explicit record_view(std::string_view bytes) {
        structure_problem p;
        if (!check(bytes, p)) throw marc_error(read_problem{p.code, 1, p.offset, p.detail});
    }

    // Checks bytes; on a broken structure fills problem and returns nullopt.
    static std::optional<record_view> parse(std::string_view bytes, structure_problem& problem) {
        record_view v;
        if (!v.check(bytes, problem)) return std::nullopt;
        return v;
    }

    std::string_view leader() const noexcept { return bytes_.substr(0, leader_length); }
    std::string_view bytes() const noexcept { return bytes_; }
    std::size_t size() const noexcept { return field_count_; }

    field_view field_at(std::size_t i) const noexcept {
        char const* e = bytes_.data() + leader_length + i * directory_entry_length;
        std::size_t len = 0, start = 0;
        detail::entry_numbers(e, len, start);  // checked when the view was made
        return {std::string_view(e, 3), std::string_view(bytes_.data() + base_ + start, len - 1)};
    }
    iterator begin() const noexcept { return {this, 0}; }
    iterator end() const noexcept { return {this, field_count_}; }

    // The first field with this tag.
    std::optional<field_view> find(std::string_view tag) const noexcept {
        char const* e = bytes_.data() + leader_length;
        for (std::size_t i = 0; i < field_count_; ++i, e += directory_entry_length)
            if (std::string_view(e, 3) == tag) return field_at(i);
        return std::nullopt;
    }
    bool has(std::string_view tag) const noexcept { return find(tag).has_value(); }

    // The data of the first field with this tag (001 is the record's identifier), or empty.
    std::string_view control_value(std::string_view tag) const noexcept {
        auto f = find(tag);
        return f ? f->data() : std::string_view{};
    }

    // Fills `into` with this record, reusing its strings and vectors: once they have grown to
    // the size of the records read, converting allocates nothing.
    void to_record(record& into) const {
        into.leader().assign(leader());
        auto& fields = into.fields();
        fields.resize(field_count_);
        std::size_t i = 0;
        for (auto f : *this) {
            auto& out = fields[i++];
            out.tag.assign(f.tag());
            if (f.is_control()) {
                out.value.assign(f.data());
                out.ind1 = out.ind2 = ' ';
                out.subfields.clear();
                continue;
            }
            out.value.clear();
            out.ind1 = f.ind1();
            out.ind2 = f.ind2();
            std::size_t k = 0;
            for (auto s : f.subfields()) {
                if (k == out.subfields.size()) out.subfields.emplace_back();
                out.subfields[k].code = s.code();
                out.subfields[k].value.assign(s.value());
                ++k;
            }
            out.subfields.resize(k);
        }
    }

    record to_record() const {
        std::vector<field> fields;
        fields.reserve(field_count_);
        for (auto f : *this) fields.push_back(f.to_field());
        return record{std::string{leader()}, std::move(fields)};
    }

private:
    friend class iso2709_reader;

    // What went wrong in a field, found in the hot loop and described afterwards.
    enum class field_fault {
        none,
        bad_tag,
        bad_numbers,
        zero_length,
        past_end,
        no_terminator,
        inner_field_terminator,
        inner_record_terminator,
        too_short_for_indicators,
        delimiter_as_indicator,
        text_before_subfield,
        delimiter_without_code,
        control_code,
    };

    struct walk_result {
        field_fault fault = field_fault::none;
        std::size_t entry = 0;        // the directory entry at fault
        char const* where = nullptr;  // the byte at fault
        std::size_t covered = 0;      // bytes of data area the fields account for
        bool contiguous = true;       // each field starts where the one before ended
    };

    // Checks each directory entry and what it points at. ScanFields: also look at every byte of
    // every field (otherwise data_marks_ok does that for the whole data area at once).
    template <bool ScanFields>
    static walk_result walk_directory(char const* r, std::size_t ubase, std::size_t count,
                                      std::size_t data_size) {
        walk_result w;
        char const* const data = r + ubase;
        auto fault = [&](field_fault f, char const* at) {
            w.fault = f;
            w.where = at;
            return w;
        };
        for (std::size_t i = 0; i < count; ++i) {
            char const* e = r + leader_length + i * directory_entry_length;
            w.entry = i;
            if (!detail::is_tag_char(e[0]) || !detail::is_tag_char(e[1]) ||
                !detail::is_tag_char(e[2]))
                return fault(field_fault::bad_tag, e);
            std::size_t ulen = 0, ustart = 0;
            if (!detail::entry_numbers(e, ulen, ustart)) return fault(field_fault::bad_numbers, e);
            if (ulen == 0) return fault(field_fault::zero_length, e);
            if (ustart + ulen > data_size) return fault(field_fault::past_end, e);
            char const* const f = data + ustart;
            char const* const end = f + ulen - 1;  // its terminator
            if (*end != field_terminator) return fault(field_fault::no_terminator, end);
            if (ustart != w.covered) w.contiguous = false;
            w.covered += ulen;
            bool const control = e[0] == '0' && e[1] == '0';
            char const* s = f;
            if (!control) {
                if (ulen < 3) return fault(field_fault::too_short_for_indicators, f);
                if (detail::is_mark(f[0]) || detail::is_mark(f[1]))
                    return fault(field_fault::delimiter_as_indicator,
                                 detail::is_mark(f[0]) ? f : f + 1);
                s = f + 2;
                if (s != end && *s != subfield_delimiter)
                    return fault(field_fault::text_before_subfield, s);
            }
            if constexpr (ScanFields) {
                field_fault found = field_fault::none;
                char const* at = nullptr;
                detail::scan_marks(s, end, [&](char const* m) {
                    at = m;
                    if (*m == field_terminator)
                        found = field_fault::inner_field_terminator;
                    else if (*m == record_terminator)
                        found = field_fault::inner_record_terminator;
                    else if (control)
                        return true;
                    else if (m + 1 == end)
                        found = field_fault::delimiter_without_code;
                    else if (static_cast<unsigned char>(m[1]) < 0x20 || m[1] == 0x7F) {
                        at = m + 1;
                        found = field_fault::control_code;
                    } else
                        return true;
                    return false;
                });
                if (found != field_fault::none) return fault(found, at);
            }
        }
        return w;
    }

    // Checks the record structure: leader numbers, directory, every field and subfield, and
    // that no record terminator sits before the last byte.
    bool check(std::string_view b, structure_problem& p) {
        auto fail = [&](error_code c, std::size_t off, std::string detail) {
            p = structure_problem{c, off, std::move(detail)};
            return false;
        };
        if (b.size() < leader_length + 2)
            return fail(error_code::bad_record_length, 0,
                        std::to_string(b.size()) + " bytes cannot hold a leader and a directory");
        char const* r = b.data();
        long len = detail::parse_digits(r, 5);
        if (len < 0)
            return fail(error_code::bad_record_length, 0,
                        "leader 00-04 \"" + detail::printable(b.substr(0, 5)) +
                            "\" is not a number");
        if (static_cast<std::size_t>(len) != b.size())
            return fail(error_code::bad_record_length, 0,
                        "leader says " + std::to_string(len) + " bytes, the record has " +
                            std::to_string(b.size()));
        if (r[b.size() - 1] != record_terminator)
            return fail(error_code::missing_record_terminator, b.size() - 1,
                        "last byte is not 0x1D");
        // Leader 10-11 give the indicator count and subfield code length; a digit other than 2
        // means another layout (danMARC uses 3 indicators) that this view would misread.
        for (std::size_t at : {std::size_t{10}, std::size_t{11}})
            if (r[at] >= '0' && r[at] <= '9' && r[at] != '2')
                return fail(error_code::bad_leader, at,
                            std::string{at == 10 ? "indicator count" : "subfield code length"} +
                                " (leader/" + std::to_string(at) + ") is " + r[at] +
                                ", MARC21 has 2");
        long base = detail::parse_digits(r + 12, 5);
        if (base < 0)
            return fail(error_code::bad_base_address, 12,
                        "leader 12-16 \"" + detail::printable(b.substr(12, 5)) +
                            "\" is not a number");
        auto const ubase = static_cast<std::size_t>(base);
        if (ubase < leader_length + 1 || ubase > b.size() - 1)
            return fail(error_code::bad_base_address, 12,
                        "base address " + std::to_string(base) + " is outside the record (" +
                            std::to_string(b.size()) + " bytes)");
        if ((ubase - leader_length - 1) % directory_entry_length != 0)
            return fail(error_code::bad_directory, leader_length,
                        "directory of " + std::to_string(ubase - leader_length - 1) +
                            " bytes is not a multiple of 12");
        if (r[ubase - 1] != field_terminator)
            return fail(error_code::bad_directory, ubase - 1,
                        "no field terminator at the end of the directory");

        std::size_t const count = (ubase - leader_length - 1) / directory_entry_length;
        std::size_t const data_size = b.size() - 1 - ubase;  // without the record terminator
        // Fast path: fields laid out one after another (as writers lay them out) are checked
        // with one vector pass over the whole data area. Anything unusual takes the slow path,
        // field by field, which also finds exactly what is wrong.
        walk_result w = walk_directory<false>(r, ubase, count, data_size);
        if (w.fault == field_fault::none &&
            !(w.contiguous && w.covered == data_size &&
              detail::data_marks_ok(r + ubase, data_size, count)))
            w = walk_directory<true>(r, ubase, count, data_size);
        if (w.fault != field_fault::none) return describe(b, w.entry, w.fault, w.where, p);
        // Fields that do not cover the data area leave bytes no check has seen; a record
        // terminator among them would mean this record swallowed the start of the next one.
        if (w.covered != data_size || !w.contiguous) {
            if (auto const* t = std::memchr(r, record_terminator, b.size() - 1))
                return fail(error_code::bad_record_length,
                            static_cast<std::size_t>(static_cast<char const*>(t) - r),
                            "record terminator before the end the leader states");
        }
        bytes_ = b;
        base_ = ubase;
        field_count_ = count;
        return true;
    }

    // Puts a field fault into words; kept out of the loop above, which runs for every field.
    static bool describe(std::string_view b, std::size_t i, field_fault fault, char const* where,
                         structure_problem& p) {
        char const* e = b.data() + leader_length + i * directory_entry_length;
        std::string const tag = detail::printable(std::string_view(e, 3));
        std::string const name = "field " + tag + " (entry " + std::to_string(i + 1) + ")";
        auto const off = static_cast<std::size_t>(where - b.data());
        auto set = [&](error_code c, std::string detail) {
            p = structure_problem{c, off, std::move(detail)};
            return false;
        };
        switch (fault) {
            case field_fault::bad_tag:
                return set(error_code::bad_directory, "entry " + std::to_string(i + 1) +
                                                          ": tag \"" + tag +
                                                          "\" is not three letters or digits");
            case field_fault::bad_numbers:
                return set(error_code::bad_directory,
                           "entry " + std::to_string(i + 1) + " \"" +
                               detail::printable(std::string_view(e, 12)) +
                               "\": length or start is not a number");
            case field_fault::zero_length:
                return set(error_code::bad_directory, name + " has length 0");
            case field_fault::past_end:
                return set(error_code::bad_directory,
                           name + " runs past the end of the record (start " +
                               std::string(e + 7, 5) + ", length " + std::string(e + 3, 4) + ")");
            case field_fault::no_terminator:
                return set(error_code::missing_field_terminator, name + " does not end with 0x1E");
            case field_fault::inner_field_terminator:
                return set(error_code::missing_field_terminator,
                           name + " holds a field terminator before its end");
            case field_fault::inner_record_terminator:
                return set(error_code::bad_record_length, name + " holds a record terminator");
            case field_fault::too_short_for_indicators:
                return set(error_code::bad_indicator, name + " is too short for two indicators");
            case field_fault::delimiter_as_indicator:
                return set(error_code::bad_indicator, name + ": an indicator is a delimiter");
            case field_fault::text_before_subfield:
                return set(error_code::bad_subfield,
                           name + ": data does not start with a subfield delimiter");
            case field_fault::delimiter_without_code:
                return set(error_code::bad_subfield, name + ": subfield delimiter without a code");
            case field_fault::control_code:
                return set(error_code::bad_subfield,
                           name + ": subfield code " + detail::printable(std::string_view(where, 1)) +
                               " is a control character");
            case field_fault::none: break;
        }
        return true;
    }

    std::string_view bytes_;
    std::size_t base_ = 0;
    std::size_t field_count_ = 0;
};

}  // namespace marcpipe::marc
