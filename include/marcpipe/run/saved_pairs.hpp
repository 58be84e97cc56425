// saved_pairs: the pairs of an Analytics report kept beside a resumable run's output
// (output_target::pairs_path) once the report has been read, so that --resume takes them from
// there and never reads the report again.
#pragma once

#include <cstddef>
#include <fstream>
#include <string>

#include "marcpipe/alma/ids.hpp"
#include "marcpipe/pipeline/pairs.hpp"
#include "marcpipe/run/set_input.hpp"
#include "marcpipe/run/setup_error.hpp"

namespace marcpipe::pipeline {

// `mms_id<TAB>holding_id` lines, bibs in the report's order, each bib's holdings ascending.
inline void save_pairs(std::string const& path, report_pairs const& pairs) {
    std::string text;
    for (auto const& mms : pairs.bibs())
        for (auto const& holding : *pairs.holdings_of(mms)) text += mms + '\t' + holding + '\n';
    detail::save_members(path, text);
}

inline report_pairs load_saved_pairs(std::string const& path, std::string const& program) {
    std::ifstream in{path, std::ios::binary};
    if (!in) throw setup_error(program + ": cannot read the saved pairs " + path);
    report_pairs out;
    std::string line;
    std::size_t n = 0;
    while (std::getline(in, line)) {
        ++n;
        auto const tab = line.find('\t');
        if (tab == std::string::npos || !alma::is_valid_id(line.substr(0, tab)) || !alma::is_valid_id(line.substr(tab + 1)))
            throw setup_error(program + ": " + path + " line " + std::to_string(n) +
                              " is not mms_id<TAB>holding_id; remove it, or rerun with --restart");
        out.add(line.substr(0, tab), line.substr(tab + 1));
    }
    return out;
}

}  // namespace marcpipe::pipeline
