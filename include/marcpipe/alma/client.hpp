// client: where Alma is (region or base URL), the API key, the request URLs, and typed calls
// to the endpoints the holdings export uses (holdings, bibs, sets), on top of the shared HTTP
// client.
//
// The key is read from ALMA_API_KEY or a file and handed to the HTTP client, which sends it only
// in the Authorization header: it is never part of a URL here, so no URL this file builds can leak it.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <array>
#include <cstdint>
#include <cstdlib>
#include <cstring>
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

#include "marcpipe/alma/error.hpp"
#include "marcpipe/alma/holdings.hpp"
#include "marcpipe/alma/http_policy.hpp"
#include "marcpipe/alma/ids.hpp"
#include "marcpipe/alma/report.hpp"
#include "marcpipe/alma/sets.hpp"
#include "marcpipe/coro/task.hpp"
#include "marcpipe/net/http_client.hpp"

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

// The most a key file may hold: an Alma key is about 40 characters. Reading stops there, so a
// key file that names /dev/zero or a disk image costs 4 KiB, not all memory.
inline constexpr std::size_t max_api_key_file = 4096;

// The bytes of a key file, read with POSIX calls: a directory, an unreadable or an oversized file
// is a config_error naming the file (iostreams throw from inside a read of a directory).
inline std::string read_api_key_file(std::string const& path) {
    std::string const where = "the API key file " + path;
    int const fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) throw config_error("cannot read " + where + ": " + std::strerror(errno));
    struct closer {
        int fd;
        ~closer() { ::close(fd); }
    } const closed{fd};
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) throw config_error(where + " is a directory");
    std::string bytes(max_api_key_file + 1, '\0');
    std::size_t got = 0;
    while (got < bytes.size()) {
        auto const n = ::read(fd, bytes.data() + got, bytes.size() - got);
        if (n == 0) break;
        if (n < 0) {
            if (errno == EINTR) continue;
            throw config_error("cannot read " + where + ": " + std::strerror(errno));
        }
        got += static_cast<std::size_t>(n);
    }
    if (got > max_api_key_file)
        throw config_error(where + " holds more than " + std::to_string(max_api_key_file) +
                           " bytes; it must hold just the key");
    bytes.resize(got);
    return bytes;
}

// Where the key of load_api_key comes from, as a message names it: "the API key file PATH" or
// the environment variable's name.
inline std::string api_key_origin(std::optional<std::string> const& key_file, char const* env_name = "ALMA_API_KEY") {
    return key_file ? "the API key file " + *key_file : std::string(env_name);
}

// The API key: from the file when one is named, otherwise from ALMA_API_KEY. A UTF-8 byte-order
// mark (which Windows editors put first) and surrounding whitespace (the newline an editor adds)
// are dropped; a key with control characters inside is refused, since it would corrupt the
// Authorization header. Messages never quote the key.
inline std::string load_api_key(std::optional<std::string> const& key_file,
                                char const* env_name = "ALMA_API_KEY") {
    std::string key;
    if (key_file) {
        key = read_api_key_file(*key_file);
        if (key.starts_with("\xEF\xBB\xBF")) key.erase(0, 3);
    } else if (char const* env = std::getenv(env_name)) {
        key = env;
    } else {
        throw config_error(std::string("no API key: set ") + env_name +
                           " or pass --api-key-file PATH");
    }
    auto const not_blank = [](unsigned char c) { return c != ' ' && c != '\t' && c != '\r' && c != '\n'; };
    key.erase(key.begin(), std::find_if(key.begin(), key.end(), not_blank));
    key.erase(std::find_if(key.rbegin(), key.rend(), not_blank).base(), key.end());
    std::string const where = api_key_origin(key_file, env_name);
    if (key.empty()) throw config_error(where + " holds an empty API key");
    if (std::any_of(key.begin(), key.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        throw config_error(where + " holds more than one line or control characters; it must hold just the key");
    return key;
}

// An ID about to go into a URL. The sources and the stages check every ID where it enters the run
// (alma/ids.hpp); an invalid one reaching here is a bug, and no URL is built for it: `..` or `.`
// as a path segment would name another resource, whatever encoding it was given.
inline std::string_view url_id(std::string_view id, std::string_view what) {
    if (!is_valid_id(id))
        throw std::invalid_argument(invalid_id_message(what, id) + "; no URL is built for it");
    return id;
}

// The URLs of the endpoints the export uses, under one base URL.
class endpoints {
public:
    explicit endpoints(std::string_view base_url) : base_{normalise_base_url(base_url) + "/almaws/v1"} {}

    std::string const& api_root() const noexcept { return base_; }

    // Retrieve Holdings List.
    std::string holdings_list(std::string_view mms_id) const {
        return base_ + "/bibs/" + std::string{url_id(mms_id, "MMS ID")} + "/holdings";
    }
    // Retrieve Holdings Record.
    std::string holding_record(std::string_view mms_id, std::string_view holding_id) const {
        return base_ + "/bibs/" + std::string{url_id(mms_id, "MMS ID")} + "/holdings/" +
               std::string{url_id(holding_id, "holding ID")};
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
            url += url_id(id, "MMS ID");
            first = false;
        }
        url += "&view=full";
        return url;
    }

    // Retrieve a Set, and a page of its members.
    std::string set(std::string_view set_id) const { return base_ + "/conf/sets/" + std::string{url_id(set_id, "set ID")}; }
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

    // Retrieve Holdings List: the holding IDs of one bib (maybe none). The IDs are as Alma wrote
    // them: the stage that hands them on checks each one (a server's answer is input too).
    coro::task<outcome<std::vector<std::string>>> holdings_list(std::string mms_id,
                                                                net::priority_key priority = net::last_priority) {
        if (!is_valid_id(mms_id))
            return refused<std::vector<std::string>>(stage::holdings_list, mms_id, "");
        std::string url = urls_.holdings_list(mms_id);
        return fetch<std::vector<std::string>>(
            std::move(url), priority, stage::holdings_list, std::move(mms_id), std::string{},
            [](std::string_view body) { return parse_holdings_list(body); });
    }

    // Retrieve Holdings Record. An answer that is the record of another holding is a problem:
    // writing it would give that holding's record this holding's 004 and place in the output.
    coro::task<outcome<holding>> holding_record(std::string mms_id, std::string holding_id,
                                                net::priority_key priority = net::last_priority) {
        if (!is_valid_id(mms_id) || !is_valid_id(holding_id))
            co_return tl::unexpected(refusal(stage::holding_record, mms_id, holding_id));
        std::string url = urls_.holding_record(mms_id, holding_id);
        auto const parse = [](std::string_view body) { return parse_holding_record(body); };
        outcome<holding> answer = co_await fetch<holding>(
            std::move(url), priority, stage::holding_record, mms_id, holding_id, parse);
        if (answer && answer->holding_id != holding_id)
            co_return tl::unexpected(
                problem{stage::holding_record, std::move(mms_id), std::move(holding_id), 200, "",
                        "the answer is the record of holding ID " + quoted_id(answer->holding_id) +
                            ", not of the holding asked for",
                        ""});
        co_return answer;
    }

    // Retrieve Bibs (up to 100) with availability: each bib's AVA fields (what they vouch for:
    // holdings_from_availability). A problem here concerns the whole request; its mms_id column
    // lists the first ID of the group.
    coro::task<outcome<std::vector<bib_availability>>> bibs_availability(
        std::vector<std::string> mms_ids, net::priority_key priority = net::last_priority) {
        std::string first = mms_ids.empty() ? std::string{} : mms_ids.front();
        for (auto const& id : mms_ids)
            if (!is_valid_id(id))
                return refused<std::vector<bib_availability>>(stage::holdings_list, id, "");
        std::string url = urls_.bibs_availability(mms_ids);
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
    coro::task<outcome<std::vector<bib_record>>> bib_records(std::vector<std::string> mms_ids,
                                                             net::priority_key priority = net::last_priority) {
        std::string url = urls_.bib_records(mms_ids);
        std::string first = mms_ids.empty() ? std::string{} : mms_ids.front();
        return fetch<std::vector<bib_record>>(std::move(url), priority, stage::set_members, std::move(first),
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
            auto const& origin = http_->options().auth.origin;
            last = origin.empty() ? examine_answer(r) : examine_answer(r, origin);
            if (last.kind == net::outcome_class::success) {
                answer.emplace(parse(r->body));
                if (!*answer)
                    last = answer->error().final
                               ? net::verdict(net::outcome_class::permanent, answer->error().message())
                               : unreadable_answer(answer->error().message());
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
            co_return tl::unexpected(problem{where, mms_id, holding_id, r->status, "", without_error_body(*r), ""});
        co_return tl::unexpected(
            problem{where, mms_id, holding_id, r->status, last.code, http_->scrub(last.message), last.tracking_id});
    }

    // An invalid ID is refused without a call. The stages check IDs before they get here, so
    // this is a second line: a problem row rather than a request to a path Alma does not have.
    static problem refusal(stage where, std::string_view mms_id, std::string_view holding_id) {
        bool const mms_ok = is_valid_id(mms_id);
        return problem{where,
                       mms_ok ? std::string{mms_id} : shown_id(mms_id),
                       is_valid_id(holding_id) ? std::string{holding_id} : shown_id(holding_id),
                       0,
                       "",
                       (mms_ok ? invalid_id_message("holding ID", holding_id)
                               : invalid_id_message("MMS ID", mms_id)) +
                           "; not asked for",
                       ""};
    }
    template <typename T>
    static coro::task<outcome<T>> refused(stage where, std::string mms_id, std::string holding_id) {
        co_return tl::unexpected(refusal(where, mms_id, holding_id));
    }

    // The message for an answer that is neither the data nor an Alma error. A redirect is not
    // followed (the key would go with it to wherever it points), but where it pointed is said.
    std::string without_error_body(net::response const& r) const {
        std::string const status = "HTTP " + std::to_string(r.status);
        if (r.status < 300 || r.status >= 400) return status + " without an Alma error body";
        auto const location = r.header_value("Location");
        return http_->scrub(status + " redirect, not followed: " +
                            (location ? "Location " + net::redact(*location) : std::string{"no Location"}));
    }

    net::http_client* http_;
    endpoints urls_;
};

}  // namespace marcpipe::alma
