// What --west accepts as a library's symbol: an empty one (an unset shell variable) or one that
// starts like an option would run a plain export or name a file after an option, so both are
// refused before any call, naming --west.
#include <filesystem>
#include <string>
#include <vector>

#include "catch.hpp"
#include "program.hpp"
#include "west_setting.hpp"

// A namespace of its own: the unity builds compile this file together with the others of its area.
namespace west_symbol_test {

using marcpipe::testing::run;
using marcpipe::testing::west_setting;

TEST_CASE("--west with an empty symbol, or one starting with '-', exits 2 before any call, naming --west",
          "[programs][west][west-preset][usage]") {
    west_setting s{"west-symbol", 10};
    std::vector<std::string> const env{std::string{"ALMA_API_KEY="} + marcpipe::testing::test_api_key};
    auto const [args, symbol] = GENERATE(table<std::vector<std::string>, std::string>({
        {{"--west", "", "export.mrc"}, ""},
        {{"--west", "-o", "export.mrc"}, "-o"},
        {{"--west=-o", "export.mrc"}, "-o"},
        {{"--west", "-UCB", "export.mrc"}, "-UCB"},
        {{"--west", "_UCB", "export.mrc"}, "_UCB"},
    }));
    INFO("--west '" << symbol << "'");
    s.server.reset();
    auto r = run(MARCPIPE_WEST_HOLDINGS, s.args(args), env, s.dir);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find("--west") != std::string::npos);
    CHECK(r.err.find("'" + symbol + "'") != std::string::npos);
    CHECK(s.server.counters().requests == 0);
    // Nothing written: no plain export to standard output, no file named after the symbol.
    CHECK(r.out.empty());
    for (auto const& entry : std::filesystem::directory_iterator{s.dir}) {
        auto const name = entry.path().filename().string();
        CHECK((name == "export.mrc" || name == "run.stdout" || name == "run.stderr"));
    }
}

}  // namespace west_symbol_test
