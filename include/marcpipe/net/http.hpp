// HTTP value types: a header, a response, a transport error and the result of one GET.
//
//   struct header { std::string name, value; };
//   struct response { long status; std::vector<header> headers; std::string body;
//                     double elapsed_seconds;
//                     std::optional<std::string_view> header_value(std::string_view name) const; };
//   struct transport_error { CURLcode code; std::string message; };
//   using result = tl::expected<response, transport_error>;
//   using priority_key = std::uint64_t;   // which waiting request goes first: the lowest key
//
// Transport failures (connection refused or reset, timeout, truncated body, DNS, a response over
// the size cap) are values, not exceptions: a pipeline keeps hundreds of requests in flight and
// most failures are retried, so they travel the same path as responses. A transport_error message
// never contains an API key (URLs in it are redacted).
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <tl/expected.hpp>
#include <utility>
#include <vector>

#include "marcpipe/net/url.hpp"

namespace marcpipe::net {

struct header {
    // Constructors, not an aggregate: GCC 12 mishandles aggregate temporaries in co_await
    // expressions (see the toolchain notes).
    header() = default;
    header(std::string name_, std::string value_)
        : name(std::move(name_)), value(std::move(value_)) {}
    std::string name;
    std::string value;
};

struct response {
    response() = default;
    response(long status_, std::vector<header> headers_, std::string body_, double elapsed = 0)
        : status(status_),
          headers(std::move(headers_)),
          body(std::move(body_)),
          elapsed_seconds(elapsed) {}

    long status = 0;
    std::vector<header> headers;  // of the final response, in the order received
    std::string body;             // decoded (Content-Encoding undone by curl)
    double elapsed_seconds = 0;   // from the start of the transfer to its end

    // Case-insensitive, first match; the value without surrounding blanks.
    std::optional<std::string_view> header_value(std::string_view name) const {
        for (header const& h : headers)
            if (detail::iequals(h.name, name)) return std::string_view(h.value);
        return std::nullopt;
    }
};

struct transport_error {
    transport_error() = default;
    transport_error(CURLcode code_, std::string message_)
        : code(code_), message(std::move(message_)) {}
    CURLcode code = CURLE_OK;
    std::string message;
};

using result = tl::expected<response, transport_error>;

// Of the requests waiting for their turn (a start under the rate limit, a free slot under
// max_in_flight) the one with the lowest key goes first, and among equal keys the one that came
// first. A request that names no key goes after every one that does, so a caller that never
// names one sees plain arrival order, and one that does is never overtaken by a request that
// did not care.
using priority_key = std::uint64_t;
inline constexpr priority_key last_priority = std::numeric_limits<priority_key>::max();

}  // namespace marcpipe::net
