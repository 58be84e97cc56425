// usage: what every program promises of --help and --version, checked the same way for each:
// both answer with status 0, the help names the options given, and the version line starts
// with the program's name.
#pragma once

#include <string>
#include <vector>

#include "catch.hpp"
#include "child.hpp"

namespace marcpipe::testing {

// `name`: the program as installed ("mms-ids"); `path`: where the test runs it from.
inline void check_help_and_version(std::string const& name, std::string const& path,
                                   std::vector<std::string> const& help_names) {
    auto const help = run(path, {"--help"});
    CHECK(help.status == 0);
    for (auto const& option : help_names) CHECK_THAT(help.out, Catch::Contains(option));
    auto const version = run(path, {"--version"});
    CHECK(version.status == 0);
    CHECK_THAT(version.out, Catch::StartsWith(name + " "));
}

}  // namespace marcpipe::testing
