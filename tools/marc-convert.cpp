// marc-convert: MARC21 (ISO 2709) to MARCXML and back, keeping only the records that have the
// fields asked for.
//
//   marc-convert INPUT [-o OUTPUT|-] [--format marc21|marcxml] [--require TAG]... [--on-error stop|skip]
//
// The input format is detected. The output format is --format (or its older name --to), or else
// follows OUTPUT's name: ".xml" is MARCXML, anything else MARC21. "-" is standard input or
// output, the default output; MARC21 is refused on a terminal.
//
// Bad records are reported on standard error with their number and byte offset. With
// --on-error skip (the default) conversion goes on without them; with stop it ends at the first.
// Records that cannot be written are reported the same way: over 99,999 bytes or a field over
// 9,999 bytes in MARC21; bytes that are not UTF-8 in MARCXML (written with U+FFFD under skip).
//
// Exit status: 0 every record converted; 1 some records reported; 2 usage error, or the input
// cannot be read or is not MARC.
#include <optional>
#include <iostream>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include <CLI/CLI.hpp>

#include <marcpipe/marc/any_reader.hpp>
#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/marc/marcxml_writer.hpp>
#include <marcpipe/marc/output_format.hpp>
#include <marcpipe/marc/source.hpp>
#include <marcpipe/run/output_path.hpp>

#include "common/option_checks.hpp"

#ifndef MARCPIPE_VERSION
#define MARCPIPE_VERSION "unknown"
#endif

namespace marc = marcpipe::marc;

namespace {

// Whether a record (owning or a view) has every required field.
template <class Record>
bool has_all(Record const& r, std::vector<std::string> const& tags) {
    for (auto const& t : tags)
        if (!r.has(t)) return false;
    return true;
}

// The output side: one of the two writers, over a file or standard output.
class output {
public:
    output(std::string const& path, marc::output_format f, marc::on_error policy,
           std::function<void(marc::read_problem const&)> report, bool keep_leader_09)
        : format_{f} {
        // Both writers follow one rule for what their format cannot carry: replaced, reported.
        if (f == marc::output_format::marc21) {
            marc::iso2709_write_options o;
            o.keep_leader_09 = keep_leader_09;
            o.policy = policy;
            o.on_problem = std::move(report);
            iso_.emplace(std::make_unique<marc::file_sink>(path), std::move(o));
        } else {
            file_.emplace(path);
            if (!*file_) throw std::system_error(file_->error(), "cannot create " + path);
            stream_ = &file_->stream();
            auto o = marc::marcxml_output_options();
            o.policy = policy;
            o.on_problem = std::move(report);
            xml_.emplace(*stream_, std::move(o));
        }
    }

    template <class Record>
    void write(Record const& r) {
        if (format_ == marc::output_format::marc21)
            iso_->write(r);
        else
            xml_->write(r);
    }

    void finish() {
        if (iso_) iso_->flush();
        if (xml_) {
            xml_->finish();
            stream_->flush();
            if (!*stream_)
                throw std::system_error(std::make_error_code(std::errc::io_error),
                                        "cannot write the output");
        }
    }

private:
    marc::output_format format_;
    std::optional<marc::iso2709_writer> iso_;
    std::optional<marc::output_stream> file_;
    std::ostream* stream_ = nullptr;
    std::optional<marc::marcxml_writer> xml_;
};

}  // namespace

int main(int argc, char** argv) {
    std::ios::sync_with_stdio(false);
    CLI::App app{"Converts MARC21 (ISO 2709) to MARCXML and back, optionally keeping only the "
                 "records that have given fields."};
    app.set_version_flag("--version", std::string{"marc-convert "} + MARCPIPE_VERSION);
    // Every option's default shows in --help.
    app.option_defaults()->always_capture_default();
    std::string input, output_path = "-", to, on_error = "skip";
    std::vector<std::string> required;
    app.add_option("INPUT", input, "MARC21 or MARCXML (format detected); - for standard input")
        ->required();
    app.add_option("-o,--output", output_path, "output file; - for standard output");
    app.add_option("--format,--to", to,
                   "marc21 or marcxml (default: marcxml if OUTPUT ends in .xml, else marc21)")
        ->check(CLI::IsMember({"marc21", "marcxml"}));
    // One tag each time, so that `--require 245 INPUT` leaves INPUT to be the input.
    app.add_option("--require", required, "keep only records that have this field (repeatable)")
        ->allow_extra_args(false)
        ->check(marcpipe::tools::field_tag());
    app.add_option("--on-error", on_error, "on a bad record: skip it (report, go on) or stop")
        ->check(CLI::IsMember({"stop", "skip"}));
    app.footer(
        "Exit status: 0 all records converted; 1 some records reported on standard error; "
        "2 usage error or unreadable input.");
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    marc::output_format const format =
        marc::output_format_for(output_path, to, marc::output_format::marc21);
    if (marc::binary_on_terminal(format, output_path)) {
        std::cerr << "marc-convert: " << marc::binary_on_terminal_hint << '\n';
        return 2;
    }
    // Written directly (no side file), so a device, a FIFO or a link's target is fine; the
    // input itself or a directory is not.
    try {
        marcpipe::pipeline::check_paths(input, output_path, "");
    } catch (marcpipe::pipeline::path_refused const& e) {
        std::cerr << "marc-convert: " << e.what() << '\n';
        return 2;
    }
    marc::on_error const policy = on_error == "stop" ? marc::on_error::stop : marc::on_error::skip;
    std::string const input_name = input == "-" ? "standard input" : input;

    std::uint64_t reported = 0;
    auto report = [&](marc::read_problem const& p) {
        ++reported;
        std::cerr << "marc-convert: " << input_name << ": " << p.message() << '\n';
    };

    std::unique_ptr<marc::any_reader> reader;
    try {
        marc::reader_options options{policy};
        options.on_problem = report;
        reader = marc::any_reader::open(input, options);
        if (reader->format() == marc::input_format::mms_id_list) {
            std::cerr << "marc-convert: " << input_name
                      << " is a list of MMS IDs, not MARC records\n";
            return 2;
        }
    } catch (marc::marc_error const& e) {
        std::cerr << "marc-convert: " << e.problem().detail << '\n';
        return 2;
    } catch (std::system_error const& e) {
        std::cerr << "marc-convert: " << e.what() << '\n';
        return 2;
    }

    try {
        // MARC-8 records copied from ISO 2709 to ISO 2709 keep leader/09 as it is.
        bool const from_iso = reader->format() == marc::input_format::iso2709;
        output out{output_path, format, policy,
                   [&](marc::read_problem const& p) {
                       ++reported;
                       std::cerr << "marc-convert: " << output_path << ": " << p.message() << '\n';
                   },
                   from_iso};
        // Under skip, a record the writer refuses is reported and the rest still written.
        auto write = [&](auto const& r) {
            try {
                out.write(r);
            } catch (marc::marc_error const& e) {
                if (policy == marc::on_error::stop) throw;
                ++reported;
                std::cerr << "marc-convert: " << output_path << ": " << e.what() << '\n';
            }
        };
        if (auto* iso = reader->iso2709()) {
            // ISO 2709 input is written from the record views, never copied into records.
            while (auto v = iso->next())
                if (has_all(*v, required)) write(*v);
        } else {
            // One record, its storage reused from record to record.
            marc::record r;
            while (reader->read(r))
                if (has_all(r, required)) write(r);
        }
        out.finish();
    } catch (marc::marc_error const& e) {
        // on_error::stop: the first bad record ends the run.
        std::cerr << "marc-convert: " << input_name << ": " << e.what() << '\n';
        return 1;
    } catch (std::system_error const& e) {
        std::cerr << "marc-convert: " << e.what() << '\n';
        return 2;
    }
    return reported == 0 ? 0 : 1;
}
