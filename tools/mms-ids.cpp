// mms-ids: the MMS IDs of a bibliographic export, one a line.
//
//   mms-ids [INPUT|-] [-o OUTPUT|-]
//
// INPUT is what Alma's "Export Bibliographic Records" job wrote -- MARC21 (ISO 2709) or MARCXML,
// detected from its first bytes -- or standard input. Each record's 001 is its MMS ID. A record
// that is broken, or has no 001, is reported on standard error with its number and byte offset,
// and the others are still listed.
//
// Exit status: 0 every record gave an ID; 1 some records were reported; 2 usage error, or the
// input cannot be read or is not a bibliographic export.
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>

#include <CLI/CLI.hpp>

#include <marcpipe/marc/any_reader.hpp>
#include <marcpipe/marc/source.hpp>
#include <marcpipe/run/output_path.hpp>

#ifndef MARCPIPE_VERSION
#define MARCPIPE_VERSION "unknown"
#endif

namespace marc = marcpipe::marc;

int main(int argc, char** argv) {
    CLI::App app{"Lists the MMS ID (001) of every record of a MARC21 or MARCXML export, one a line."};
    app.set_version_flag("--version", std::string{"mms-ids "} + MARCPIPE_VERSION);
    // Every option's default shows in --help.
    app.option_defaults()->always_capture_default();
    std::string input = "-";
    std::string output = "-";
    app.add_option("INPUT", input, "MARC21 or MARCXML export (format detected); - for standard input");
    app.add_option("-o,--output", output, "where the IDs go; - for standard output");
    app.footer(
        "Exit status: 0 all records listed; 1 some records reported on standard error; "
        "2 usage error or unreadable input.");
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    // Written directly (no side file); the input itself or a directory is refused.
    try {
        marcpipe::pipeline::check_paths(input, output, "");
    } catch (marcpipe::pipeline::path_refused const& e) {
        std::cerr << "mms-ids: " << e.what() << '\n';
        return 2;
    }
    std::uint64_t reported = 0;
    try {
        marc::reader_options options{marc::on_error::skip};
        options.on_problem = [&](marc::read_problem const& p) {
            ++reported;
            std::cerr << "mms-ids: " << (input == "-" ? "standard input" : input) << ": "
                      << p.message() << '\n';
        };
        auto reader = marc::any_reader::open(input, options);
        marc::file_sink out{output};
        std::string buffer;
        buffer.reserve(1 << 16);
        while (auto id = reader->next_mms_id()) {
            buffer += *id;
            buffer += '\n';
            if (buffer.size() >= (1 << 16) - 64) {
                out.write(buffer.data(), buffer.size());
                buffer.clear();
            }
        }
        out.write(buffer.data(), buffer.size());
    } catch (marc::marc_error const& e) {
        // Only the format check throws here: the input is not an export at all.
        std::cerr << "mms-ids: " << e.problem().detail << '\n';
        return 2;
    } catch (std::system_error const& e) {
        std::cerr << "mms-ids: " << e.what() << '\n';
        return 2;
    }
    return reported == 0 ? 0 : 1;
}
