// The config file (tools/common/config_file.hpp): a run configured by it alone writes what the
// same run with every option on the command line writes; the command line wins; [profile]
// sections, `~/`, comments; the key never in the file and a key file only its owner may read;
// every fault named by file and line, exit 2 before any call; --show-config says where each
// setting came from.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "catch.hpp"
#include "support/child.hpp"
#include "support/files.hpp"
#include "support/emulator.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace config_file_test {

namespace fs = std::filesystem;
using marcpipe::testing::run;
using marcpipe::testing::slurp;
using marcpipe::testing::test_api_key;
using marcpipe::testing::west_setting;

namespace {

void write(fs::path const& path, std::string const& text, fs::perms mode = fs::perms::owner_read | fs::perms::owner_write) {
    fs::create_directories(path.parent_path());
    {
        std::ofstream out{path, std::ios::binary};
        out << text;
    }
    fs::permissions(path, mode);
}

// The environment of a user whose home is `dir`, with the default config file under dir/xdg.
std::vector<std::string> home(fs::path const& dir) {
    return {"HOME=" + dir.string(), "XDG_CONFIG_HOME=" + (dir / "xdg").string(), "ALMA_API_KEY="};
}

fs::path config_in(fs::path const& dir) { return dir / "xdg" / "marcpipe" / "config"; }

}  // namespace

TEST_CASE("a run configured by the config file and the key file writes what the same run with every option on "
          "the command line writes",
          "[programs][config]") {
    west_setting s{"config-same", 40};
    write(s.dir / "key", std::string{test_api_key} + "\n");
    write(config_in(s.dir), "# the settings of a WEST cycle\n"
                            "base-url = " + s.server.base_url() + "\n"
                            "api-key-file = ~/key   # the key stays in its own file\n"
                            "rate = 1000\n"
                            "concurrency = 4\n"
                            "require = 583\n"
                            "require = 852\n"
                            "errors = ~/problems-config.csv\n"
                            "no-progress = true\n"
                            "output = out-config.mrc\n");
    auto const by_file = run(MARCPIPE_WEST_HOLDINGS, {"export.mrc"}, home(s.dir), s.dir, "file");
    auto const by_line = run(MARCPIPE_WEST_HOLDINGS,
                             {"--base-url", s.server.base_url(), "--api-key-file", (s.dir / "key").string(), "--rate",
                              "1000", "--concurrency", "4", "--require", "583", "--require", "852", "--errors",
                              "problems-line.csv", "--no-progress", "-o", "out-line.mrc", "export.mrc"},
                             {"ALMA_API_KEY=", "XDG_CONFIG_HOME=" + (s.dir / "none").string()}, s.dir, "line");
    INFO(by_file.err << by_line.err);
    CHECK(by_file.status == by_line.status);
    auto const written = slurp(s.dir / "out-line.mrc");
    CHECK(written.size() > 1000);
    CHECK(slurp(s.dir / "out-config.mrc") == written);
    CHECK(slurp(s.dir / "problems-config.csv") == slurp(s.dir / "problems-line.csv"));

    // The other programs take the settings they have (connection, key) and leave the rest.
    write(s.dir / "ids.txt", s.cat.mms_id(0) + "\n" + s.cat.mms_id(1) + "\n");
    auto const ids = run(MARCPIPE_HOLDINGS_IDS, {"-o", "pairs.tsv", "ids.txt"}, home(s.dir), s.dir, "ids");
    INFO(ids.err);
    CHECK(ids.status == 0);
    CHECK(slurp(s.dir / "pairs.tsv").find(s.cat.mms_id(1)) != std::string::npos);
}

TEST_CASE("the command line wins over the config file; a profile's settings add to and override the common ones",
          "[programs][config]") {
    marcpipe::testing::scratch_dir dir{"config-precedence"};
    write(config_in(dir), "rate = 5          # every profile\n"
                          "cacert = ~/ca.pem\n"
                          "  # a comment line, indented\n"
                          "\n"
                          "[ucb]\n"
                          "rate = 7\n"
                          "west = UCB\n"
                          "[other]\n"
                          "west = OTHER\n");
    write(dir / "ca.pem", "");
    auto const common = run(MARCPIPE_WEST_HOLDINGS, {"--show-config"}, home(dir), dir, "common");
    INFO(common.err);
    CHECK(common.status == 0);
    std::string const file = config_in(dir).string();
    CHECK_THAT(common.out, Catch::Contains("rate = 5  # " + file + ":1\n") &&
                               Catch::Contains("cacert = " + (dir / "ca.pem").string() + "  # " + file + ":2\n") &&
                               Catch::Contains("west =   # default\n") &&
                               Catch::Contains("config = " + file + "  # default\n"));

    auto const profile = run(MARCPIPE_WEST_HOLDINGS, {"--show-config", "--profile", "ucb"}, home(dir), dir, "ucb");
    CHECK(profile.status == 0);
    CHECK_THAT(profile.out, Catch::Contains("rate = 7  # " + file + ":6\n") &&
                                Catch::Contains("west = UCB  # " + file + ":7\n") &&
                                Catch::Contains("profile = ucb  # command line\n"));

    auto const line = run(MARCPIPE_WEST_HOLDINGS, {"--show-config", "--profile", "ucb", "--rate", "9"}, home(dir),
                          dir, "line");
    CHECK(line.status == 0);
    CHECK_THAT(line.out, Catch::Contains("rate = 9  # command line\n"));

    // XDG_CONFIG_HOME empty or unset: ~/.config/marcpipe/config, as the XDG specification says.
    write(dir / ".config" / "marcpipe" / "config", "rate = 3\n");
    // (The runner's XDG_CONFIG_HOME= unsets it.)
    auto const unset = run(MARCPIPE_HOLDINGS_IDS, {"--show-config"}, {"HOME=" + dir.string(), "XDG_CONFIG_HOME="}, dir, "xdg");
    CHECK(unset.status == 0);
    CHECK_THAT(unset.out, Catch::Contains("rate = 3  # " + (dir / ".config" / "marcpipe" / "config").string() + ":1\n"));
    // --config names another file; no such section is an error.
    write(dir / "other.conf", "rate = 11\n");
    auto const other = run(MARCPIPE_HOLDINGS_RECORDS, {"--config", "other.conf", "--show-config"}, home(dir), dir, "other");
    CHECK(other.status == 0);
    CHECK_THAT(other.out, Catch::Contains("rate = 11  # other.conf:1\n"));
    auto const missing = run(MARCPIPE_WEST_HOLDINGS, {"--show-config", "--profile", "nyu"}, home(dir), dir, "nyu");
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Catch::Contains(file + ": no section [nyu]"));
}

TEST_CASE("--show-config never prints the key", "[programs][config]") {
    marcpipe::testing::scratch_dir dir{"config-show"};
    write(config_in(dir), "region = na\n");
    auto env = home(dir);
    env.push_back(std::string{"ALMA_API_KEY="} + test_api_key);
    auto const r = run(MARCPIPE_HOLDINGS_RECORDS, {"--show-config"}, env, dir);
    INFO(r.err);
    CHECK(r.status == 0);
    CHECK_THAT(r.out, Catch::Contains("region = na  # " + config_in(dir).string() + ":1\n") &&
                          Catch::Contains("# the API key: from ALMA_API_KEY (set)"));
    CHECK(r.out.find(test_api_key) == std::string::npos);
}

TEST_CASE("a fault in the config file is exit 2 naming the file and line, before any call", "[programs][config]") {
    west_setting s{"config-faults", 5};
    write(s.dir / "key", std::string{test_api_key} + "\n");
    std::string const file = config_in(s.dir).string();
    std::string const start = "base-url = " + s.server.base_url() + "\napi-key-file = ~/key\n";
    struct fault {
        std::string line;
        std::string said;
    };
    for (auto const& [line, said] : std::vector<fault>{
             {"rat = 5", file + ":3: unknown setting 'rat'"},
             {"rate = fast", file + ":3: rate = fast: --rate"},
             {"no-progress = maybe", file + ":3: no-progress is a flag: true or false"},
             {"just words", file + ":3: expected name = value"},
             {"api-key = " + std::string{test_api_key}, file + ":3: the API key does not go in the config file"},
             {"region = na", file + ":3: region cannot be used with --base-url"}}) {
        INFO(line);
        write(config_in(s.dir), start + line + "\n");
        auto const r = run(MARCPIPE_WEST_HOLDINGS, {"export.mrc"}, home(s.dir), s.dir);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains(said));
        CHECK(r.err.find(test_api_key) == std::string::npos);
    }
    // The api-key refusal points at the way that works.
    write(config_in(s.dir), "api-key = x\n");
    CHECK_THAT(run(MARCPIPE_HOLDINGS_IDS, {"ids.txt"}, home(s.dir), s.dir).err, Catch::Contains("api-key-file"));
    // A name no program has is refused by every program, a name one has is left by the others.
    write(config_in(s.dir), "west = UCB\non-error = stop\n");
    CHECK(run(MARCPIPE_HOLDINGS_IDS, {"--show-config"}, home(s.dir), s.dir).status == 0);
    // An unreadable file named by --config.
    auto const unreadable = run(MARCPIPE_HOLDINGS_IDS, {"--config", "no-such.conf", "ids.txt"}, home(s.dir), s.dir);
    CHECK(unreadable.status == 2);
    CHECK_THAT(unreadable.err, Catch::Contains("no-such.conf: cannot read the config file"));
    CHECK(s.server.counters().requests == 0);
}

TEST_CASE("a key file its group or others can read is refused, from the command line or the config file",
          "[programs][config]") {
    west_setting s{"config-key-mode", 5};
    std::string const key_path = (s.dir / "key").string();
    for (auto const mode : {fs::perms::owner_read | fs::perms::group_read, fs::perms::owner_all | fs::perms::others_read}) {
        write(s.dir / "key", std::string{test_api_key} + "\n", mode);
        struct stat st{};
        REQUIRE(::stat(key_path.c_str(), &st) == 0);
        REQUIRE((st.st_mode & (S_IRGRP | S_IROTH)) != 0);
        auto const named = run(MARCPIPE_WEST_HOLDINGS,
                               {"--base-url", s.server.base_url(), "--api-key-file", key_path, "-o", "out.mrc", "export.mrc"},
                               home(s.dir), s.dir, "named");
        CHECK(named.status == 2);
        CHECK_THAT(named.err, Catch::Contains("chmod 600 " + key_path));
        write(config_in(s.dir), "base-url = " + s.server.base_url() + "\napi-key-file = ~/key\n");
        auto const configured = run(MARCPIPE_HOLDINGS_IDS, {"export.mrc"}, home(s.dir), s.dir, "configured");
        CHECK(configured.status == 2);
        CHECK_THAT(configured.err, Catch::Contains("chmod 600 " + key_path));
        fs::remove(config_in(s.dir));
    }
    CHECK(s.server.counters().requests == 0);
}

}  // namespace config_file_test
