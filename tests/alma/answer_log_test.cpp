// The answer log: what a resumed run takes instead of asking Alma again. Its answers must come
// back exactly as they went in, or the resumed output would differ from an uninterrupted run's.
#include <marcpipe/run/answer_log.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "catch.hpp"
#include "support/files.hpp"

namespace fs = std::filesystem;
using marcpipe::pipeline::answer_log;
namespace alma = marcpipe::alma;
namespace marc = marcpipe::marc;

namespace {

// A record with everything the text form must escape: blanks, subfield and field delimiters,
// '%' and '~', an empty subfield, blank indicators, bytes that are not UTF-8.
marc::record awkward_record() {
    marc::record r{"00000nx  a2200000zi 4500"};
    r.fields().emplace_back("001", "22123456780006381");
    r.fields().emplace_back("008", "  0n    ~% 8   4001aueng0000000");
    r.fields().emplace_back("004", "");
    r.fields().emplace_back("852", '0', ' ',
                            std::vector<marc::subfield>{{'b', "MAIN"}, {'h', "QA76.73 .C153\x1f" "x"}, {'z', ""}});
    r.fields().emplace_back("583", ' ', ' ',
                            std::vector<marc::subfield>{{'a', "committed to retain"}, {'c', "20151231\n\r\t"},
                                                        {'5', "\xff\xfe %41"}, {' ', "~"}});
    return r;
}
}  // namespace

TEST_CASE("answers come back from the log exactly as they were kept", "[alma][answers]") {
    auto dir = marcpipe::testing::scratch_dir("answers-roundtrip");
    auto path = (dir / "out.mrc.answers").string();
    alma::problem const deleted{alma::stage::holdings_list,
                                "991234",
                                "",
                                400,
                                "402203",
                                "Input parameters mmsId 991234 is not valid.",
                                "E01-0101010101-ABC"};
    alma::problem const lost{alma::stage::holding_record, "9912 34", "22 5", 0, "",
                             "timed out, after 10 tries", ""};
    {
        answer_log log{path, true};
        log.remember_list(7, "991234", tl::unexpected(deleted));
        log.remember_list(8, "995678", std::vector<std::string>{"221", "222"});
        log.remember_list(9, "990000", std::vector<std::string>{});
        log.remember_record(8, "995678", "221", alma::holding{"221", awkward_record()});
        log.remember_record(8, "9912 34", "22 5", tl::unexpected(lost));
        CHECK(log.written() == 5);
    }
    answer_log again{path, false, 0};
    CHECK(again.loaded() == 5);
    auto l7 = again.recall_list(7, "991234");
    REQUIRE(l7);
    REQUIRE_FALSE(l7->has_value());
    CHECK(l7->error() == deleted);
    auto l8 = again.recall_list(8, "995678");
    REQUIRE(l8);
    CHECK(**l8 == std::vector<std::string>{"221", "222"});
    auto l9 = again.recall_list(9, "990000");
    REQUIRE(l9);
    CHECK((*l9)->empty());
    auto r = again.recall_record(8, "995678", "221");
    REQUIRE(r);
    REQUIRE(r->has_value());
    CHECK((*r)->holding_id == "221");
    CHECK((*r)->record == awkward_record());
    auto bad = again.recall_record(8, "9912 34", "22 5");
    REQUIRE(bad);
    CHECK(bad->error() == lost);
    // Each answer is given once; a second ask goes to Alma.
    CHECK_FALSE(again.recall_list(8, "995678"));
    CHECK_FALSE(again.recall_record(8, "995678", "222"));
    CHECK(again.recalled() == 5);
}

TEST_CASE("the answer log keeps only what a resumed run still needs", "[alma][answers]") {
    auto dir = marcpipe::testing::scratch_dir("answers-first-bib");
    auto path = (dir / "out.answers").string();
    {
        answer_log log{path, true};
        for (std::uint64_t seq = 0; seq < 10; ++seq) log.remember_list(seq, "99" + std::to_string(seq), std::vector<std::string>{"22"});
    }
    answer_log again{path, false, 6};
    CHECK(again.loaded() == 4);
    CHECK_FALSE(again.recall_list(5, "995"));
    CHECK(again.recall_list(6, "996"));
    // The same MMS ID at another place in the export is another bib.
    CHECK_FALSE(again.recall_list(7, "996"));
}

TEST_CASE("a line torn by kill -9, or garbled, is skipped and the log goes on after it", "[alma][answers]") {
    auto dir = marcpipe::testing::scratch_dir("answers-torn");
    auto path = (dir / "out.answers").string();
    {
        answer_log log{path, true};
        log.remember_list(0, "990", std::vector<std::string>{"220"});
        log.remember_record(0, "990", "220", alma::holding{"220", awkward_record()});
    }
    {
        std::ofstream out{path, std::ios::binary | std::ios::app};
        out << "L 1 991 ok 3 2210 22%G1 2212\n";   // a bad escape
        out << "L 2 992 ok 2 2220\n";               // fewer IDs than it says
        out << "X 3 993 ok 0\n";                    // not a kind of answer
        out << "R 4 994 224 ok 224 00000nx";        // torn: the kill came mid-line
    }
    {
        answer_log again{path, false, 0};
        CHECK(again.loaded() == 2);
        again.remember_list(5, "995", std::vector<std::string>{"225"});
    }
    answer_log third{path, false, 0};
    CHECK(third.loaded() == 3);
    CHECK(third.recall_list(5, "995"));
    CHECK(third.recall_record(0, "990", "220"));
}

TEST_CASE("the answer log stays bounded: the older generation goes once its bibs are done", "[alma][answers]") {
    auto dir = marcpipe::testing::scratch_dir("answers-rotate");
    auto path = (dir / "out.answers").string();
    std::uint64_t const rotate_at = 64 * 1024;
    answer_log log{path, true, 0, rotate_at};
    std::vector<std::string> const ids(20, "22000000000000000");
    std::uint64_t seq = 0;
    // The output lags 50 bibs behind the answers, as it does behind a read-ahead window.
    for (; seq < 2000; ++seq) {
        log.remember_list(seq, "99" + std::to_string(seq), ids);
        if (seq >= 50) log.bibs_done(seq - 50);
        auto size = fs::file_size(path) + (fs::exists(path + ".old") ? fs::file_size(path + ".old") : 0);
        REQUIRE(size < 3 * rotate_at);
    }
    // A resumed run still finds every answer of the bibs not yet done.
    answer_log again{path, false, seq - 50};
    CHECK(again.loaded() == 50);
    for (std::uint64_t s = seq - 50; s < seq; ++s) CHECK(again.recall_list(s, "99" + std::to_string(s)));
    again.remove();
    CHECK_FALSE(fs::exists(path));
    CHECK_FALSE(fs::exists(path + ".old"));
}

TEST_CASE("only answers that settle their question are worth keeping", "[alma][answers]") {
    using list = alma::outcome<std::vector<std::string>>;
    auto failed = [](long status, std::string code = "") {
        return list{tl::unexpected(alma::problem{alma::stage::holdings_list, "991", "", status,
                                                 std::move(code), "x", ""})};
    };
    CHECK(marcpipe::alma::settled(list{std::vector<std::string>{}}));
    CHECK(marcpipe::alma::settled(failed(400, "402203")));  // a deleted bib stays deleted
    CHECK(marcpipe::alma::settled(failed(404)));
    CHECK_FALSE(marcpipe::alma::settled(failed(0)));  // the network, after every retry
    CHECK_FALSE(marcpipe::alma::settled(failed(429, "PER_SECOND_THRESHOLD")));
    CHECK_FALSE(marcpipe::alma::settled(failed(408)));
    CHECK_FALSE(marcpipe::alma::settled(failed(503)));
    CHECK_FALSE(marcpipe::alma::settled(failed(200)));  // a body that could not be read
}
