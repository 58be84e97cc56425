// client: where Alma is (region or base URL), the API key, the request URLs, and typed calls
// to the endpoints the holdings export uses (holdings, bibs, sets), on top of the shared HTTP
// client.
//
// The key is read from ALMA_API_KEY or a file and handed to the HTTP client, which sends it only
// in the Authorization header: it is never part of a URL here, so no URL this file builds can leak it.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <tl/expected.hpp>

#include "../coro/task.hpp"
#include "../net/http_client.hpp"
#include "error.hpp"
#include "holdings.hpp"
#include "http_policy.hpp"
#include "report.hpp"
#include "sets.hpp"

namespace marcpipe::alma {

// A configuration mistake (unknown region, no key, unreadable key file): the programs exit 2.
class config_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Alma's API gateways, one per hosting region; China has its own domain.
struct region_host {
    std::string_view region;
    std::string_view base_url;
};

inline constexpr std::array<region_host, 6> region_hosts{{
    {"na", "https://api-na.hosted.exlibrisgroup.com"},
    {"eu", "https://api-eu.hosted.exlibrisgroup.com"},
    {"ap", "https://api-ap.hosted.exlibrisgroup.com"},
    {"aps", "https://api-aps.hosted.exlibrisgroup.com"},
    {"ca", "https://api-ca.hosted.exlibrisgroup.com"},
    {"cn", "https://api-cn.hosted.exlibrisgroup.com.cn"},
}};

inline std::optional<std::string> base_url_for_region(std::string_view region) {
    for (auto const& r : region_hosts)
        if (r.region == region) return std::string{r.base_url};
    return std::nullopt;
}

inline std::string region_names() {
    std::string names;
    for (auto const& r : region_hosts) {
        if (!names.empty()) names += ", ";
        names += r.region;
    }
    return names;
}

// Where Alma is, as a program's options say it: a region's gateway or a base URL, exactly one.
// The answer is checked (https, or http on loopback); a mistake is a config_error.
inline std::string locate(std::string_view region, std::string_view base_url);

// A base URL as given (https://host[:port][/prefix]) without a trailing slash; the /almaws/v1
// prefix is added by the URL builders, so a base URL that already ends with it is accepted too.
inline std::string normalise_base_url(std::string_view url) {
    std::string base{url};
    while (!base.empty() && base.back() == '/') base.pop_back();
    constexpr std::string_view prefix = "/almaws/v1";
    if (base.size() >= prefix.size() && base.compare(base.size() - prefix.size(), prefix.size(), prefix) == 0)
        base.resize(base.size() - prefix.size());
    return base;
}

// The API key: from the file when one is named, otherwise from ALMA_API_KEY. Surrounding
// whitespace (the newline an editor adds) is dropped; a key with control characters inside is
// refused, since it would corrupt the Authorization header. Messages never quote the key.
inline std::string load_api_key(std::optional<std::string> const& key_file,
                                char const* env_name = "ALMA_API_KEY") {
    std::string key;
    if (key_file) {
        std::ifstream in{*key_file, std::ios::binary};
        if (!in) throw config_error("cannot read the API key file " + *key_file);
        key.assign(std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{});
    } else if (char const* env = std::getenv(env_name)) {
        key = env;
    } else {
        throw config_error(std::string("no API key: set ") + env_name +
                           " or pass --api-key-file PATH");
    }
    auto const not_blank = [](unsigned char c) { return c != ' ' && c != '\t' && c != '\r' && c != '\n'; };
    key.erase(key.begin(), std::find_if(key.begin(), key.end(), not_blank));
    key.erase(std::find_if(key.rbegin(), key.rend(), not_blank).base(), key.end());
    std::string const where = key_file ? "the API key file " + *key_file : std::string(env_name);
    if (key.empty()) throw config_error(where + " holds an empty API key");
    if (std::any_of(key.begin(), key.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        throw config_error(where + " holds more than one line or control characters; it must hold just the key");
    return key;
}

// Percent-encodes an ID for a path segment or query value. MMS and holding IDs are digits in
// Alma, but an export can carry anything in 001 and Alma should be the one to say it is wrong.
inline std::string encode_id(std::string_view id) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(id.size());
    for (unsigned char c : id) {
        bool const plain = (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           c == '-' || c == '_' || c == '.' || c == '~';
        if (plain) {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 15]);
        }
    }
    return out;
}

// The URLs of the endpoints the export uses, under one base URL.
class endpoints {
public:
    explicit endpoints(std::string_view base_url) : base_{normalise_base_url(base_url) + "/almaws/v1"} {}

    std::string const& api_root() const noexcept { return base_; }

    // Retrieve Holdings List.
    std::string holdings_list(std::string_view mms_id) const {
        return base_ + "/bibs/" + encode_id(mms_id) + "/holdings";
    }
    // Retrieve Holdings Record.
    std::string holding_record(std::string_view mms_id, std::string_view holding_id) const {
        return base_ + "/bibs/" + encode_id(mms_id) + "/holdings/" + encode_id(holding_id);
    }
    // Retrieve Bibs for up to 100 MMS IDs, with one AVA per physical holding.
    template <typename Ids>
    std::string bibs_availability(Ids const& mms_ids) const {
        return bib_records(mms_ids) + "&expand=p_avail";
    }
    // Retrieve Bibs for up to 100 MMS IDs, with their MARC records.
    template <typename Ids>
    std::string bib_records(Ids const& mms_ids) const {
        std::string url = base_ + "/bibs?mms_id=";
        bool first = true;
        for (auto const& id : mms_ids) {
            if (!first) url += ",";
            url += encode_id(id);
            first = false;
        }
        url += "&view=full";
        return url;
    }

    // Retrieve a Set, and a page of its members.
    std::string set(std::string_view set_id) const { return base_ + "/conf/sets/" + encode_id(set_id); }
    std::string set_members(std::string_view set_id, std::uint64_t offset, std::size_t limit) const {
        return set(set_id) + "/members?limit=" + std::to_string(limit) + "&offset=" + std::to_string(offset);
    }

    static constexpr std::size_t max_bibs_per_call = 100;
    static constexpr std::size_t max_set_members_per_call = 100;

private:
    std::string base_;
};

inline std::string locate(std::string_view region, std::string_view base_url) {
    std::string url;
    if (!base_url.empty() && !region.empty()) throw config_error("say where Alma is once: --region or --base-url, not both");
    if (!base_url.empty()) {
        url = base_url;
    } else if (!region.empty()) {
        auto found = base_url_for_region(region);
        if (!found) throw config_error("unknown region '" + std::string{region} + "'; one of " + region_names());
        url = *found;
    } else {
        throw config_error("say where Alma is: --region (" + region_names() + ") or --base-url URL");
    }
    if (auto problem = net::check_url(endpoints{url}.api_root())) throw config_error(*problem);
    return url;
}

// The run was stopped for a reason no retry can fix (the key refused, the daily threshold used
// up): thrown out of the stages so the program can save its state and exit.
class fatal_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// The Alma calls of the holdings export, over a shared HTTP client (whose loop, rate limiter
// and retries every stage shares). What a run shares beyond the calls (problems, progress, the
// answer log) belongs to pipeline::run. Each call takes an optional priority_key: among the
// requests waiting for their turn the lowest key goes first (net/http.hpp), none: after them all.
class client {
public:
    client(net::http_client& http, std::string_view base_url) : http_{&http}, urls_{base_url} {}
    client(client const&) = delete;
    client& operator=(client const&) = delete;

    net::http_client& http() noexcept { return *http_; }
    net::event_loop& loop() noexcept { return http_->loop(); }
    endpoints const& urls() const noexcept { return urls_; }


    // Retrieve Holdings List: the holding IDs of one bib (maybe none).
    coro::task<outcome<std::vector<std::string>>> holdings_list(std::string mms_id,
                                                                net::priority_key priority = net::last_priority) {
        std::string url = urls_.holdings_list(mms_id);
        return fetch<std::vector<std::string>>(
            std::move(url), priority, stage::holdings_list, std::move(mms_id), std::string{},
            [](std::string_view body) { return parse_holdings_list(body); });
    }

    // Retrieve Holdings Record.
    coro::task<outcome<holding>> holding_record(std::string mms_id, std::string holding_id,
                                                net::priority_key priority = net::last_priority) {
        std::string url = urls_.holding_record(mms_id, holding_id);
        return fetch<holding>(std::move(url), priority, stage::holding_record, std::move(mms_id), std::move(holding_id),
                              [](std::string_view body) { return parse_holding_record(body); });
    }

    // Retrieve Bibs (up to 100) with availability: each bib's holding IDs from AVA $8. A problem
    // here concerns the whole request; its mms_id column lists the first ID of the group.
    coro::task<outcome<std::vector<bib_availability>>> bibs_availability(
        std::vector<std::string> mms_ids, net::priority_key priority = net::last_priority) {
        std::string url = urls_.bibs_availability(mms_ids);
        std::string first = mms_ids.empty() ? std::string{} : mms_ids.front();
        return fetch<std::vector<bib_availability>>(
            std::move(url), priority, stage::holdings_list, std::move(first), std::string{},
            [](std::string_view body) { return parse_bibs_availability(body); });
    }

    // Retrieve a Set: what it holds. A problem here names the set ID in its mms_id column.
    coro::task<outcome<set_info>> set(std::string set_id) {
        std::string url = urls_.set(set_id);
        return fetch<set_info>(std::move(url), net::last_priority, stage::set_members, std::move(set_id), std::string{},
                               [](std::string_view body) { return parse_set(body); });
    }

    // Retrieve Set Members: up to `limit` (at most 100) member IDs from `offset` on.
    coro::task<outcome<set_page>> set_members(std::string set_id, std::uint64_t offset,
                                              std::size_t limit = endpoints::max_set_members_per_call) {
        std::string url = urls_.set_members(set_id, offset, limit);
        return fetch<set_page>(std::move(url), net::last_priority, stage::set_members, std::move(set_id),
                               std::string{}, [](std::string_view body) { return parse_set_members(body); });
    }

    // Retrieve Bibs (up to 100) with their records; a problem names the first ID of the group.
    coro::task<outcome<std::vector<bib_record>>> bib_records(std::vector<std::string> mms_ids) {
        std::string url = urls_.bib_records(mms_ids);
        std::string first = mms_ids.empty() ? std::string{} : mms_ids.front();
        return fetch<std::vector<bib_record>>(std::move(url), net::last_priority, stage::set_members, std::move(first),
                                              std::string{}, [](std::string_view body) { return parse_bib_records(body); });
    }

private:
    // One call, judged per attempt by Alma's classification and, for a 2xx, by parsing the
    // answer: the parse is kept, so a readable answer is parsed once, and an unreadable one
    // counts as a transient failure of the HTTP client's retry budget (the only retry loop);
    // when the budget is spent it becomes a problem like any other.
    template <typename T, typename Parse>
    coro::task<outcome<T>> fetch(std::string url, net::priority_key priority, stage where, std::string mms_id,
                                 std::string holding_id, Parse parse) {
        std::optional<parsed<T>> answer;  // of the attempt judged last
        net::verdict last;
        net::classifier judge = [&](net::result const& r) {
            answer.reset();
            last = examine_answer(r);
            if (last.kind == net::outcome_class::success) {
                answer.emplace(parse(r->body));
                if (!*answer) last = unreadable_answer(answer->error().message());
            }
            return last;
        };
        net::result r = co_await http_->get(std::move(url), std::move(judge), priority);
        if (!r)  // transport trouble that outlived the retries, or the run stopping
            co_return tl::unexpected(problem{where, mms_id, holding_id, 0, "", http_->scrub(r.error().message), ""});
        if (answer && *answer) co_return std::move(**answer);
        if (answer)  // a 2xx that could not be read on any attempt
            co_return tl::unexpected(problem{where, mms_id, holding_id, r->status, "", http_->scrub(last.reason), ""});
        if (last.code.empty())
            co_return tl::unexpected(problem{where, mms_id, holding_id, r->status, "",
                                             "HTTP " + std::to_string(r->status) + " without an Alma error body", ""});
        co_return tl::unexpected(
            problem{where, mms_id, holding_id, r->status, last.code, http_->scrub(last.message), last.tracking_id});
    }

    net::http_client* http_;
    endpoints urls_;
};

}  // namespace marcpipe::alma
