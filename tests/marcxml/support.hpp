// Helpers shared by the MARCXML tests: where the test data is, reading a whole input.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <marcpipe/marc/marcxml.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace marcxml_test {

namespace marc = marcpipe::marc;

// A file of tests/data/marcxml, or of another area when the name has a directory.
inline std::filesystem::path data_path(std::string const& name) {
    char const* dir = std::getenv("MARCPIPE_TEST_DATA");
    if (!dir) throw std::runtime_error("MARCPIPE_TEST_DATA is not set");
    if (name.find('/') != std::string::npos) return std::filesystem::path{dir} / name;
    return std::filesystem::path{dir} / "marcxml" / name;
}

inline std::string slurp(std::filesystem::path const& p) {
    std::ifstream in{p, std::ios::binary};
    if (!in) throw std::runtime_error("cannot open " + p.string());
    return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

struct read_result {
    std::vector<marc::record> records;
    std::vector<marc::read_problem> problems;
};

// Every record of a MARCXML text, skipping bad ones and collecting their problems.
inline read_result read_all(std::string_view xml) {
    marc::marcxml_reader::options o;
    o.policy = marc::on_error::skip;
    auto reader = marc::marcxml_reader::from_memory(xml, o);
    read_result r;
    while (auto rec = reader.next()) r.records.push_back(std::move(*rec));
    r.problems = reader.problems();
    return r;
}

// Every record of a MARCXML text; the first problem throws.
inline std::vector<marc::record> read_strict(std::string_view xml) {
    auto reader = marc::marcxml_reader::from_memory(xml);
    std::vector<marc::record> out;
    while (auto rec = reader.next()) out.push_back(std::move(*rec));
    return out;
}

inline std::string to_marcxml(std::vector<marc::record> const& records) {
    std::string out;
    marc::marcxml_writer w{out};
    for (auto const& r : records) w.write(r);
    w.finish();
    return out;
}

}  // namespace marcxml_test
