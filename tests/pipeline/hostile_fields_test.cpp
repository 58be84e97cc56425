// A server that puts random bytes into every XML field of its holdings records (the emulator's
// --hostile-fields): whatever it sends, west-holdings writes MARC21 and MARCXML that its own
// readers (stopping at the first fault) and yaz-marcdump read without a complaint, and every
// holding the server was asked for is either in the output or a row of the report.
#include <marcpipe/marc/any_reader.hpp>

#include <bib_export.hpp>
#include <catalogue.hpp>
#include <hostile_fields.hpp>
#include <launcher.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/csv.hpp"
#include "west_program.hpp"
#include "reference_tool.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace hostile_fields_test {

using namespace west_test;

namespace {

constexpr std::uint64_t catalogue_seed = 23;

}  // namespace

TEST_CASE("random bytes in a server's holdings records never corrupt the output nor vanish from it",
          "[programs][west][yaz][hostile]") {
    std::size_t const bibs = 60;
    auto const hostile_seed = GENERATE(1, 2, 3, 4, 5);
    auto const xml = GENERATE(false, true);
    CAPTURE(hostile_seed, xml);
    marcpipe::emulator::hostile_fields const knob{0.5, static_cast<std::uint64_t>(hostile_seed)};
    west_setting s{"west-hostile",
                   bibs,
                   {"--hostile-fields", "0.5", "--hostile-seed", std::to_string(hostile_seed)},
                   export_as::marc21,
                   catalogue_seed};
    std::string const output = xml ? "out.xml" : "out.mrc";
    // One try per call: a damaged record is damaged the same way every time it is asked for.
    auto r = run(MARCPIPE_WEST_HOLDINGS,
                 {"--base-url", s.server.base_url(), "--rate", "500", "--concurrency", "16",
                  "--max-attempts", "1", "-o", output, "--errors", "errors.csv", "export.mrc"},
                 env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);

    // What the server was asked for: every holding of every bib it still has.
    std::map<std::string, std::string> expected;  // holding ID -> MMS ID
    std::size_t damaged = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (s.cat.deleted(b)) continue;
        for (std::size_t h = 0; h < s.cat.holdings_count(b); ++h) {
            expected[s.cat.holding(b, h).holding_id] = s.cat.mms_id(b);
            if (marcpipe::emulator::is_hostile(knob, b, h)) ++damaged;
        }
    }
    REQUIRE(damaged > 0);

    // The project's readers take the whole output, stopping at the first fault they find.
    std::multiset<std::string> written;
    std::set<std::string> altered;  // holdings written with U+FFFD somewhere: replacements
    marc::reader_options strict{marc::on_error::stop};
    auto reader = marc::any_reader::open(s.dir / output, strict);
    marc::record rec;
    while (reader->read(rec)) {
        std::string const id{rec.control_value("001")};
        written.insert(id);
        CHECK(expected.count(id) == 1);
        for (auto const& f : rec.fields()) {
            bool replaced = f.value.find("\xEF\xBF\xBD") != std::string::npos;
            for (auto const& s : f.subfields) replaced = replaced || s.value.find("\xEF\xBF\xBD") != std::string::npos;
            if (replaced) altered.insert(id);
        }
    }

    // So does the reference tool, without a word on standard error.
    if (auto yaz = marcpipe_test::yaz_marcdump_for_comparison()) {
        std::vector<std::string> args{"-n", output};
        if (xml) args = {"-i", "marcxml", "-n", output};
        auto check = run(yaz->string(), args, {}, s.dir, "yaz");
        CHECK(check.status == 0);
        CHECK(check.err == "");
    }

    // Each holding is written at most once, and one that is not written is in the report.
    std::set<std::string> reported;
    for (auto const& row : marcpipe::testing::csv_records(slurp(s.dir / "errors.csv"))) {
        REQUIRE(row.size() == 7);
        if (!row[2].empty()) reported.insert(row[2]);
        // A record written with replacements says what was replaced.
        if (row[0] == "write" && row[5].find("characters replaced") != std::string::npos)
            CHECK(written.count(row[2]) == 1);
    }
    // Nothing was altered without a row saying so; with half the records damaged, some of the
    // damage is bytes that are not UTF-8, so an empty set means the check below checked nothing.
    REQUIRE_FALSE(altered.empty());
    for (auto const& id : altered) {
        CAPTURE(id);
        CHECK(reported.count(id) == 1);
    }
    for (auto const& [holding_id, mms_id] : expected) {
        CAPTURE(holding_id, mms_id);
        CHECK(written.count(holding_id) <= 1);
        CHECK((written.count(holding_id) == 1 || reported.count(holding_id) == 1));
    }
}

}  // namespace hostile_fields_test
