// Small readers for HTTP header text: a header block as the browser hands it over
// (`name: value\r\n` lines), and Content-Type values with their parameters.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace comet {

// The value of the first header called `name` (ASCII case-insensitive) in a block of
// `name: value` lines separated by CRLF or LF, with surrounding spaces trimmed. Empty when
// absent; `found` tells an empty value from a missing header.
std::string_view find_header(std::string_view block, std::string_view name, bool* found = nullptr);

struct ContentType {
    std::string_view media_type;  // e.g. "application/json", trimmed, case as sent
    std::string_view boundary;    // the boundary parameter, quotes removed; empty if none
};

ContentType parse_content_type(std::string_view value);

bool iequals(std::string_view a, std::string_view b);

// Without the spaces, tabs and carriage returns around it.
std::string_view trim(std::string_view s);

// The pieces one after another: for the sentences of reports, where a chain of operator+ would
// compile to several times the code (each + is inlined string machinery).
std::string concat(std::initializer_list<std::string_view> pieces);

// A number in decimal, as std::to_string writes it, for concat(): no string on the heap, and
// in the wasm one small function instead of libc++'s to_string and to_chars for each integer
// type. Use it within the expression that makes it (concat({"... ", decimal(n), " ..."})):
// the text lives in the temporary.
struct Decimal {
    char text[20];
    uint8_t size;
    operator std::string_view() const { return {text + sizeof text - size, size}; }
};
Decimal decimal(int64_t value);

// application/json, text/json, application/x-json, anything/anything+json.
bool is_json_media_type(std::string_view media_type);
bool is_multipart_mixed(std::string_view media_type);

}  // namespace comet
