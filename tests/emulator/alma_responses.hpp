// alma_responses: the XML bodies the loopback emulator sends, in the shapes Alma sends them.
//
// Shapes follow captured Alma payloads: holdings list (<holdings total_record_count> with
// <holding link> entries and <bib_data>), holding record (<holding> with an un-namespaced
// MARCXML <record>, attributes ind1/ind2/tag in Alma's order), bibs with AVA fields for
// `expand=p_avail` (with the gaps of catalogue::availability), and `web_service_result` errors (API errors carry a trackingId, gateway
// errors do not).
#pragma once

#include "catalogue.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace marcpipe::emulator {

inline constexpr std::string_view xml_declaration =
    R"(<?xml version="1.0" encoding="UTF-8" standalone="yes"?>)";

// Markup characters escaped; a C0 control (only a damaged record has one, see hostile_fields.hpp)
// as a character reference, as servers that do not check their data send it.
inline void append_escaped(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    for (char c : text) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
                    out += "&#x";
                    out += hex[(c >> 4) & 15];
                    out += hex[c & 15];
                    out += ';';
                } else {
                    out += c;
                }
        }
    }
}

// Writes elements either compact (as Alma does) or indented (as fixtures committed by people are).
class xml_out {
public:
    explicit xml_out(bool pretty) : pretty_{pretty} { out_ += xml_declaration; }

    void open(std::string_view name, std::string_view attrs = {}) {
        start_tag(name, attrs, ">");
        ++depth_;
    }
    void close(std::string_view name) {
        --depth_;
        newline();
        end_tag(name);
    }
    void empty(std::string_view name, std::string_view attrs = {}) { start_tag(name, attrs, "/>"); }
    void text(std::string_view name, std::string_view value, std::string_view attrs = {}) {
        start_tag(name, attrs, ">");
        append_escaped(out_, value);
        end_tag(name);
    }
    std::string take() {
        if (pretty_) out_ += '\n';
        return std::move(out_);
    }

private:
    // On a line of its own when pretty; `end` closes it as a start tag (">") or an empty one
    // ("/>").
    void start_tag(std::string_view name, std::string_view attrs, std::string_view end) {
        newline();
        out_ += '<';
        out_ += name;
        out_ += attrs;
        out_ += end;
    }
    void end_tag(std::string_view name) {
        out_ += "</";
        out_ += name;
        out_ += '>';
    }
    void newline() {
        if (!pretty_) return;
        out_ += '\n';
        out_.append(static_cast<std::size_t>(depth_) * 4, ' ');
    }

    bool pretty_;
    int depth_ = 0;
    std::string out_;
};

inline std::string attr(std::string_view name, std::string_view value) {
    std::string s = " ";
    s += name;
    s += "=\"";
    append_escaped(s, value);
    s += '"';
    return s;
}

inline void write_marcxml_record(xml_out& x, marc::record const& rec,
                                 std::vector<marc::field> const& extra = {}) {
    x.open("record");
    x.text("leader", rec.leader());
    auto field = [&](marc::field const& f) {
        if (f.is_control()) {
            x.text("controlfield", f.value, attr("tag", f.tag));
            return;
        }
        x.open("datafield", attr("ind1", std::string(1, f.ind1)) +
                                attr("ind2", std::string(1, f.ind2)) + attr("tag", f.tag));
        for (auto const& s : f.subfields)
            x.text("subfield", s.value, attr("code", std::string(1, s.code)));
        x.close("datafield");
    };
    for (auto const& f : rec.fields()) field(f);
    for (auto const& f : extra) field(f);
    x.close("record");
}

// GET /almaws/v1/bibs/{mms_id}/holdings
inline std::string holdings_list_xml(catalogue const& cat, std::size_t bib,
                                     std::string_view base_url) {
    auto n = cat.holdings_count(bib);
    auto b = cat.bib(bib);
    xml_out x{false};
    auto count = attr("total_record_count", std::to_string(n));
    // Two shapes of an empty list are seen in the wild: the bare element and one that still
    // carries bib_data; serve both so clients are written for both.
    if (n == 0 && detail::hash(cat.seed(), 9, bib) % 2 == 0) {
        x.empty("holdings", count);
        return x.take();
    }
    x.open("holdings", count);
    std::string bib_link = std::string{base_url} + "/almaws/v1/bibs/" + b.mms_id;
    for (std::size_t h : cat.listing_order(bib)) {
        auto s = cat.holding(bib, h);
        x.open("holding", attr("link", bib_link + "/holdings/" + s.holding_id));
        x.text("holding_id", s.holding_id);
        x.text("library", s.library, attr("desc", s.library_desc));
        x.text("location", s.location, attr("desc", s.location_desc));
        x.text("call_number", s.call_number);
        x.text("suppress_from_publishing", "false");
        x.close("holding");
    }
    x.open("bib_data", attr("link", bib_link));
    x.text("mms_id", b.mms_id);
    x.text("title", b.title);
    x.text("author", b.author);
    x.open("network_numbers");
    x.text("network_number", "(OCoLC)" + std::to_string(10000 + bib));
    x.close("network_numbers");
    x.text("date_of_publication", b.date);
    x.text("publisher", b.publisher);
    x.close("bib_data");
    x.close("holdings");
    return x.take();
}

// GET /almaws/v1/bibs/{mms_id}/holdings/{holding_id}, with `record` as its MARC record.
inline std::string holding_record_xml(catalogue const& cat, std::size_t bib, std::size_t holding,
                                      marc::record const& record) {
    auto s = cat.holding(bib, holding);
    xml_out x{cat.pretty_printed(bib, holding)};
    x.open("holding");
    x.text("holding_id", s.holding_id);
    x.text("created_by", "import");
    x.text("created_date", "2015-11-05Z");
    x.text("last_modified_by", "System");
    x.text("last_modified_date", "2023-11-24Z");
    x.text("originating_system", "ILS");
    x.text("originating_system_id", "h" + std::to_string(449730 + bib) + "-47bibsys_ubo");
    x.text("suppress_from_publishing", "false");
    write_marcxml_record(x, record);
    x.close("holding");
    return x.take();
}
inline std::string holding_record_xml(catalogue const& cat, std::size_t bib, std::size_t holding) {
    return holding_record_xml(cat, bib, holding, cat.holding_record(bib, holding));
}

// GET /almaws/v1/bibs?mms_id=…&view=full&expand=p_avail: one <bib> per known, live ID in the
// order asked; unknown and deleted IDs are left out, as Alma does.
inline std::string bibs_xml(catalogue const& cat, std::vector<std::size_t> const& bibs,
                            std::string_view base_url, bool full, bool availability) {
    xml_out x{false};
    auto count = attr("total_record_count", std::to_string(bibs.size()));
    if (bibs.empty()) {
        x.empty("bibs", count);
        return x.take();
    }
    x.open("bibs", count);
    for (auto bib : bibs) {
        auto b = cat.bib(bib);
        x.open("bib", attr("link", std::string{base_url} + "/almaws/v1/bibs/" + b.mms_id));
        x.text("mms_id", b.mms_id);
        x.text("record_format", "marc21");
        x.text("title", b.title);
        x.text("author", b.author);
        x.text("publisher_const", b.publisher);
        x.text("date_of_publication", b.date);
        x.text("suppress_from_publishing", "false");
        if (full) {
            std::vector<marc::field> ava;
            if (availability) {
                for (auto const& a : cat.availability(bib)) {
                    // The library and location of the holding the AVA stands for (for a related
                    // record or another institution, one drawn alike).
                    auto s = cat.holding(bib, a.of);
                    std::vector<marc::subfield> sub{{'0', a.bib_id}};
                    if (!a.holding_id.empty()) sub.emplace_back('8', a.holding_id);
                    sub.emplace_back('a', a.institution);
                    sub.emplace_back('b', s.library);
                    sub.emplace_back('c', s.location_desc);
                    sub.emplace_back('d', s.call_number);
                    sub.emplace_back('e', "available");
                    sub.emplace_back('f', "1");
                    sub.emplace_back('g', "0");
                    sub.emplace_back('j', s.location);
                    sub.emplace_back('q', s.library_desc);
                    ava.emplace_back("AVA", ' ', ' ', std::move(sub));
                }
            }
            write_marcxml_record(x, cat.bib_record(bib), ava);
        }
        x.close("bib");
    }
    x.close("bibs");
    return x.take();
}

// An Alma error; gateway errors (UNAUTHORIZED, thresholds) have no trackingId.
inline std::string error_xml(std::string_view code, std::string_view message,
                             std::string_view tracking_id = {}) {
    xml_out x{false};
    x.open("web_service_result", R"( xmlns="http://com/exlibris/urm/general/xmlbeans")");
    x.text("errorsExist", "true");
    x.open("errorList");
    x.open("error");
    x.text("errorCode", code);
    x.text("errorMessage", message);
    if (!tracking_id.empty()) x.text("trackingId", tracking_id);
    x.close("error");
    x.close("errorList");
    x.close("web_service_result");
    return x.take();
}

}  // namespace marcpipe::emulator
