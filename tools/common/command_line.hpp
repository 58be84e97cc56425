// command_line: parses a tool's command line with its config file — --config FILE, else
// $XDG_CONFIG_HOME/marcpipe/config when it exists — whose settings are the defaults the command
// line overrides; --profile picks a section, --show-config prints what is in effect and where each
// setting came from. The tools' own command-line code, not part of the library.
//
//   CLI::App app{...};
//   ... app.add_option(...) ...
//   if (auto done = marcpipe::tools::parse_command_line(app, argc, argv)) return *done;
//
// A setting the program has no option for is left to the programs that do. A fault in the file
// (unknown name, bad value, unreadable) is exit 2 with a message naming the file and line.
#pragma once

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "config_file.hpp"

namespace marcpipe::tools {

namespace detail {

// Where each option's values came from, for --show-config: "command line", or "FILE:LINE" for
// each value; absent, the default.
using origins = std::map<CLI::Option const*, std::vector<std::string>>;

inline bool is_flag(CLI::Option const* o) { return o->get_expected_max() == 0; }

// The settings of one name go to its option; false when the command line or an option it
// excludes there already decided.
inline void apply(CLI::Option* option, std::vector<config_setting const*> const& lines, origins& from) {
    for (auto const* other : option->get_excludes())
        if (other->count() > 0) {
            auto const was = from.find(other);
            if (was == from.end() || was->second.front() == "command line") return;  // the command line wins
            throw config_error(lines.back()->place() + ": " + lines.back()->name + " cannot be used with " +
                               other->get_name() + " (" + was->second.front() + ")");
        }
    // A single value: the last line wins, so a profile's line overrides one before the sections.
    std::vector<config_setting const*> used = lines;
    if (option->get_expected_max() <= 1) used = {lines.back()};
    for (auto const* s : used) {
        std::string value = s->value;
        if (is_flag(option)) {
            if (value != "true" && value != "false")
                throw config_error(s->place() + ": " + s->name + " is a flag: true or false, not '" + value + "'");
            if (value == "false") return;
        }
        option->add_result(value);
    }
    try {
        option->run_callback();
    } catch (CLI::Error const& e) {
        throw config_error(used.back()->place() + ": " + used.back()->name + " = " + used.back()->value + ": " + e.what());
    }
    for (auto const* s : used) from[option].push_back(s->place());
    for (auto const* needed : option->get_needs())
        if (needed->count() == 0)
            throw config_error(used.back()->place() + ": " + used.back()->name + " needs " + needed->get_name());
}

inline void show(CLI::App const& app, std::string const& file, origins const& from, std::ostream& out) {
    out << "# settings in effect, each with where it came from; the API key is never shown\n";
    for (auto const* o : app.get_options()) {
        if (o->get_lnames().empty()) continue;
        std::string const name = o->get_lnames().front();
        if (name == "help" || name == "version" || name == "show-config") continue;
        auto const was = from.find(o);
        auto const origin = [&](std::size_t i) {
            return was == from.end() ? "default" : was->second[std::min(i, was->second.size() - 1)];
        };
        if (name == "config") {
            out << name << " = " << (file.empty() ? "(none)" : file) << "  # " << origin(0) << "\n";
        } else if (is_flag(o)) {
            out << name << " = " << (o->count() > 0 ? "true" : "false") << "  # " << origin(0) << "\n";
        } else if (o->count() == 0) {
            out << name << " = " << o->get_default_str() << "  # " << origin(0) << "\n";
        } else {
            for (std::size_t i = 0; i < o->results().size(); ++i)
                out << name << " = " << o->results()[i] << "  # " << origin(i) << "\n";
        }
    }
    if (app.get_option_no_throw("--api-key-file") != nullptr && app.get_option_no_throw("--api-key-file")->count() == 0)
        out << "# the API key: from ALMA_API_KEY (" << (std::getenv("ALMA_API_KEY") ? "set" : "not set") << ")\n";
}

}  // namespace detail

// Parses argv, then the config file; returns the exit status when the program is done (help,
// version, --show-config, an error), nothing when it should run.
inline std::optional<int> parse_command_line(CLI::App& app, int argc, char** argv) {
    std::string config_path, profile;
    bool show_config = false;
    auto* config_option = app.add_option("--config", config_path,
        "read settings from this file (default: $XDG_CONFIG_HOME/marcpipe/config, else "
        "~/.config/marcpipe/config, when it exists); the command line wins over it")->type_name("FILE");
    app.add_option("--profile", profile, "also use the settings of this [section] of the config file")
        ->type_name("NAME");
    app.add_flag("--show-config", show_config,
                 "print the settings in effect and where each came from (file and line, command line, default), "
                 "then exit 0; no input needed");
    std::string const program = std::filesystem::path{argc > 0 ? argv[0] : "marcpipe"}.filename().string();
    // No input is needed to show the settings.
    for (int i = 1; i < argc && std::strcmp(argv[i], "--") != 0; ++i)
        if (std::strcmp(argv[i], "--show-config") == 0)
            for (auto* o : app.get_options()) o->required(false);
    try {
        app.parse(argc, argv);
    } catch (CLI::ParseError const& e) {
        return app.exit(e) == 0 ? 0 : 2;
    }

    detail::origins from;
    for (auto const* o : app.get_options())
        if (o->count() > 0) from[o] = {"command line"};
    std::string file = config_path;
    if (config_option->count() == 0) {
        file = default_config_path();
        std::error_code ec;
        if (!file.empty() && !std::filesystem::exists(file, ec)) file.clear();
    }
    try {
        if (file.empty()) {
            if (!profile.empty()) throw config_error("--profile " + profile + ": there is no config file");
        } else {
            auto const contents = read_config(file, profile);
            if (!profile.empty() && !contents.profile_found)
                throw config_error(file + ": no section [" + profile + "] for --profile " + profile);
            // Each name's lines together, in the order the names first appear.
            std::vector<std::string> order;
            std::map<std::string, std::vector<config_setting const*>> by_name;
            for (auto const& s : contents.settings) {
                if (by_name[s.name].empty()) order.push_back(s.name);
                by_name[s.name].push_back(&s);
            }
            for (auto const& name : order) {
                auto* option = app.get_option_no_throw("--" + name);
                if (option == nullptr || option->count() > 0) continue;  // another program's, or the command line's
                detail::apply(option, by_name[name], from);
            }
        }
    } catch (config_error const& e) {
        std::cerr << program << ": " << e.what() << "\n";
        return 2;
    }
    if (show_config) {
        detail::show(app, file, from, std::cout);
        return 0;
    }
    return std::nullopt;
}

}  // namespace marcpipe::tools
