// Alma error bodies: the errorCode, errorMessage and trackingId of a `web_service_result`.
//
//   struct alma_error { long http_status; std::string code, message, tracking_id;
//                       std::string describe() const; };
//   std::optional<alma_error> parse_alma_error(std::string_view body, long http_status = 0);
//
// Alma answers errors with
//   <web_service_result
//   xmlns="http://com/exlibris/urm/general/xmlbeans"><errorsExist>true</errorsExist>
//     <errorList><error><errorCode>402203</errorCode><errorMessage>...</errorMessage>
//     <trackingId>E01-...</trackingId></error></errorList></web_service_result>
// The API gateway (bad key, thresholds) sends the same shape without a trackingId, and sometimes
// JSON ({"errorList":{"error":[{"errorCode":"PER_SECOND_THRESHOLD",...}]}}) whatever was asked
// for. Both are read here without a JSON library: the JSON form only needs three string members.
// A body that is neither (an HTML page from a proxy, nothing at all) gives no alma_error.
#pragma once

#include <algorithm>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <utility>

namespace marcpipe::alma {

struct alma_error {
    alma_error() = default;
    alma_error(long http_status_, std::string code_, std::string message_, std::string tracking_id_)
        : http_status(http_status_),
          code(std::move(code_)),
          message(std::move(message_)),
          tracking_id(std::move(tracking_id_)) {}

    long http_status = 0;
    std::string code;         // "402203", "UNAUTHORIZED", "PER_SECOND_THRESHOLD", ...
    std::string message;      // errorMessage, trimmed
    std::string tracking_id;  // empty for gateway errors

    // "HTTP 400, Alma error 402203: Input parameters mmsId 1234 is not valid. (tracking ID
    // E01-...)"
    std::string describe() const {
        std::string out;
        if (http_status) out += "HTTP " + std::to_string(http_status) + ", ";
        out += "Alma error " + (code.empty() ? std::string("(no code)") : code);
        if (!message.empty()) out += ": " + message;
        if (!tracking_id.empty()) out += " (tracking ID " + tracking_id + ")";
        return out;
    }
};

namespace detail {

inline std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

inline std::string_view local_name(char const* name) {
    std::string_view n(name);
    std::size_t colon = n.find(':');
    return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

inline pugi::xml_node child_named(pugi::xml_node parent, std::string_view local) {
    for (pugi::xml_node c : parent.children())
        if (c.type() == pugi::node_element && local_name(c.name()) == local) return c;
    return {};
}

// The string value of "key": "..." after `from` in a JSON text, with the common escapes undone.
inline std::optional<std::string> json_string_member(std::string_view text, std::string_view key,
                                                     std::size_t from = 0) {
    std::string quoted = "\"" + std::string(key) + "\"";
    std::size_t at = text.find(quoted, from);
    if (at == std::string_view::npos) return std::nullopt;
    std::size_t pos = at + quoted.size();
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' || text[pos] == '\n'))
        ++pos;
    if (pos >= text.size() || text[pos] != ':') return std::nullopt;
    ++pos;
    while (pos < text.size() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\r' || text[pos] == '\n'))
        ++pos;
    if (pos >= text.size() || text[pos] != '"') return std::nullopt;
    ++pos;
    std::string value;
    while (pos < text.size() && text[pos] != '"') {
        char c = text[pos++];
        if (c == '\\' && pos < text.size()) {
            char e = text[pos++];
            switch (e) {
                case 'n':
                    value += '\n';
                    break;
                case 't':
                    value += '\t';
                    break;
                case 'r':
                    value += '\r';
                    break;
                case 'u':
                    value += '?';
                    pos = std::min(text.size(), pos + 4);
                    break;  // rare in codes/messages
                default:
                    value += e;
                    break;
            }
        } else {
            value += c;
        }
    }
    if (pos >= text.size()) return std::nullopt;  // unterminated string
    return value;
}

}  // namespace detail

inline std::optional<alma_error> parse_alma_error(std::string_view body, long http_status = 0) {
    std::string_view text = detail::trim(body);
    if (text.empty()) return std::nullopt;
    if (text.front() == '<') {
        pugi::xml_document doc;
        if (!doc.load_buffer(text.data(), text.size(), pugi::parse_default, pugi::encoding_auto))
            return std::nullopt;
        pugi::xml_node root = doc.document_element();
        if (detail::local_name(root.name()) != "web_service_result") return std::nullopt;
        pugi::xml_node error = detail::child_named(detail::child_named(root, "errorList"), "error");
        if (!error) return std::nullopt;
        return alma_error(
            http_status,
            std::string(detail::trim(detail::child_named(error, "errorCode").text().get())),
            std::string(detail::trim(detail::child_named(error, "errorMessage").text().get())),
            std::string(detail::trim(detail::child_named(error, "trackingId").text().get())));
    }
    if (text.front() == '{') {
        std::size_t list = text.find("\"errorList\"");
        if (list == std::string_view::npos) return std::nullopt;
        auto code = detail::json_string_member(text, "errorCode", list);
        if (!code) return std::nullopt;
        auto message = detail::json_string_member(text, "errorMessage", list);
        auto tracking = detail::json_string_member(text, "trackingId", list);
        return alma_error(http_status, std::string(detail::trim(*code)),
                          message ? std::string(detail::trim(*message)) : std::string(),
                          tracking ? std::string(detail::trim(*tracking)) : std::string());
    }
    return std::nullopt;
}

}  // namespace marcpipe::alma
