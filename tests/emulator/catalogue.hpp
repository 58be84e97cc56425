// catalogue: the deterministic Alma catalogue the loopback emulator serves, shared with the tests.
//
// Everything is a pure function of (seed, bib count, index): nothing is stored, so a catalogue of
// a million bibs costs no memory, the emulator answers any request in O(1), and a test that builds
// the same catalogue knows exactly which holdings and records the server will send.
//
// MMS IDs and holding IDs look like Alma's ("99…" bibs, "22…" holdings, ending in the
// institution code) and encode the bib index, so an ID can be looked up without a table.
// The mix follows what real exports and real holdings look like: 0, 1 or many holdings per bib
// (about 1.3 on average), a few bibs deleted since the export, holdings with and without 583,
// legacy 001/004 values, 005 listed after 008/009, leaders with blanks where length and base
// address go, non-ASCII text, '$' inside data and now and then an invalid indicator.
#pragma once

#include <marcpipe/marc/record.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace marcpipe::emulator {

namespace detail {

// splitmix64: a good 64-bit mix, so every (seed, index, purpose) triple gets independent bits.
constexpr std::uint64_t mix(std::uint64_t x) noexcept {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

constexpr std::uint64_t hash(std::uint64_t seed, std::uint64_t a, std::uint64_t b = 0,
                             std::uint64_t c = 0) noexcept {
    return mix(mix(mix(mix(seed) ^ a) ^ (b + 0x51ED27ULL)) ^ (c + 0xC0FFEEULL));
}

// Cheap per-record random stream: each call to next() draws fresh bits.
class draw {
public:
    explicit draw(std::uint64_t state) noexcept : state_{state} {}
    std::uint64_t next() noexcept { return state_ = mix(state_); }
    // Uniform in [0, n).
    std::size_t below(std::size_t n) noexcept { return static_cast<std::size_t>(next() % n); }
    bool percent(unsigned p) noexcept { return below(100) < p; }
    template <class T, std::size_t N>
    T const& pick(std::array<T, N> const& a) noexcept { return a[below(N)]; }

private:
    std::uint64_t state_;
};

inline std::string zero_pad(std::uint64_t v, std::size_t width) {
    auto s = std::to_string(v);
    if (s.size() < width) s.insert(0, width - s.size(), '0');
    return s;
}

// Purposes, so the draws for different things never share bits.
enum purpose : std::uint64_t { p_bib = 1, p_holding = 2, p_id = 3 };

}  // namespace detail

// What a holding looks like in the holdings list and the AVA field (beside its MARC record).
struct holding_summary {
    holding_summary() = default;
    holding_summary(std::string id, std::string lib, std::string lib_desc, std::string loc,
                    std::string loc_desc, std::string call)
        : holding_id{std::move(id)}, library{std::move(lib)}, library_desc{std::move(lib_desc)},
          location{std::move(loc)}, location_desc{std::move(loc_desc)},
          call_number{std::move(call)} {}

    std::string holding_id;
    std::string library;
    std::string library_desc;
    std::string location;
    std::string location_desc;
    std::string call_number;
};

// What a bib looks like in bib_data and in the bib export.
struct bib_summary {
    bib_summary() = default;
    bib_summary(std::string id, std::string t, std::string a, std::string p, std::string d)
        : mms_id{std::move(id)}, title{std::move(t)}, author{std::move(a)},
          publisher{std::move(p)}, date{std::move(d)} {}

    std::string mms_id;
    std::string title;
    std::string author;
    std::string publisher;
    std::string date;
};

// Where a holding ID points: the bib index and the holding's position under that bib.
struct holding_position {
    holding_position() = default;
    holding_position(std::size_t b, std::size_t h) : bib{b}, holding{h} {}
    std::size_t bib = 0;
    std::size_t holding = 0;
    friend bool operator==(holding_position const&, holding_position const&) = default;
};

class catalogue {
public:
    // Alma holdings per bib never exceed this here; it keeps holding IDs decodable.
    static constexpr std::size_t max_holdings_per_bib = 16;

    // vanished: the fraction of holdings that are listed (holdings list, AVA) but deleted before
    // their record is fetched, which Alma answers with 402208. 0 unless a test asks for it.
    // availability_gaps: the share of bibs whose availability (AVA) has each of the gaps Alma's
    // documentation names (see "availability" below); 0 gives every holding an AVA with $8.
    // network_zone: answers as to a Network Zone key, whose availability shows another member
    // institution's holding (an AVA with $8) on every bib Alma knows.
    static constexpr double default_availability_gaps = 0.1;
    catalogue(std::uint64_t seed, std::size_t bibs, double vanished = 0,
              double availability_gaps = default_availability_gaps, bool network_zone = false)
        : seed_{seed}, bibs_{bibs},
          vanished_per_million_{static_cast<std::uint64_t>(vanished * 1'000'000)},
          gaps_per_million_{static_cast<std::uint64_t>(availability_gaps * 1'000'000)},
          network_zone_{network_zone},
          institution_{"3" + detail::zero_pad(detail::hash(seed, detail::p_id, 1) % 1000, 3)},
          bib_stride_{1009 + detail::hash(seed, detail::p_id, 2) % 500},
          bib_offset_{detail::hash(seed, detail::p_id, 3) % bib_stride_},
          holding_stride_{7 + detail::hash(seed, detail::p_id, 4) % 13},
          holding_offset_{detail::hash(seed, detail::p_id, 5) % holding_stride_} {}

    std::uint64_t seed() const noexcept { return seed_; }
    std::size_t size() const noexcept { return bibs_; }
    bool network_zone() const noexcept { return network_zone_; }
    // Alma IDs end in the institution's four-digit code.
    std::string const& institution_code() const noexcept { return institution_; }

    // ---- identifiers -------------------------------------------------------------------

    std::string mms_id(std::size_t bib) const {
        return "99" + std::to_string(bib_base + bib * bib_stride_ + bib_offset_) + institution_;
    }

    // The bib index of an MMS ID of this catalogue (deleted bibs included), or nothing.
    std::optional<std::size_t> bib_index(std::string_view mms_id) const {
        auto seq = sequence(mms_id, "99");
        if (!seq || *seq < bib_base + bib_offset_) return std::nullopt;
        auto n = *seq - bib_base - bib_offset_;
        if (n % bib_stride_ != 0 || n / bib_stride_ >= bibs_) return std::nullopt;
        return static_cast<std::size_t>(n / bib_stride_);
    }

    std::string holding_id(std::size_t bib, std::size_t holding) const {
        auto n = static_cast<std::uint64_t>(bib) * max_holdings_per_bib + holding;
        return "22" + std::to_string(holding_base + n * holding_stride_ + holding_offset_) +
               institution_;
    }

    // Which bib and position a holding ID of this catalogue belongs to, or nothing.
    std::optional<holding_position> find_holding(std::string_view holding_id) const {
        auto seq = sequence(holding_id, "22");
        if (!seq || *seq < holding_base + holding_offset_) return std::nullopt;
        auto n = *seq - holding_base - holding_offset_;
        if (n % holding_stride_ != 0) return std::nullopt;
        n /= holding_stride_;
        auto bib = static_cast<std::size_t>(n / max_holdings_per_bib);
        auto pos = static_cast<std::size_t>(n % max_holdings_per_bib);
        if (bib >= bibs_ || pos >= holdings_count(bib)) return std::nullopt;
        return holding_position{bib, pos};
    }

    // ---- bibs --------------------------------------------------------------------------

    // In the export, but deleted in Alma since: the API answers 402203 for it.
    bool deleted(std::size_t bib) const { return bib_draw(bib, 1).percent(2); }

    // 0, 1 or many holdings, about 1.3 on average.
    std::size_t holdings_count(std::size_t bib) const {
        auto r = bib_draw(bib, 2).below(1000);
        if (r < 120) return 0;
        if (r < 720) return 1;
        if (r < 900) return 2;
        if (r < 960) return 3;
        if (r < 998) return 4 + (r % 4);  // 4..7
        return 12;                        // the odd bib with a long run of holdings
    }

    // In ascending order (of their position, and so of their ID).
    std::vector<std::string> holding_ids(std::size_t bib) const {
        std::vector<std::string> ids;
        for (std::size_t h = 0, n = holdings_count(bib); h < n; ++h)
            ids.push_back(holding_id(bib, h));
        return ids;
    }

    // Alma lists a bib's holdings (holdings list, AVA) in an order of its own, not by ID: here
    // a quarter of the bibs list theirs newest first.
    bool listed_newest_first(std::size_t bib) const { return bib_draw(bib, 14).percent(25); }
    // Positions of the bib's holdings in the order Alma lists them.
    std::vector<std::size_t> listing_order(std::size_t bib) const {
        std::vector<std::size_t> order;
        for (std::size_t h = 0, n = holdings_count(bib); h < n; ++h) order.push_back(h);
        if (listed_newest_first(bib)) std::reverse(order.begin(), order.end());
        return order;
    }
    std::vector<std::string> listed_holding_ids(std::size_t bib) const {
        std::vector<std::string> ids;
        for (auto h : listing_order(bib)) ids.push_back(holding_id(bib, h));
        return ids;
    }

    bib_summary bib(std::size_t bib) const {
        auto d = bib_draw(bib, 3);
        static constexpr std::array<std::string_view, 12> first{
            "The history of", "A guide to", "Studies in", "Œuvres complètes de",
            "Letters on", "Die Geschichte der", "Essays on", "Notes toward",
            "Записки о", "An atlas of", "Proceedings on", "東京の"};
        static constexpr std::array<std::string_view, 12> second{
            "printing", "the Pacific coast", "Ærø and its harbours", "serial publications",
            "bookbinding", "Kartographie", "maritime law", "shared print",
            "морской торговле", "mountain flora", "library cooperation", "出版文化"};
        static constexpr std::array<std::string_view, 8> authors{
            "Joslin, Sesyle.", "Müller, Jürgen.", "Ødegård, Kari.", "Smith, John, 1950-",
            "Nakamura, Hiroshi.", "Dvořák, Anna.", "García Márquez, Elena.", "Brown, Lee."};
        static constexpr std::array<std::string_view, 6> publishers{
            "Harper & Row", "Gyldendal", "Éditions du Seuil", "University Press",
            "Nauka", "O'Reilly & Associates"};
        // One draw a statement: the order of draws inside one expression is the compiler's choice.
        std::string title{d.pick(first)};
        title += " ";
        title += d.pick(second);
        if (d.percent(20)) title += " : vol. " + std::to_string(1 + d.below(9));
        title += " /";
        auto year = 1850 + d.below(175);
        std::string author{d.pick(authors)};
        std::string publisher{d.pick(publishers)};
        return {mms_id(bib), title, author, publisher, std::to_string(year) + "."};
    }

    // A fifth of the bibs are serials (leader/07 = s).
    bool serial(std::size_t bib) const { return bib_draw(bib, 5).percent(20); }

    // The bib's OCLC number as its 035 $a holds it, when it has one (nineteen bibs in twenty:
    // the few without make holdings that fail WEST's check). Some bibs also carry a cancelled
    // number (035 $z) and another system's number before it.
    std::optional<std::string> oclc_number(std::size_t bib) const {
        auto d = bib_draw(bib, 6);
        if (!d.percent(95)) return std::nullopt;
        static constexpr std::array<std::string_view, 3> prefixes{"ocm", "ocn", ""};
        std::string const prefix{d.pick(prefixes)};
        return "(OCoLC)" + prefix + std::to_string(1000000 + bib * 37);
    }
    bool cancelled_oclc_number(std::size_t bib) const { return bib_draw(bib, 7).percent(30); }
    bool other_system_number(std::size_t bib) const { return bib_draw(bib, 8).percent(30); }

    // The bib record as it is in the export: 001 = MMS ID, 005, 008, 035s, 245; the leader keeps
    // blanks where the writer computes length and base address.
    marc::record bib_record(std::size_t bib) const {
        auto b = this->bib(bib);
        auto d = bib_draw(bib, 4);
        auto year = b.date.substr(0, 4);
        std::vector<marc::field> fields;
        fields.emplace_back("001", b.mms_id);
        fields.emplace_back("005", "2023" + month_day(d) + "101530.0");
        fields.emplace_back("008", "850101s" + year + "    nyu           000 0 eng d");
        if (other_system_number(bib))
            fields.emplace_back("035", ' ', ' ',
                                std::vector<marc::subfield>{{'a', "(CU-UC)" + std::to_string(500000 + bib)}});
        if (cancelled_oclc_number(bib))
            fields.emplace_back("035", ' ', ' ',
                                std::vector<marc::subfield>{{'z', "(OCoLC)" + std::to_string(9000000 + bib)}});
        if (auto oclc = oclc_number(bib))
            fields.emplace_back("035", ' ', ' ', std::vector<marc::subfield>{{'a', *oclc}});
        fields.emplace_back("100", '1', ' ', std::vector<marc::subfield>{{'a', b.author}});
        fields.emplace_back("245", '1', '0',
                            std::vector<marc::subfield>{{'a', b.title}});
        fields.emplace_back("264", ' ', '1',
                            std::vector<marc::subfield>{{'b', b.publisher}, {'c', b.date}});
        return marc::record{serial(bib) ? "     nas a22     7i 4500" : "     nam a22     7i 4500", std::move(fields)};
    }

    // ---- holdings ----------------------------------------------------------------------

    holding_summary holding(std::size_t bib, std::size_t holding) const {
        auto d = holding_draw(bib, holding, 1);
        static constexpr std::array<std::array<std::string_view, 2>, 4> libraries{{
            {"MAIN", "Main Library"}, {"LAW", "Law Library"},
            {"MUSIC", "Musik- und Tanzbibliothek"}, {"ANNEX", "Off-site Storage Annex"}}};
        static constexpr std::array<std::array<std::string_view, 2>, 4> locations{{
            {"main", "Stacks"}, {"ref", "Reference"}, {"rare", "Rare Books"},
            {"deposit", "Dépôt"}}};
        auto const& lib = d.pick(libraries);
        auto const& loc = d.pick(locations);
        static constexpr std::array<std::string_view, 6> classes{"BJ", "PN", "QA", "Z", "KF",
                                                                  "G"};
        std::string call{d.pick(classes)};
        call += std::to_string(100 + d.below(9800));
        call += ".C";
        call += std::to_string(1 + d.below(9));
        call += " ";
        call += std::to_string(1900 + d.below(124));
        return {holding_id(bib, holding), std::string{lib[0]}, std::string{lib[1]},
                std::string{loc[0]}, std::string{loc[1]}, call};
    }

    // Listed, but gone when its record is asked for (402208).
    bool vanished(std::size_t bib, std::size_t holding) const {
        return vanished_per_million_ != 0 &&
               holding_draw(bib, holding, 9).below(1'000'000) < vanished_per_million_;
    }

    // Properties tests filter on.
    bool has_583(std::size_t bib, std::size_t holding) const {
        return holding_draw(bib, holding, 2).percent(40);
    }
    // What a few holdings get wrong for WEST (west/west_checks.hpp): one flaw in about one
    // holding in twenty-five, in the 583 commitment (for holdings that have one) or the 852.
    enum class west_flaw { none, no_583f, bad_583c, d_before_c, no_852b };
    west_flaw flaw(std::size_t bib, std::size_t holding) const {
        auto d = holding_draw(bib, holding, 10);
        if (!d.percent(4)) return west_flaw::none;
        static constexpr std::array<west_flaw, 4> kinds{west_flaw::no_583f, west_flaw::bad_583c, west_flaw::d_before_c,
                                                       west_flaw::no_852b};
        return d.pick(kinds);
    }
    bool non_ascii(std::size_t bib, std::size_t holding) const {
        return holding_draw(bib, holding, 3).percent(15);
    }
    bool invalid_indicator(std::size_t bib, std::size_t holding) const {
        return holding_draw(bib, holding, 4).percent(3);
    }
    bool dollar_in_data(std::size_t bib, std::size_t holding) const {
        return holding_draw(bib, holding, 5).percent(5);
    }
    // Which of 001/004 the record already carries (legacy values from a migration).
    enum class legacy_ids { none, both, only_001, only_004 };
    legacy_ids legacy(std::size_t bib, std::size_t holding) const {
        auto r = holding_draw(bib, holding, 6).below(10);
        if (r < 4) return legacy_ids::none;
        if (r < 8) return legacy_ids::both;
        return r == 8 ? legacy_ids::only_001 : legacy_ids::only_004;
    }
    // Alma sends compact XML; a few answers come pretty-printed so parsers see both.
    bool pretty_printed(std::size_t bib, std::size_t holding) const {
        return holding_draw(bib, holding, 7).percent(20);
    }

    // The holding's MARC record exactly as Alma sends it inside <record>: field order as
    // Alma keeps it (001/004 first when present, 005 after 008/009), leader with blanks.
    marc::record holding_record(std::size_t bib, std::size_t holding) const {
        auto d = holding_draw(bib, holding, 8);
        auto s = this->holding(bib, holding);
        auto legacy_key = std::to_string(100000 + (bib * 7 + holding * 3) % 899999);
        std::vector<marc::field> f;
        auto ids = legacy(bib, holding);
        if (ids == legacy_ids::both || ids == legacy_ids::only_001)
            f.emplace_back("001", "h" + legacy_key + "-47bibsys_ubo");
        if (ids == legacy_ids::both || ids == legacy_ids::only_004)
            f.emplace_back("004", "000" + legacy_key + "-47bibsys_ubo");
        bool serial = d.percent(25);
        if (d.percent(50)) f.emplace_back("007", "ta");
        f.emplace_back("008", std::string{"1511020"} + (serial ? "u" : "0") +
                                  "    8   4001uueng0000000");
        if (d.percent(30)) f.emplace_back("009", "kat");
        std::string const year = detail::zero_pad(10 + d.below(14), 2);
        f.emplace_back("005", "20" + year + month_day(d) + "095020.0");
        if (d.percent(30))
            f.emplace_back("035", ' ', ' ',
                           std::vector<marc::subfield>{{'a', "(OCoLC)" +
                                                                 std::to_string(10000 + bib)}});
        auto const flawed = flaw(bib, holding);
        if (has_583(bib, holding)) {
            auto n583 = 1 + d.below(2);
            for (std::size_t i = 0; i < n583; ++i) {
                std::vector<marc::subfield> commitment{{'a', "committed to retain"},
                                                       {'c', "20190" + std::to_string(1 + i) + "15"},
                                                       {'d', "20351231"},
                                                       {'f', "WEST"},
                                                       {'5', "CU-" + s.library}};
                if (flawed == west_flaw::no_583f) commitment.erase(commitment.begin() + 3);
                if (flawed == west_flaw::bad_583c) commitment[1].value = "2019-01-15";
                if (flawed == west_flaw::d_before_c) commitment[2].value = "20181231";
                f.emplace_back("583", '1', ' ', std::move(commitment));
            }
        }
        char ind1 = invalid_indicator(bib, holding) ? 'X' : '0';
        std::vector<marc::subfield> h852{{'b', s.library}, {'c', s.location}, {'h', s.call_number}};
        if (flawed == west_flaw::no_852b) h852.erase(h852.begin());
        if (non_ascii(bib, holding))
            h852.emplace_back('z', "Geschenk von Frau Jürgensen – Ærø, 1987 (見本)");
        if (dollar_in_data(bib, holding))
            h852.emplace_back('z', "Purchased with the $500 Friends fund");
        f.emplace_back("852", ind1, ' ', std::move(h852));
        if (serial) {
            f.emplace_back("853", '2', '0',
                           std::vector<marc::subfield>{{'8', "1"}, {'a', "v."}, {'i', "(year)"}});
            std::string const from = std::to_string(1 + d.below(20));
            std::string const to = std::to_string(21 + d.below(40));
            f.emplace_back("866", '4', '1',
                           std::vector<marc::subfield>{{'8', "0"}, {'a', "v." + from + "-" + to}});
        }
        if (d.percent(40))
            f.emplace_back("876", ' ', ' ',
                           std::vector<marc::subfield>{{'a', "23" + std::to_string(bib * 10 +
                                                                                  holding)},
                                                       {'j', "kat"},
                                                       {'w', "BOOK"}});
        static constexpr std::array<std::string_view, 4> leaders{
            "     nx  a22     1n 4500", "     nx  a22     1n 4500", "     cy  a22     3i 4500",
            "00384nx  a2200145ui 4500"};  // the last: stale numbers a writer must recompute
        return marc::record{std::string{d.pick(leaders)}, std::move(f)};
    }

    // ---- availability (AVA in GET /bibs?...&expand=p_avail) ----------------------------
    //
    // Alma adds one AVA per holding with items, with $8 = holding ID only for items in their
    // permanent location, and AVA for related records ($0 = the other bib) and, for a Network
    // Zone key, for other institutions ($a). Each of these happens to a share of the bibs
    // (availability_gaps), drawn independently:
    //   - a holding whose items are in a temporary location: its AVA has no $8;
    //   - holdings without items: none of the bib's holdings has an AVA;
    //   - another institution's AVA (one with $8, one without);
    //   - a related record's AVA ($0 the next bib's MMS ID, with or without $8).
    // A holding without items beside holdings that have items is not modelled: nothing in the
    // answer could show it, so no client can be tested for finding it from availability.
    enum class availability_gap { none, temporary_location, no_items };

    availability_gap gap(std::size_t bib) const {
        if (holdings_count(bib) == 0) return availability_gap::none;
        auto d = bib_draw(bib, 10);
        bool const has_gap = d.below(1'000'000) < gaps_per_million_;
        if (!has_gap) return availability_gap::none;
        bool const temporary = d.percent(50);
        return temporary ? availability_gap::temporary_location : availability_gap::no_items;
    }
    // Which holding has its items in a temporary location (for gap() == temporary_location).
    std::size_t temporary_location_holding(std::size_t bib) const {
        auto d = bib_draw(bib, 13);
        return d.below(std::max<std::size_t>(holdings_count(bib), 1));
    }
    bool other_institution_availability(std::size_t bib) const {
        auto d = bib_draw(bib, 11);
        return d.below(1'000'000) < gaps_per_million_;
    }
    // The related record's AVA carries $8 (else its items are in a temporary location too).
    std::optional<bool> related_record_availability(std::size_t bib) const {
        auto d = bib_draw(bib, 12);
        bool const related = d.below(1'000'000) < gaps_per_million_;
        if (!related) return std::nullopt;
        bool const with_id = d.percent(50);
        return with_id;
    }

    // AVA $a of this catalogue's institution, and of the other one a Network Zone key sees.
    std::string availability_institution() const { return "01INST_" + institution_; }
    std::string other_institution() const { return "01OTHER_" + institution_; }
    std::string other_institution_holding_id(std::size_t bib) const {
        return "22" + std::to_string(holding_base + bib) + "0000";
    }

    struct availability_entry {
        availability_entry() = default;
        availability_entry(std::string bib_id_, std::string holding_, std::string inst, std::size_t of_)
            : bib_id{std::move(bib_id_)}, holding_id{std::move(holding_)}, institution{std::move(inst)}, of{of_} {}
        std::string bib_id;       // $0
        std::string holding_id;   // $8, empty for items in a temporary location
        std::string institution;  // $a
        std::size_t of = 0;       // the holding whose library and location the AVA shows
    };

    // The bib's AVA fields in the order the emulator writes them.
    std::vector<availability_entry> availability(std::size_t bib) const {
        std::vector<availability_entry> fields;
        auto const gap_kind = gap(bib);
        for (std::size_t h : listing_order(bib)) {
            if (gap_kind == availability_gap::no_items) break;
            bool const temporary = gap_kind == availability_gap::temporary_location &&
                                   h == temporary_location_holding(bib);
            fields.emplace_back(mms_id(bib), temporary ? std::string{} : holding_id(bib, h),
                                availability_institution(), h);
        }
        bool const other = other_institution_availability(bib);
        if (other || network_zone_)
            fields.emplace_back(mms_id(bib), other_institution_holding_id(bib), other_institution(), 0);
        if (other) fields.emplace_back(mms_id(bib), std::string{}, other_institution(), 0);
        if (auto with_id = related_record_availability(bib)) {
            std::size_t const next = (bib + 1) % bibs_;
            fields.emplace_back(mms_id(next), *with_id ? holding_id(next, 0) : std::string{},
                                availability_institution(), 0);
        }
        return fields;
    }

    // Whether a bib's availability names each of its holdings with $8 and nothing that could be
    // mistaken for one: what a client may trust without asking for the holdings list. Only a
    // client that knows its institution (`one_institution`: the code in AVA $a) can tell its
    // holdings from another institution's; every AVA here names an institution, so for any
    // other client availability vouches for nothing.
    bool availability_vouches(std::size_t bib, bool one_institution) const {
        if (holdings_count(bib) == 0 || gap(bib) != availability_gap::none) return false;
        return one_institution;
    }

    // Bibs a client in bulk mode must ask for their holdings list: live bibs whose availability
    // does not vouch for their holdings.
    std::size_t bibs_availability_leaves_open(bool one_institution) const {
        std::size_t n = 0;
        for (std::size_t b = 0; b < bibs_; ++b) n += !deleted(b) && !availability_vouches(b, one_institution);
        return n;
    }

    // Bibs a client in bulk mode asks for their holdings list: those availability leaves open and
    // the deleted ones, which the bulk answer leaves out, as it may leave out a bib that has holdings.
    std::size_t bulk_mode_lists(bool one_institution) const {
        std::size_t n = bibs_availability_leaves_open(one_institution);
        for (std::size_t b = 0; b < bibs_; ++b) n += deleted(b);
        return n;
    }

    // How many holding records the API can deliver: deleted bibs and vanished holdings excluded.
    std::size_t deliverable_holdings() const {
        std::size_t n = 0;
        for (std::size_t b = 0; b < bibs_; ++b) {
            if (deleted(b)) continue;
            for (std::size_t h = 0, count = holdings_count(b); h < count; ++h)
                n += !vanished(b, h);
        }
        return n;
    }

private:
    static constexpr std::uint64_t bib_base = 10'040'121'000ULL;      // 11 digits after "99"
    static constexpr std::uint64_t holding_base = 21'637'712'000ULL;  // 11 digits after "22"

    static std::string month_day(detail::draw& d) {
        std::string md = detail::zero_pad(1 + d.below(12), 2);
        md += detail::zero_pad(1 + d.below(28), 2);
        return md;
    }

    detail::draw bib_draw(std::size_t bib, std::uint64_t what) const {
        return detail::draw{detail::hash(seed_, detail::p_bib, bib, what)};
    }
    detail::draw holding_draw(std::size_t bib, std::size_t holding, std::uint64_t what) const {
        return detail::draw{
            detail::hash(seed_, detail::p_holding, bib * max_holdings_per_bib + holding, what)};
    }

    // The sequence number between the two-digit prefix and the institution code.
    std::optional<std::uint64_t> sequence(std::string_view id, std::string_view prefix) const {
        if (id.size() != 2 + 11 + institution_.size()) return std::nullopt;
        if (id.substr(0, 2) != prefix || id.substr(id.size() - 4) != institution_)
            return std::nullopt;
        std::uint64_t v = 0;
        for (char c : id.substr(2, 11)) {
            if (c < '0' || c > '9') return std::nullopt;
            v = v * 10 + static_cast<std::uint64_t>(c - '0');
        }
        return v;
    }

    std::uint64_t seed_;
    std::size_t bibs_;
    std::uint64_t vanished_per_million_;
    std::uint64_t gaps_per_million_;
    bool network_zone_ = false;
    std::string institution_;
    std::uint64_t bib_stride_;
    std::uint64_t bib_offset_;
    std::uint64_t holding_stride_;
    std::uint64_t holding_offset_;
};

}  // namespace marcpipe::emulator
