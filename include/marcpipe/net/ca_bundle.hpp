// ca_bundle: a CA bundle named for TLS (--cacert), checked before any call.
//
//   std::optional<std::string> check_ca_bundle(std::string const& path)   the reason it is unfit
//
// libcurl reads the bundle only when it makes a connection, and then fails every call alike
// (CURLE_SSL_CACERT_BADFILE), which a run would take for trouble on the way rather than a file
// named wrong. A bundle that cannot be read, or holds no PEM certificate at all, is a mistake in
// the command: it is found here, naming the file. That the certificates in it are valid only
// TLS can tell.
#pragma once

#include <cctype>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>

namespace marcpipe::net {

// A CA bundle is a few hundred KiB (Mozilla's is 220 KiB); reading stops here.
inline constexpr std::size_t max_ca_bundle = 16 << 20;

inline std::optional<std::string> check_ca_bundle(std::string const& path) {
    std::string const where = "the CA bundle " + path;
    std::ifstream in{path, std::ios::binary};
    if (!in) return "cannot read " + where + ": " + std::strerror(errno);
    std::string text;
    text.resize(max_ca_bundle);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    if (in.bad()) return "cannot read " + where;
    text.resize(static_cast<std::size_t>(in.gcount()));
    // A PEM certificate: BEGIN, base64 of a DER SEQUENCE (0x30, so the first character is 'M'),
    // END. The first one found is enough.
    constexpr std::string_view begin = "-----BEGIN CERTIFICATE-----", end = "-----END CERTIFICATE-----";
    for (auto at = text.find(begin); at != std::string::npos; at = text.find(begin, at + begin.size())) {
        auto const stop = text.find(end, at);
        if (stop == std::string::npos) break;
        std::string_view const body = std::string_view{text}.substr(at + begin.size(), stop - at - begin.size());
        auto const first = body.find_first_not_of(" \t\r\n");
        if (first == std::string_view::npos || body[first] != 'M') continue;
        bool base64 = true;
        for (char c : body)
            if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/' || c == '=' || c == ' ' ||
                  c == '\t' || c == '\r' || c == '\n'))
                base64 = false;
        if (base64) return std::nullopt;
    }
    return where + " holds no PEM certificate (-----BEGIN CERTIFICATE----- ...); TLS could verify nothing with it";
}

}  // namespace marcpipe::net
