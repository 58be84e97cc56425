// URL checks and redaction: which hosts may be reached over plain HTTP, and how a URL or a
// message is made safe to print when an API key might be in it.
//
//   bool is_loopback_host(std::string_view host)       127.0.0.0/8, ::1, localhost
//   std::optional<std::string> check_url(std::string_view url)
//        nothing when the URL may be fetched; otherwise why not (already redacted)
//   std::string redact(std::string_view url)           apikey=... in a query becomes
//   apikey=REDACTED std::string scrub(std::string_view text, std::string_view secret)
//        `secret` (a short one only as a whole token) and any apikey=... / "apikey KEY" replaced
//   bool has_key_in_query(std::string_view url)
//
// Alma accepts the key as a query parameter too, but then it lands in proxy and server logs; this
// library sends it only in the Authorization header, and everything it prints goes through here.
#pragma once

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>

namespace marcpipe::net {

namespace detail {
inline char lower(char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); }
inline bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return lower(x) == lower(y); });
}
inline bool istarts_with(std::string_view s, std::string_view prefix) {
    return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
// Position of `needle` in `hay`, ignoring ASCII case, from `from`.
inline std::size_t ifind(std::string_view hay, std::string_view needle, std::size_t from = 0) {
    if (needle.empty() || hay.size() < needle.size()) return std::string_view::npos;
    for (std::size_t i = from; i + needle.size() <= hay.size(); ++i)
        if (iequals(hay.substr(i, needle.size()), needle)) return i;
    return std::string_view::npos;
}
}  // namespace detail

inline bool is_loopback_host(std::string_view host) {
    if (detail::iequals(host, "localhost") || detail::iequals(host, "localhost.")) return true;
    if (host == "::1" || host == "[::1]") return true;
    // Dotted IPv4 with a first octet of 127: the whole 127.0.0.0/8 block is loopback.
    int octets = 0;
    std::size_t pos = 0;
    int first = -1;
    while (pos <= host.size()) {
        std::size_t dot = host.find('.', pos);
        std::string_view part =
            host.substr(pos, dot == std::string_view::npos ? host.npos : dot - pos);
        int value = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
        if (part.empty() || ec != std::errc{} || end != part.data() + part.size() || value > 255)
            return false;
        if (octets == 0) first = value;
        ++octets;
        if (dot == std::string_view::npos) break;
        pos = dot + 1;
    }
    return octets == 4 && first == 127;
}

// Replaces the value of every apikey= query (or fragment) parameter with REDACTED.
inline std::string redact(std::string_view url) {
    std::string out;
    out.reserve(url.size());
    std::size_t query = url.find_first_of("?#");
    if (query == std::string_view::npos) return std::string(url);
    out.append(url.substr(0, query));
    std::size_t pos = query;
    while (pos < url.size()) {
        out.push_back(url[pos]);  // the '?', '&', ';' or '#' that opens this parameter
        ++pos;
        std::size_t end = url.find_first_of("&;#", pos);
        if (end == std::string_view::npos) end = url.size();
        std::string_view param = url.substr(pos, end - pos);
        std::size_t eq = param.find('=');
        std::string_view name = param.substr(0, eq);
        if (eq != std::string_view::npos &&
            (detail::iequals(name, "apikey") || detail::iequals(name, "api_key") ||
             detail::iequals(name, "wskey"))) {
            out.append(name);
            out.append("=REDACTED");
        } else {
            out.append(param);
        }
        pos = end;
    }
    return out;
}

inline bool has_key_in_query(std::string_view url) { return redact(url) != url; }

// A secret this long is replaced wherever it appears, even inside a longer word: a random string
// of 16 characters occurs in ordinary text only as itself (Alma's keys are 36). A shorter one (a
// test server's key, "abc") is replaced only as a whole token, not beside a letter or digit, so
// that it does not garble the words it happens to be part of ("abcdef" stays "abcdef"); where it
// would travel, after "apikey=" or "apikey ", it is replaced whatever its length (below).
inline constexpr std::size_t secret_replaced_anywhere = 16;

// Makes arbitrary text (an error message, a log line) safe to print: the secret itself (see
// secret_replaced_anywhere), any `apikey=VALUE` and any `apikey VALUE` (the Authorization header
// form) are replaced.
inline std::string scrub(std::string_view text, std::string_view secret = {}) {
    std::string out(text);
    if (!secret.empty()) {
        auto const word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
        bool const anywhere = secret.size() >= secret_replaced_anywhere;
        for (std::size_t at = out.find(secret); at != std::string::npos;) {
            std::size_t const end = at + secret.size();
            if (anywhere || ((at == 0 || !word(out[at - 1])) && (end == out.size() || !word(out[end])))) {
                out.replace(at, secret.size(), "REDACTED");
                at = out.find(secret, at + 8);
            } else {
                at = out.find(secret, at + 1);
            }
        }
    }
    for (std::string_view marker : {std::string_view("apikey="), std::string_view("apikey ")}) {
        for (std::size_t at = detail::ifind(out, marker); at != std::string::npos;
             at = detail::ifind(out, marker, at + marker.size())) {
            std::size_t start = at + marker.size();
            std::size_t end = start;
            while (end < out.size() && !std::isspace(static_cast<unsigned char>(out[end])) &&
                   out[end] != '&' && out[end] != '#' && out[end] != '\'' && out[end] != '"')
                ++end;
            if (out.compare(start, end - start, "REDACTED") != 0)
                out.replace(start, end - start, "REDACTED");
        }
    }
    return out;
}

// Nothing when the URL may be fetched; otherwise the reason, naming the URL redacted.
// Plain http:// is refused for anything but loopback hosts, so a key can never cross a network
// in clear text (the test server runs on loopback; Alma itself is https only).
inline std::optional<std::string> check_url(std::string_view url) {
    CURLU* parsed = curl_url();
    if (!parsed) return std::string("out of memory parsing a URL");
    std::string text(url);
    std::optional<std::string> problem;
    if (curl_url_set(parsed, CURLUPART_URL, text.c_str(), 0) != CURLUE_OK) {
        problem = "not a valid URL: " + redact(url);
    } else {
        char* scheme = nullptr;
        char* host = nullptr;
        curl_url_get(parsed, CURLUPART_SCHEME, &scheme, 0);
        curl_url_get(parsed, CURLUPART_HOST, &host, 0);
        std::string_view s = scheme ? scheme : "";
        std::string_view h = host ? host : "";
        if (detail::iequals(s, "https")) {
            // fine: TLS with verification
        } else if (detail::iequals(s, "http")) {
            if (!is_loopback_host(h))
                problem =
                    "plain http:// is only allowed for loopback hosts (127.0.0.0/8, ::1, "
                    "localhost); use https:// for " +
                    redact(url);
        } else {
            problem = "unsupported URL scheme '" + std::string(s) + "' in " + redact(url);
        }
        curl_free(scheme);
        curl_free(host);
    }
    curl_url_cleanup(parsed);
    return problem;
}

}  // namespace marcpipe::net
