// What to do with the result of a request: succeed, retry, give up on this one, or stop all work.
//
//   enum class outcome_class { success, transient, permanent, fatal };
//   struct verdict { kind, reason, over_rate, outage, retry_after, code, message, tracking_id };
//   using classifier = std::function<verdict(result const&)>;
//   verdict examine(result const&)          plain HTTP's classification, the http_client's default
//   outcome_class classify(result const&)   examine(r).kind
//   std::optional<std::chrono::milliseconds> parse_retry_after(value, now)
//
// The transport layer knows HTTP and nothing of the service behind it: a service that says more
// in its error bodies (Alma's error codes, see alma/http_policy.hpp) gives the http_client a
// classifier of its own, which can read the body once and hand what it found on in `code`,
// `message` and `tracking_id`.
//
// examine() follows what HTTP promises:
//   transient  429 (over the rate: slow down), 408, 5xx (not 501/505), connection refused/reset,
//              timeouts, truncated bodies, a garbled HTTP reply
//   permanent  other 4xx, a response over the size cap, a URL refused before sending
//   fatal      401, TLS verification failures, and transfers aborted because the run was
//              stopped: nothing later can succeed either
// Of the transient ones, an outage says nothing of the request, only that the network or the
// server is down: the connection refused, reset or cut off, a name that does not resolve, a TLS
// handshake that breaks off, a timeout, a 500, 502, 503 or 504. The http_client retries those
// without counting them against the request's attempts, for as long as its patience lasts (see
// http_client.hpp); a certificate that fails verification is no outage but fatal.
// A 2xx is a success whatever its body holds: only the caller knows what it expected to read.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <ctime>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "marcpipe/net/http.hpp"

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
    std::string reason;      // for a log line, a stop reason or an error report
    bool over_rate = false;  // slow the rate limiter down
    bool outage = false;     // transient, and says nothing of the request (see above)
    std::optional<std::chrono::milliseconds> retry_after;
    // What the server said about an error, when a classifier could read it from the body; empty
    // otherwise. The caller reports these without reading the body again.
    std::string code;
    std::string message;
    std::string tracking_id;
};

// Called once per attempt, on what that attempt gave (after the client's own bookkeeping).
using classifier = std::function<verdict(result const&)>;

inline verdict examine_transport(transport_error const& e) {
    switch (e.code) {
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR: {
            verdict v(outcome_class::transient, e.message);
            v.outage = true;
            return v;
        }
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
        case CURLE_BAD_CONTENT_ENCODING:
        case CURLE_WEIRD_SERVER_REPLY:
        case CURLE_AGAIN:
        // The loop's budget for answer bodies was full (body_budget.hpp): others hold it now.
        case CURLE_OUT_OF_MEMORY:
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

inline verdict examine(result const& r) {
    if (!r) return examine_transport(r.error());
    long const status = r->status;
    verdict v(outcome_class::success, "HTTP " + std::to_string(status));
    if (status >= 200 && status < 300) return v;
    if (auto after = r->header_value("Retry-After")) v.retry_after = parse_retry_after(*after);
    if (status == 401) {
        v.kind = outcome_class::fatal;
        v.reason += " -- the server refused the credentials";
    } else if (status == 429) {
        v.kind = outcome_class::transient;
        v.over_rate = true;
    } else if (status == 408 || (status >= 500 && status < 600 && status != 501 && status != 505)) {
        v.kind = outcome_class::transient;
        v.outage = status >= 500 && status <= 504;
    } else {
        v.kind = outcome_class::permanent;
    }
    return v;
}

inline outcome_class classify(result const& r) { return examine(r).kind; }

}  // namespace marcpipe::net
