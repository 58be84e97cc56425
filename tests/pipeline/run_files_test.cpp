// The files a run reads and writes, end to end against the emulator: the input, the output, the
// report and the files kept beside them are distinct or refused; side files are never written
// through a symbolic link; a set is read only once the run holds its locks; --resume checks the
// input by its content, refuses a finished output; a fresh run over an unfinished one is refused
// unless --restart.
#include <unistd.h>

#include <alma_analytics.hpp>
#include <alma_sets.hpp>
#include <catalogue.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <launcher.hpp>
#include <string>
#include <vector>

#include "catch.hpp"
#include "expected_holdings.hpp"
#include "support/child.hpp"
#include "west_program.hpp"
#include "support/emulator.hpp"

// A namespace of its own: the unity builds compile this file together with the other program tests.
namespace run_files {

using namespace west_test;

using marcpipe::emulator::set_kind;

namespace {

using setting = marcpipe::testing::west_setting;

void write_file(fs::path const& p, std::string const& text) {
    std::ofstream out{p, std::ios::binary};
    out << text;
}

bool has(std::string const& text, std::string const& part) {
    return text.find(part) != std::string::npos;
}

// The first run of `tail` in `s`, stopped part way by the daily threshold, its state saved.
void stop_part_way(setting& s, std::vector<std::string> const& tail) {
    s.server.configure({{"daily", "30"}});
    auto first = run(west, s.args(tail), env_with_key(), s.dir, "first");
    INFO(first.err);
    REQUIRE(first.status == 3);
    REQUIRE(fs::exists(s.dir / "out.mrc.journal"));
    s.server.reset();  // the next day
    s.server.configure({{"daily", "0"}});
}

}  // namespace

TEST_CASE("an input named like a side file of the output or the report is refused, and stays whole",
          "[programs][west][run-files]") {
    setting s{"files-input-side", 30};
    struct named {
        std::string input;              // a copy of the export by this name
        std::vector<std::string> args;  // before the input
    };
    auto const [what, c] = GENERATE(table<char const*, named>({
        {"a download still named .part", {"z.mrc.part", {"-o", "z.mrc"}}},
        {"the output's journal", {"z.mrc.journal", {"-o", "z.mrc"}}},
        {"the output's answer log", {"z.mrc.answers", {"-o", "z.mrc"}}},
        {"the output's lock", {"z.mrc.lock", {"-o", "z.mrc"}}},
        {"the report's side file", {"p.csv.part", {"-o", "out.mrc", "--errors", "p.csv"}}},
    }));
    INFO(what);
    std::string const bytes = slurp(s.dir / "export.mrc");
    write_file(s.dir / c.input, bytes);
    auto args = c.args;
    args.push_back(c.input);
    auto r = run(west, s.args(args), env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(has(r.err, c.input));
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / c.input) == bytes);
}

TEST_CASE("a --pairs file named like the output or a file beside it is refused, and stays whole",
          "[programs][west][run-files][analytics]") {
    setting s{"files-pairs-side", 30};
    std::string const bytes = marcpipe::emulator::analytics_export(s.cat, true);
    auto const name = GENERATE(as<std::string>{}, "out.mrc", "out.mrc.analytics-pairs", "out.mrc.journal",
                               "p.csv", "p.csv.part");
    INFO(name);
    write_file(s.dir / name, bytes);
    auto r = run(west, s.args({"--pairs", name, "-o", "out.mrc", "--errors", "p.csv", "export.mrc"}), env_with_key(),
                 s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(has(r.err, "the pairs file"));
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / name) == bytes);
    fs::remove(s.dir / name);
}

TEST_CASE(
    "an input that is a side file under another name (a hard link) is refused by its identity",
    "[programs][west][run-files]") {
    setting s{"files-input-hardlink", 30};
    std::string const bytes = slurp(s.dir / "export.mrc");
    fs::create_hard_link(s.dir / "export.mrc", s.dir / "out.mrc.answers");
    auto r = run(west, s.args({"-o", "out.mrc", "export.mrc"}), env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(has(r.err, "out.mrc.answers"));
    CHECK(has(r.err, "export.mrc"));
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / "export.mrc") == bytes);
}

TEST_CASE("a report named like a side file of the output is refused before any call",
          "[programs][west][run-files]") {
    setting s{"files-report-side", 30};
    auto const name = GENERATE(as<std::string>{}, "out.mrc.journal", "out.mrc.answers",
                               "out.mrc.lock", "out.mrc.part", "out.mrc.set-members");
    INFO(name);
    auto r = run(west, s.args({"-o", "out.mrc", "--errors", name, "export.mrc"}), env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(has(r.err, name));
    CHECK(s.server.counters().requests == 0);
    CHECK_FALSE(fs::exists(s.dir / "out.mrc"));
    CHECK_FALSE(fs::exists(s.dir / name));
}

TEST_CASE(
    "a symbolic link planted at a side file's name is refused; what it points to is untouched",
    "[programs][west][run-files]") {
    setting s{"files-side-link", 30};
    auto const side =
        GENERATE(as<std::string>{}, "out.mrc.part", "out.mrc.journal", "out.mrc.lock",
                 "out.mrc.answers", "out.mrc.answers.old", "errors.csv.part", "errors.csv.lock");
    INFO(side);
    std::string const precious = "precious bytes\n";
    write_file(s.dir / "victim.txt", precious);
    fs::create_symlink("victim.txt", s.dir / side);
    auto r = run(west, s.args({"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"}), env_with_key(),
                 s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(has(r.err, side));
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / "victim.txt") == precious);
    CHECK(fs::is_symlink(s.dir / side));
}

TEST_CASE(
    "a second --set run on an output in use is refused before any call; the first still resumes",
    "[programs][west][run-files][set][resume]") {
    setting s{"files-set-lock", 150};
    std::string const set = marcpipe::emulator::set_id(s.cat, set_kind::all_bibs);
    // Two calls a second: the first run is surely under way, its set read, while the second starts.
    marcpipe::testing::child first{west,
                                   {"--base-url", s.server.base_url(), "--rate", "2",
                                    "--concurrency", "1", "-o", "out.mrc", "--set", set},
                                   env_with_key(),
                                   s.dir,
                                   "first"};
    REQUIRE(first.wait_until([&] { return fs::exists(s.dir / "out.mrc.journal"); }));
    std::string const members = slurp(s.dir / "out.mrc.set-members");
    // The second run asks an Alma of its own, so any call of its is counted apart.
    marcpipe::testing::alma_setting other{s.cat.size()};
    auto second = run(
        west,
        {"--base-url", other.server.base_url(), "--rate", "1000", "-o", "out.mrc", "--set", set},
        env_with_key(), s.dir, "second");
    INFO(second.err);
    CHECK(second.status == 2);
    CHECK(has(second.err, "process " + std::to_string(first.pid())));
    CHECK(other.server.counters().requests == 0);
    CHECK(slurp(s.dir / "out.mrc.set-members") == members);
    first.kill(SIGKILL);
    first.wait();
    s.server.reset();
    auto r =
        run(west, s.args({"--resume", "-o", "out.mrc", "--set", set}), env_with_key(), s.dir, "resumed");
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    CHECK(s.server.counters().get("endpoint_set") == 0);
}

TEST_CASE(
    "--set with an output that cannot hold side files, or a dry run, leaves nothing beside it",
    "[programs][west][run-files][set]") {
    setting s{"files-set-places", 120};
    std::string const set = marcpipe::emulator::set_id(s.cat, set_kind::all_bibs);
    SECTION("-o /dev/null: the members go to a temporary file, never beside the device") {
        // Looked for while the run goes on: a run that wrote them there removes them at its end.
        bool beside = false;
        marcpipe::testing::child c{west, s.args({"-o", "/dev/null", "--set", set}), env_with_key(), s.dir};
        c.wait_until([&] {
            beside = beside || fs::exists(fs::symlink_status("/dev/null.set-members"));
            return false;
        });
        auto r = c.wait();
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK_FALSE(beside);
        std::error_code ec;
        fs::remove("/dev/null.set-members", ec);  // what a run that wrote beside the device left
    }
    SECTION("a name too long for the side files: refused before any call") {
        std::string const name(250, 'x');
        auto r = run(west, s.args({"-o", name, "--set", set}), env_with_key(), s.dir);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(has(r.err, name));
        CHECK(s.server.counters().requests == 0);
    }
    SECTION("--dry-run: no members left for a later --resume to trust") {
        auto r = run(west, s.args({"--dry-run", "-o", "out.mrc", "--set", set}), env_with_key(), s.dir);
        INFO(r.err);
        CHECK(r.status == 0);
        CHECK_FALSE(fs::exists(s.dir / "out.mrc.set-members"));
        CHECK_FALSE(fs::exists(s.dir / "out.mrc.set-members.part"));
    }
}

TEST_CASE("a run stopped with its report on a device says that the report makes it not resumable",
          "[programs][west][run-files]") {
    setting s{"files-report-device", 40, {"--daily", "30"}};
    auto r = run(west, s.args({"-o", "out.mrc", "--errors", "/dev/null", "export.mrc"}), env_with_key(),
                 s.dir);
    INFO(r.err);
    REQUIRE(r.status == 3);
    CHECK(has(r.err, "the report went to /dev/null"));
    CHECK_FALSE(has(r.err, "the output went to"));
}

TEST_CASE("--resume accepts the same input named another way, and names the input of another job",
          "[programs][west][run-files][resume]") {
    setting s{"files-input-names", 60};
    std::vector<std::string> const tail{"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"};
    stop_part_way(s, tail);
    fs::create_directory(s.dir / "elsewhere");
    SECTION("./export.mrc") {
        auto r = run(
            west, s.args({"--resume", "-o", "out.mrc", "--errors", "errors.csv", "./export.mrc"}),
            env_with_key(), s.dir);
        INFO(r.err);
        CHECK(r.status == s.clean_status());
        CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    }
    SECTION("an absolute path, from another working directory") {
        auto r = run(west,
                     s.args({"--resume", "-o", "../out.mrc", "--errors", "../errors.csv",
                             (s.dir / "export.mrc").string()}),
                     env_with_key(), s.dir / "elsewhere");
        INFO(r.err);
        CHECK(r.status == s.clean_status());
        CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    }
    SECTION("another input: refused, naming the one the journal names") {
        std::string bytes = slurp(s.dir / "export.mrc");
        bytes[bytes.size() - 3] = bytes[bytes.size() - 3] == 'x' ? 'y' : 'x';
        write_file(s.dir / "other.mrc", bytes);
        auto r =
            run(west, s.args({"--resume", "-o", "out.mrc", "--errors", "errors.csv", "other.mrc"}),
                env_with_key(), s.dir);
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(has(r.err, "/export.mrc (this run reads "));
        CHECK(s.server.counters().requests == 0);
    }
}

TEST_CASE("--resume after a run that finished is refused: the output is complete",
          "[programs][west][run-files][resume]") {
    setting s{"files-resume-finished", 30};
    auto done = run(west, s.args({"-o", "out.mrc", "export.mrc"}), env_with_key(), s.dir, "done");
    INFO(done.err);
    REQUIRE(done.status == s.clean_status());
    std::string const output = slurp(s.dir / "out.mrc");
    s.server.reset();
    auto r = run(west, s.args({"--resume", "-o", "out.mrc", "export.mrc"}), env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(has(r.err, "out.mrc is complete"));
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / "out.mrc") == output);
}

TEST_CASE("a fresh run over an unfinished run's journal is refused; --restart starts over",
          "[programs][west][run-files][resume]") {
    setting s{"files-restart", 60};
    std::vector<std::string> const tail{"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"};
    stop_part_way(s, tail);
    std::string const journal = slurp(s.dir / "out.mrc.journal");
    auto refused = run(west, s.args(tail), env_with_key(), s.dir, "again");
    INFO(refused.err);
    CHECK(refused.status == 2);
    CHECK(has(refused.err, "out.mrc.journal"));
    CHECK(has(refused.err, "--resume"));
    CHECK(has(refused.err, "--restart"));
    CHECK(has(refused.err, "it is the same job"));
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / "out.mrc.journal") == journal);

    auto both = run(west, s.args({"--resume", "--restart", "-o", "out.mrc", "export.mrc"}),
                    env_with_key(), s.dir, "both");
    CHECK(both.status == 2);
    CHECK(s.server.counters().requests == 0);

    auto a = s.args(tail);
    a.push_back("--restart");
    auto restarted = run(west, a, env_with_key(), s.dir, "restarted");
    INFO(restarted.err);
    CHECK(restarted.status == s.clean_status());
    CHECK_FALSE(has(restarted.err, "resumed after bib"));
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.journal"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.answers"));
}

TEST_CASE("serial-holdings refuses a fresh run over its unfinished run, and takes --restart",
          "[programs][run-files][resume]") {
    setting s{"files-serial-restart", 60, {"--daily", "5"}};
    std::vector<std::string> const args{s.server.base_url(), "export.mrc", "MAIN", "out.mrc"};
    auto first = run(MARCPIPE_SERIAL_HOLDINGS, args, env_with_key(), s.dir, "first");
    INFO(first.err);
    REQUIRE(first.status == 3);
    s.server.reset();
    s.server.configure({{"daily", "0"}});
    auto again = run(MARCPIPE_SERIAL_HOLDINGS, args, env_with_key(), s.dir, "again");
    INFO(again.err);
    CHECK(again.status == 2);
    CHECK(has(again.err, "--restart"));
    CHECK(s.server.counters().requests == 0);
    auto a = args;
    a.push_back("--restart");
    auto restarted = run(MARCPIPE_SERIAL_HOLDINGS, a, env_with_key(), s.dir, "restarted");
    INFO(restarted.err);
    CHECK((restarted.status == 0 || restarted.status == 1));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.journal"));
}

}  // namespace run_files
