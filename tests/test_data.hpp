// Where the test data is (meson passes MARCPIPE_TEST_DATA), reading a whole file of it, and a
// fresh directory for a test to write in.
#pragma once

#include <unistd.h>

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

// A fresh, empty directory for one test, named after it and this process.
inline std::filesystem::path scratch_dir(std::string const& name) {
    auto dir = std::filesystem::temp_directory_path() / ("marcpipe-" + name + "-" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

}  // namespace marcpipe_test
