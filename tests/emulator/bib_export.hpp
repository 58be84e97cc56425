// bib_export: writes the catalogue's bibs as Alma's "Export Bibliographic Records" job would,
// in MARC21 binary (ISO 2709) or MARCXML, so tests and the demo have an input that matches
// what the emulator serves.
//
// The binary form gets a computed leader (length, base address, 09 = 'a' for UTF-8) because an
// ISO 2709 reader locates fields through those numbers; the MARCXML form keeps the leader as
// stored, blanks and all, as readers of real exports meet it.
#pragma once

#include "alma_responses.hpp"
#include "catalogue.hpp"

#include <cstddef>
#include <ostream>
#include <stdexcept>
#include <string>

namespace marcpipe::emulator {

inline std::string iso2709_record(marc::record const& rec) {
    std::string directory;
    std::string data;
    for (auto const& f : rec.fields()) {
        auto start = data.size();
        if (f.is_control()) {
            data += f.value;
        } else {
            data += f.ind1;
            data += f.ind2;
            for (auto const& s : f.subfields) {
                data += '\x1F';
                data += s.code;
                data += s.value;
            }
        }
        data += '\x1E';
        auto length = data.size() - start;
        if (length > 9999) throw std::length_error("field " + f.tag + " longer than 9999 bytes");
        directory += f.tag + detail::zero_pad(length, 4) + detail::zero_pad(start, 5);
    }
    directory += '\x1E';
    auto base = marc::leader_length + directory.size();
    auto total = base + data.size() + 1;
    if (total > 99999) throw std::length_error("record longer than 99999 bytes");
    std::string leader = rec.leader();
    leader.replace(0, 5, detail::zero_pad(total, 5));
    leader[9] = 'a';
    leader[10] = '2';
    leader[11] = '2';
    leader.replace(12, 5, detail::zero_pad(base, 5));
    leader.replace(20, 4, "4500");
    return leader + directory + data + '\x1D';
}

inline void write_iso2709_export(catalogue const& cat, std::ostream& out) {
    for (std::size_t b = 0; b < cat.size(); ++b) out << iso2709_record(cat.bib_record(b));
}

inline void write_marcxml_export(catalogue const& cat, std::ostream& out) {
    out << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
           "<collection xmlns=\"http://www.loc.gov/MARC21/slim\">\n";
    for (std::size_t b = 0; b < cat.size(); ++b) {
        xml_out x{false};
        write_marcxml_record(x, cat.bib_record(b));
        auto s = x.take();
        out << s.substr(xml_declaration.size()) << '\n';
    }
    out << "</collection>\n";
}

}  // namespace marcpipe::emulator
