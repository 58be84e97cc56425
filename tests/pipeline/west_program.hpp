// west_program: what the tests of west-holdings end to end share — the program, the tests' key
// and seed, and readers of what a run leaves (its report, its journal).
#pragma once

#include <bib_export.hpp>
#include <catalogue.hpp>
#include <launcher.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "catch.hpp"
#include "expected_holdings.hpp"
#include "support/child.hpp"
#include "support/csv.hpp"
#include "support/emulator.hpp"
#include "support/files.hpp"

namespace west_test {

namespace fs = std::filesystem;
namespace marc = marcpipe::marc;
using marcpipe::emulator::catalogue;
using marcpipe::emulator::emulator_process;
using marcpipe::testing::alma_setting;
using marcpipe::testing::child;
using marcpipe::testing::csv_column;
using marcpipe::testing::emulator_flags;
using marcpipe::testing::expected_holdings;
using marcpipe::testing::export_as;
using marcpipe::testing::finished;
using marcpipe::testing::lines;
using marcpipe::testing::marc21_difference;
using marcpipe::testing::marcxml_difference;
using marcpipe::testing::run;
using marcpipe::testing::scratch_dir;
using marcpipe::testing::slurp;
using marcpipe::testing::west_setting;
using marcpipe::testing::write_export;

inline constexpr char const* key = marcpipe::testing::test_api_key;
inline constexpr std::uint64_t seed = marcpipe::testing::test_seed;
inline std::string const west = MARCPIPE_WEST_HOLDINGS;

// The catalogue's MMS IDs as a list, one a line, in catalogue order.
inline void write_id_list(catalogue const& cat, fs::path const& path) {
    std::ofstream ids{path};
    for (std::size_t b = 0; b < cat.size(); ++b) ids << cat.mms_id(b) << "\n";
}

// "" when the output file (MARC21 or MARCXML by its suffix) holds exactly the expected records.
inline std::string output_difference(expected_holdings const& expected, fs::path const& output) {
    return output.extension() == ".xml" ? marcxml_difference(expected, output)
                                        : marc21_difference(expected, output);
}

inline std::vector<std::string> env_with_key(std::string const& k = key) { return {"ALMA_API_KEY=" + k}; }

// The tests' key, and `day` (YYYYMMDD) for the run's today.
inline std::vector<std::string> env_on_day(std::string const& day) {
    auto env = env_with_key();
    env.push_back("MARCPIPE_TODAY=" + day);
    return env;
}

// MMS IDs of the catalogue's deleted bibs, as the error report must list them.
inline std::vector<std::string> deleted_ids(catalogue const& cat) {
    std::vector<std::string> out;
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (cat.deleted(b)) out.push_back(cat.mms_id(b));
    return out;
}

// The MMS IDs a report names, row by row.
inline std::vector<std::string> report_mms_ids(std::string const& csv) { return csv_column(csv, "mms_id"); }

// How many bibs the journal says are finished (0 while it has no checkpoint yet).
inline std::size_t journal_bibs_done(fs::path const& journal) {
    std::ifstream in{journal, std::ios::binary};  // not written yet, or gone at the end: nothing done
    std::string text{std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
    // The run is writing while the test reads: a line without its end may be cut anywhere.
    text.resize(text.rfind('\n') + 1);
    std::size_t done = 0;
    for (auto const& line : lines(text)) {
        auto at = line.find(" bibs=");
        if (line.rfind("done ", 0) == 0 && at != std::string::npos) done = std::stoul(line.substr(at + 6));
    }
    return done;
}

// Waits until the run `c` has finished `bibs` bibs by its journal; false when it ended first.
inline bool reached_bibs(child& c, fs::path const& journal, std::size_t bibs) {
    return c.wait_until([&] { return journal_bibs_done(journal) >= bibs; });
}

// What a run over the whole export leaves when nothing was lost: exit 1 (the catalogue's deleted
// bibs), every holding in `output` (MARC21 or MARCXML by its suffix), and an error report
// (errors.csv) that names the deleted bibs and nothing else.
inline void check_whole_export(west_setting const& s, finished const& r, fs::path const& output) {
    INFO(r.err);
    CHECK(r.status == 1);
    CHECK(output_difference(expected_holdings{s.cat}, output) == "");
    CHECK(report_mms_ids(slurp(s.dir / "errors.csv")) == deleted_ids(s.cat));
}

// The run of `args` (logged as "first") until its journal beside `output` says `bibs` bibs are
// finished; then the emulator takes `knobs` (an outage, a spent day) and the run goes to its end.
inline finished stopped_midway(west_setting const& s, std::vector<std::string> const& args,
                               fs::path const& output, std::size_t bibs,
                               std::map<std::string, std::string> const& knobs) {
    child c{west, args, env_with_key(), s.dir, "first"};
    bool const reached = reached_bibs(c, fs::path{output} += ".journal", bibs);
    s.server.configure(knobs);
    auto first = c.wait();
    INFO(first.err);
    REQUIRE(reached);
    return first;
}

// A run stopped to be resumed: exit 3, a message saying `said` and how to go on (--resume), the
// journal beside `output` kept for that, and no output yet.
inline void check_stopped_for_resume(finished const& first, std::string const& said,
                                     fs::path const& output) {
    INFO(first.err);
    CHECK(first.status == 3);
    CHECK(first.err.find(said) != std::string::npos);
    CHECK(first.err.find("--resume") != std::string::npos);
    CHECK(fs::exists(fs::path{output} += ".journal"));
    CHECK_FALSE(fs::exists(output));
}

// The run of `args` resumed (--resume) the next day, when Alma counts the day's calls afresh.
inline finished resumed_next_day(west_setting const& s, std::vector<std::string> args,
                                 std::vector<std::string> const& env = env_with_key()) {
    s.server.reset();
    s.server.configure({{"daily", "0"}});
    args.push_back("--resume");
    return run(west, args, env, s.dir, "second");
}

// AddressSanitizer's shadow memory and quarantine inflate the resident set many times over.
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool under_asan = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
inline constexpr bool under_asan = true;
#else
inline constexpr bool under_asan = false;
#endif
#else
inline constexpr bool under_asan = false;
#endif

// west-holdings --west UCB, dated 20260401, into dir/NAME/; `input` says what to read.
inline finished west_preset_run(emulator_process const& server, fs::path const& dir,
                                std::string const& name, std::vector<std::string> const& input) {
    fs::create_directories(dir / name);
    std::vector<std::string> args{"--base-url", server.base_url(), "--rate", "1000", "--west", "UCB", "-o", name + "/"};
    args.insert(args.end(), input.begin(), input.end());
    return run(west, args, env_on_day("20260401"), dir, name);
}


// The rows of a CSV report (its header left out) that contain `text`.
inline std::vector<std::string> rows_with(std::string const& csv, std::string const& text) {
    std::vector<std::string> out;
    auto rows = lines(csv);
    for (std::size_t i = 1; i < rows.size(); ++i)
        if (rows[i].find(text) != std::string::npos) out.push_back(rows[i]);
    return out;
}

// The first `n` bibs of the catalogue that Alma knows and that have holdings.
inline std::vector<std::size_t> bibs_with_holdings(catalogue const& cat, std::size_t n) {
    std::vector<std::size_t> out;
    for (std::size_t b = 0; b < cat.size() && out.size() < n; ++b)
        if (!cat.deleted(b) && cat.holdings_count(b) > 0) out.push_back(b);
    return out;
}

// A report's rows without their last column: Alma (and the emulator) give every answer a
// tracking ID of its own, so a call asked again has a new one.
inline std::vector<std::string> without_tracking_ids(std::string const& csv) {
    std::vector<std::string> rows = lines(csv);
    for (auto& row : rows) row.resize(row.rfind(','));
    return rows;
}

}  // namespace west_test
