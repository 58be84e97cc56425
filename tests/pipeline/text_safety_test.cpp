// What a server, the input and the key file say reaches the report, the terminal and the
// requests only as it should: the key never in a report row, a huge server message cut, every
// malformed input line a counted problem, an undeclared entity in a holdings record a problem,
// a key file's byte-order mark not sent, a CA bundle that cannot serve refused before any call.
// The programs run against the emulator; what is expected comes from its catalogue.
#include <catalogue.hpp>
#include <launcher.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support/child.hpp"
#include "west_program.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace text_safety_test {

using namespace west_test;

namespace {

// A catalogue of its own, apart from the west_*_test.cpp files' (all build into one program).
constexpr std::uint64_t seed = 31;
std::vector<std::string> const with_key = env_with_key();

// `holding_id<TAB>mms_id` of every holding of the live bibs, as holdings-ids would write them.
std::string pairs(catalogue const& cat) {
    std::string out;
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (!cat.deleted(b))
            for (auto const& h : cat.holding_ids(b)) out += h + "\t" + cat.mms_id(b) + "\n";
    return out;
}

void write(fs::path const& path, std::string const& text) {
    std::ofstream out{path, std::ios::binary};
    out << text;
}

std::vector<std::string> rows(std::string const& report) {
    std::vector<std::string> out;
    for (std::size_t at = report.find("\r\n"); at != std::string::npos;) {  // after the header
        auto const next = report.find("\r\n", at + 2);
        if (next == std::string::npos) break;
        out.push_back(report.substr(at + 2, next - at - 2));
        at = next;
    }
    return out;
}

std::size_t vanished(catalogue const& cat) {
    std::size_t n = 0;
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (!cat.deleted(b))
            for (std::size_t h = 0; h < cat.holdings_count(b); ++h) n += cat.vanished(b, h);
    return n;
}

}  // namespace

TEST_CASE("a key the server echoes in errorCode and trackingId never reaches the report", "[programs][text]") {
    std::size_t const bibs = 40;
    west_setting s{"text-key",
                   bibs,
                   {"--vanished-holdings", "0.3", "--error-echoes-key"},
                   export_as::none,
                   seed};
    write(s.dir / "pairs.tsv", pairs(s.cat));
    auto r = run(MARCPIPE_HOLDINGS_RECORDS,
                 s.args({"--errors", "errors.csv", "-o", "out.xml", "pairs.tsv"}), with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    std::string const report = slurp(s.dir / "errors.csv");
    auto const lines = rows(report);
    REQUIRE(vanished(s.cat) > 0);
    CHECK(lines.size() == vanished(s.cat));
    CHECK(report.find(key) == std::string::npos);
    for (auto const& row : lines) {
        // 402208 KEY in alma_code, "... apikey=KEY" in tracking_id: both replaced.
        CHECK(row.find(",402208 REDACTED,") != std::string::npos);
        CHECK(row.ends_with(" apikey=REDACTED"));
    }
    CHECK(r.err.find(key) == std::string::npos);
}

TEST_CASE("a server message of 5 MiB is cut at 1 KiB in every report row, and the cut is said", "[programs][text]") {
    std::size_t const bibs = 30;
    std::size_t const huge = 5 << 20;
    west_setting s{"text-huge",
                   bibs,
                   {"--vanished-holdings", "0.3", "--error-message-bytes", std::to_string(huge)},
                   export_as::none,
                   seed};
    write(s.dir / "pairs.tsv", pairs(s.cat));
    auto r = run(MARCPIPE_HOLDINGS_RECORDS,
                 s.args({"--errors", "errors.csv", "-o", "out.xml", "pairs.tsv"}), with_key, s.dir);
    INFO(r.err.substr(0, 2000));
    CHECK(r.status == 1);
    auto const lines = rows(slurp(s.dir / "errors.csv"));
    REQUIRE(vanished(s.cat) > 0);
    CHECK(lines.size() == vanished(s.cat));
    std::string const mark = " [cut: " + std::to_string(huge) + " bytes in all]";
    for (auto const& row : lines) {
        // The message cell: "Search failed for Holdings ID: N" and x up to 5 MiB, cut at 1024 bytes.
        auto const start = row.find(",Search failed for Holdings ID: ");
        REQUIRE(start != std::string::npos);
        auto const end = row.find(mark, start);
        REQUIRE(end != std::string::npos);
        CHECK(end - start - 1 == 1024);
        CHECK(row.size() < 1200);
    }
}

TEST_CASE("holdings-records reports malformed input lines as problems, in the report and the count", "[programs][text]") {
    std::size_t const bibs = 10;
    west_setting s{"text-lines", bibs, {}, export_as::none, seed};
    std::string const good = pairs(s.cat);
    std::string const first_line = good.substr(0, good.find('\n') + 1);
    // Line 2 has no tab, line 3 a holding ID that is not an Alma ID.
    write(s.dir / "pairs.tsv", first_line + "no tab here\n..\t" + s.cat.mms_id(0) + "\n" +
                                   good.substr(first_line.size()));
    auto r = run(MARCPIPE_HOLDINGS_RECORDS,
                 s.args({"--errors", "errors.csv", "-o", "out.xml", "pairs.tsv"}), with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(r.err.find(" 2 problems") != std::string::npos);
    auto const lines = rows(slurp(s.dir / "errors.csv"));
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "export,,,,,line 2: expected holding_id<TAB>mms_id,");
    CHECK(lines[1] == "export,,,,,\"line 3: holding ID \"\"..\"\" is not an Alma ID (1 to 19 digits)\",");
}

TEST_CASE("an undeclared entity in a holdings record is a problem of that holding, not its 852 $z", "[programs][text]") {
    std::size_t const bibs = 12;
    std::size_t const every = 4;
    west_setting s{"text-entity",
                   bibs,
                   {"--undeclared-entity-every", std::to_string(every)},
                   export_as::none,
                   seed};
    write(s.dir / "pairs.tsv", pairs(s.cat));
    std::size_t expected = 0;
    for (std::size_t b = 0; b < bibs; b += every)
        if (!s.cat.deleted(b)) expected += s.cat.holdings_count(b);
    REQUIRE(expected > 0);
    auto r = run(MARCPIPE_HOLDINGS_RECORDS,
                 s.args({"--errors", "errors.csv", "-o", "out.xml", "pairs.tsv"}), with_key, s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(slurp(s.dir / "out.xml").find("lol9") == std::string::npos);
    auto const lines = rows(slurp(s.dir / "errors.csv"));
    CHECK(lines.size() == expected);
    for (auto const& row : lines) {
        CHECK(row.starts_with("holding-record,"));
        CHECK(row.find("undeclared entity &lol9;") != std::string::npos);
    }
}

TEST_CASE("a key file with a UTF-8 byte-order mark sends the key without it", "[programs][text]") {
    std::size_t const bibs = 5;
    west_setting s{"text-bom", bibs, {}, export_as::none, seed};
    write(s.dir / "pairs.tsv", pairs(s.cat));
    write(s.dir / "key.txt", std::string{"\xEF\xBB\xBF"} + key + "\r\n");
    fs::permissions(s.dir / "key.txt",
                    fs::perms::owner_read | fs::perms::owner_write);  // a key file is private
    auto r = run(MARCPIPE_HOLDINGS_RECORDS,
                 {"--base-url", s.server.base_url(), "--api-key-file", "key.txt", "-o", "out.xml",
                  "pairs.tsv"},
                 {"ALMA_API_KEY="}, s.dir);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(s.server.counters().get("unauthorized") == 0);

    // A key the server refuses: the hint names the file it came from.
    write(s.dir / "wrong.txt", "not-the-key\n");
    fs::permissions(s.dir / "wrong.txt", fs::perms::owner_read | fs::perms::owner_write);
    auto wrong = run(MARCPIPE_HOLDINGS_RECORDS,
                     {"--base-url", s.server.base_url(), "--api-key-file", "wrong.txt", "-o",
                      "out2.xml", "pairs.tsv"},
                     {"ALMA_API_KEY="}, s.dir, "wrong");
    CHECK(wrong.status == 3);
    CHECK(wrong.err.find("check the API key file wrong.txt") != std::string::npos);
    CHECK(wrong.err.find("ALMA_API_KEY") == std::string::npos);
}

TEST_CASE("a CA bundle that holds no certificate is refused before any call, naming it", "[programs][text]") {
    west_setting s{"text-cacert", 5, {}, export_as::none, seed};
    write(s.dir / "ids.txt", s.cat.mms_id(0) + "\n");
    write(s.dir / "notes.pem", "my CA is the one of the proxy\n");
    write(s.dir / "empty.pem", "");
    for (std::string const& bundle : {std::string{"notes.pem"}, std::string{"empty.pem"}}) {
        auto r =
            run(MARCPIPE_WEST_HOLDINGS,
                {"--base-url", s.server.base_url(), "--cacert", bundle, "-o", "out.mrc", "ids.txt"},
                with_key, s.dir);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("the CA bundle " + bundle + " holds no PEM certificate") != std::string::npos);
        CHECK(!fs::exists(s.dir / "out.mrc.journal"));
        CHECK(!fs::exists(s.dir / "out.mrc.part"));
    }
    CHECK(s.server.counters().requests == 0);
}

}  // namespace text_safety_test
