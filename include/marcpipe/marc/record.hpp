// record: an owning MARC record (leader, control fields, data fields) in the order read.
//
// Fields stay in the order they came in: real Alma holdings list 005 after 008/009, and the
// WEST rewrite must keep every field's relative order. Tags are kept as three characters as
// read, so an odd tag ("0A1", "ABC") survives a round trip instead of being rejected here;
// the readers decide what is an error.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <range/v3/view/filter.hpp>

namespace marcpipe::marc {

inline constexpr std::size_t leader_length = 24;

// MARC21 treats tags 001-009 (and 00X in general) as control fields: no indicators, no
// subfields, just data.
constexpr bool is_control_tag(std::string_view tag) noexcept {
    return tag.size() == 3 && tag[0] == '0' && tag[1] == '0';
}

struct subfield {
    subfield() = default;
    subfield(char c, std::string v) : code{c}, value{std::move(v)} {}

    char code = 'a';
    std::string value;

    friend bool operator==(subfield const&, subfield const&) = default;
};

struct field {
    field() = default;
    // A control field.
    field(std::string t, std::string data) : tag{std::move(t)}, value{std::move(data)} {}
    // A data field.
    field(std::string t, char i1, char i2, std::vector<subfield> subs = {})
        : tag{std::move(t)}, ind1{i1}, ind2{i2}, subfields{std::move(subs)} {}

    std::string tag;
    std::string value;  // control fields only
    char ind1 = ' ';
    char ind2 = ' ';
    std::vector<subfield> subfields;  // data fields only

    bool is_control() const noexcept { return is_control_tag(tag); }

    // The first subfield with this code, or an empty view.
    std::string_view subfield_value(char code) const noexcept {
        for (auto const& s : subfields)
            if (s.code == code) return s.value;
        return {};
    }

    friend bool operator==(field const&, field const&) = default;
};

class record {
public:
    record() : leader_(leader_length, ' ') {}
    explicit record(std::string leader, std::vector<field> fields = {})
        : leader_{std::move(leader)}, fields_{std::move(fields)} {
        leader_.resize(leader_length, ' ');
    }

    std::string const& leader() const noexcept { return leader_; }
    std::string& leader() noexcept { return leader_; }

    std::vector<field> const& fields() const noexcept { return fields_; }
    std::vector<field>& fields() noexcept { return fields_; }

    // The first field with this tag, or nullptr.
    field const* find(std::string_view tag) const noexcept {
        auto it = std::find_if(fields_.begin(), fields_.end(),
                               [&](field const& f) { return f.tag == tag; });
        return it == fields_.end() ? nullptr : &*it;
    }
    field* find(std::string_view tag) noexcept {
        return const_cast<field*>(std::as_const(*this).find(tag));
    }
    bool has(std::string_view tag) const noexcept { return find(tag) != nullptr; }

    // Every field with this tag, in record order, as a range over the record's own fields (edits
    // through the non-const one change the record). A tag may repeat: a holdings record can
    // carry an 852 for each location, and find() sees only the first. The range refers to the
    // record and to `tag`'s characters, so both must outlive it.
    auto find_all(std::string_view tag) const {
        return ranges::views::filter(fields_, [tag](field const& f) { return f.tag == tag; });
    }
    auto find_all(std::string_view tag) {
        return ranges::views::filter(fields_, [tag](field const& f) { return f.tag == tag; });
    }

    // The data of the first control field with this tag (001 is the record's identifier).
    std::string_view control_value(std::string_view tag) const noexcept {
        auto const* f = find(tag);
        return f ? std::string_view{f->value} : std::string_view{};
    }

    friend bool operator==(record const&, record const&) = default;

private:
    std::string leader_;
    std::vector<field> fields_;
};

}  // namespace marcpipe::marc
