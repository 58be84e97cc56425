// mms-ids as a user runs it: an export in, one MMS ID a line out, bad records on stderr.
#include <marcpipe/marc/iso2709.hpp>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/files.hpp"
#include "support/usage.hpp"

using namespace marcpipe::testing;

namespace {

std::string mms_ids() { return program("mms-ids"); }
std::string iso(std::string const& name) { return data_path("iso2709/" + name).string(); }

}  // namespace

TEST_CASE("mms-ids lists the 001 of every record of a MARC21 export", "[programs][mms-ids]") {
    auto r = run(mms_ids(), {iso("pymarc_marc.dat")});
    CHECK(r.status == 0);
    CHECK(r.err.empty());
    auto ids = lines(r.out);
    REQUIRE(ids.size() == 20);
    CHECK(ids.front() == "11778504");
    CHECK(ids[1] == "12515882");
}

TEST_CASE("mms-ids reads standard input and writes to a file", "[programs][mms-ids]") {
    scratch_dir dir;
    auto out = (dir / "ids.txt").string();
    auto r = run(mms_ids(), {"-", "-o", out}, slurp(iso("marc4j_chabon.mrc")));
    CHECK(r.status == 0);
    CHECK(r.out.empty());
    CHECK(slurp(out) == "11939876\n12883376\n");
}

TEST_CASE("mms-ids takes MARCXML as well, detected", "[programs][mms-ids]") {
    scratch_dir dir;
    auto xml = (dir / "export.xml").string();
    REQUIRE(run(program("marc-convert"), {iso("pymarc_marc.dat"), "-o", xml}).status == 0);
    auto from_xml = run(mms_ids(), {xml});
    auto from_marc = run(mms_ids(), {iso("pymarc_marc.dat")});
    CHECK(from_xml.status == 0);
    CHECK(from_xml.out == from_marc.out);
}

TEST_CASE("mms-ids reports bad records by number and lists the rest", "[programs][mms-ids]") {
    auto r = run(mms_ids(), {iso("marc4j_bad_hathi_records.mrc")});
    CHECK(r.status == 1);
    CHECK(lines(r.out) ==
          std::vector<std::string>{"003034057", "003035931", "003051545", "003052150"});
    CHECK_THAT(r.err, Catch::Contains("record 4 at byte 6343") &&
                          Catch::Contains("bad record length"));
}

TEST_CASE("mms-ids reports a record without 001 with its number", "[programs][mms-ids]") {
    auto r = run(mms_ids(), {iso("pymarc-5.3.1_bad_records.mrc")});
    CHECK(r.status == 1);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("record 1 at byte 0: no 001") &&
                          Catch::Contains("record 7 at byte 764: no 001") &&
                          Catch::Contains("record 9 at byte 917: truncated record"));
}

TEST_CASE("mms-ids reads the 001 of MARC-8 records", "[programs][mms-ids]") {
    auto r = run(mms_ids(), {iso("marc4j_brkrtest.mrc")});
    CHECK(r.status == 0);
    CHECK(lines(r.out).size() == 8);
    CHECK(lines(r.out).front() == "tes96000001");
}

TEST_CASE("mms-ids answers --help and --version and refuses bad usage", "[programs][mms-ids]") {
    check_help_and_version("mms-ids", mms_ids(), {"INPUT", "--output"});
    CHECK(run(mms_ids(), {"--no-such-option"}).status == 2);
    CHECK(run(mms_ids(), {"a", "b"}).status == 2);
    auto missing = run(mms_ids(), {"no-such-file.mrc"});
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Catch::Contains("no-such-file.mrc"));
    auto prose = run(mms_ids(), {"-"}, "This is not an export.\n");
    CHECK(prose.status == 2);
    CHECK_THAT(prose.err, Catch::Contains("neither MARC21, MARCXML nor a list of MMS IDs"));
}
