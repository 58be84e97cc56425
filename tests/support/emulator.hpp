// emulator: the one way a test starts the loopback emulator — the tests' catalogue, seed and key
// (emulator_flags, alma_setting) — and west_setting, what the program tests start from: a catalogue, the
// emulator serving it to the tests' key, and a fresh directory holding its export, all gone when
// the test ends, passed or failed.
//
//   west_setting s{"west-583", 200};                 // export.mrc in s.dir
//   auto r = run(west, s.args({"-o", "out.mrc", "export.mrc"}), env, s.dir);
#pragma once

#include <bib_export.hpp>
#include <catalogue.hpp>
#include <launcher.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include "child.hpp"
#include "files.hpp"

namespace marcpipe::testing {

inline constexpr char const* test_api_key = "l8xx-test-key-0123456789abcdef";
inline constexpr std::uint64_t test_seed = 11;

// The emulator's command line for `bibs` bibs of the tests' catalogue (another catalogue: `seed`),
// and `more`.
inline std::vector<std::string> emulator_flags(std::size_t bibs, std::vector<std::string> more = {},
                                               std::uint64_t seed = test_seed) {
    std::vector<std::string> f{"--seed", std::to_string(seed), "--bibs", std::to_string(bibs), "--api-key",
                               test_api_key};
    f.insert(f.end(), more.begin(), more.end());
    return f;
}

enum class export_as { marc21, marcxml, none };

// The catalogue's export as Alma's Export Bibliographic Records would write it.
inline void write_export(emulator::catalogue const& cat, std::filesystem::path const& path, bool xml) {
    std::ofstream out{path, std::ios::binary};
    if (xml)
        emulator::write_marcxml_export(cat, out);
    else
        emulator::write_iso2709_export(cat, out);
}

// The catalogue an emulator started with `emulator_flags(bibs, flags, seed)` serves: the flags that
// shape the catalogue (--vanished-holdings, --availability-gaps, --network-zone) shape this one
// alike, so that a test cannot expect one catalogue from an emulator serving another.
inline emulator::catalogue served_catalogue(std::uint64_t seed, std::size_t bibs,
                                            std::vector<std::string> const& flags) {
    double vanished = 0, gaps = emulator::catalogue::default_availability_gaps;
    bool network_zone = false;
    for (std::size_t i = 0; i < flags.size(); ++i) {
        bool const valued = i + 1 < flags.size();
        if (flags[i] == "--vanished-holdings" && valued) vanished = std::stod(flags[i + 1]);
        if (flags[i] == "--availability-gaps" && valued) gaps = std::stod(flags[i + 1]);
        if (flags[i] == "--network-zone") network_zone = true;
    }
    return emulator::catalogue{seed, bibs, vanished, gaps, network_zone};
}

// The emulator alone, serving `bibs` bibs of a catalogue to the tests' key, and that catalogue
// (what the test expects comes from it, not from the emulator's answers).
struct alma_setting {
    explicit alma_setting(std::size_t bibs, std::vector<std::string> more = {},
                          std::uint64_t seed = test_seed)
        : cat{served_catalogue(seed, bibs, more)},
          server{emulator_flags(bibs, std::move(more), seed)} {}
    alma_setting(alma_setting const&) = delete;
    alma_setting& operator=(alma_setting const&) = delete;

    emulator::catalogue cat;
    emulator::emulator_process server;
};

struct west_setting : alma_setting {
    // `more`: further emulator flags. The export is s.dir / "export.mrc" (or "export.xml").
    west_setting(std::string const& name, std::size_t bibs, std::vector<std::string> more = {},
                 export_as form = export_as::marc21, std::uint64_t seed = test_seed)
        : alma_setting{bibs, std::move(more), seed}, dir{scratch_dir(name)} {
        if (form != export_as::none)
            write_export(cat, dir / (form == export_as::marcxml ? "export.xml" : "export.mrc"),
                         form == export_as::marcxml);
    }
    // west-holdings against this emulator, with `more` after the URL and rate.
    std::vector<std::string> args(std::vector<std::string> more) const {
        std::vector<std::string> a{"--base-url", server.base_url(), "--rate", "1000"};
        a.insert(a.end(), more.begin(), more.end());
        return a;
    }
    // A whole run's exit status: 1 when the catalogue has deleted bibs (reported), else 0.
    int clean_status() const {
        for (std::size_t b = 0; b < cat.size(); ++b)
            if (cat.deleted(b)) return 1;
        return 0;
    }

    scratch_dir dir;
};

}  // namespace marcpipe::testing
