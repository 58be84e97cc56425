// output_format: which MARC a program writes and where, decided the same way by every program:
// `--format` when given, else the output's name (".xml" is MARCXML, anything else MARC21), and
// for standard output ("-") the program's own default; binary MARC is refused on a terminal,
// where it would only garble the screen; and MARCXML carries the leader MARC21 would.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "marcpipe/marc/marcxml_writer.hpp"

namespace marcpipe::marc {

enum class output_format { marc21, marcxml };

inline constexpr std::string_view to_string(output_format f) noexcept {
    return f == output_format::marcxml ? "marcxml" : "marc21";
}

// The format for `path`: `format_option` ("marc21" or "marcxml") when not empty, else
// `standard_output_default` for "-", else MARCXML for a name ending in ".xml" and MARC21 for
// any other.
inline output_format output_format_for(std::string_view path, std::string_view format_option,
                                       output_format standard_output_default) {
    if (!format_option.empty())
        return format_option == "marcxml" ? output_format::marcxml : output_format::marc21;
    if (path == "-") return standard_output_default;
    return path.ends_with(".xml") ? output_format::marcxml : output_format::marc21;
}

// What a program says, exiting with its usage status, when binary_on_terminal holds.
inline constexpr std::string_view binary_on_terminal_hint =
    "binary MARC on a terminal: use -o FILE, --format marcxml, or a pipe";

// Whether writing `format` to `path` would put binary MARC on a terminal.
inline bool binary_on_terminal(output_format format, std::string_view path,
                               bool standard_output_is_terminal) noexcept {
    return format == output_format::marc21 && path == "-" && standard_output_is_terminal;
}
inline bool binary_on_terminal(output_format format, std::string_view path) noexcept {
    return binary_on_terminal(format, path, ::isatty(STDOUT_FILENO) == 1);
}

// The MARCXML writer's options for a program's output: the leader the ISO 2709 writer would put,
// so that a program's MARCXML and MARC21 of one record agree and readers take it without a warning.
inline marcxml_writer::options marcxml_output_options() {
    marcxml_writer::options o;
    o.iso2709_leader = true;
    return o;
}

// An output opened by name: the file, created or truncated, or standard output for "-".
// Opening does not throw: a program tests it and says problem() before any work is done.
class output_stream {
public:
    explicit output_stream(std::string const& path) {
        if (path == "-") return;
        file_.emplace(path, std::ios::binary | std::ios::trunc);
        if (!*file_) {
            error_ = std::error_code{errno, std::generic_category()};
            problem_ = "cannot create " + path + ": " + error_.message();
        }
    }
    explicit operator bool() const noexcept { return !error_; }
    std::error_code error() const noexcept { return error_; }
    // "cannot create PATH: why", or empty when the output is open.
    std::string const& problem() const noexcept { return problem_; }
    std::ostream& stream() noexcept { return file_ ? *file_ : std::cout; }

private:
    std::optional<std::ofstream> file_;
    std::error_code error_;
    std::string problem_;
};

}  // namespace marcpipe::marc
