// keep-field: a small program of the kind a user of marcpipe writes, built by scripts/consumers
// once with marcpipe as a Meson subproject and once against an installed marcpipe through
// pkg-config. It includes the whole library, so every dependency of the public headers has to
// be found, and it links the ones that are compiled (libcurl, pugixml, threads).
//
//   keep-field TAG INPUT OUTPUT.xml [HOLDINGS_LIST.xml]
//
// Keeps the records of INPUT (MARC21 or MARCXML) that have a field TAG and writes them as
// MARCXML; with a Retrieve Holdings List answer, also prints its holding IDs.
#include <marcpipe/marcpipe.hpp>

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

namespace alma = marcpipe::alma;
namespace marc = marcpipe::marc;
namespace net = marcpipe::net;
namespace pipeline = marcpipe::pipeline;

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        std::cerr << "usage: keep-field TAG INPUT OUTPUT.xml [HOLDINGS_LIST.xml]\n";
        return 2;
    }
    try {
        std::ofstream out(argv[3], std::ios::binary);
        auto kept = pipeline::marc_records(argv[2]) | pipeline::require_field(argv[1]) |
                    pipeline::write_marcxml(out);
        std::cout << "kept " << kept << " records\n";
    } catch (marc::marc_error const& e) {
        std::cerr << "keep-field: " << e.what() << "\n";
        return 1;
    }

    if (argc == 5) {
        std::ifstream in(argv[4], std::ios::binary);
        std::string body{std::istreambuf_iterator<char>(in), {}};
        auto ids = alma::parse_holdings_list(body);
        if (!ids) {
            std::cerr << "keep-field: " << ids.error().message() << "\n";
            return 1;
        }
        for (auto const& id : *ids) std::cout << "holding " << id << "\n";
    }

    // A client is made and never asked anything: the program must still link libcurl and start
    // no request, since nothing here may need the network.
    net::http_client http;
    alma::client client{http, *alma::base_url_for_region("na")};
    std::cout << "requests " << http.stats().requests << "\n";
    return 0;
}
