// Cross-check against yaz-marcdump, the reference tool librarians use: every record this
// library reads must read the same in yaz (its line format, and its MARCXML read back with
// marcxml_reader). Without yaz-marcdump these fail under CI and warn elsewhere.
#include <marcpipe/marc/marcxml_reader.hpp>
#include <set>

#include "../reference_tool.hpp"
#include "catch.hpp"
#include "support.hpp"

using namespace iso2709_test;

namespace {

using marcpipe_test::yaz_marcdump_output;

// Leader 10-11 and 20-23 only state MARC21's layout, and yaz rewrites them when they do not;
// blank them on both sides.
std::string without_layout(std::string rec) {
    for (std::size_t i : {10, 11, 20, 21, 22, 23})
        if (i < rec.size()) rec[i] = '.';
    return rec;
}

// yaz's line format: leader; "TAG data" for control fields; "TAG II $a value $b value" for
// data fields; an empty line after each record.
std::string as_yaz_line(marc::record_view const& v) {
    std::string out{v.leader()};
    out += '\n';
    for (auto f : v) {
        out += f.tag();
        out += ' ';
        if (f.is_control()) {
            out += f.data();
        } else {
            out += f.ind1();
            out += f.ind2();
            for (auto s : f.subfields()) {
                out += " $";
                out += s.code();
                out += ' ';
                out += s.value();
            }
        }
        out += '\n';
    }
    out += '\n';
    return without_layout(std::move(out));
}

// Splits yaz's line output into one block per record, leaving out the comments it writes
// about bytes it skips ("<!-- Skipping bad byte ... -->") and about leader positions it
// assumes ("(Indicator length at offset 10 should hold a number 1-9. Assuming 2)").
std::vector<std::string> yaz_line_records(std::string const& raw) {
    std::string text;
    std::size_t at = 0;
    while (at < raw.size()) {
        auto eol = raw.find('\n', at);
        eol = eol == std::string::npos ? raw.size() : eol + 1;
        bool const comment = raw.compare(at, 4, "<!--") == 0 ||
                             (raw[at] == '(' && raw.compare(eol - 2, 2, ")\n") == 0);
        if (!comment) text.append(raw, at, eol - at);
        at = eol;
    }
    std::vector<std::string> records;
    std::size_t start = 0;
    for (;;) {
        auto end = text.find("\n\n", start);
        if (end == std::string::npos) break;
        records.push_back(without_layout(text.substr(start, end + 2 - start)));
        start = end + 2;
    }
    return records;
}

std::string shown(marc::field const& f) {
    std::string s = f.tag + " ";
    if (f.is_control()) return s + f.value;
    s += f.ind1;
    s += f.ind2;
    for (auto const& sf : f.subfields) s += " $" + std::string(1, sf.code) + " " + sf.value;
    return s;
}

// The first field where two records differ, shown, or empty when they have the same fields.
std::string first_difference(marc::record const& a, marc::record const& b) {
    auto const& fa = a.fields();
    auto const& fb = b.fields();
    for (std::size_t i = 0; i < std::max(fa.size(), fb.size()); ++i) {
        if (i >= fa.size()) return "only in the second: " + shown(fb[i]);
        if (i >= fb.size()) return "only in the first: " + shown(fa[i]);
        if (!(fa[i] == fb[i])) return shown(fa[i]) + "\n  vs  " + shown(fb[i]);
    }
    return {};
}

}  // namespace

TEST_CASE("every record of the valid files reads as yaz-marcdump reads it", "[marc][yaz]") {
    auto const yaz = marcpipe_test::yaz_marcdump_for_comparison();
    if (!yaz) return;
    std::size_t compared = 0;
    for (auto const& name : valid_files()) {
        INFO(name);
        auto path = data_path(name);
        auto bytes = slurp(path);
        auto theirs = yaz_line_records(yaz_marcdump_output(*yaz, "-o line", path));
        auto reader = marc::iso2709_reader::from_memory(bytes);
        std::vector<std::string> ours;
        while (auto v = reader.next()) ours.push_back(as_yaz_line(*v));
        REQUIRE(ours.size() == theirs.size());
        for (std::size_t i = 0; i < ours.size(); ++i) {
            INFO("record " << i + 1);
            CHECK(ours[i] == theirs[i]);
            ++compared;
        }
    }
    CHECK(compared > 500);
}

TEST_CASE("yaz-marcdump's MARCXML of the UTF-8 files holds the same records", "[marc][yaz]") {
    auto const yaz = marcpipe_test::yaz_marcdump_for_comparison();
    if (!yaz) return;
    for (auto const& name : valid_files()) {
        auto path = data_path(name);
        auto bytes = slurp(path);
        if (!marc::is_valid_utf8(bytes)) continue;  // yaz copies MARC-8 bytes into its XML
        INFO(name);
        auto ours = read_all(bytes);
        auto xml = yaz_marcdump_output(*yaz, "-o marcxml", path);
        marc::marcxml_reader::options o;
        o.policy = marc::on_error::skip;
        auto xr = marc::marcxml_reader::from_memory(xml, o);
        std::vector<marc::record> theirs;
        while (auto r = xr.next()) theirs.push_back(std::move(*r));
        REQUIRE(theirs.size() == ours.records.size());
        for (std::size_t i = 0; i < theirs.size(); ++i) {
            INFO("record " << i + 1);
            CHECK(first_difference(theirs[i], ours.records[i]) == "");
        }
    }
}

TEST_CASE("in broken files every record read is one yaz-marcdump reads the same way",
          "[marc][yaz]") {
    auto const yaz = marcpipe_test::yaz_marcdump_for_comparison();
    if (!yaz) return;
    // yaz trusts the leader length of a record past 99,999 bytes and loses the record after it.
    struct file {
        std::string name;
        std::size_t yaz_misses;  // good records yaz does not show
    };
    for (auto const& f : std::vector<file>{{"marc4j_bad_hathi_records.mrc", 1},
                                           {"marc4j_bad_oversize_field_bad_directory.mrc", 0},
                                           {"marc4j_pride-and-prejudice-with-many-errors.mrc", 0},
                                           {"marc-perl_badldr.usmarc", 0},
                                           {"stanford_summaryHld_1-1000.mrc", 0},
                                           {"marc4j_008008027.mrc", 0}}) {
        INFO(f.name);
        auto path = data_path(f.name);
        auto bytes = slurp(path);
        auto theirs_list = yaz_line_records(yaz_marcdump_output(*yaz, "-o line", path));
        std::multiset<std::string> theirs(theirs_list.begin(), theirs_list.end());
        auto reader = marc::iso2709_reader::from_memory(bytes, marc::on_error::skip);
        std::size_t missing = 0, good = 0;
        while (auto v = reader.next()) {
            ++good;
            if (theirs.count(as_yaz_line(*v)) == 0) ++missing;
        }
        CHECK(good > 0);
        CHECK(missing == f.yaz_misses);
    }
}
