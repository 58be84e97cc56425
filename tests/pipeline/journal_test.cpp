// The journal and the files written aside: what a resumed run relies on.
#include <marcpipe/run/journal.hpp>
#include <marcpipe/run/staged_file.hpp>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include "catch.hpp"
#include "test_data.hpp"

namespace fs = std::filesystem;
using marcpipe::pipeline::checkpoint;
using marcpipe::pipeline::journal;
using marcpipe::pipeline::staged_file;

namespace {
std::string slurp(fs::path const& p) {
    std::ifstream in{p, std::ios::binary};
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}
}  // namespace

TEST_CASE("a journal gives back its job and its last complete checkpoint", "[pipeline][journal]") {
    auto dir = marcpipe_test::scratch_dir("journal-read");
    auto path = (dir / "out.journal").string();
    {
        journal j{path, "input=a.mrc\nformat=marc21", true};
        j.record(checkpoint{10, 1000, 70, 12, 1});
        j.record(checkpoint{25, 2600, 140, 30, 2});
    }
    {
        // A run killed while writing a line leaves it torn.
        std::ofstream torn{path, std::ios::app | std::ios::binary};
        torn << "done bibs=40 output=41";
    }
    auto state = journal::read(path);
    REQUIRE(state);
    CHECK(state->job == "input=a.mrc format=marc21");
    REQUIRE(state->last);
    CHECK(*state->last == checkpoint{25, 2600, 140, 30, 2});
    CHECK_FALSE(state->finished);

    // Only checkpoints whose bytes are on disk count.
    auto fitting = journal::read(path, [](checkpoint const& c) { return c.output_bytes <= 2000; });
    REQUIRE(fitting->last);
    CHECK(fitting->last->bibs_done == 10);

    CHECK_FALSE(journal::read((dir / "none.journal").string()));
    {
        std::ofstream other{dir / "other.journal"};
        other << "something else\n";
    }
    CHECK_THROWS_AS(journal::read((dir / "other.journal").string()), marcpipe::pipeline::journal_error);
    fs::remove_all(dir);
}

TEST_CASE("a journal killed before its header was written means no progress yet", "[pipeline][journal]") {
    auto dir = marcpipe_test::scratch_dir("journal-torn-head");
    auto path = (dir / "out.journal").string();
    for (std::string head : {"", "marcpipe-jour", "marcpipe-journal 1\n", "marcpipe-journal 1\njob inp"}) {
        {
            std::ofstream f{path, std::ios::binary | std::ios::trunc};
            f << head;
        }
        INFO("journal holds \"" << head << "\"");
        CHECK_FALSE(journal::read(path));
    }
    fs::remove_all(dir);
}

TEST_CASE("appending to a journal keeps what was there; a finished run says so", "[pipeline][journal]") {
    auto dir = marcpipe_test::scratch_dir("journal-append");
    auto path = (dir / "out.journal").string();
    { journal{path, "job", true}.record(checkpoint{5, 50, 0, 5, 0}); }
    {
        journal j{path, "job", false};
        j.record_finished(checkpoint{UINT64_MAX, 90, 0, 9, 0});
    }
    auto state = journal::read(path);
    REQUIRE(state);
    CHECK(state->finished);
    CHECK(state->last->records == 9);
    fs::remove_all(dir);
}

TEST_CASE("a staged file appears under its name only when committed; resuming cuts it back", "[pipeline][journal]") {
    auto dir = marcpipe_test::scratch_dir("journal-staged");
    auto path = (dir / "out.mrc").string();
    {
        staged_file f{path, true};
        f.write("first part|second part");
        CHECK(f.bytes() == 22);
    }
    CHECK_FALSE(fs::exists(path));
    CHECK(slurp(path + ".part") == "first part|second part");
    {
        staged_file f{path, false, 11};
        CHECK(f.bytes() == 11);
        f.write("again");
        f.commit();
    }
    CHECK_FALSE(fs::exists(path + ".part"));
    CHECK(slurp(path) == "first part|again");
    // A side file shorter than the journal says cannot be resumed.
    {
        staged_file f{(dir / "short.mrc").string(), true};
        f.write("abc");
    }
    CHECK_THROWS_AS(staged_file((dir / "short.mrc").string(), false, 10), marcpipe::pipeline::journal_error);
    fs::remove_all(dir);
}
