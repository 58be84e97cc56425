// Tests of the loopback Alma emulator: the catalogue it draws from a seed, the bib export of it, and the WEST check flags it sets.
#include "catch.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>
#include <thread>

#include <sys/wait.h>
#include <unistd.h>

#include "emulator_client.hpp"
#include "support/child.hpp"

using namespace emulator_test;

TEST_CASE("the same seed gives the same catalogue, another seed another one", "[emulator]") {
    catalogue a{7, 500}, b{7, 500}, c{8, 500};
    for (std::size_t i = 0; i < 500; i += 37) {
        CHECK(a.mms_id(i) == b.mms_id(i));
        CHECK(a.holding_ids(i) == b.holding_ids(i));
        for (std::size_t h = 0; h < a.holdings_count(i); ++h)
            CHECK(a.holding_record(i, h) == b.holding_record(i, h));
    }
    std::size_t differing = 0;
    for (std::size_t i = 0; i < 500; ++i) differing += a.mms_id(i) != c.mms_id(i);
    CHECK(differing == 500);
}

TEST_CASE("MMS IDs and holding IDs look like Alma's and lead back to their bib", "[emulator]") {
    catalogue cat{42, 3000};
    for (std::size_t i = 0; i < cat.size(); i += 101) {
        auto id = cat.mms_id(i);
        CHECK(id.size() >= 15);
        CHECK(id.size() <= 18);
        CHECK(id.rfind("99", 0) == 0);
        CHECK(id.substr(id.size() - 4) == cat.institution_code());
        REQUIRE(cat.bib_index(id));
        CHECK(*cat.bib_index(id) == i);
        for (std::size_t h = 0; h < cat.holdings_count(i); ++h) {
            auto hid = cat.holding_id(i, h);
            CHECK(hid.rfind("22", 0) == 0);
            REQUIRE(cat.find_holding(hid));
            CHECK(*cat.find_holding(hid) == holding_position{i, h});
        }
    }
    CHECK_FALSE(cat.bib_index("991234"));
    CHECK_FALSE(cat.bib_index(cat.mms_id(0) + "1"));
    CHECK_FALSE(catalogue(42, 10).bib_index(cat.mms_id(2000)));
    CHECK_FALSE(cat.find_holding("22000000000000000"));
}

TEST_CASE("the catalogue mixes what real holdings look like", "[emulator]") {
    catalogue cat{1, 10000};
    std::size_t holdings = 0, none = 0, many = 0, deleted = 0, with583 = 0, non_ascii = 0,
                bad_ind = 0, dollar = 0, legacy = 0, blank_leader = 0, late005 = 0;
    for (std::size_t b = 0; b < cat.size(); ++b) {
        auto n = cat.holdings_count(b);
        holdings += n;
        none += n == 0;
        many += n > 2;
        deleted += cat.deleted(b);
        for (std::size_t h = 0; h < n; ++h) {
            auto rec = cat.holding_record(b, h);
            with583 += rec.has("583");
            std::string all;
            for (auto const& f : rec.fields()) {
                all += f.value;
                for (auto const& s : f.subfields) all += s.value;
                bad_ind += f.ind1 == 'X';
            }
            non_ascii += std::any_of(all.begin(), all.end(),
                                     [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; });
            dollar += all.find('$') != std::string::npos;
            legacy += rec.has("001");
            blank_leader += rec.leader().substr(0, 5) == "     ";
            auto const& f = rec.fields();
            auto at = [&](char const* tag) {
                return std::find_if(f.begin(), f.end(), [&](auto const& x) { return x.tag == tag; });
            };
            late005 += at("005") > at("008");
        }
    }
    double mean = static_cast<double>(holdings) / static_cast<double>(cat.size());
    CHECK(mean > 1.2);
    CHECK(mean < 1.45);
    CHECK(none > 500);
    CHECK(many > 300);
    CHECK(deleted > 100);
    CHECK(deleted < 400);
    CHECK(with583 > holdings / 4);
    CHECK(with583 < holdings / 2);
    CHECK(non_ascii > holdings / 10);
    CHECK(bad_ind > 0);
    CHECK(dollar > 0);
    CHECK(legacy > holdings / 3);
    CHECK(blank_leader > holdings / 2);
    CHECK(late005 == holdings);
}

TEST_CASE("the bib export holds every bib, deleted ones included", "[emulator]") {
    catalogue cat{21, 120};
    marcpipe::testing::scratch_dir dir{"emulator-export"};
    auto run = [&](fs::path const& out) {
        return marcpipe::testing::run(default_emulator_path(), {"--seed", "21", "--bibs", "120", "--write-export",
                                                                 out.string()})
            .status;
    };

    SECTION("MARC21: one ISO 2709 record per bib with 001 = MMS ID") {
        auto out = dir / "bibs.mrc";
        REQUIRE(run(out) == 0);
        std::ifstream in{out, std::ios::binary};
        std::string data{std::istreambuf_iterator<char>{in}, {}};
        std::size_t offset = 0, n = 0;
        while (offset < data.size()) {
            auto length = std::stoul(data.substr(offset, 5));
            REQUIRE(offset + length <= data.size());
            auto rec = data.substr(offset, length);
            CHECK(rec.back() == '\x1D');
            CHECK(rec[9] == 'a');
            auto base = std::stoul(rec.substr(12, 5));
            CHECK(rec.substr(24, 3) == "001");
            auto len001 = std::stoul(rec.substr(27, 4));
            CHECK(rec.substr(base, len001 - 1) == cat.mms_id(n));
            offset += length;
            ++n;
        }
        CHECK(n == cat.size());
    }
    SECTION("MARCXML: a collection with the same records") {
        auto out = dir / "bibs.xml";
        REQUIRE(run(out) == 0);
        auto doc = parse_file(out);
        std::size_t n = 0;
        for (auto rec : doc.child("collection").children("record")) {
            CHECK(std::string{rec.find_child_by_attribute("controlfield", "tag", "001").text().get()} ==
                  cat.mms_id(n));
            CHECK(record_from_xml(rec) == cat.bib_record(n));
            ++n;
        }
        CHECK(n == cat.size());
    }
}

TEST_CASE("a few holdings with a 583 fail WEST's checks, most pass", "[emulator][west]") {
    catalogue cat{1, 10000};
    std::size_t with583 = 0, flawed = 0;
    std::map<catalogue::west_flaw, std::size_t> kinds;
    for (std::size_t b = 0; b < cat.size(); ++b)
        for (std::size_t h = 0; h < cat.holdings_count(b); ++h) {
            if (!cat.has_583(b, h)) continue;
            ++with583;
            auto const f = cat.flaw(b, h);
            if (f == catalogue::west_flaw::none) continue;
            ++flawed;
            ++kinds[f];
            auto rec = cat.holding_record(b, h);
            auto const* f583 = rec.find("583");
            auto const* f852 = rec.find("852");
            switch (f) {
                case catalogue::west_flaw::no_583f: CHECK(f583->subfield_value('f').empty()); break;
                case catalogue::west_flaw::bad_583c: CHECK(f583->subfield_value('c') == "2019-01-15"); break;
                case catalogue::west_flaw::d_before_c: CHECK(f583->subfield_value('d') < f583->subfield_value('c')); break;
                case catalogue::west_flaw::no_852b: CHECK(f852->subfield_value('b').empty()); break;
                default: break;
            }
        }
    CHECK(flawed > with583 / 50);
    CHECK(flawed < with583 / 12);
    CHECK(kinds.size() == 4);
}
