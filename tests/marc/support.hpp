// Helpers shared by the ISO 2709 tests: where the test data is, reading a whole file.
#pragma once

#include <marcpipe/marc/iso2709.hpp>
#include <marcpipe/marc/utf8.hpp>

#include "support/files.hpp"

#include <filesystem>
#include <string>
#include <vector>

namespace iso2709_test {

namespace marc = marcpipe::marc;

using marcpipe::testing::slurp;

inline std::filesystem::path data_path(std::string const& name) {
    return marcpipe::testing::data_path("iso2709/" + name);
}

struct read_result {
    std::vector<std::string> ids;  // 001 of each good record, in order
    std::vector<marc::record> records;
    std::vector<marc::read_problem> problems;
};

// Every good record of a reader, skipping and collecting the bad ones.
inline read_result read_all(marc::iso2709_reader& reader) {
    read_result r;
    while (auto v = reader.next()) {
        r.ids.emplace_back(v->control_value("001"));
        r.records.push_back(v->to_record());
    }
    r.problems = reader.problems();
    return r;
}

inline read_result read_all(std::string_view bytes) {
    auto reader = marc::iso2709_reader::from_memory(bytes, marc::on_error::skip);
    return read_all(reader);
}

// The files every reader must take without a single problem.
inline std::vector<std::string> const& valid_files() {
    static std::vector<std::string> const files{
        "marc4j_sample1.mrc",
        "marc4j_brkrtest.mrc",
        "marc4j_brkrtest_UTF8.mrc",
        "marc4j_pride-and-prejudice-fixed.mrc",
        "marc4j_chabon.mrc",
        "marc4j_summerland.mrc",
        "marc4j_unordered-directory-entries.mrc",
        "marc4j_065001035.mrc",
        "marc4j_bad_leaders_10_11.mrc",
        "pymarc_marc.dat",
        "pymarc_utf8_with_leader_flag.dat",
        "pymarc_marc8.dat",
        "marc-perl_camel.usmarc",
        "marc-perl_cameleof.usmarc",
        "marc-perl_filler.usmarc",
        "marc-perl_badind.usmarc",
        "yaz_marccol1.u8.marc",
        "yaz_marccol5.u8.marc",
        "folio_mfhd_with_dupe_866s.mrc",
        "folio_holding.mrc",
        "folio_diac-4-theo-directly-from-sierra.mrc",
        "yaz-marcdump_alma-holdings.mrc",
    };
    return files;
}

}  // namespace iso2709_test
