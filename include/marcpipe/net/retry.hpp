// What to do with the result of a request: succeed, retry, give up on this one, or stop all work.
//
//   enum class outcome_class { success, transient, permanent, fatal };
//   verdict examine(result const&)       class + reason + Alma error + Retry-After + "over rate"
//   outcome_class classify(result const&)
//   struct retry_policy { max_attempts, base_delay, max_delay, max_retry_after;
//                         backoff(failed_attempts, retry_after, rng) }   exponential, full jitter
//   std::optional<std::chrono::milliseconds> parse_retry_after(value, now)
//
// The classes follow what Alma and its gateway do:
//   transient  429 PER_SECOND_THRESHOLD (or a 429 without a code), 408, 5xx (not 501/505),
//              connection refused/reset, timeouts, truncated bodies, a garbled HTTP reply, and a
//              2xx whose body claims to be XML but does not parse (a cut-off or corrupted answer)
//   permanent  other 4xx (400 with an Alma code such as 402203 "invalid MMS ID"), a response over
//              the size cap, a URL refused before sending
//   fatal      UNAUTHORIZED (any status), DAILY_THRESHOLD, 401, TLS verification failures, and
//              transfers aborted because the run was stopped: nothing later can succeed either
// Full jitter (a uniform delay in [0, min(cap, base * 2^n)]) spreads the retries of many
// requests that failed together, so they do not come back as one burst; Retry-After, when the
// server sends it, is a floor.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <ctime>
#include <optional>
#include <pugixml.hpp>
#include <random>
#include <string>
#include <string_view>

#include "../alma/error.hpp"
#include "http.hpp"

namespace marcpipe::net {

enum class outcome_class { success, transient, permanent, fatal };

inline char const* to_string(outcome_class c) noexcept {
    switch (c) {
        case outcome_class::success:
            return "success";
        case outcome_class::transient:
            return "transient";
        case outcome_class::permanent:
            return "permanent";
        case outcome_class::fatal:
            return "fatal";
    }
    return "?";
}

// Retry-After is either delta-seconds or an HTTP date.
inline std::optional<std::chrono::milliseconds> parse_retry_after(
    std::string_view value,
    std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) {
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    while (!value.empty() && value.back() == ' ') value.remove_suffix(1);
    if (value.empty()) return std::nullopt;
    long long seconds = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), seconds);
    if (ec == std::errc{} && end == value.data() + value.size())
        return std::chrono::milliseconds(std::max(0LL, seconds) * 1000);
    std::string text(value);
    std::time_t when = curl_getdate(text.c_str(), nullptr);
    if (when == -1) return std::nullopt;
    auto delta = std::chrono::system_clock::from_time_t(when) - now;
    return std::max(std::chrono::milliseconds(0),
                    std::chrono::duration_cast<std::chrono::milliseconds>(delta));
}

struct verdict {
    verdict() = default;
    verdict(outcome_class kind_, std::string reason_) : kind(kind_), reason(std::move(reason_)) {}

    outcome_class kind = outcome_class::success;
    std::string reason;      // for a log line or an error report
    bool over_rate = false;  // slow the rate limiter down
    std::optional<std::chrono::milliseconds> retry_after;
    std::optional<alma::alma_error> alma;  // when the body was an Alma error
};

namespace detail {
inline bool declares_xml(response const& r) {
    auto type = r.header_value("Content-Type");
    return type && ifind(*type, "xml") != std::string_view::npos;
}
inline bool well_formed_xml(std::string_view body) {
    pugi::xml_document doc;
    return static_cast<bool>(
        doc.load_buffer(body.data(), body.size(), pugi::parse_minimal, pugi::encoding_auto));
}
}  // namespace detail

inline verdict examine(result const& r) {
    if (!r) {
        transport_error const& e = r.error();
        switch (e.code) {
            case CURLE_OPERATION_TIMEDOUT:
            case CURLE_COULDNT_CONNECT:
            case CURLE_COULDNT_RESOLVE_HOST:
            case CURLE_COULDNT_RESOLVE_PROXY:
            case CURLE_RECV_ERROR:
            case CURLE_SEND_ERROR:
            case CURLE_GOT_NOTHING:
            case CURLE_PARTIAL_FILE:
            case CURLE_HTTP2:
            case CURLE_HTTP2_STREAM:
            case CURLE_BAD_CONTENT_ENCODING:
            case CURLE_SSL_CONNECT_ERROR:
            case CURLE_WEIRD_SERVER_REPLY:
            case CURLE_AGAIN:
                return verdict(outcome_class::transient, e.message);
            case CURLE_PEER_FAILED_VERIFICATION:
            case CURLE_SSL_CACERT_BADFILE:
            case CURLE_SSL_CERTPROBLEM:
            case CURLE_ABORTED_BY_CALLBACK:
                return verdict(outcome_class::fatal, e.message);
            default:
                return verdict(outcome_class::permanent, e.message);
        }
    }
    response const& resp = *r;
    long status = resp.status;
    if (status >= 200 && status < 300) {
        if (detail::declares_xml(resp) && !detail::well_formed_xml(resp.body))
            return verdict(outcome_class::transient,
                           "HTTP " + std::to_string(status) +
                               " with a body that is not well-formed XML (" +
                               std::to_string(resp.body.size()) + " bytes)");
        return verdict(outcome_class::success, "HTTP " + std::to_string(status));
    }
    verdict v(outcome_class::permanent, "HTTP " + std::to_string(status));
    v.alma = alma::parse_alma_error(resp.body, status);
    if (v.alma) v.reason = v.alma->describe();
    if (auto after = resp.header_value("Retry-After")) v.retry_after = parse_retry_after(*after);
    std::string_view code = v.alma ? std::string_view(v.alma->code) : std::string_view();

    if (code == "UNAUTHORIZED" || code == "DAILY_THRESHOLD" || status == 401) {
        v.kind = outcome_class::fatal;
        if (code == "UNAUTHORIZED" || status == 401)
            v.reason +=
                " -- the API key is not valid for this API; check ALMA_API_KEY and its permissions";
        else
            v.reason += " -- the institution's daily API threshold is used up; resume tomorrow";
    } else if (status == 429) {
        v.kind = outcome_class::transient;
        v.over_rate = true;
    } else if (status == 408 || (status >= 500 && status < 600 && status != 501 && status != 505)) {
        v.kind = outcome_class::transient;
    }
    return v;
}

inline outcome_class classify(result const& r) { return examine(r).kind; }

struct retry_policy {
    int max_attempts = 5;                         // the first try included
    std::chrono::milliseconds base_delay{250};    // the cap of the first backoff
    std::chrono::milliseconds max_delay{20'000};  // the cap of any backoff
    std::chrono::milliseconds max_retry_after{
        120'000};  // longer Retry-After values are cut to this

    // Delay before the next try after `failed_attempts` failures (1 for the first retry).
    template <class Rng>
    std::chrono::milliseconds backoff(int failed_attempts,
                                      std::optional<std::chrono::milliseconds> retry_after,
                                      Rng& rng) const {
        long long cap = base_delay.count();
        for (int i = 1; i < failed_attempts && cap < max_delay.count(); ++i) cap *= 2;
        cap = std::min<long long>(cap, max_delay.count());
        std::uniform_int_distribution<long long> jitter(0, std::max(0LL, cap));
        std::chrono::milliseconds delay(jitter(rng));
        if (retry_after) delay = std::max(delay, std::min(*retry_after, max_retry_after));
        return delay;
    }
};

}  // namespace marcpipe::net
