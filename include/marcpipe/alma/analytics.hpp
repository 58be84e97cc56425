// analytics: an Alma Analytics report read through the API (GET /analytics/reports) — the
// answer parser, and a generator of the report's rows (heading → value) over the client.
//
//   alma::analytics_reading seen;
//   for (alma::analytics_row const& row : alma::analytics_rows(client, "/shared/U/Reports/WEST", {}, seen))
//       use(row.value("MMS Id"), row.value("Holding Id"));
//
// How Alma serves a report, and what this reader does about it:
//   - the first call names the report (`path`); only its answer carries a ResumptionToken, and
//     every next page is asked for with that token until IsFinished is true;
//   - rows are in a rowset whose namespace (urn:schemas-microsoft-com:xml-analysis:rowset) Alma
//     writes both as the prefix `rowset:` and as the default namespace: elements are matched by
//     namespace here, never by prefix;
//   - the first page with rows starts with an XSD schema giving each ColumnN its heading; rows are
//     Row/Column0..N, Column0 a constant, a null cell no element at all: cells are found by the
//     schema's headings, never by position;
//   - a report still being computed answers IsFinished false and no rows: asked again with the
//     token after a pause, for as long as the client's patience;
//   - a reading that finishes with no rows at all is made once more after a pause (Alma
//     answers so spuriously) before it is believed;
//   - a token page lost in transit (cut off, garbled, a reset, a 5xx) cannot be asked for again:
//     the token has moved on. Nor can a token Alma no longer takes be continued. Both end the
//     reading with analytics_lost, and the caller reads the report again from the start (a
//     report continued past a lost page would have a gap). A 429 is the gateway's, before the
//     report: that one is retried.
#pragma once

#include <pugixml.hpp>
#include <tl/expected.hpp>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "marcpipe/alma/client.hpp"
#include "marcpipe/alma/error.hpp"
#include "marcpipe/alma/holdings.hpp"
#include "marcpipe/alma/http_policy.hpp"
#include "marcpipe/coro/generator.hpp"
#include "marcpipe/coro/sync_wait.hpp"
#include "marcpipe/coro/task.hpp"

namespace marcpipe::alma {

inline constexpr std::string_view rowset_namespace = "urn:schemas-microsoft-com:xml-analysis:rowset";

// The report cannot be read. exit_code: 2 when Alma says what is wrong with it (an unknown path,
// a report without the columns asked for); 3 when it could not be read now (pages lost too often,
// still being computed after the patience, the network): run the command again later.
class analytics_error : public std::runtime_error {
public:
    analytics_error(std::string const& what, int code) : std::runtime_error{what}, exit_code{code} {}
    int exit_code;
};

// A page was lost, or Alma no longer takes the token: this reading cannot go on without a gap.
class analytics_lost : public analytics_error {
public:
    explicit analytics_lost(std::string const& what) : analytics_error{what, 3} {}
};

// How headings are compared: without regard to case, spaces or underscores ("MMS Id", "mms_id").
inline std::string heading_key(std::string_view heading) {
    std::string key;
    for (char c : heading)
        if (c != ' ' && c != '_' && c != '\t') key += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return key;
}

// One page of a report as Alma answers it.
struct analytics_page {
    std::optional<std::string> token;            // only in the first answer
    bool finished = false;                       // IsFinished
    std::map<std::string, std::string> headings; // "Column1" → "MMS Id", from the schema (first page)
    std::vector<std::map<std::string, std::string>> rows;  // "Column1" → value; null cells absent
};

namespace analytics_detail {

// The namespace an element's prefix (or the default, without one) stands for where it is.
inline std::string_view namespace_of(pugi::xml_node node) {
    std::string_view const name = node.name();
    auto const colon = name.find(':');
    std::string const attr =
        colon == std::string_view::npos ? std::string{"xmlns"} : "xmlns:" + std::string{name.substr(0, colon)};
    for (pugi::xml_node n = node; n; n = n.parent())
        if (auto a = n.attribute(attr.c_str())) return a.value();
    return {};
}

inline bool is_rowset_element(pugi::xml_node node, std::string_view local) {
    return node.type() == pugi::node_element && parse_detail::local_name(node) == local &&
           namespace_of(node) == rowset_namespace;
}

// The schema's element declarations, wherever the schema nests them: ColumnN → its heading.
inline void read_schema(pugi::xml_node node, std::map<std::string, std::string>& headings) {
    for (pugi::xml_node c = node.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (parse_detail::local_name(c) == "element") {
            std::string_view const column = c.attribute("name").value();
            for (pugi::xml_attribute a = c.first_attribute(); a; a = a.next_attribute()) {
                std::string_view an = a.name();
                auto const colon = an.find(':');
                if (colon != std::string_view::npos) an.remove_prefix(colon + 1);
                if (an == "columnHeading" && !column.empty()) headings[std::string{column}] = a.value();
            }
        }
        read_schema(c, headings);
    }
}

}  // namespace analytics_detail

// Parses one answer of GET /analytics/reports. Never throws.
inline parsed<analytics_page> parse_analytics_page(std::string_view body) {
    pugi::xml_document doc;
    if (auto loaded = parse_detail::load(doc, body); !loaded) return tl::unexpected(loaded.error());
    pugi::xml_node const root = doc.document_element();
    if (parse_detail::local_name(root) != "report")
        return tl::unexpected(parse_failure{"expected a <report>, found <" + std::string(root.name()) + ">", -1});
    pugi::xml_node const result = parse_detail::child_named(root, "QueryResult");
    if (!result) return tl::unexpected(parse_failure{"a <report> without <QueryResult>", root.offset_debug()});
    analytics_page page;
    if (auto t = parse_detail::child_named(result, "ResumptionToken")) {
        auto token = parse_detail::trimmed_text(t);
        if (!token.empty()) page.token = std::move(token);
    }
    pugi::xml_node const finished = parse_detail::child_named(result, "IsFinished");
    if (!finished) return tl::unexpected(parse_failure{"a <QueryResult> without <IsFinished>", result.offset_debug()});
    std::string const f = parse_detail::trimmed_text(finished);
    if (f != "true" && f != "false")
        return tl::unexpected(parse_failure{"<IsFinished> is neither true nor false", finished.offset_debug()});
    page.finished = f == "true";
    pugi::xml_node const xml = parse_detail::child_named(result, "ResultXml");
    pugi::xml_node rowset;
    for (pugi::xml_node c = xml.first_child(); c; c = c.next_sibling())
        if (analytics_detail::is_rowset_element(c, "rowset")) rowset = c;
    if (xml && xml.first_child() && !rowset)
        return tl::unexpected(parse_failure{"a <ResultXml> without a rowset in " + std::string{rowset_namespace},
                                            xml.offset_debug()});
    for (pugi::xml_node c = rowset.first_child(); c; c = c.next_sibling()) {
        if (c.type() != pugi::node_element) continue;
        if (parse_detail::local_name(c) == "schema") {
            analytics_detail::read_schema(c, page.headings);
        } else if (analytics_detail::is_rowset_element(c, "Row")) {
            std::map<std::string, std::string> row;
            for (pugi::xml_node cell = c.first_child(); cell; cell = cell.next_sibling())
                if (cell.type() == pugi::node_element)
                    row[std::string{parse_detail::local_name(cell)}] = parse_detail::trimmed_text(cell);
            page.rows.push_back(std::move(row));
        }
    }
    return page;
}

// One row of a report: its cells by heading (as the schema writes it); a null cell is absent.
struct analytics_row {
    analytics_row() = default;
    explicit analytics_row(std::map<std::string, std::string> c) : cells{std::move(c)} {}
    std::map<std::string, std::string> cells;

    // The cell under `heading`, matched as heading_key matches; nothing when it is null.
    std::optional<std::string> value(std::string_view heading) const {
        auto const key = heading_key(heading);
        for (auto const& [h, v] : cells)
            if (heading_key(h) == key) return v;
        return std::nullopt;
    }
};

// What a reading of a report saw, for a summary and for the caller's checks.
struct analytics_reading {
    std::vector<std::string> headings;  // in column order, Column0's left out
    std::uint64_t calls = 0;            // answers received (pages and polls)
    std::uint64_t polls = 0;            // answers that said: still being computed
    std::uint64_t rows = 0;
    std::uint64_t empty_retries = 0;    // readings that finished with no rows, made again
    double pending_seconds = 0;         // spent waiting while the report was being computed
};

struct analytics_options {
    analytics_options() {}
    std::size_t limit = 1000;  // rows a page: a multiple of 25 from 25 to 1000
    std::chrono::milliseconds first_pause{1000};  // before polling a report still being computed;
    std::chrono::milliseconds max_pause{8000};    // doubled each poll up to this
};

// The URLs of a report's pages under the client's base URL.
inline std::string percent_encoded(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}
inline std::string analytics_report_url(endpoints const& urls, std::string_view path, std::size_t limit) {
    return urls.api_root() + "/analytics/reports?path=" + percent_encoded(path) + "&limit=" + std::to_string(limit) +
           "&col_names=true";
}
inline std::string analytics_token_url(endpoints const& urls, std::string_view token, std::size_t limit) {
    return urls.api_root() + "/analytics/reports?token=" + percent_encoded(token) + "&limit=" + std::to_string(limit);
}

namespace analytics_detail {

// One answer: the page, or why there is none. `lost`: the token's page is gone (see above).
struct answer {
    answer() = default;
    std::optional<analytics_page> page;
    bool lost = false;
    int status = 0;
    std::string code, message, tracking_id;
};

// A first call is retried like any other (a new reading starts with it); a token call only on a
// 429, since any other failure may have cost the page.
inline coro::task<answer> ask(client& c, std::string url, bool token_call) {
    answer out;
    std::optional<parsed<analytics_page>> page;
    net::classifier judge = [&](net::result const& r) {
        page.reset();
        out.lost = false;
        auto const& origin = c.http().options().auth.origin;
        net::verdict v = origin.empty() ? examine_answer(r) : examine_answer(r, origin);
        if (v.kind == net::outcome_class::success) {
            page.emplace(parse_analytics_page(r->body));
            if (!*page) v = unreadable_answer((*page).error().message());
        }
        if (token_call && v.kind == net::outcome_class::transient && !v.over_rate) {
            out.lost = true;
            v.kind = net::outcome_class::permanent;
        }
        return v;
    };
    // First among the waiting calls: holdings records asked for while the report is read
    // (pipeline::read_report_ahead) must not hold back the page that brings the next ones.
    net::result r = co_await c.http().get(url, std::move(judge), net::priority_key{0});
    if (page && *page) {
        out.page = std::move(**page);
        co_return out;
    }
    if (r) {
        out.status = static_cast<int>(r->status);
        if (auto e = parse_alma_error(r->body, r->status)) {
            out.code = e->code;
            out.message = c.http().scrub(e->message);
            out.tracking_id = e->tracking_id;
        } else {
            out.message = page ? c.http().scrub((*page).error().message()) : "HTTP " + std::to_string(r->status);
        }
    } else {
        out.message = c.http().scrub(r.error().message);
    }
    co_return out;
}

inline answer await_answer(client& c, std::string url, bool token_call) {
    return coro::sync_wait(ask(c, std::move(url), token_call),
                           [&] { c.loop().run_once(std::chrono::milliseconds{1000}); });
}

inline void pause(client& c, std::chrono::milliseconds d) {
    bool done = false;
    auto const id = c.loop().call_at(net::event_loop::clock::now() + d, [&done] { done = true; });
    try {
        c.loop().run_until([&] { return done || c.http().stopped(); });
    } catch (...) {
        c.loop().cancel(id);
        throw;
    }
    c.loop().cancel(id);
}

inline std::string said(answer const& a) {
    std::string s = a.code.empty() ? a.message : a.code + " " + a.message;
    if (!a.tracking_id.empty()) s += " (tracking ID " + a.tracking_id + ")";
    return s;
}

}  // namespace analytics_detail

// The rows of the report at catalogue path `path`, read once from the start, page by page.
// Throws analytics_error (exit 2: Alma refuses the report; 3: it cannot be read now) and
// analytics_lost (read it again from the start); fatal_error when the client stops (bad key,
// daily threshold, --keep-calls). `seen` is filled as the reading goes.
inline coro::generator<analytics_row> analytics_rows(client& c, std::string path, analytics_options opt,
                                                     analytics_reading& seen) {
    using analytics_detail::said;
    std::size_t const limit = std::clamp<std::size_t>(opt.limit / 25 * 25, 25, 1000);
    std::optional<std::string> token;
    std::map<std::string, std::string> headings;
    std::chrono::milliseconds wait = opt.first_pause;
    auto const patience = c.http().options().retry.patience;
    auto const started = std::chrono::steady_clock::now();
    bool first = true, retried_empty = false;
    std::uint64_t rows_read = 0;
    for (;;) {
        bool const token_call = token.has_value();
        std::string url = token_call ? analytics_token_url(c.urls(), *token, limit)
                                     : analytics_report_url(c.urls(), path, limit);
        auto a = analytics_detail::await_answer(c, std::move(url), token_call);
        if (c.http().stopped()) throw fatal_error(c.http().stop_reason());
        if (!a.page) {
            if (token_call && (a.lost || (a.status >= 400 && a.status < 500)))
                throw analytics_lost("a page of report " + path + " was lost (" + said(a) + ")");
            bool const about_the_report = a.status >= 400 && a.status < 500 && a.status != 429 && !a.code.empty();
            if (about_the_report) throw analytics_error("report " + path + " cannot be read: Alma says " + said(a), 2);
            throw analytics_error("could not read report " + path + ": " + said(a) + "; run the command again later", 3);
        }
        ++seen.calls;
        analytics_page& page = *a.page;
        if (first && page.token) token = page.token;
        if (!page.headings.empty()) {
            headings = page.headings;
            seen.headings.clear();
            // ColumnN in N's order (Column10 after Column9), Column0 (a constant) left out.
            std::vector<std::pair<std::size_t, std::string>> ordered;
            for (auto const& [col, h] : headings) {
                std::size_t n = 0;
                for (char ch : col) n = std::isdigit(static_cast<unsigned char>(ch)) ? n * 10 + std::size_t(ch - '0') : n;
                if (col != "Column0") ordered.emplace_back(n, h);
            }
            std::sort(ordered.begin(), ordered.end());
            for (auto& o : ordered) seen.headings.push_back(o.second);
        }
        if (page.finished && page.rows.empty() && rows_read == 0 && !retried_empty) {
            // Finished with no rows at all: Alma is known to answer so spuriously, so the report
            // is read once more, from the start, before it is believed.
            retried_empty = true;
            ++seen.empty_retries;
            analytics_detail::pause(c, opt.first_pause);
            token.reset();
            first = true;
            continue;
        }
        if (!page.finished && page.rows.empty()) {
            // Still being computed.
            if (!token) throw analytics_error("report " + path + " is not finished and gave no token to ask again", 3);
            ++seen.polls;
            if (std::chrono::steady_clock::now() - started >= patience)
                throw analytics_error("report " + path + " is still being computed after " +
                                          net::describe_duration(patience) +
                                          " (--patience); run the command again later",
                                      3);
            auto const paused = std::chrono::steady_clock::now();
            analytics_detail::pause(c, wait);
            seen.pending_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - paused).count();
            wait = std::min(wait * 2, opt.max_pause);
            first = false;
            continue;
        }
        first = false;
        if (!page.rows.empty() && headings.empty())
            throw analytics_lost("report " + path + " gave rows before the schema that names their columns");
        for (auto& cells : page.rows) {
            std::map<std::string, std::string> by_heading;
            for (auto& [col, v] : cells)
                if (auto h = headings.find(col); h != headings.end() && col != "Column0") by_heading[h->second] = std::move(v);
            ++seen.rows;
            ++rows_read;
            analytics_row row{std::move(by_heading)};
            co_yield row;
        }
        if (page.finished) co_return;
        if (!token) throw analytics_error("report " + path + " is not finished and gave no token to ask again", 3);
    }
}

}  // namespace marcpipe::alma
