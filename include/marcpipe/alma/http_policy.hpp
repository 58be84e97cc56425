// How Alma is spoken to over HTTP: the key's header, the quota header, and what Alma's answers
// mean for retrying; handed to net::http_client, which knows none of it.
//
//   net::verdict examine_answer(net::result const&, std::string_view key_origin)
//                                                     plain HTTP's verdict, then Alma's codes
//   net::verdict unreadable_answer(std::string why)
//   net::credential api_key_header(std::string key)   Authorization: apikey KEY
//   inline constexpr std::string_view quota_header = "X-Exl-Api-Remaining";
//   net::client_options http_options(std::string key, std::string key_origin)
//                                                     all of the above, ready for an http_client
//
// Alma's error codes override what the status alone would say:
//   PER_SECOND_THRESHOLD (429)     transient and over the rate: the institution's 25 calls/s
//   DAILY_THRESHOLD (429)          fatal: nothing succeeds before Alma's day rolls over
//   UNAUTHORIZED (400, 401, 403)   fatal: the key is not valid for this API
//   any other code                 as the status says (400 402203 "invalid MMS ID" is permanent)
// A 500, 502, 503 or 504 stays an outage whatever its body says (net::verdict::outage): a server
// failure says nothing of the bib asked for, so it is waited out, never held against the bib
// (net/http_client.hpp says how long, and what happens to one call that alone keeps failing).
// An error body is parsed here, once: its code, message and tracking ID travel on in the verdict.
// A 2xx is judged by the caller that knows what it asked for (alma::client parses the answer and
// calls a body it cannot read unreadable_answer), so a cut-off or garbled answer is asked for
// again within the same retry budget as a 503, and only then becomes a problem.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "marcpipe/alma/error.hpp"
#include "marcpipe/net/classify.hpp"
#include "marcpipe/net/http_client.hpp"

namespace marcpipe::alma {

inline constexpr std::string_view quota_header = "X-Exl-Api-Remaining";

// `key_origin` is where the key came from (alma::api_key_origin), for the hint a refused key gets.
inline net::verdict examine_answer(net::result const& r, std::string_view key_origin = "ALMA_API_KEY") {
    net::verdict v = net::examine(r);
    if (!r || v.kind == net::outcome_class::success) return v;
    auto error = parse_alma_error(r->body, r->status);
    if (!error) return v;
    v.reason = error->describe();
    v.code = error->code;
    v.message = error->message;
    v.tracking_id = error->tracking_id;
    if (error->code == "UNAUTHORIZED") {
        v.kind = net::outcome_class::fatal;
        v.reason += " -- the API key is not valid for this API; check " + std::string{key_origin} +
                    " and the key's permissions";
    } else if (error->code == "DAILY_THRESHOLD") {
        v.kind = net::outcome_class::fatal;
        v.reason += " -- the institution's daily API threshold is used up; resume tomorrow";
    } else if (error->code == "PER_SECOND_THRESHOLD") {
        v.kind = net::outcome_class::transient;
        v.over_rate = true;
    }
    return v;
}

// A 2xx whose body is not the answer asked for (cut off, garbled): worth asking again.
inline net::verdict unreadable_answer(std::string const& why) {
    return net::verdict(net::outcome_class::transient, "the answer could not be read: " + why);
}

// The key travels only here, never in a URL; the http_client scrubs it from every message.
inline net::credential api_key_header(std::string key, std::string origin = "ALMA_API_KEY") {
    net::credential c("Authorization", "apikey " + key, key);
    c.origin = std::move(origin);
    return c;
}

// Options for an http_client that talks to Alma; rate, concurrency and retries keep their
// defaults for the caller to change. An empty key sends none (a test server that asks for none).
// `key_origin` names where the key came from in the hint a refused key gets.
inline net::client_options http_options(std::string key, std::string key_origin = "ALMA_API_KEY") {
    net::client_options options;
    if (!key.empty()) options.auth = api_key_header(std::move(key), key_origin);
    options.quota_header = std::string(quota_header);
    options.classify = [origin = std::move(key_origin)](net::result const& r) { return examine_answer(r, origin); };
    return options;
}

}  // namespace marcpipe::alma
