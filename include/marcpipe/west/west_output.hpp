// west_output: the name WEST's scripts expect of an archive file, SYMBOL.alma.archived.YYYYMMDD.mrc,
// and which date it carries. The date is the day the run started: a run stopped one day and
// resumed the next finishes the file it began, so --resume finds the date in the journal of
// the run it resumes (the job line holds "west-date=YYYYMMDD") rather than taking today's.
#pragma once

#include <algorithm>
#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "marcpipe/run/job_identity.hpp"
#include "marcpipe/run/journal.hpp"
#include "marcpipe/run/setup_error.hpp"
#include "marcpipe/west/west_checks.hpp"

namespace marcpipe::pipeline {

// A WEST symbol goes into a file name: letters, digits, '-' and '_' only, beginning with a letter
// or digit (a symbol starting with '-' is an option taken for the symbol: `--west -o`).
inline bool valid_west_symbol(std::string_view symbol) noexcept {
    if (symbol.empty() || symbol.size() > 32) return false;
    if (symbol.front() == '-' || symbol.front() == '_') return false;
    for (char c : symbol)
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_'))
            return false;
    return true;
}

inline std::string west_archive_name(std::string_view symbol, std::string_view yyyymmdd) {
    return std::string{symbol} + ".alma.archived." + std::string{yyyymmdd} + ".mrc";
}

// Today in local time as YYYYMMDD. MARCPIPE_TODAY=YYYYMMDD stands in for the clock, so tests
// can start a run "yesterday"; it is not meant for anything else.
inline std::string today_yyyymmdd() {
    if (char const* forced = std::getenv("MARCPIPE_TODAY"); forced && valid_yyyymmdd(forced)) return forced;
    std::time_t const now = std::time(nullptr);
    std::tm local{};
    ::localtime_r(&now, &local);
    char buf[9];
    std::strftime(buf, sizeof buf, "%Y%m%d", &local);
    return buf;
}

// The job line's key for that date (west_preset::job), which --resume looks for.
inline constexpr std::string_view west_date_key = "west-date";

// The dates of the unfinished WEST runs for `symbol` in `dir`: one per journal named
// SYMBOL.alma.archived.YYYYMMDD.mrc.journal whose job line carries the same date.
inline std::vector<std::string> west_journal_dates(std::filesystem::path const& dir, std::string_view symbol) {
    std::vector<std::string> dates;
    std::string const prefix = std::string{symbol} + ".alma.archived.";
    constexpr std::string_view suffix = ".mrc.journal";
    std::error_code ec;
    for (auto const& entry : std::filesystem::directory_iterator{dir.empty() ? "." : dir, ec}) {
        std::string const name = entry.path().filename().string();
        if (name.size() != prefix.size() + 8 + suffix.size() || !name.starts_with(prefix) || !name.ends_with(suffix))
            continue;
        std::string const date = name.substr(prefix.size(), 8);
        if (!valid_yyyymmdd(date)) continue;
        try {
            auto state = journal::read(entry.path().string());
            if (state && state->job.find(std::string{west_date_key} + "=" + date) != std::string::npos)
                dates.push_back(date);
        } catch (journal_error const&) {
        }
    }
    std::sort(dates.begin(), dates.end());
    return dates;
}

// What --west asks of the run's last stage (west_stage.hpp); without --west the composition
// leaves that stage out.
enum class west_mode {
    report,  // failures reported, records kept
    strict,  // failures reported, records left out
};

// --west SYMBOL [--west-strict]: where the archive file goes, and the date in its name.
struct west_preset {
    std::string symbol;
    bool strict = false;
    std::string path;  // DIR/SYMBOL.alma.archived.YYYYMMDD.mrc
    std::string date;  // YYYYMMDD

    west_mode mode() const noexcept { return strict ? west_mode::strict : west_mode::report; }
    // What the journal keeps of the preset: a resumed run must be the same, and --resume finds
    // the date here (west_journal_dates).
    job_parts job() const {
        return {{"west", symbol + (strict ? ",strict" : "")}, {std::string{west_date_key}, date}};
    }
};

// The preset for `symbol`: the output's name, in the directory -o names (else the current one),
// dated the day the run started — on --resume, the day the journal of the run being resumed
// says. Throws setup_error saying why not.
inline west_preset west_output(std::string const& symbol, bool strict, std::string const& output, bool output_given,
                               bool resume, std::string const& program) {
    namespace fs = std::filesystem;
    if (!valid_west_symbol(symbol))
        throw setup_error(program + ": --west takes a library's WEST symbol (letters, digits, - and _, beginning "
                                    "with a letter or digit), not '" + symbol + "'");
    fs::path dir;
    if (output_given) {
        if (output == "-" || !(output.ends_with('/') || fs::is_directory(output)))
            throw setup_error(program + ": with --west the output is named " + west_archive_name(symbol, "YYYYMMDD") +
                              "; -o names only its directory (ending in /), not '" + output + "'");
        dir = output;
        if (!fs::is_directory(dir))
            throw setup_error(program + ": cannot write to " + output + ": there is no such directory");
    }
    std::string date = today_yyyymmdd();
    if (resume) {
        auto const dates = west_journal_dates(dir, symbol);
        if (dates.size() > 1) {
            std::string names;
            for (auto const& d : dates) names += (names.empty() ? "" : ", ") + west_archive_name(symbol, d);
            throw setup_error(program + ": --resume finds more than one unfinished run for " + symbol + " (" + names +
                              "); remove the .journal of each you do not want to finish");
        }
        if (!dates.empty()) date = dates.front();
    }
    return west_preset{symbol, strict, (dir / west_archive_name(symbol, date)).string(), date};
}

}  // namespace marcpipe::pipeline
