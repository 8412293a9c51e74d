#include "http_text.hpp"

namespace comet {

namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool iends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}

}  // namespace

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

std::string concat(std::initializer_list<std::string_view> pieces) {
    size_t size = 0;
    for (std::string_view piece : pieces) size += piece.size();
    std::string out;
    out.reserve(size);
    for (std::string_view piece : pieces) out.append(piece);
    return out;
}

Decimal decimal(int64_t value) {
    Decimal out;
    uint64_t rest = value < 0 ? 0 - static_cast<uint64_t>(value) : static_cast<uint64_t>(value);
    char* at = out.text + sizeof out.text;
    do {
        *--at = static_cast<char>('0' + rest % 10);
        rest /= 10;
    } while (rest);
    if (value < 0) *--at = '-';
    out.size = static_cast<uint8_t>(out.text + sizeof out.text - at);
    return out;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (lower(a[i]) != lower(b[i])) return false;
    return true;
}

std::string_view find_header(std::string_view block, std::string_view name, bool* found) {
    if (found) *found = false;
    while (!block.empty()) {
        size_t eol = block.find('\n');
        std::string_view line = block.substr(0, eol);
        block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 1);
        size_t colon = line.find(':');
        if (colon == std::string_view::npos) continue;
        if (!iequals(trim(line.substr(0, colon)), name)) continue;
        if (found) *found = true;
        return trim(line.substr(colon + 1));
    }
    return {};
}

ContentType parse_content_type(std::string_view value) {
    ContentType result;
    size_t semi = value.find(';');
    result.media_type = trim(value.substr(0, semi));
    while (semi != std::string_view::npos) {
        value = value.substr(semi + 1);
        // A quoted parameter value may contain ';', so find the end of this parameter with
        // quotes in mind.
        size_t eq = value.find('=');
        size_t next = value.find(';');
        if (eq == std::string_view::npos || (next != std::string_view::npos && next < eq)) {
            semi = next;
            continue;
        }
        std::string_view key = trim(value.substr(0, eq));
        std::string_view rest = value.substr(eq + 1);
        while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
        std::string_view param;
        if (!rest.empty() && rest.front() == '"') {
            size_t close = rest.find('"', 1);
            param = rest.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
            size_t after = close == std::string_view::npos ? std::string_view::npos : rest.find(';', close);
            semi = after == std::string_view::npos ? std::string_view::npos
                                                   : static_cast<size_t>(rest.data() + after - value.data());
        } else {
            size_t end = rest.find(';');
            param = trim(rest.substr(0, end));
            semi = end == std::string_view::npos ? std::string_view::npos
                                                 : static_cast<size_t>(rest.data() + end - value.data());
        }
        if (iequals(key, "boundary") && result.boundary.empty()) result.boundary = param;
    }
    return result;
}

bool is_json_media_type(std::string_view media_type) {
    size_t slash = media_type.find('/');
    if (slash == std::string_view::npos) return false;
    std::string_view subtype = media_type.substr(slash + 1);
    return iequals(subtype, "json") || iequals(subtype, "x-json") || iends_with(subtype, "+json");
}

bool is_multipart_mixed(std::string_view media_type) { return iequals(media_type, "multipart/mixed"); }

}  // namespace comet
