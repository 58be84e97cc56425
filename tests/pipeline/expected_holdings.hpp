// expected_holdings: what a run must deliver, worked out without the code under test.
//
// The source of truth is the emulator's own answer for each holding: the XML it sends, made by
// its own writer (alma_responses.hpp), not the library's. DESIGN.md's 001/004 rule is applied to
// that XML with plain pugixml edits, and yaz-marcdump, the reference MARC tool, turns the result
// into MARC21. A bug in the library's holdings parsing, its rewrite or either of its writers
// therefore shows up as a difference here instead of being repeated in the expectation.
#pragma once

#include <alma_responses.hpp>
#include <catalogue.hpp>
#include <marcpipe/marc/record.hpp>
#include <pugixml.hpp>

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "program.hpp"
#include "reference_tool.hpp"

namespace marcpipe::testing {

// DESIGN.md's rule on a MARCXML <record>: 001 := holding ID, replaced where it stands or
// inserted as the first field; 004 := MMS ID, replaced where it stands or inserted right after
// 001; every other field keeps its content and place. The emulator never repeats 001 or 004
// (dropping repeats is covered in transforms_test.cpp).
inline void rewrite_ids(pugi::xml_node record, std::string const& holding_id,
                        std::string const& mms_id) {
    auto f001 = record.find_child_by_attribute("controlfield", "tag", "001");
    if (!f001) {
        f001 = record.insert_child_after("controlfield", record.child("leader"));
        f001.append_attribute("tag") = "001";
    }
    f001.text().set(holding_id.c_str());
    auto f004 = record.find_child_by_attribute("controlfield", "tag", "004");
    if (!f004) {
        f004 = record.insert_child_after("controlfield", f001);
        f004.append_attribute("tag") = "004";
    }
    f004.text().set(mms_id.c_str());
}

namespace detail {

// A '$' in data is written "\$" so it cannot pass for a subfield delimiter in a listing.
inline std::string listed(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '$' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

inline std::string control_line(std::string_view tag, std::string_view value) {
    return std::string{tag} + " " + listed(value) + "\n";
}

}  // namespace detail

// A record as lines of text, one for the leader and one per field ("852 X  $b MAIN $h ..."),
// whatever the layout, attribute order or namespace declaration of the XML it came from: the
// form in which records from different sources are compared here.
inline std::string listing(pugi::xml_node record) {
    std::string out;
    for (auto node : record.children()) {
        if (node.type() != pugi::node_element) continue;
        std::string_view const name = node.name();
        if (name == "leader") {
            out += "LDR " + detail::listed(node.text().get()) + "\n";
        } else if (name == "controlfield") {
            out += detail::control_line(node.attribute("tag").value(), node.text().get());
        } else if (name == "datafield") {
            out += std::string{node.attribute("tag").value()} + " " + node.attribute("ind1").value() +
                   node.attribute("ind2").value();
            for (auto sub : node.children("subfield"))
                out += std::string{" $"} + sub.attribute("code").value() + " " +
                       detail::listed(sub.text().get());
            out += "\n";
        } else {
            out += "unexpected <" + std::string{name} + ">\n";
        }
    }
    return out;
}

// The same listing for a record the stages hold in memory, read through its plain accessors.
inline std::string listing(marc::record const& r) {
    std::string out = "LDR " + detail::listed(r.leader()) + "\n";
    for (auto const& f : r.fields()) {
        if (f.is_control()) {
            out += detail::control_line(f.tag, f.value);
            continue;
        }
        out += f.tag + " " + f.ind1 + f.ind2;
        for (auto const& s : f.subfields) out += std::string{" $"} + s.code + " " + detail::listed(s.value);
        out += "\n";
    }
    return out;
}

// Parse options for MARCXML here: a field whose whole value is blanks keeps it.
inline constexpr unsigned marcxml_parse = pugi::parse_default | pugi::parse_ws_pcdata_single;

// The listings of the records of a MARCXML document, in order; a document that is not a
// MARCXML collection gives one entry saying what it is instead.
inline std::vector<std::string> marcxml_listings(std::string const& xml) {
    pugi::xml_document doc;
    auto parsed = doc.load_buffer(xml.data(), xml.size(), marcxml_parse);
    if (!parsed)
        return {"unreadable XML: " + std::string{parsed.description()} + " at byte " +
                std::to_string(parsed.offset)};
    auto collection = doc.child("collection");
    if (!collection || collection.attribute("xmlns").value() !=
                           std::string_view{"http://www.loc.gov/MARC21/slim"})
        return {"not a MARCXML collection: <" + std::string{doc.first_child().name()} + ">"};
    std::vector<std::string> out;
    for (auto record : collection.children("record")) out.push_back(listing(record));
    return out;
}

// The records of ISO 2709 bytes, each with its terminator, so a difference can name its record.
inline std::vector<std::string> iso2709_records(std::string const& bytes) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start < bytes.size()) {
        auto end = bytes.find('\x1d', start);
        end = end == std::string::npos ? bytes.size() : end + 1;
        out.push_back(bytes.substr(start, end - start));
        start = end;
    }
    return out;
}

// "" when the two lists are equal, else the first record that differs, both ways, so that
// CHECK(first_difference(...) == "") prints one record rather than two whole files.
inline std::string first_difference(std::vector<std::string> const& expected,
                                    std::vector<std::string> const& got) {
    auto visible = [](std::string s) {
        std::string out;
        for (char c : s) {
            if (c == '\x1d') out += "<1D>";
            else if (c == '\x1e') out += "<1E>";
            else if (c == '\x1f') out += "<1F>";
            else out += c;
        }
        return out;
    };
    for (std::size_t i = 0; i < expected.size() && i < got.size(); ++i)
        if (expected[i] != got[i])
            return "record " + std::to_string(i + 1) + " differs; expected:\n" +
                   visible(expected[i]) + "\ngot:\n" + visible(got[i]);
    if (expected.size() != got.size())
        return std::to_string(expected.size()) + " records expected, " +
               std::to_string(got.size()) + " found";
    return "";
}

// The holdings records a run over the emulator's catalogue must deliver, in order: the holdings
// of each bib that is not deleted, in the order Alma lists them (ascending holding ID).
class expected_holdings {
public:
    // Which records to keep beyond that (a filter's choice, or bibs left out of the input).
    using keep_fn = std::function<bool(std::size_t bib, pugi::xml_node record)>;

    explicit expected_holdings(emulator::catalogue const& cat, keep_fn keep = {}) {
        auto collection = doc_.append_child("collection");
        collection.append_attribute("xmlns") = "http://www.loc.gov/MARC21/slim";
        for (std::size_t b = 0; b < cat.size(); ++b) {
            if (cat.deleted(b)) continue;
            for (std::size_t h = 0; h < cat.holdings_count(b); ++h) {
                if (cat.vanished(b, h)) continue;
                auto const answer = emulator::holding_record_xml(cat, b, h);
                pugi::xml_document one;
                if (!one.load_buffer(answer.data(), answer.size(), marcxml_parse))
                    throw std::runtime_error("the emulator's holding XML does not parse");
                auto record = collection.append_copy(one.child("holding").child("record"));
                rewrite_ids(record, cat.holding_id(b, h), cat.mms_id(b));
                if (keep && !keep(b, record)) {
                    collection.remove_child(record);
                    continue;
                }
                holding_ids_.push_back(cat.holding_id(b, h));
            }
        }
    }

    std::size_t size() const noexcept { return holding_ids_.size(); }
    std::vector<std::string> const& holding_ids() const noexcept { return holding_ids_; }

    // The records as the stages yield them: Alma's record with 001/004 rewritten, leader as sent.
    std::vector<std::string> listings() const {
        std::vector<std::string> out;
        for (auto record : doc_.child("collection").children("record"))
            out.push_back(listing(record));
        return out;
    }

    // The records as they go to a writer, with leader/09 set to 'a' (UTF-8) as both writers set
    // it. The emulator's leaders already have '22' at 10-11 and '4500' at 20-23, which the writers
    // also put; the numbers at 00-04 and 12-16 stay blank or stale here, as Alma sends them.
    pugi::xml_document const& written() const {
        if (!written_) {
            written_.emplace();
            written_->reset(doc_);
            for (auto record : written_->child("collection").children("record")) {
                std::string leader = record.child("leader").text().get();
                if (leader.size() == 24) leader[9] = 'a';
                record.child("leader").text().set(leader.c_str());
            }
        }
        return *written_;
    }

    // The records as the programs write MARCXML: the same fields, under the leader an ISO 2709
    // file of the record holds (length and base address as yaz-marcdump computes them for
    // marc21()), so that a program's MARC21 and MARCXML of one record carry one leader. Nothing
    // when MARCPIPE_TESTS_WITHOUT_YAZ=1 leaves the comparisons out.
    std::optional<std::vector<std::string>> written_marcxml_listings(std::filesystem::path const& dir) const {
        auto const bytes = marc21(dir);
        if (!bytes) return std::nullopt;
        auto const records = iso2709_records(*bytes);
        std::vector<std::string> out;
        for (auto record : written().child("collection").children("record")) {
            if (out.size() == records.size())
                throw std::runtime_error("yaz-marcdump wrote fewer records than it was given");
            pugi::xml_document one;
            auto copy = one.append_copy(record);
            copy.child("leader").text().set(records[out.size()].substr(0, 24).c_str());
            out.push_back(listing(copy));
        }
        return out;
    }

    // The written records as MARC21, converted by yaz-marcdump in `dir` on the first call. yaz
    // computes the record length, base address (leader 00-04, 12-16) and directory itself, so
    // they are checked, not copied. A missing yaz-marcdump fails the test; nothing only when
    // MARCPIPE_TESTS_WITHOUT_YAZ=1 leaves the comparisons out (the caller's check is then left
    // out with a warning).
    std::optional<std::string> marc21(std::filesystem::path const& dir) const {
        if (marc21_) return marc21_;
        auto yaz = marcpipe_test::yaz_marcdump_for_comparison();
        if (!yaz) return std::nullopt;
        auto const xml = dir / "expected.xml";
        written().save_file(xml.c_str(), "", pugi::format_raw, pugi::encoding_utf8);
        auto converted = run(yaz->string(), {"-i", "marcxml", "-o", "marc", xml.string()}, {}, dir,
                             "yaz-expected");
        if (converted.status != 0 || !converted.err.empty())
            throw std::runtime_error("yaz-marcdump could not convert the expected records: " +
                                     converted.err);
        return marc21_ = converted.out;
    }

private:
    pugi::xml_document doc_;
    std::vector<std::string> holding_ids_;
    mutable std::optional<pugi::xml_document> written_;
    mutable std::optional<std::string> marc21_;
};

// "" when `file` holds exactly the expected records as MARC21, else the first difference.
inline std::string marc21_difference(expected_holdings const& expected,
                                     std::filesystem::path const& file) {
    auto want = expected.marc21(file.parent_path());
    if (!want) return "";
    return first_difference(iso2709_records(*want), iso2709_records(slurp(file)));
}

// "" when `file` holds exactly the expected records as a program writes MARCXML, else the
// first difference.
inline std::string marcxml_difference(expected_holdings const& expected,
                                      std::filesystem::path const& file) {
    auto want = expected.written_marcxml_listings(file.parent_path());
    if (!want) return "";
    return first_difference(*want, marcxml_listings(slurp(file)));
}

}  // namespace marcpipe::testing
