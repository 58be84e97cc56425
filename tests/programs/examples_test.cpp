// The examples take their few settings from their arguments and the environment, without the
// tools' command-line code: what each refuses, before it reads its input or calls Alma. Their
// runs against the emulator are in tests/pipeline (custom-filter, serial-holdings) and tests/net
// (http-get-many).
#include <string>
#include <vector>

#include "catch.hpp"
#include "run.hpp"

using namespace program_test;

namespace {

// custom-filter run with exactly the environment given of the variables it reads: nothing of
// the test runner's own ALMA_* reaches it. Nothing listens at the base URL the tests give, so a
// run that got as far as a call would not end before the test's timeout.
result custom_filter(std::vector<std::string> const& settings, std::vector<std::string> const& args) {
    std::vector<std::string> command{"-u", "ALMA_API_KEY", "-u", "ALMA_REGION", "-u", "ALMA_BASE_URL"};
    command.insert(command.end(), settings.begin(), settings.end());
    command.push_back(program("custom-filter"));
    command.insert(command.end(), args.begin(), args.end());
    return run("/usr/bin/env", command);
}

std::string const key = "ALMA_API_KEY=example-key";
std::string const nowhere = "ALMA_BASE_URL=http://127.0.0.1:9";

}  // namespace

TEST_CASE("custom-filter takes INPUT OUTPUT LIBRARY..., and says so when one is missing", "[programs][examples]") {
    for (std::vector<std::string> const& args :
         {std::vector<std::string>{}, {"ids.txt"}, {"ids.txt", "out.xml"}, {"ids.txt", "out.xml", "--restart"}}) {
        auto const r = custom_filter({key, nowhere}, args);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::StartsWith("usage: custom-filter INPUT OUTPUT LIBRARY..."));
    }
}

TEST_CASE("custom-filter stops at a setting missing from the environment, naming it", "[programs][examples]") {
    std::vector<std::string> const args{"ids.txt", "out.xml", "LAW", "MUSIC"};
    auto const no_key = custom_filter({nowhere}, args);
    CHECK(no_key.status == 2);
    CHECK_THAT(no_key.err, Catch::StartsWith("custom-filter: ") && Catch::Contains("ALMA_API_KEY"));

    auto const nowhere_said = custom_filter({key}, args);
    CHECK(nowhere_said.status == 2);
    CHECK_THAT(nowhere_said.err, Catch::Contains("ALMA_REGION") && Catch::Contains("ALMA_BASE_URL"));

    auto const both = custom_filter({key, nowhere, "ALMA_REGION=na"}, args);
    CHECK(both.status == 2);
    CHECK_THAT(both.err, Catch::Contains("one of ALMA_REGION"));

    auto const unknown = custom_filter({key, "ALMA_REGION=mars"}, args);
    CHECK(unknown.status == 2);
    CHECK_THAT(unknown.err, Catch::Contains("unknown region 'mars'"));

    // An input that is not there: refused, naming it, before any call.
    auto const missing = custom_filter({key, nowhere}, {"no-such-ids.txt", "out.xml", "LAW"});
    CHECK(missing.status == 2);
    CHECK_THAT(missing.err, Catch::Contains("no-such-ids.txt"));
}

TEST_CASE("http-get-many's numbers are finite and in their range, checked by the example itself",
          "[programs][examples]") {
    for (std::vector<std::string> const& bad :
         {std::vector<std::string>{"--rate", "nan"}, {"--rate", "inf"}, {"--rate", "1e-5"}, {"--rate", "-3"},
          {"--rate", "25x"}, {"--timeout", "0"}, {"--connect-timeout", "nan"}}) {
        INFO(bad[0] << " " << bad[1]);
        auto const r = run(program("http-get-many"), bad);
        CHECK(r.status == 2);
        CHECK_THAT(r.err, Catch::Contains(bad[0]));
    }
    // 0 is "no limit", and the ends of a range are in it.
    for (std::vector<std::string> const& good : {std::vector<std::string>{"--rate", "0"}, {"--rate", "0.1"},
                                                 {"--rate", "1000"}, {"--timeout", "3600"}}) {
        INFO(good[0] << " " << good[1]);
        auto const r = run(program("http-get-many"), good);
        CHECK(r.status == 0);
        CHECK_THAT(r.err, Catch::Contains("0 URLs"));
    }
}
