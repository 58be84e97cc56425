// tls_probe: whether a server asked over http:// speaks TLS on that port — a base URL with
// http:// for https:// never gets an answer, and without this the client waits out its patience.
//
//   bool hints_at_tls(transport_error const&)       an empty reply (curl 52), or a TLS alert read
//   as
//                                                    HTTP/0.9 (curl 1): what a TLS port gives
//                                                    http://
//   std::optional<std::string> plain_http_origin(std::string_view url)
//                                                    "HOST:PORT" of an http:// URL; nothing
//                                                    otherwise
//   bool speaks_tls(std::string_view origin, std::chrono::milliseconds timeout)
//                                                    a TLS handshake with HOST:PORT completes
//
// Neither error alone proves TLS: a plain server that crashes or resets gives an empty reply too.
// A completed handshake does; a failed one proves nothing (a plain server fails it as well). The
// probe only connects (CURLOPT_CONNECT_ONLY): no request is sent, so nothing reaches the server's
// log or counts against a quota, and the certificate is not checked, since only whether the port
// speaks TLS matters and no secret is sent.
//
// It is a blocking easy transfer, not a transfer on the event loop: the loop's transfers are
// verified GETs with a body, and a second kind of transfer there would be more code than the
// question is worth. http_client runs it at most once per host:port, with a timeout of a few
// seconds, and only after an attempt failed in one of the two ways above.
#pragma once

#include <curl/curl.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "marcpipe/net/http.hpp"
#include "marcpipe/net/url.hpp"

namespace marcpipe::net {

inline bool hints_at_tls(transport_error const& e) {
    return e.code == CURLE_GOT_NOTHING || e.code == CURLE_UNSUPPORTED_PROTOCOL;
}

inline std::optional<std::string> plain_http_origin(std::string_view url) {
    if (!detail::istarts_with(url, "http://")) return std::nullopt;
    std::unique_ptr<CURLU, decltype(&curl_url_cleanup)> parsed{curl_url(), &curl_url_cleanup};
    std::string const text{url};
    if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, text.c_str(), 0) != CURLUE_OK)
        return std::nullopt;
    char* host = nullptr;
    char* port = nullptr;
    std::optional<std::string> origin;
    if (curl_url_get(parsed.get(), CURLUPART_HOST, &host, 0) == CURLUE_OK &&
        curl_url_get(parsed.get(), CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK)
        origin = std::string{host} + ":" + port;
    curl_free(host);
    curl_free(port);
    return origin;
}

inline bool speaks_tls(std::string_view origin, std::chrono::milliseconds timeout) {
    std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> easy{curl_easy_init(), &curl_easy_cleanup};
    if (!easy) return false;
    std::string const url = "https://" + std::string{origin} + "/";
    CURL* e = easy.get();
    curl_easy_setopt(e, CURLOPT_URL, url.c_str());
    curl_easy_setopt(e, CURLOPT_CONNECT_ONLY, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout.count()));
    curl_off_t handshake = 0;
    return curl_easy_perform(e) == CURLE_OK &&
           curl_easy_getinfo(e, CURLINFO_APPCONNECT_TIME_T, &handshake) == CURLE_OK &&
           handshake > 0;
}

}  // namespace marcpipe::net
