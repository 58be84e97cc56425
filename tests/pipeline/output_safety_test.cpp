// Odd output paths and careless use, end to end against the emulator: a device, a FIFO or a
// symbolic link named as output stays what it is; a directory, the input itself and one file
// named as both output and report are refused before any call; a second run on an output in
// use is refused, naming the first; --resume refuses another Alma and an input changed in place.
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bib_export.hpp>
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
#include "reference_tool.hpp"
#include "support/emulator.hpp"

// A namespace of its own: the unity builds compile this file together with the other program tests.
namespace output_safety {

using namespace west_test;

using marcpipe::testing::iso2709_records;

namespace {

using marcpipe::testing::test_api_key;
using setting = marcpipe::testing::west_setting;

// Reads what is waiting in a non-blocking FIFO into `got`.
void drain(int fd, std::string& got) {
    char buf[65536];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0) return;  // empty (EAGAIN) or no writer
        got.append(buf, static_cast<std::size_t>(n));
    }
}

bool still_a_fifo(fs::path const& p) { return fs::is_fifo(fs::symlink_status(p)); }

}  // namespace

TEST_CASE("a FIFO and /dev/null named as output are written directly and stay what they are",
          "[programs][west][output-safety]") {
    setting s{"safety-fifo", 40};
    expected_holdings const expected{s.cat};
    REQUIRE(::mkfifo((s.dir / "out.fifo").c_str(), 0644) == 0);
    // Open for reading before the run starts, without waiting for a writer, so that a run that
    // never opens the FIFO (one that renames a file over it) cannot hang the test.
    int const fd = ::open((s.dir / "out.fifo").c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(fd >= 0);
    std::string got;
    marcpipe::testing::child c{
        west, s.args({"-o", "out.fifo", "--errors", "errors.csv", "export.mrc"}), env_with_key(), s.dir};
    c.wait_until([&] {
        drain(fd, got);
        return false;
    });
    drain(fd, got);
    ::close(fd);
    auto r = c.wait();
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    REQUIRE(still_a_fifo(s.dir / "out.fifo"));
    REQUIRE(iso2709_records(got).size() == expected.size());
    {
        std::ofstream copy{s.dir / "from-fifo.mrc", std::ios::binary};
        copy << got;
    }
    CHECK(marc21_difference(expected, s.dir / "from-fifo.mrc") == "");
    CHECK_FALSE(fs::exists(s.dir / "out.fifo.part"));
    CHECK_FALSE(fs::exists(s.dir / "out.fifo.journal"));

    // A FIFO is written directly, so /dev/null is safe to name (only now that the FIFO has shown
    // it: a build that renamed over its output would replace the system's /dev/null).
    struct stat before {};
    REQUIRE(::stat("/dev/null", &before) == 0);
    auto null = run(west, s.args({"-o", "/dev/null", "--errors", "/dev/null", "export.mrc"}),
                    env_with_key(), s.dir, "null");
    INFO(null.err);
    CHECK(null.status == s.clean_status());
    struct stat after {};
    REQUIRE(::stat("/dev/null", &after) == 0);
    CHECK(S_ISCHR(after.st_mode));
    CHECK(after.st_rdev == before.st_rdev);
    CHECK_FALSE(fs::exists("/dev/null.part"));

    // Nothing is kept to resume from, so --resume with a device is refused before any call.
    s.server.reset();
    auto resume =
        run(west, s.args({"-o", "/dev/null", "--resume", "export.mrc"}), env_with_key(), s.dir, "resume");
    CHECK(resume.status == 2);
    CHECK(resume.err.find("/dev/null") != std::string::npos);
    CHECK(s.server.counters().requests == 0);
}

TEST_CASE("a symbolic link named as output stays a link; the file it points to gets the records",
          "[programs][west][output-safety]") {
    setting s{"safety-link", 40};
    fs::create_directory(s.dir / "target");
    fs::create_symlink("target/real.mrc", s.dir / "link.mrc");  // dangling until the run ends
    auto r = run(west, s.args({"-o", "link.mrc", "export.mrc"}), env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    REQUIRE(fs::is_symlink(s.dir / "link.mrc"));
    CHECK(fs::read_symlink(s.dir / "link.mrc") == "target/real.mrc");
    CHECK(fs::is_regular_file(fs::symlink_status(s.dir / "target/real.mrc")));
    expected_holdings const expected{s.cat};
    CHECK(iso2709_records(slurp(s.dir / "target/real.mrc")).size() == expected.size());
    CHECK(marc21_difference(expected, s.dir / "target/real.mrc") == "");
    CHECK_FALSE(fs::exists(s.dir / "target/real.mrc.part"));
    CHECK_FALSE(fs::exists(fs::symlink_status(s.dir / "link.mrc.part")));
    CHECK_FALSE(fs::exists(s.dir / "target/real.mrc.lock"));  // released with the run
}

TEST_CASE(
    "a directory, the input itself and --errors equal to -o are refused with exit 2 before any "
    "call",
    "[programs][west][output-safety]") {
    setting s{"safety-refused", 30};
    fs::create_directory(s.dir / "outdir");
    fs::create_symlink("export.mrc", s.dir / "export-link.mrc");
    std::string const input = slurp(s.dir / "export.mrc");
    struct refused {
        std::vector<std::string> args;
        std::string named;  // the path the message must name
    };
    auto const [what, c] = GENERATE(table<char const*, refused>({
        {"a directory", {{"-o", "outdir", "export.mrc"}, "outdir"}},
        {"a directory, trailing slash", {{"-o", "outdir/", "export.mrc"}, "outdir"}},
        {"the input", {{"-o", "export.mrc", "export.mrc"}, "export.mrc"}},
        {"a link to the input", {{"-o", "export-link.mrc", "export.mrc"}, "export-link.mrc"}},
        {"the input as report",
         {{"-o", "out.mrc", "--errors", "export.mrc", "export.mrc"}, "export.mrc"}},
        {"--errors equal to -o",
         {{"-o", "out.mrc", "--errors", "out.mrc", "export.mrc"}, "out.mrc"}},
        {"--errors equal to -o, another spelling",
         {{"-o", "out.mrc", "--errors", "./out.mrc", "export.mrc"}, "out.mrc"}},
    }));
    INFO(what);
    s.server.reset();
    auto r = run(west, s.args(c.args), env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.named) != std::string::npos);
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / "export.mrc") == input);
    CHECK(fs::is_directory(s.dir / "outdir"));
    CHECK_FALSE(fs::exists(s.dir / "out.mrc"));
    for (auto const& entry : fs::directory_iterator{s.dir}) {
        INFO(entry.path());
        CHECK(entry.path().extension() != ".part");
        CHECK(entry.path().extension() != ".lock");
    }
}

TEST_CASE(
    "an output directory that cannot be written is refused with exit 2 before any call, no .part "
    "left",
    "[programs][west][output-safety]") {
    setting s{"safety-readonly", 30};
    // Root writes into a directory whatever its modes say: as root, the program runs as an
    // unprivileged user through setpriv (util-linux, which scripts/install-deps installs).
    std::string program = west;
    std::vector<std::string> as_user;
    if (::geteuid() == 0) {
        auto setpriv = marcpipe_test::detail::on_path("setpriv");
        if (!setpriv)
            FAIL(
                "running as root, which ignores directory modes, and setpriv (util-linux) is not "
                "on PATH to run the program as another user");
        program = setpriv->string();
        as_user = {"--reuid=65534", "--regid=65534", "--clear-groups", west};
        fs::permissions(s.dir, fs::perms::all);  // the test's own directory stays writable to it
    }
    auto args = [&](std::vector<std::string> more) {
        auto a = as_user;
        for (auto& x : s.args(std::move(more))) a.push_back(std::move(x));
        return a;
    };
    fs::create_directory(s.dir / "ro");
    fs::permissions(s.dir / "ro", fs::perms::owner_read | fs::perms::owner_exec |
                                      fs::perms::group_read | fs::perms::group_exec |
                                      fs::perms::others_read | fs::perms::others_exec);
    auto r = run(program, args({"-o", "ro/out.mrc", "export.mrc"}), env_with_key(), s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("ro/out.mrc") != std::string::npos);
    CHECK(s.server.counters().requests == 0);
    CHECK(fs::is_empty(s.dir / "ro"));
    // The report's directory likewise, with the output's own directory writable.
    auto report = run(program, args({"-o", "out.mrc", "--errors", "ro/errors.csv", "export.mrc"}),
                      env_with_key(), s.dir, "report");
    INFO(report.err);
    CHECK(report.status == 2);
    CHECK(s.server.counters().requests == 0);
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.part"));
    fs::permissions(s.dir / "ro", fs::perms::owner_all, fs::perm_options::add);
}

TEST_CASE(
    "a second run on an output in use is refused, naming the first; the first's output is "
    "untouched",
    "[programs][west][output-safety]") {
    // The emulator holds every answer until the test lets them go, so the first run is surely
    // under way (its calls are at the server) while the others start.
    setting s{"safety-lock", 40, {"--latency-ms", "600000"}};
    std::vector<std::string> const args =
        s.args({"--concurrency", "4", "-o", "out.mrc", "--errors", "errors.csv", "export.mrc"});
    marcpipe::testing::child first{west, args, env_with_key(), s.dir, "first"};
    // A call in flight: the first run is under way, holding its locks.
    REQUIRE(first.wait_until([&] { return s.server.counters().in_flight >= 1; }));
    // The later runs ask an Alma of their own, so any call of theirs is counted apart from the
    // first run's (whose held calls may be dropped by the low-speed limit and asked again).
    marcpipe::testing::alma_setting other{s.cat.size()};
    auto refused_run = [&](std::vector<std::string> const& more, std::string const& tag) {
        std::vector<std::string> a{"--base-url", other.server.base_url(), "--rate", "1000"};
        a.insert(a.end(), more.begin(), more.end());
        marcpipe::testing::child c{west, a, env_with_key(), s.dir, tag};
        auto r = c.wait();
        CHECK(other.server.counters().requests == 0);
        return r;
    };
    auto second = refused_run({"--require", "583", "-o", "out.mrc", "export.mrc"}, "second");
    INFO(second.err);
    CHECK(second.status == 2);
    CHECK(second.err.find("process " + std::to_string(first.pid())) != std::string::npos);
    CHECK(second.err.find("west-holdings") != std::string::npos);
    // The same file by another name (a link to it) is the same output.
    fs::create_symlink("out.mrc", s.dir / "other-name.mrc");
    auto third = refused_run({"-o", "other-name.mrc", "export.mrc"}, "third");
    INFO(third.err);
    CHECK(third.status == 2);
    CHECK(third.err.find("process " + std::to_string(first.pid())) != std::string::npos);
    s.server.configure({{"latency-ms", "0"}});
    auto r = first.wait();
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    CHECK(iso2709_records(slurp(s.dir / "out.mrc")).size() == expected_holdings{s.cat}.size());
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.lock"));
}

TEST_CASE("a lock left by a killed run does not block --resume",
          "[programs][west][output-safety][resume]") {
    setting s{"safety-stale", 40, {"--latency-ms", "600000"}};
    std::vector<std::string> const args =
        s.args({"--concurrency", "4", "-o", "out.mrc", "--errors", "errors.csv", "export.mrc"});
    {
        marcpipe::testing::child c{west, args, env_with_key(), s.dir, "killed"};
        REQUIRE(c.wait_until([&] { return s.server.counters().in_flight > 0; }));
        c.kill(SIGKILL);
        c.wait();
    }
    s.server.configure({{"latency-ms", "0"}});
    CHECK(slurp(s.dir / "out.mrc.lock").find("program=west-holdings") !=
          std::string::npos);  // left behind
    auto resume_args = args;
    resume_args.push_back("--resume");
    auto r = run(west, resume_args, env_with_key(), s.dir, "resumed");
    INFO(r.err);
    CHECK(r.status == s.clean_status());
    CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    CHECK_FALSE(fs::exists(s.dir / "out.mrc.lock"));
}

TEST_CASE(
    "--resume refuses another base URL and an input changed in place with its size and time kept",
    "[programs][west][output-safety][resume]") {
    // The daily threshold stops the first run part way, its state saved.
    setting s{"safety-job", 60, {"--daily", "40"}};
    std::vector<std::string> const tail{"-o", "out.mrc", "--errors", "errors.csv", "export.mrc"};
    auto first = run(west, s.args(tail), env_with_key(), s.dir, "first");
    INFO(first.err);
    REQUIRE(first.status == 3);
    REQUIRE(fs::exists(s.dir / "out.mrc.journal"));
    s.server.reset();  // the next day

    SECTION(
        "another base URL: the same emulator under another name, still another Alma to the run") {
        std::vector<std::string> a{"--base-url",
                                   "http://localhost:" + std::to_string(s.server.port()), "--rate",
                                   "1000", "--resume"};
        a.insert(a.end(), tail.begin(), tail.end());
        auto r = run(west, a, env_with_key(), s.dir, "other-url");
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("http://localhost:" + std::to_string(s.server.port())) !=
              std::string::npos);
        CHECK(r.err.find("http://127.0.0.1:" + std::to_string(s.server.port())) !=
              std::string::npos);
        CHECK(s.server.counters().requests == 0);
    }
    SECTION("the input changed in place, its size and modification time as they were") {
        auto const path = s.dir / "export.mrc";
        struct stat st {};
        REQUIRE(::stat(path.c_str(), &st) == 0);
        std::string bytes = slurp(path);
        // One byte of the last record's data, so the size stays and every record still reads.
        std::size_t const at = bytes.size() - 3;
        bytes[at] = bytes[at] == 'x' ? 'y' : 'x';
        {
            std::ofstream out{path, std::ios::binary | std::ios::in};  // in place: no truncation
            out.seekp(static_cast<std::streamoff>(at));
            out.put(bytes[at]);
        }
        timespec const times[2] = {st.st_atim, st.st_mtim};
        REQUIRE(::utimensat(AT_FDCWD, path.c_str(), times, 0) == 0);
        struct stat now {};
        REQUIRE(::stat(path.c_str(), &now) == 0);
        REQUIRE(now.st_size == st.st_size);
        REQUIRE(now.st_mtim.tv_sec == st.st_mtim.tv_sec);
        REQUIRE(now.st_mtim.tv_nsec == st.st_mtim.tv_nsec);
        REQUIRE(slurp(path) == bytes);

        auto a = s.args(tail);
        a.push_back("--resume");
        auto r = run(west, a, env_with_key(), s.dir, "changed");
        INFO(r.err);
        CHECK(r.status == 2);
        CHECK(r.err.find("export.mrc has changed") != std::string::npos);
        CHECK(s.server.counters().requests == 0);
    }
    SECTION("the same job resumes") {
        s.server.configure({{"daily", "0"}});
        auto a = s.args(tail);
        a.push_back("--resume");
        auto r = run(west, a, env_with_key(), s.dir, "same");
        INFO(r.err);
        CHECK(r.status == s.clean_status());
        CHECK(marc21_difference(expected_holdings{s.cat}, s.dir / "out.mrc") == "");
    }
}

TEST_CASE(
    "every program that calls Alma refuses its input as its output, before any call and untouched",
    "[programs][output-safety]") {
    setting s{"safety-programs", 20};
    {
        std::ofstream pairs{s.dir / "pairs.tsv"};
        pairs << s.cat.holding_id(0, 0) << '\t' << s.cat.mms_id(0) << '\n';
    }
    std::string const url = s.server.base_url();
    struct program_run {
        std::string program;
        std::vector<std::string> args;
        std::string input;
    };
    auto const c = GENERATE_COPY(values<program_run>({
        {MARCPIPE_HOLDINGS_IDS,
         {"--base-url", url, "-o", "export.mrc", "export.mrc"},
         "export.mrc"},
        {MARCPIPE_HOLDINGS_IDS,
         {"--base-url", url, "--errors", "export.mrc", "export.mrc"},
         "export.mrc"},
        {MARCPIPE_HOLDINGS_RECORDS,
         {"--base-url", url, "-o", "pairs.tsv", "pairs.tsv"},
         "pairs.tsv"},
        {MARCPIPE_CUSTOM_FILTER, {"export.mrc", "export.mrc", "MAIN"}, "export.mrc"},
        {MARCPIPE_SERIAL_HOLDINGS, {url, "export.mrc", "MAIN", "export.mrc"}, "export.mrc"},
    }));
    INFO(c.program);
    std::string const before = slurp(s.dir / c.input);
    s.server.reset();
    // custom-filter takes Alma's place from the environment; the others ignore it there.
    auto env = env_with_key();
    env.push_back("ALMA_BASE_URL=" + url);
    auto r = run(c.program, c.args, env, s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.input) != std::string::npos);
    CHECK(s.server.counters().requests == 0);
    CHECK(slurp(s.dir / c.input) == before);
}

}  // namespace output_safety
