// west-holdings end to end, against the loopback emulator: the output is exactly the catalogue's
// deliverable holdings with 001/004 rewritten, whatever faults the API throws in, in either mode and
// format; broken input is reported by record; the README's own tool. What the output must hold is
// worked out apart from the library (expected_holdings.hpp); the library's writer only makes the input.
#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/net/event_loop.hpp>

#include <alma_sets.hpp>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include "catch.hpp"
#include "dry_run_output.hpp"
#include "reference_tool.hpp"
#include "west_program.hpp"

using marcpipe::testing::dry_run_value;
using namespace west_test;

TEST_CASE("west-holdings delivers every holding once, in export order, with 001/004 rewritten", "[programs][west][yaz]") {
    std::size_t const bibs = 240;
    west_setting s{
        "west-clean", bibs, {"--latency-ms", "5", "--latency-jitter", "0.9"}, export_as::none};
    auto xml_input = GENERATE(false, true);
    fs::path input = s.dir / (xml_input ? "export.xml" : "export.mrc");
    write_export(s.cat, input, xml_input);

    auto r = run(west,
                 {"--base-url", s.server.base_url(), "--rate", "500", "--concurrency", "16", "-o",
                  "out.mrc", "--errors", "errors.csv", input.string()},
                 env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);  // the deleted bibs are reported, the rest delivered
    expected_holdings const expected{s.cat};
    CHECK(marc21_difference(expected, s.dir / "out.mrc") == "");
    if (auto yaz = marcpipe_test::yaz_marcdump_for_comparison()) {
        auto check = run(yaz->string(), {"-n", "out.mrc"}, {}, s.dir, "yaz");
        CHECK(check.status == 0);
        CHECK(check.err == "");  // the reference tool reads the whole file without a complaint
        CHECK(check.out == "");
    }
    auto report = slurp(s.dir / "errors.csv");
    CHECK(lines(report).front() == "stage,mms_id,holding_id,http_status,alma_code,message,tracking_id\r");
    CHECK(report_mms_ids(report) == deleted_ids(s.cat));
    CHECK(report.find(",400,402203,") != std::string::npos);
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.journal"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.part"));
    CHECK(r.err.find(std::to_string(expected.size()) + " holdings records written") != std::string::npos);
}

TEST_CASE("a list of MMS IDs and the MARCXML output format give the same holdings", "[programs][west][yaz]") {
    std::size_t const bibs = 150;
    west_setting s{"west-xml", bibs, {"--latency-ms", "3"}, export_as::none};
    {
        std::ofstream ids{s.dir / "ids.txt"};
        for (std::size_t b = 0; b < bibs; ++b)
            ids << s.cat.mms_id(b) << (b % 7 == 0 ? "\r\n" : "\n");
    }
    auto r =
        run(west, {"--base-url", s.server.base_url(), "--rate", "500", "-o", "out.xml", "ids.txt"},
            env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    expected_holdings const expected{s.cat};
    CHECK(marcxml_difference(expected, s.dir / "out.xml") == "");
    // The reference tool reads the MARCXML output without a complaint, into the expected MARC21.
    if (auto yaz = marcpipe_test::yaz_marcdump_for_comparison()) {
        auto converted =
            run(yaz->string(), {"-i", "marcxml", "-o", "marc", "out.xml"}, {}, s.dir, "yaz");
        CHECK(converted.status == 0);
        CHECK(converted.err == "");
        std::ofstream{s.dir / "yaz.mrc", std::ios::binary} << converted.out;
        CHECK(marc21_difference(expected, s.dir / "yaz.mrc") == "");
    }
}

TEST_CASE("--require 583 keeps only the holdings WEST wants", "[programs][west]") {
    std::size_t const bibs = 200;
    west_setting s{"west-583", bibs};
    auto r = run(west, s.args({"--require", "583", "-o", "west.mrc", "export.mrc"}), env_with_key(),
                 s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    expected_holdings const with_583{s.cat, [](std::size_t, pugi::xml_node record) {
                                         return bool(record.find_child_by_attribute("datafield", "tag", "583"));
                                     }};
    CHECK(marc21_difference(with_583, s.dir / "west.mrc") == "");
    CHECK(with_583.size() > 0);
    CHECK(with_583.size() < expected_holdings{s.cat}.size());
}

TEST_CASE("transient faults change nothing in the output", "[programs][west][faults]") {
    std::size_t const bibs = 200;
    west_setting s{"west-faults",
                   bibs,
                   {"--latency-ms", "3", "--fault-seed", "5", "--fault-rate-500", "0.02",
                    "--fault-rate-503", "0.02", "--fault-rate-reset", "0.02",
                    "--fault-rate-truncated", "0.02", "--fault-rate-malformed", "0.02"}};
    auto r = run(west, s.args({"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"}),
                 env_with_key(), s.dir);
    check_whole_export(s, r, s.dir / "out.mrc");
    INFO(r.err);
    auto seen = s.server.counters();
    for (char const* kind : {"500", "503", "reset", "truncated", "malformed"}) CHECK(seen.fault(kind) > 0);
}

TEST_CASE("10% of each transient fault kind changes nothing in the output", "[programs][west][faults][slow]") {
    // Two runs of 200 bibs make some 900 calls: about 90 faults of the kind, over twice the 40 asked.
    std::size_t const bibs = 200;
    auto kind = GENERATE(std::string{"500"}, std::string{"503"}, std::string{"reset"}, std::string{"truncated"},
                         std::string{"malformed"}, std::string{"stall"});
    west_setting s{"west-faults10",
                   bibs,
                   {"--latency-ms", "3", "--fault-seed", "9", "--fault-rate-" + kind, "0.1",
                    "--stall-seconds", "1"}};
    for (char const* format : {"out.mrc", "out.xml"}) {
        auto r = run(west, s.args({"-o", format, "--errors", "errors.csv", "export.mrc"}),
                     env_with_key(), s.dir);
        INFO(kind << ": " << r.err);
        CHECK(r.status == 1);
        CHECK(report_mms_ids(slurp(s.dir / "errors.csv")) == deleted_ids(s.cat));
    }
    CHECK(s.server.counters().fault(kind) > 40);
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    CHECK(marcxml_difference(expected_holdings{s.cat}, s.dir / "out.xml") == "");
}

TEST_CASE("export records without 001 or broken are reported with their number; the others go on", "[programs][west]") {
    std::size_t const bibs = 40;
    west_setting s{"west-badexport", bibs, {}, export_as::none};
    std::string bytes;
    for (std::size_t b = 0; b < bibs; ++b) {
        marc::record r = s.cat.bib_record(b);
        if (b == 5) r.fields().erase(r.fields().begin());  // no 001
        std::string one;
        marc::append_iso2709(r, one);
        if (b == 9) one[one.size() - 2] = 'x';  // the field terminator before the record's end
        bytes += one;
    }
    {
        std::ofstream out{s.dir / "export.mrc", std::ios::binary};
        out << bytes;
    }
    auto r = run(west, s.args({"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"}),
                 env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    auto report = slurp(s.dir / "errors.csv");
    CHECK(report.find("export,,,,,record 6 at byte") != std::string::npos);
    CHECK(report.find("no 001") != std::string::npos);
    CHECK(report.find("export,,,,,record 10 at byte") != std::string::npos);
    // Every other bib's holdings are there.
    expected_holdings const others{s.cat,
                                   [](std::size_t b, pugi::xml_node) { return b != 5 && b != 9; }};
    CHECK(marc21_difference(others, s.dir / "out.mrc") == "");
}

TEST_CASE("the API key never appears in any output, report or message", "[programs][west]") {
    std::size_t const bibs = 60;
    west_setting s{"west-secret", bibs};
    {
        std::ofstream k{s.dir / "key.txt"};
        k << key << "\n";
    }
    fs::permissions(s.dir / "key.txt",
                    fs::perms::owner_read | fs::perms::owner_write);  // a key file is private
    auto r = run(west,
                 {"--base-url", s.server.base_url(), "--api-key-file", "key.txt", "--rate", "1000",
                  "--progress", "-o", "out.mrc", "--errors", "errors.csv", "export.mrc"},
                 {"ALMA_API_KEY="}, s.dir);
    CHECK(r.status == 1);
    for (auto const& text : {r.err, r.out, slurp(s.dir / "out.mrc"), slurp(s.dir / "errors.csv")})
        CHECK(text.find(key) == std::string::npos);
    CHECK(s.server.counters().key_in_query == 0);
}

TEST_CASE("usage and configuration errors exit 2 with a message", "[programs][west]") {
    auto dir = marcpipe::testing::scratch_dir("west-usage");
    {
        std::ofstream ids{dir / "ids.txt"};
        ids << "991\n";
    }
    auto no_key = run(west, {"--region", "eu", "ids.txt"}, {"ALMA_API_KEY="}, dir, "a");
    CHECK(no_key.status == 2);
    CHECK(no_key.err.find("ALMA_API_KEY") != std::string::npos);
    auto no_place = run(west, {"ids.txt"}, env_with_key(), dir, "b");
    CHECK(no_place.status == 2);
    CHECK(no_place.err.find("--region") != std::string::npos);
    auto bad_region = run(west, {"--region", "mars", "ids.txt"}, env_with_key(), dir, "c");
    CHECK(bad_region.status == 2);
    CHECK(bad_region.err.find("region 'mars'") != std::string::npos);
    auto plain_http = run(west, {"--base-url", "http://example.org", "ids.txt"}, env_with_key(), dir, "d");
    CHECK(plain_http.status == 2);
    CHECK(plain_http.err.find("http://example.org") != std::string::npos);
    auto unknown = run(west, {"--frobnicate", "ids.txt"}, env_with_key(), dir, "e");
    CHECK(unknown.status == 2);
    CHECK(unknown.err.find("--frobnicate") != std::string::npos);
    auto missing = run(west, {"--region", "na", "no-such-file.mrc"}, env_with_key(), dir, "f");
    CHECK(missing.status == 2);
    CHECK(missing.err.find("no-such-file.mrc") != std::string::npos);
    auto resume_stdout = run(west, {"--region", "na", "--resume", "ids.txt"}, env_with_key(), dir, "g");
    CHECK(resume_stdout.status == 2);
    CHECK(resume_stdout.err.find("--resume") != std::string::npos);
    {
        std::ofstream text{dir / "notes.txt"};
        text << "Holdings to send to WEST this year\n";
    }
    auto not_an_export = run(west, {"--region", "na", "notes.txt"}, env_with_key(), dir, "j");
    CHECK(not_an_export.status == 2);
    CHECK(not_an_export.err.find("notes.txt is neither MARC21, MARCXML nor a list of MMS IDs") != std::string::npos);
    auto help = run(west, {"--help"}, {}, dir, "h");
    CHECK(help.status == 0);
    CHECK(help.out.find("--holdings-source") != std::string::npos);
    auto version = run(west, {"--version"}, {}, dir, "i");
    CHECK(version.status == 0);
    CHECK(version.out.find("west-holdings") != std::string::npos);
}

TEST_CASE("bulk mode asks for 100 bibs a call and delivers the same holdings", "[programs][west][bulk]") {
    std::size_t const bibs = 250;
    west_setting s{"west-bulk", bibs};
    s.server.reset();
    auto r = run(west,
                 s.args({"--holdings-source", "bibs", "-o", "out.mrc", "--errors", "errors.csv",
                         "export.mrc"}),
                 env_with_key(), s.dir);
    check_whole_export(s, r, s.dir / "out.mrc");
    INFO(r.err);
    CHECK(s.server.counters().requests ==
          static_cast<long>(3 + s.cat.bulk_mode_lists(false) + s.cat.deliverable_holdings()));
}

TEST_CASE("20,000 bibs go through in bounded memory", "[programs][west][slow][memory]") {
    // Far more bibs than every read-ahead window holds, at the fastest --rate a program takes.
    std::size_t const bibs = 20'000;
    west_setting s{"west-memory", bibs};
    auto r = run(
        west,
        s.args({"--concurrency", "64", "-o", "out.mrc", "--errors", "errors.csv", "export.mrc"}),
        env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 1);
    if (under_asan)
        WARN("peak RSS under AddressSanitizer: " << r.max_rss_kb << " kB (the 64 MB bound is checked without it)");
    else
        CHECK(r.max_rss_kb <= 64 * 1024);
    std::size_t deliverable = s.cat.deliverable_holdings();
    CHECK(r.err.find(std::to_string(deliverable) + " holdings records written") != std::string::npos);
    CHECK(report_mms_ids(slurp(s.dir / "errors.csv")) == deleted_ids(s.cat));
}

namespace {

// The OCLC number rule of the WEST stage, done on the expected XML with plain pugixml: an
// 035 __ $a NUMBER before the first field whose tag sorts after 035, unless an 035 already
// has that $a.
void add_oclc_035(pugi::xml_node record, std::string const& number) {
    pugi::xml_node after;
    for (auto field : record.children()) {
        std::string const tag = field.attribute("tag").value();
        if (tag.empty()) continue;  // the leader
        if (tag == "035" && std::string{field.find_child_by_attribute("subfield", "code", "a").text().get()} == number)
            return;
        if (!after && tag > "035") after = field;
    }
    auto f = after ? record.insert_child_before("datafield", after) : record.append_child("datafield");
    f.append_attribute("tag") = "035";
    f.append_attribute("ind1") = " ";
    f.append_attribute("ind2") = " ";
    auto a = f.append_child("subfield");
    a.append_attribute("code") = "a";
    a.text().set(number.c_str());
}

}  // namespace

TEST_CASE("the library guide's own tool: serials held by one library, with their bib's OCLC number; kill -9 and --resume",
          "[programs][readme][resume]") {
    std::size_t const bibs = 200;
    west_setting s{"serial-holdings", bibs, {"--latency-ms", "10"}};
    std::string const library = "LAW";
    std::string const tool = MARCPIPE_SERIAL_HOLDINGS;

    // What the tool must write, from the catalogue: leader/07 and 852 $b decide, 035 is added.
    expected_holdings const expected{
        s.cat, [&](std::size_t b, pugi::xml_node record) {
            auto const f852 = record.find_child_by_attribute("datafield", "tag", "852");
            if (!s.cat.serial(b) ||
                std::string{f852.find_child_by_attribute("subfield", "code", "b").text().get()} !=
                    library)
                return false;
            if (auto number = s.cat.oclc_number(b)) add_oclc_035(record, *number);
            return true;
        }};
    REQUIRE(expected.size() >= 5);
    // Lists of every serial bib, then records of all their holdings: the filter on 852 comes after.
    long needed = 0, problems = 0;
    for (std::size_t b = 0; b < bibs; ++b) {
        if (!s.cat.serial(b)) continue;
        needed += 1 + (s.cat.deleted(b) ? 0 : static_cast<long>(s.cat.holdings_count(b)));
        problems += s.cat.deleted(b) ? 1 : 0;
    }

    std::vector<std::string> const args{s.server.base_url(), "export.mrc", library, "out.xml"};
    s.server.reset();
    {
        // Killed once 40 answers are kept, more than can be in flight: often before the first
        // bib is finished, when only the answer log holds what the run achieved.
        marcpipe::testing::child c{tool, args, env_with_key(), s.dir, "killed"};
        bool const reached = c.wait_until([&] {
            std::ifstream in{s.dir / "out.xml.answers", std::ios::binary};
            std::string const text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
            return std::count(text.begin(), text.end(), '\n') >= 40;
        });
        c.kill(SIGKILL);
        auto f = c.wait();
        INFO(f.err);
        REQUIRE(reached);
        CHECK(f.status == -SIGKILL);
    }
    auto resume_args = args;
    resume_args.push_back("--resume");
    auto last = run(tool, resume_args, env_with_key(), s.dir, "resumed");
    INFO(last.err);
    CHECK(last.status == (problems ? 1 : 0));
    CHECK(marcxml_difference(expected, s.dir / "out.xml") == "");
    CHECK(last.err.find(std::to_string(expected.size()) + " holdings records written") != std::string::npos);
    auto const repeated = s.server.counters().requests - needed;
    std::printf("serial-holdings: %zu records, %ld calls needed, %ld asked again after kill -9\n", expected.size(),
                needed, repeated);
    CHECK(repeated >= 0);
    CHECK(repeated <= static_cast<long>(marcpipe::net::default_max_in_flight));  // the calls in flight at the kill
    CHECK_FALSE(fs::exists(s.dir / "out.xml.journal"));
}

TEST_CASE("the library guide (docs/library.md) shows serial-holdings.cpp as it is built", "[readme]") {
    fs::path const root = fs::path{MARCPIPE_SOURCE_ROOT};
    std::string const readme = slurp(root / "docs" / "library.md");
    std::string const source = slurp(root / "examples" / "serial-holdings.cpp");
    // From the first #include to the end: the part a reader copies.
    std::string const code = source.substr(source.find("#include"));
    CHECK(readme.find(code) != std::string::npos);
}
