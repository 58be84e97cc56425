// west-check: does a file of holdings records meet WEST's rules? The checks west-holdings --west
// runs (west/west_checks.hpp), on any MARC21 or MARCXML file, whatever tool made it.
//
//   west-check UCB.alma.archived.20260101.mrc > failures.csv
//
// Each failure is a CSV row on standard output: record number (1-based, every record counted),
// holding ID (001), MMS ID (004), rule, what was found; given several files, a first column says
// which file. A record that cannot be read is a row with the rule "structure" and the reader's
// message; the next records are still read.
//
// Exit status: 0 every record passes; 1 some fail; 2 usage error, or a file cannot be read (not
// there, not MARC, a list of MMS IDs); the other files are still checked.
#include <marcpipe/marc/any_reader.hpp>
#include <marcpipe/net/printable.hpp>
#include <marcpipe/west/west_checks.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "common/command_line.hpp"

#ifndef MARCPIPE_VERSION
#define MARCPIPE_VERSION "unknown"
#endif

namespace marc = marcpipe::marc;
namespace pipeline = marcpipe::pipeline;

namespace {

struct tally {
    std::uint64_t records = 0;
    std::uint64_t failures = 0;
    bool unreadable = false;
};

// Checks one file, writing its rows to standard output, each led by the file's cell when
// `file_column`.
void check_file(std::string const& path, bool file_column, tally& t) {
    std::string const name = path == "-" ? "standard input" : path;
    // A file name is anyone's text: shown on the terminal escaped, as the CSV cell is.
    std::string const shown = marcpipe::net::printable(name);
    auto const shown_what = [](std::system_error const& e) { return marcpipe::net::printable(e.what()); };
    std::string const lead = file_column ? pipeline::west_csv_file_cell(name) : "";
    std::uint64_t number = 0;  // of the record last met, good or bad
    auto row = [&](std::uint64_t n, std::string_view holding, std::string_view mms, pipeline::west_failure const& f) {
        ++t.failures;
        std::cout << lead << pipeline::west_csv_row(n, holding, mms, f);
    };
    marc::reader_options options{marc::on_error::skip};
    options.on_problem = [&](marc::read_problem const& p) {
        number = p.record_number;
        row(p.record_number, "", "", {"structure", p.message()});
    };
    std::unique_ptr<marc::any_reader> reader;
    try {
        reader = marc::any_reader::open(path, options);
    } catch (marc::marc_error const& e) {
        std::cerr << "west-check: " << shown << ": " << marcpipe::net::printable(e.problem().detail) << '\n';
        t.unreadable = true;
        return;
    } catch (std::system_error const& e) {
        std::cerr << "west-check: " << shown_what(e) << '\n';
        t.unreadable = true;
        return;
    }
    if (reader->format() == marc::input_format::mms_id_list) {
        std::cerr << "west-check: " << shown << " is a list of MMS IDs, not MARC records\n";
        t.unreadable = true;
        return;
    }
    // The OCLC number's place is a property of one file.
    pipeline::west_checker checker;
    marc::record r;
    try {
        while (reader->read(r)) {
            ++number;
            ++t.records;
            for (auto const& f : checker.check(r)) row(number, r.control_value("001"), r.control_value("004"), f);
        }
    } catch (marc::marc_error const& e) {
        // What the reader cannot get past (XML that stops parsing): the rest of the file is lost.
        row(e.problem().record_number, "", "", {"structure", e.problem().message() + "; the rest of the file is unread"});
    } catch (std::system_error const& e) {
        std::cerr << "west-check: " << shown_what(e) << '\n';
        t.unreadable = true;
    }
}

}  // namespace

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    CLI::App app{"Checks holdings records against WEST's rules: 001 and 004; a 583 with $a (committed to retain), "
                 "$c and $d (YYYYMMDD, $d not before $c) and $f; an OCLC number (035 (OCoLC) or 014) in the same "
                 "place in every record; an 852 with $b; a readable record. Failures go to standard output as CSV: record,holding_id,mms_id,rule,found (with several files, "
                 "a first column: file)."};
    app.set_version_flag("--version", std::string{"west-check (marcpipe) "} + MARCPIPE_VERSION);
    std::vector<std::string> files;
    bool no_header = false;
    app.add_option("FILE", files, "MARC21 or MARCXML files (format detected); - for standard input")->required();
    app.add_flag("--no-header", no_header, "leave out the CSV header line");
    app.footer("Exit status: 0 all records pass; 1 some fail; 2 usage error or a file cannot be read.");
    if (auto done = marcpipe::tools::parse_command_line(app, argc, argv)) return *done;

    bool const file_column = files.size() > 1;
    if (!no_header) std::cout << (file_column ? pipeline::west_report_file_column : "") << pipeline::west_report_header;
    tally t;
    for (auto const& path : files) check_file(path, file_column, t);
    std::cout.flush();
    std::cerr << "west-check: " << t.records << " records read, " << t.failures << " failures\n";
    if (t.unreadable || !std::cout) return 2;
    return t.failures ? 1 : 0;
}
