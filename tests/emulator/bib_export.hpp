// bib_export: writes the catalogue's bibs as Alma's "Export Bibliographic Records" job would,
// in MARC21 binary (ISO 2709) or MARCXML, so tests and the demo have an input that matches
// what the emulator serves.
//
// Written with the library's own writers: the binary form gets a computed leader (length, base
// address, 09 = 'a' for UTF-8) because an ISO 2709 reader locates fields through those numbers;
// the MARCXML form keeps the leader as stored, blanks and all, as readers of real exports meet it.
#pragma once

#include "catalogue.hpp"

#include <marcpipe/marc/iso2709_writer.hpp>
#include <marcpipe/marc/marcxml_writer.hpp>

#include <cstddef>
#include <ostream>
#include <string>

namespace marcpipe::emulator {

inline void write_iso2709_export(catalogue const& cat, std::ostream& out) {
    std::string buffer;
    for (std::size_t b = 0; b < cat.size(); ++b) {
        marc::append_iso2709(cat.bib_record(b), buffer, marc::write_position{b + 1, 0});
        if (buffer.size() > (1u << 20)) {
            out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
            buffer.clear();
        }
    }
    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
}

inline void write_marcxml_export(catalogue const& cat, std::ostream& out) {
    marc::marcxml_writer::options compact;
    compact.indent = false;
    marc::marcxml_writer writer{out, compact};
    for (std::size_t b = 0; b < cat.size(); ++b) writer.write(cat.bib_record(b));
    writer.finish();
}

}  // namespace marcpipe::emulator
