// emulator_client: what the emulator's own tests share — a client of its HTTP API with the tests'
// key (tests/support/emulator.hpp starts the emulator), the captured Alma payloads to compare its
// answers with, and readers of those answers.
#pragma once

#include <httplib.h>

#include <cstddef>
#include <filesystem>
#include <pugixml.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "alma_sets.hpp"
#include "catalogue.hpp"
#include "catch.hpp"
#include "launcher.hpp"
#include "support/emulator.hpp"
#include "support/files.hpp"

namespace emulator_test {

using namespace marcpipe::emulator;
namespace fs = std::filesystem;

using marcpipe::testing::alma_setting;
inline std::string const key = marcpipe::testing::test_api_key;

// Captured Alma payloads, by path under the test data directory.
using marcpipe::testing::data_path;
inline fs::path test_data(std::string const& name) { return data_path(name); }

inline pugi::xml_document parse_file(fs::path const& p) {
    pugi::xml_document doc;
    auto ok = doc.load_file(p.c_str());
    INFO(p << ": " << ok.description());
    REQUIRE(ok);
    return doc;
}

inline pugi::xml_document parse(std::string const& body) {
    pugi::xml_document doc;
    auto ok = doc.load_buffer(body.data(), body.size());
    INFO(ok.description() << " in: " << body);
    REQUIRE(ok);
    return doc;
}

// Element paths of a document (attributes as @name), to compare shapes with captured payloads.
inline void collect_paths(pugi::xml_node n, std::string const& prefix, std::set<std::string>& out) {
    for (auto child : n.children()) {
        if (child.type() != pugi::node_element) continue;
        auto path = prefix + "/" + child.name();
        out.insert(path);
        for (auto a : child.attributes()) out.insert(path + "/@" + a.name());
        collect_paths(child, path, out);
    }
}
inline std::set<std::string> paths(pugi::xml_document const& doc) {
    std::set<std::string> out;
    collect_paths(doc, "", out);
    return out;
}

inline httplib::Headers auth() { return {{"Authorization", "apikey " + key}}; }

inline httplib::Client client(emulator_process const& alma) {
    httplib::Client c{"127.0.0.1", alma.port()};
    c.set_read_timeout(10);
    return c;
}

inline std::string holdings_path(std::string const& mms_id) {
    return "/almaws/v1/bibs/" + mms_id + "/holdings";
}

inline marcpipe::marc::record record_from_xml(pugi::xml_node rec) {
    std::vector<marcpipe::marc::field> fields;
    for (auto f : rec.children()) {
        std::string name = f.name();
        if (name == "controlfield") {
            fields.emplace_back(f.attribute("tag").value(), f.text().get());
        } else if (name == "datafield") {
            std::vector<marcpipe::marc::subfield> subs;
            for (auto s : f.children("subfield"))
                subs.emplace_back(s.attribute("code").value()[0], s.text().get());
            fields.emplace_back(f.attribute("tag").value(), f.attribute("ind1").value()[0],
                                f.attribute("ind2").value()[0], std::move(subs));
        }
    }
    return marcpipe::marc::record{rec.child("leader").text().get(), std::move(fields)};
}

// The first bib matching a predicate.
template <class Pred>
std::size_t find_bib(catalogue const& cat, Pred pred) {
    for (std::size_t b = 0; b < cat.size(); ++b)
        if (pred(b)) return b;
    FAIL("no bib in the catalogue has the wanted property");
    return 0;
}

// The holdings-list path of the catalogue's first bib that is not deleted.
inline std::string live_holdings_path(catalogue const& cat) {
    return holdings_path(cat.mms_id(find_bib(cat, [&](auto b) { return !cat.deleted(b); })));
}

inline std::string error_code(std::string const& body) {
    return parse(body).select_node("/web_service_result/errorList/error/errorCode").node().text().get();
}

}  // namespace emulator_test
