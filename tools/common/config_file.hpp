// config_file: reads the programs' config file — `name = value` lines, `#` comments, `[name]`
// sections one per institution (chosen with --profile) — into the settings that apply to one
// run. The tools' own command-line code, not part of the library; command_line.hpp applies the
// settings as defaults the command line overrides.
//
//   # ~/.config/marcpipe/config
//   region = na
//   api-key-file = ~/.config/marcpipe/key
//   [ucb]
//   institution = 01UCB_INST
//   west = UCB
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace marcpipe::tools {

// Every name a config file may hold: the long options of all the programs that take a value or
// are flags. A name one program lacks is left to the others; a name none has is a typo.
inline constexpr std::array<std::string_view, 26> config_names{
    "base-url", "region", "api-key-file", "rate", "concurrency", "max-attempts", "patience", "cacert",
    "output", "format", "to", "require", "errors", "resume", "restart", "holdings-source", "progress",
    "no-progress", "institution", "dry-run", "keep-calls", "set", "west", "west-strict", "on-error",
    "no-header"};

// A file's fault, named by its place: "FILE:LINE: what".
struct config_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct config_setting {
    std::string name;
    std::string value;
    std::string file;
    std::size_t line = 0;
    std::string place() const { return file + ":" + std::to_string(line); }
};

struct config_contents {
    std::vector<config_setting> settings;  // before the first section, then the profile's, in file order
    bool profile_found = false;
};

// A leading `~/` is the home directory, as the shell would have it on a command line.
inline std::string expand_home(std::string const& value) {
    if (!value.starts_with("~/")) return value;
    char const* home = std::getenv("HOME");
    return home && *home ? std::string{home} + value.substr(1) : value;
}

// $XDG_CONFIG_HOME/marcpipe/config, or ~/.config/marcpipe/config when XDG_CONFIG_HOME is unset
// or empty (the XDG specification); empty when neither it nor HOME is set.
inline std::string default_config_path() {
    if (char const* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) return std::string{xdg} + "/marcpipe/config";
    if (char const* home = std::getenv("HOME"); home && *home) return std::string{home} + "/.config/marcpipe/config";
    return {};
}

inline std::string_view trimmed(std::string_view s) {
    auto const blank = [](char c) { return c == ' ' || c == '\t' || c == '\r'; };
    while (!s.empty() && blank(s.front())) s.remove_prefix(1);
    while (!s.empty() && blank(s.back())) s.remove_suffix(1);
    return s;
}

// The settings of `path` that apply to `profile` (none: only those before the first section).
// Throws config_error naming the file and line: an unreadable file, a line that is not
// `name = value` or `[name]`, a name no program has, or the key itself.
inline config_contents read_config(std::string const& path, std::string const& profile) {
    std::ifstream in{path};
    if (!in) throw config_error(path + ": cannot read the config file");
    config_contents contents;
    std::string section;  // empty: before the first section
    std::string raw;
    std::size_t number = 0;
    while (std::getline(in, raw)) {
        ++number;
        auto const fault = [&](std::string const& what) {
            return config_error(path + ":" + std::to_string(number) + ": " + what);
        };
        std::string_view line{raw};
        if (auto hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
        line = trimmed(line);
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line.back() != ']' || trimmed(line.substr(1, line.size() - 2)).empty())
                throw fault("expected [profile name], not '" + std::string{line} + "'");
            section = trimmed(line.substr(1, line.size() - 2));
            if (section == profile) contents.profile_found = true;
            continue;
        }
        auto const equals = line.find('=');
        if (equals == std::string_view::npos) throw fault("expected name = value, not '" + std::string{line} + "'");
        std::string const name{trimmed(line.substr(0, equals))};
        std::string const value{trimmed(line.substr(equals + 1))};
        // Checked in every section: a typo under another profile is found before it is needed.
        if (name == "api-key")
            throw fault("the API key does not go in the config file; put it in a file only you can read "
                        "(chmod 600 FILE) and name that file with api-key-file = FILE");
        if (std::find(config_names.begin(), config_names.end(), name) == config_names.end())
            throw fault("unknown setting '" + name + "'");
        if (section.empty() || section == profile) contents.settings.push_back({name, expand_home(value), path, number});
    }
    if (in.bad()) throw config_error(path + ": cannot read the config file");
    return contents;
}

}  // namespace marcpipe::tools
