// Helpers shared by the MARCXML tests: where the test data is, reading a whole input.
#pragma once

#include <marcpipe/marc/marcxml.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "support/files.hpp"

namespace marcxml_test {

namespace marc = marcpipe::marc;

// A file of tests/data/marcxml, or of another area when the name has a directory.
inline std::filesystem::path data_path(std::string const& name) {
    return marcpipe::testing::data_path("marcxml", name);
}

using marcpipe::testing::slurp;

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
