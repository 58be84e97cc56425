// Where the test data is (meson passes MARCPIPE_TEST_DATA), and reading a whole file of it.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace marcpipe_test {

inline std::filesystem::path data_root() {
    char const* dir = std::getenv("MARCPIPE_TEST_DATA");
    if (!dir) throw std::runtime_error("MARCPIPE_TEST_DATA is not set (run the tests through meson)");
    return dir;
}

inline std::string slurp(std::filesystem::path const& p) {
    std::ifstream in{p, std::ios::binary};
    if (!in) throw std::runtime_error("cannot open " + p.string());
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

}  // namespace marcpipe_test
