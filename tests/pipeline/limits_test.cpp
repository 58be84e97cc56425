// What the programs refuse or bound: numeric options out of range, a key file that is no key
// file, junk after an export, answers that never end. Each is refused or cut before it costs a
// call or memory; the counts come from the emulator's counters and the report's rows.
#include <bib_export.hpp>
#include <catalogue.hpp>
#include <launcher.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support/child.hpp"
#include "west_program.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace limits_test {

using namespace west_test;

namespace {

// A catalogue whose first four bibs Alma all knows (the junk test counts on it).
constexpr std::uint64_t seed = 1;

}  // namespace

TEST_CASE("a numeric option that is not a finite number in its range exits 2 before any call",
          "[programs][limits]") {
    west_setting s{"limits-options", 10, {}, export_as::none, seed};
    std::ofstream{s.dir / "ids.txt"} << s.cat.mms_id(0) << "\n";
    std::string const base = s.server.base_url();
    struct program {
        std::string path;
        std::vector<std::string> args;  // all a run needs, but the option under test
    };
    std::vector<program> const programs{
        {MARCPIPE_WEST_HOLDINGS, {"--base-url", base, "-o", "out.mrc", "ids.txt"}},
        {MARCPIPE_HOLDINGS_IDS, {"--base-url", base, "-o", "out.txt", "ids.txt"}},
        {MARCPIPE_HOLDINGS_RECORDS, {"--base-url", base, "-o", "out.mrc", "ids.txt"}},
    };
    int n = 0;
    for (auto const& p : programs) {
        for (std::string const bad : {"nan", "inf", "-inf", "1e-5", "0", "-3", "1e9", "25x"}) {
            CAPTURE(p.path, bad);
            auto args = p.args;
            args.insert(args.begin(), {"--rate", bad});
            auto r = run(p.path, args, env_with_key(), s.dir, "r" + std::to_string(n++));
            CHECK(r.status == 2);
            CHECK(r.err.find("--rate") != std::string::npos);
        }
        auto args = p.args;
        args.insert(args.begin(), {"--concurrency", "0"});
        auto r = run(p.path, args, env_with_key(), s.dir, "c" + std::to_string(n++));
        CHECK(r.status == 2);
        CHECK(r.err.find("--concurrency") != std::string::npos);
    }
    auto attempts =
        run(MARCPIPE_WEST_HOLDINGS, {"--max-attempts", "0", "--base-url", base, "ids.txt"},
            env_with_key(), s.dir, "m");
    CHECK(attempts.status == 2);
    CHECK(attempts.err.find("--max-attempts") != std::string::npos);
    // The ends of the range are allowed, and shown in --help.
    auto help = run(MARCPIPE_WEST_HOLDINGS, {"--help"}, {}, s.dir, "h");
    CHECK(help.out.find("[0.1 - 1000]") != std::string::npos);
    // A dry run: its one call is the limiter's first, which waits for nothing at any rate; a
    // whole run would wait ten seconds a call.
    auto slowest =
        run(MARCPIPE_WEST_HOLDINGS, {"--rate", "0.1", "--dry-run", "--base-url", base, "ids.txt"},
            env_with_key(), s.dir, "s");
    CHECK(slowest.status == 0);
    CHECK(s.server.counters().requests >= 1);  // the one good run, and nothing before it
    CHECK(s.server.counters().requests <= 20);
}

TEST_CASE("a key file that is a directory or endless exits 2 at once, with nothing asked", "[programs][limits]") {
    west_setting s{"limits-keyfile", 10, {}, export_as::none, seed};
    std::ofstream{s.dir / "ids.txt"} << s.cat.mms_id(0) << "\n";
    fs::create_directories(s.dir / "keys");
    for (std::string const file : {"/dev/zero", "keys"}) {
        CAPTURE(file);
        auto r = run(MARCPIPE_WEST_HOLDINGS,
                     {"--api-key-file", file, "--base-url", s.server.base_url(), "ids.txt"},
                     {"ALMA_API_KEY="}, s.dir, "k");
        CHECK(r.status == 2);
        CHECK(r.err.find("the API key file " + file) != std::string::npos);
        // /dev/zero read to its end grew past 5 GB; 1 GB leaves room for AddressSanitizer's shadow
        // memory, which alone passes 100 MB.
        CHECK(r.max_rss_kb < 1024 * 1024);
    }
    CHECK(s.server.counters().requests == 0);
}

TEST_CASE("junk after the good records of an export is one row of the report", "[programs][limits]") {
    std::size_t const bibs = 4;
    west_setting s{"limits-junk", bibs, {}, export_as::marc21, seed};
    std::string const good = slurp(s.dir / "export.mrc");
    // Two megabytes of random bytes: some 8,000 record terminators, each once a problem row.
    std::mt19937 gen{5};
    std::string junk(2 << 20, '\0');
    for (auto& c : junk) c = static_cast<char>(gen() & 0xFF);
    junk.front() = 'x';
    std::ofstream{s.dir / "export.mrc", std::ios::binary | std::ios::app} << junk;
    auto r = run(MARCPIPE_WEST_HOLDINGS,
                 s.args({"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"}), env_with_key(),
                 s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    auto const rows = lines(slurp(s.dir / "errors.csv"));
    REQUIRE(rows.size() == 2);  // the header and the junk
    CHECK(rows[1].find("record 5 at byte " + std::to_string(good.size())) != std::string::npos);
    CHECK(rows[1].find("no record from byte " + std::to_string(good.size()) + " to byte " +
                       std::to_string(good.size() + junk.size())) != std::string::npos);
    // The four bibs' holdings are all there.
    CHECK(r.err.find(std::to_string(s.cat.deliverable_holdings()) + " holdings records written") !=
          std::string::npos);
}

}  // namespace limits_test
