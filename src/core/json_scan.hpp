// A validating JSON scanner that also finds two top-level members of an object.
//
// It accepts exactly what JavaScript's JSON.parse accepts (RFC 8259 grammar, whitespace
// space/tab/CR/LF), so the shim can hand any span it returns straight to JSON.parse. It never
// builds a tree and never copies: the result is spans into the scanned text. Nesting depth is
// unbounded (an explicit stack on the heap, not recursion), as it is for JSON.parse.
#pragma once

#include <cstdint>
#include <string_view>

#include "span.hpp"

namespace comet {

enum class JsonError : uint8_t {
    None,
    Empty,                // nothing but whitespace
    UnexpectedCharacter,  // a byte that cannot start or continue the current token
    UnexpectedEnd,        // the text stops inside a value
    BadString,            // control character or bad escape inside a string
    BadNumber,
    TrailingData,  // a complete value followed by more than whitespace
};

const char* describe(JsonError error);

enum class JsonKind : uint8_t { Object, Array, String, Number, True, False, Null };

struct JsonScan {
    JsonError error = JsonError::None;
    uint32_t error_offset = 0;  // byte offset of the problem, for the error message
    JsonKind kind = JsonKind::Null;
    Span value;  // the whole value without surrounding whitespace
    // Only set when the value is an object that has the member (the last one wins, as in
    // JSON.parse). The span covers the member's value token, e.g. `"feed"` with its quotes.
    bool has_type = false;
    JsonKind type_kind = JsonKind::Null;
    Span type;
    bool has_data = false;
    Span data;

    bool ok() const { return error == JsonError::None; }
};

// Scans `text`. `type_key` / `data_key` are compared with each top-level key after JSON
// unescaping. An empty `data_key` never matches (the caller uses that for "no data key").
JsonScan scan_json(std::string_view text, std::string_view type_key, std::string_view data_key);

// True when `text` (after whitespace) starts like a JSON object or array: the rule used to
// try JSON on bodies whose Content-Type does not say JSON.
bool looks_like_json(std::string_view text);

// Compares the raw contents of a JSON string token (without quotes, escapes undecoded) with
// a plain UTF-8 key.
bool json_string_equals(std::string_view raw, std::string_view key);

}  // namespace comet
