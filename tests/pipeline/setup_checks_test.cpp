// What a program checks before a run opens, and how it ends when a run cannot start or go on:
// the choice of input (a file or a set), the --west preset's file name and date, and the exit
// status each kind of failure gets.
#include <marcpipe/run/exit_status.hpp>
#include <marcpipe/run/journal.hpp>
#include <marcpipe/run/set_input.hpp>
#include <marcpipe/west/west_output.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include <unistd.h>

#include "catch.hpp"
#include "test_data.hpp"

namespace fs = std::filesystem;
namespace pipeline = marcpipe::pipeline;

namespace {

// What setup_error says when `make` throws it; empty when it throws nothing.
template <typename Make>
std::string refusal(Make make) {
    try {
        make();
    } catch (pipeline::setup_error const& e) {
        return e.what();
    }
    return {};
}

// The status and message report_failure gives for `thrown`.
template <typename Error>
std::pair<int, std::string> reported(Error thrown, std::string_view key = {}, int otherwise = 3) {
    std::ostringstream err;
    try {
        throw thrown;
    } catch (...) {
        int const status = pipeline::report_failure("prog", key, otherwise, err);
        return {status, err.str()};
    }
}

// Sets MARCPIPE_TODAY for as long as it lives.
struct today_is {
    explicit today_is(char const* yyyymmdd) { ::setenv("MARCPIPE_TODAY", yyyymmdd, 1); }
    ~today_is() { ::unsetenv("MARCPIPE_TODAY"); }
};

}  // namespace

TEST_CASE("a run's input is a file or a set, never both or neither", "[pipeline][setup]") {
    CHECK_THAT(refusal([] { pipeline::chosen_input{"", "", "prog"}; }),
               Catch::StartsWith("prog: give an INPUT") && Catch::Contains("--set"));
    CHECK_THAT(refusal([] { pipeline::chosen_input{"ids.txt", "123", "prog"}; }), Catch::StartsWith("prog: give an INPUT"));
    // A set ID goes into a URL's path: only digits.
    CHECK_THAT(refusal([] { pipeline::chosen_input{"", "12/../34", "prog"}; }),
               Catch::Contains("--set takes an Alma set ID") && Catch::Contains("12/../34"));
    // The members are saved beside the output: its directory must be there before a call.
    CHECK_THAT(refusal([] { pipeline::chosen_input{"", "123", "prog", "no-such-dir/out.mrc"}; }),
               Catch::Contains("there is no directory no-such-dir"));
    CHECK(refusal([] { pipeline::chosen_input{"", "123", "prog", "-"}; }).empty());
    CHECK(refusal([] { pipeline::chosen_input{"ids.txt", "", "prog", "no-such-dir/out.mrc"}; }).empty());

    pipeline::chosen_input file{"ids.txt", "", "prog"};
    CHECK_FALSE(file.from_set());
}

TEST_CASE("a set's saved members stay while the run can be resumed, and go when it has finished", "[pipeline][setup]") {
    auto dir = marcpipe_test::scratch_dir("setup-members");
    auto const output = (dir / "out.mrc").string();
    auto const saved = dir / "out.mrc.set-members";
    pipeline::chosen_input set{"", "1234567890000541", "prog", output};
    CHECK(set.from_set());
    CHECK(set.set_id() == "1234567890000541");
    std::ofstream{saved} << "991\n";
    set.finished(true);
    CHECK(fs::exists(saved));
    set.finished(false);
    CHECK_FALSE(fs::exists(saved));

    // A file named as the input is the user's: never removed.
    std::ofstream{dir / "ids.txt"} << "991\n";
    pipeline::chosen_input file{(dir / "ids.txt").string(), "", "prog", output};
    file.finished(false);
    CHECK(fs::exists(dir / "ids.txt"));
    fs::remove_all(dir);
}

TEST_CASE("--west names the archive SYMBOL.alma.archived.DATE.mrc in the directory -o names", "[pipeline][setup][west-preset]") {
    today_is const day{"20260315"};
    auto dir = marcpipe_test::scratch_dir("setup-west");
    auto const here = pipeline::west_output("UCB", false, "-", false, false, "prog");
    CHECK(here.path == "UCB.alma.archived.20260315.mrc");
    CHECK(here.date == "20260315");
    CHECK(here.mode() == pipeline::west_mode::report);
    CHECK(here.job() == pipeline::job_parts{{"west", "UCB"}, {"west-date", "20260315"}});

    auto const there = pipeline::west_output("UCB", true, dir.string() + "/", true, false, "prog");
    CHECK(there.path == (dir / "UCB.alma.archived.20260315.mrc").string());
    CHECK(there.mode() == pipeline::west_mode::strict);
    CHECK(there.job().front() == std::pair<std::string, std::string>{"west", "UCB,strict"});

    CHECK_THAT(refusal([] { pipeline::west_output("../UCB", false, "-", false, false, "prog"); }),
               Catch::StartsWith("prog: --west takes a library's WEST symbol"));
    CHECK_THAT(refusal([] { pipeline::west_output("UCB", false, "mine.mrc", true, false, "prog"); }),
               Catch::Contains("-o names only its directory") && Catch::Contains("mine.mrc"));
    CHECK_THAT(refusal([] { pipeline::west_output("UCB", false, "-", true, false, "prog"); }),
               Catch::Contains("-o names only its directory"));
    CHECK_THAT(refusal([] { pipeline::west_output("UCB", false, "nodir/", true, false, "prog"); }),
               Catch::Contains("there is no such directory"));
    fs::remove_all(dir);
}

TEST_CASE("--west --resume finishes the file of the day the run started, and refuses to guess between two",
          "[pipeline][setup][west-preset]") {
    today_is const day{"20260315"};
    auto dir = marcpipe_test::scratch_dir("setup-west-resume");
    auto const out = dir.string() + "/";
    {
        pipeline::journal started{(dir / "UCB.alma.archived.20260301.mrc.journal").string(),
                                  "options=west=UCB%20west-date=20260301", true};
    }
    CHECK(pipeline::west_output("UCB", false, out, true, true, "prog").date == "20260301");
    // Without --resume a new run starts today.
    CHECK(pipeline::west_output("UCB", false, out, true, false, "prog").date == "20260315");
    // A journal whose job line carries another date is not that day's run.
    {
        pipeline::journal other{(dir / "UCB.alma.archived.20260302.mrc.journal").string(),
                                "options=west=UCB%20west-date=20260228", true};
    }
    CHECK(pipeline::west_output("UCB", false, out, true, true, "prog").date == "20260301");
    {
        pipeline::journal second{(dir / "UCB.alma.archived.20260310.mrc.journal").string(),
                                 "options=west=UCB%20west-date=20260310", true};
    }
    CHECK_THAT(refusal([&] { pipeline::west_output("UCB", false, out, true, true, "prog"); }),
               Catch::Contains("more than one unfinished run for UCB") &&
                   Catch::Contains("UCB.alma.archived.20260301.mrc, UCB.alma.archived.20260310.mrc"));
    fs::remove_all(dir);
}

TEST_CASE("each kind of failure exits with its own status, its message free of the key", "[pipeline][setup]") {
    // A setup_error names the program itself.
    CHECK(reported(pipeline::setup_error{"prog: --resume needs an output file"}) ==
          std::pair<int, std::string>{2, "prog: --resume needs an output file\n"});
    CHECK(reported(pipeline::set_error{"set 12 cannot be read: not found", 2}) ==
          std::pair<int, std::string>{2, "prog: set 12 cannot be read: not found\n"});
    CHECK(reported(pipeline::set_error{"could not read set 12; run the command again later", 3}).first == 3);
    CHECK(reported(marcpipe::alma::config_error{"say where Alma is"}) ==
          std::pair<int, std::string>{2, "prog: say where Alma is\n"});
    CHECK(reported(pipeline::path_refused{"out.mrc is the input"}).first == 2);
    CHECK(reported(pipeline::journal_error{"out.mrc.journal is unreadable"}).first == 2);

    // Anything else: the caller's status (3, stopped, by default), the key and terminal controls
    // taken out of what is said.
    auto const [status, said] = reported(std::runtime_error{"answer to apikey l7xx5ecret: \x1b[2Jgone"}, "l7xx5ecret");
    CHECK(status == 3);
    CHECK_THAT(said, Catch::StartsWith("prog: answer to apikey") && !Catch::Contains("l7xx5ecret") &&
                         !Catch::Contains("\x1b"));
    CHECK(reported(std::runtime_error{"cannot write out.xml"}, {}, 2).first == 2);
}
