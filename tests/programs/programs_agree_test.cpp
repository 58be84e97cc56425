// The tools (and http-get-many) agree with each other, as a user sees them: an option's value never
// takes the input's place, standard output is the default output, the output's name chooses the
// format, binary MARC is refused on a terminal, --help shows the defaults, and MARCXML carries the
// leader that MARC21 of the same record carries.
//
// Programs that call Alma are run here only on paths that end before any call; their runs
// against the emulator are in tests/pipeline.
#include <cctype>
#include <sstream>

#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/marc/marcxml_writer.hpp>
#include <marcpipe/marc/output_format.hpp>

#include "../reference_tool.hpp"
#include "catch.hpp"
#include "run.hpp"

using namespace program_test;
namespace marc = marcpipe::marc;

namespace {

std::string const alma_leader = "     nx  a22     1n 4500";

// One Alma holdings record as Alma sends it: blanks where the length and base address go.
std::string const alma_holding_xml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n<record>\n"
    "  <leader>" + alma_leader + "</leader>\n"
    "  <controlfield tag=\"001\">22123456780006421</controlfield>\n"
    "  <controlfield tag=\"004\">991234567890006421</controlfield>\n"
    "  <datafield tag=\"852\" ind1=\"0\" ind2=\" \">\n"
    "    <subfield code=\"b\">MAIN</subfield>\n    <subfield code=\"h\">QA76 .A1</subfield>\n"
    "  </datafield>\n</record>\n</collection>\n";

std::string chabon() { return data_path("iso2709/marc4j_chabon.mrc").string(); }

bool starts_as_marc21(std::string const& bytes) {
    if (bytes.size() < 24) return false;
    for (int i = 0; i < 5; ++i)
        if (!std::isdigit(static_cast<unsigned char>(bytes[i]))) return false;
    return true;
}

// The leader text of the first record of a MARCXML document.
std::string first_xml_leader(std::string const& xml) {
    auto const at = xml.find("<leader>");
    if (at == std::string::npos) return {};
    auto const from = at + 8;
    return xml.substr(from, xml.find("</leader>", from) - from);
}

// Runs `exe args...` with its standard output and error on a terminal (a pty made by
// script(1), of bsdutils, which scripts/install-deps installs); what it printed is in `out`.
// A missing script(1) fails the test.
result run_on_terminal(std::string const& exe, std::vector<std::string> const& args) {
    auto const script = marcpipe_test::detail::on_path("script");
    if (!script) FAIL("script(1) (bsdutils) is not on PATH: the programs cannot be run on a terminal");
    std::string cmd = quote(exe);
    for (auto const& a : args) cmd += " " + quote(a);
    // -e: script's status is the program's.
    return run(script->string(), {"-qec", cmd, "/dev/null"});
}

// The same run with ALMA_API_KEY unset, so a program that got past its options stops at the key
// before any call.
result run_without_key(std::string const& exe, std::vector<std::string> args) {
    args.insert(args.begin(), {"-u", "ALMA_API_KEY", exe});
    return run("/usr/bin/env", args);
}

std::string yaz_complaints(std::filesystem::path const& yaz, std::filesystem::path const& xml) {
    auto const r = run(yaz.string(), {"-i", "marcxml", "-o", "line", xml.string()});
    REQUIRE(r.status == 0);
    std::string complaints;
    for (auto const& line : lines(r.out + r.err))
        if (line.find("Assuming") != std::string::npos || line.find("should") != std::string::npos ||
            line.find("arning") != std::string::npos)
            complaints += line + "\n";
    return complaints;
}

}  // namespace

TEST_CASE("--require TAG takes one tag, and the input after it stays the input", "[programs][agree]") {
    scratch_dir dir;
    auto const xml = (dir / "x.xml").string();
    auto r = run(program("marc-convert"), {"--require", "245", chabon(), "-o", xml});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    CHECK_THAT(slurp(xml), Catch::Contains("<record>") && Catch::Contains("tag=\"245\""));
    auto twice = run(program("marc-convert"), {"--require", "245", "--require", "100", chabon()});
    CHECK(twice.status == 0);
    CHECK(starts_as_marc21(twice.out));

    // The programs that call Alma get past their options to the configuration, which stops them
    // before any call: had --require or --library swallowed INPUT, CLI11 would say it is missing.
    for (auto const& [name, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"west-holdings", {"--require", "583", "export.mrc"}},
             {"holdings-records", {"--require", "583", "pairs.tsv", "-o", "out.xml"}}}) {
        INFO(name);
        auto stopped = run_without_key(program(name), args);
        CHECK(stopped.status == 2);
        CHECK_THAT(stopped.err, !Catch::Contains("required") && !Catch::Contains("INPUT"));
    }
}

TEST_CASE("without -o the output goes to standard output", "[programs][agree]") {
    auto convert = run(program("marc-convert"), {chabon()});
    CHECK(convert.status == 0);
    CHECK(starts_as_marc21(convert.out));
    auto ids = run(program("mms-ids"), {chabon()});
    CHECK(ids.status == 0);
    CHECK(lines(ids.out) == std::vector<std::string>{"11939876", "12883376"});
    // No URL in: no call, and the (empty) listing still goes to standard output.
    auto fetch = run(program("http-get-many"), {"--quiet"});
    CHECK(fetch.status == 0);
    CHECK(fetch.out.empty());
    CHECK_THAT(fetch.err, Catch::Contains("0 URLs"));
}

TEST_CASE("the output's name chooses MARC21 or MARCXML, and --format overrides it", "[programs][agree]") {
    scratch_dir dir;
    REQUIRE(run(program("marc-convert"), {chabon(), "-o", (dir / "out.mrc").string()}).status == 0);
    REQUIRE(run(program("marc-convert"), {chabon(), "-o", (dir / "out.xml").string()}).status == 0);
    auto const mrc = slurp(dir / "out.mrc");
    CHECK(starts_as_marc21(mrc));
    CHECK_THAT(slurp(dir / "out.xml"), Catch::StartsWith("<?xml") && Catch::Contains("<collection"));
    if (auto yaz = marcpipe_test::yaz_marcdump_for_comparison()) {
        auto read = run(yaz->string(), {"-n", (dir / "out.mrc").string()});
        CHECK(read.status == 0);
        CHECK(read.err.empty());
    }
    REQUIRE(run(program("marc-convert"), {chabon(), "--format", "marcxml", "-o", (dir / "xml.mrc").string()})
                .status == 0);
    CHECK_THAT(slurp(dir / "xml.mrc"), Catch::StartsWith("<?xml"));
    REQUIRE(run(program("marc-convert"), {chabon(), "--format", "marc21", "-o", (dir / "bin.xml").string()})
                .status == 0);
    CHECK(slurp(dir / "bin.xml") == mrc);

    CHECK(marc::output_format_for("out.xml", "", marc::output_format::marc21) == marc::output_format::marcxml);
    CHECK(marc::output_format_for("out.mrc", "", marc::output_format::marcxml) == marc::output_format::marc21);
    CHECK(marc::output_format_for("-", "", marc::output_format::marcxml) == marc::output_format::marcxml);
    CHECK(marc::output_format_for("-", "", marc::output_format::marc21) == marc::output_format::marc21);
    CHECK(marc::output_format_for("out.xml", "marc21", marc::output_format::marcxml) ==
          marc::output_format::marc21);
}

TEST_CASE("binary MARC is refused on a terminal, with a hint", "[programs][agree]") {
    CHECK(marc::binary_on_terminal(marc::output_format::marc21, "-", true));
    CHECK_FALSE(marc::binary_on_terminal(marc::output_format::marc21, "-", false));
    CHECK_FALSE(marc::binary_on_terminal(marc::output_format::marc21, "out.mrc", true));
    CHECK_FALSE(marc::binary_on_terminal(marc::output_format::marcxml, "-", true));

    // Each program stops before reading its input or calling Alma.
    for (auto const& [name, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"marc-convert", {chabon()}},
             {"west-holdings", {"--base-url", "http://127.0.0.1:9", "export.mrc"}},
             {"holdings-records", {"--base-url", "http://127.0.0.1:9", "--format", "marc21", "pairs.tsv"}}}) {
        INFO(name);
        auto r = run_on_terminal(program(name), args);
        CHECK(r.status == 2);
        CHECK_THAT(r.out, Catch::Contains("binary MARC on a terminal") && Catch::Contains("--format marcxml"));
    }
    // MARCXML is text: it goes to the terminal.
    auto xml = run_on_terminal(program("marc-convert"), {chabon(), "--format", "marcxml"});
    CHECK(xml.status == 0);
    CHECK_THAT(xml.out, Catch::Contains("<collection"));
}

TEST_CASE("--help shows every program's defaults", "[programs][agree]") {
    for (auto const& [name, shown] : std::vector<std::pair<std::string, std::string>>{
             {"west-holdings", "=48"},      // --concurrency
             {"mms-ids", "=-"},             // -o
             {"holdings-ids", "=list"},     // --holdings-source
             {"holdings-records", "=25"},   // --rate
             {"marc-convert", "=skip"},     // --on-error
             {"http-get-many", "=poll"}}) {  // --backend
        INFO(name);
        auto help = run(program(name), {"--help"});
        CHECK(help.status == 0);
        CHECK_THAT(help.out, Catch::Contains(shown) && Catch::Contains("--output TEXT=-"));
    }
}

TEST_CASE("the programs that ask Alma take the same connection options, checked the same way", "[programs][agree]") {
    std::vector<std::string> const connection{"--base-url", "--region", "--api-key-file", "--rate",
                                              "--concurrency", "--max-attempts", "--patience", "--cacert"};
    for (std::string const name : {"west-holdings", "holdings-ids", "holdings-records"}) {
        INFO(name);
        auto const help = run(program(name), {"--help"});
        CHECK(help.status == 0);
        for (auto const& option : connection) CHECK_THAT(help.out, Catch::Contains(option));
        // Each stops at its options, before the input is looked at or a call made.
        for (std::vector<std::string> const& bad : {std::vector<std::string>{"--rate", "nan"},
                                                   {"--concurrency", "0"},
                                                   {"--max-attempts", "101"},
                                                   {"--patience", "forever"},
                                                   {"--cacert", "no-such-bundle.pem"}}) {
            std::vector<std::string> args{"--base-url", "http://127.0.0.1:9"};
            args.insert(args.end(), bad.begin(), bad.end());
            args.push_back("ids.txt");
            auto const r = run(program(name), args);
            INFO(bad[0] << " " << bad[1]);
            CHECK(r.status == 2);
            CHECK_THAT(r.err, Catch::Contains(bad[0]));
        }
    }
    // A tag is three characters, for every program that keeps records by tag.
    for (auto const& [name, args] : std::vector<std::pair<std::string, std::vector<std::string>>>{
             {"marc-convert", {"--require", "58", chabon()}},
             {"west-holdings", {"--base-url", "http://127.0.0.1:9", "--require", "5830", "ids.txt"}},
             {"holdings-records", {"--base-url", "http://127.0.0.1:9", "--require", "58", "pairs.tsv"}}}) {
        INFO(name);
        auto const r = run(program(name), args);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains("--require") && Catch::Contains("three characters"));
    }
}

TEST_CASE("MARCXML carries the leader MARC21 of the same record carries", "[programs][agree]") {
    scratch_dir dir;
    {
        std::ofstream{dir / "alma.xml", std::ios::binary} << alma_holding_xml;
    }
    auto const in = (dir / "alma.xml").string();
    REQUIRE(run(program("marc-convert"), {in, "-o", (dir / "out.xml").string()}).status == 0);
    REQUIRE(run(program("marc-convert"), {in, "-o", (dir / "out.mrc").string()}).status == 0);
    auto const mrc = slurp(dir / "out.mrc");
    REQUIRE(mrc.size() >= 24);
    CHECK(first_xml_leader(slurp(dir / "out.xml")) == mrc.substr(0, 24));
    CHECK(mrc.substr(0, 24) == "00118nx  a22000611n 4500");

    if (auto yaz = marcpipe_test::yaz_marcdump_for_comparison()) {
        // Alma's own leader is what yaz-marcdump complains about; the written one is not.
        CHECK_FALSE(yaz_complaints(*yaz, in).empty());
        CHECK(yaz_complaints(*yaz, dir / "out.xml") == "");
    }
}

TEST_CASE("the programs' MARCXML writer puts the ISO 2709 writer's leader", "[programs][agree]") {
    marc::record r{alma_leader, {marc::field{"001", "22123456780006421"},
                                 marc::field{"852", '0', ' ', {marc::subfield{'b', "MAIN"}}}}};
    std::string iso;
    marc::append_iso2709(r, iso);
    std::string xml;
    {
        marc::marcxml_writer w{xml, marc::marcxml_output_options()};
        w.write(r);
    }
    CHECK(first_xml_leader(xml) == iso.substr(0, 24));
}
