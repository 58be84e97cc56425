// west-check as a user runs it: one failure per rule in a file written by hand, a damaged record,
// real holdings records, and the exit status. Every expected row is written out here by hand.
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/files.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace west_check_test {

using namespace marcpipe::testing;

namespace {

std::string west_check() { return program("west-check"); }
std::string data(std::string const& name) { return data_path(name).string(); }

}  // namespace

TEST_CASE("west-check reports each rule a hand-made record breaks, one row each", "[programs][west-check]") {
    std::string const file = data("west/west-rules.xml");
    auto r = run(west_check(), {file});
    CHECK(r.status == 1);
    std::string const rows =
        "2,,9910000020006421,001,no 001\r\n"
        "3,2210000030006421,,004,no 004\r\n"
        "4,2210000040006421,9910000040006421,583,no 583\r\n"
        "5,2210000050006421,9910000050006421,583$a,completeness reviewed\r\n"
        "6,2210000060006421,9910000060006421,583$c,20230230\r\n"
        "7,2210000070006421,9910000070006421,583$d,no $d\r\n"
        "8,2210000080006421,9910000080006421,583$d<$c,$c 20190115 $d 20181231\r\n"
        "9,2210000090006421,9910000090006421,583$f,no $f\r\n"
        "10,2210000100006421,9910000100006421,oclc-place,\"in 014, not in 035 as the records before it\"\r\n"
        "11,2210000110006421,9910000110006421,oclc-number,no 035 (OCoLC) or 014\r\n"
        "12,2210000120006421,9910000120006421,852$b,no $b\r\n";
    CHECK(r.out == "record,holding_id,mms_id,rule,found\r\n" + rows);
    CHECK(r.err.find("13 records read, 11 failures") != std::string::npos);

    // Several files: the same rows, each led by the file it is about.
    scratch_dir dir;
    std::string const copy = (dir / "b,copy.xml").string();
    std::filesystem::copy_file(file, copy);
    auto two = run(west_check(), {file, copy});
    CHECK(two.status == 1);
    std::string expected = "file,record,holding_id,mms_id,rule,found\r\n";
    for (std::string const& cell : {file + ",", "\"" + copy + "\","})
        for (std::size_t at = 0; at < rows.size();) {
            auto const end = rows.find("\r\n", at) + 2;
            expected += cell + rows.substr(at, end - at);
            at = end;
        }
    CHECK(two.out == expected);
}

TEST_CASE("west-check reports a damaged record by its number and reads on", "[programs][west-check]") {
    std::string const file = data("west/west-structure.mrc");
    auto r = run(west_check(), {"--no-header", file});
    CHECK(r.status == 1);
    // Records 1 and 3 pass; record 2's directory is damaged.
    REQUIRE(r.out.starts_with("2,,,structure,\"record 2 at byte 313: bad directory"));
    CHECK(r.out.find("\r\n") == r.out.size() - 2);  // one row
    CHECK(r.err.find("2 records read, 1 failures") != std::string::npos);
}

TEST_CASE("west-check on real holdings records: no 583 and no OCLC number anywhere", "[programs][west-check]") {
    // FOLIO's four holdings records (yaz-marcdump shows 001, 004, 005, 008 and 852 $b $h $i in each).
    std::string const file = data("iso2709/folio_holding.mrc");
    auto r = run(west_check(), {"--no-header", file});
    CHECK(r.status == 1);
    std::string expected;
    for (auto [n, ids] : std::vector<std::pair<int, std::string>>{{1, "000000167,\"7611780    \""},
                                                                   {2, "43608957,18006871"},
                                                                   {3, "46361520,18006871"},
                                                                   {4, "43500044,18006871"}})
        expected += std::to_string(n) + "," + ids + ",583,no 583\r\n" + std::to_string(n) + "," + ids +
                    ",oclc-number,no 035 (OCoLC) or 014\r\n";
    CHECK(r.out == expected);
}

TEST_CASE("west-check exits 0 when all pass, 2 when a file cannot be read", "[programs][west-check]") {
    scratch_dir dir;
    {
        // Records 1 and 13 of the hand-made file, the ones that pass, on their own.
        auto all = slurp(data_path("west/west-structure.mrc"));
        std::ofstream out{dir / "good.mrc", std::ios::binary};
        auto const first = all.find('\x1d') + 1;
        auto const second = all.find('\x1d', first) + 1;
        out << all.substr(0, first) << all.substr(second);
    }
    auto good = run(west_check(), {(dir / "good.mrc").string()});
    CHECK(good.status == 0);
    CHECK(good.out == "record,holding_id,mms_id,rule,found\r\n");

    auto missing = run(west_check(), {(dir / "nothere.mrc").string(), (dir / "good.mrc").string()});
    CHECK(missing.status == 2);
    CHECK(missing.err.find("nothere.mrc") != std::string::npos);

    std::ofstream{dir / "ids.txt"} << "99123450006421\n";
    auto list = run(west_check(), {(dir / "ids.txt").string()});
    CHECK(list.status == 2);
    CHECK(list.err.find("list of MMS IDs") != std::string::npos);

    auto usage = run(west_check(), {});
    CHECK(usage.status == 2);
}

}  // namespace west_check_test
