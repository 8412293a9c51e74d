// A multipart/mixed splitter (RFC 2046 section 5.1.1) over a caller-owned body.
//
// Nchan answers with `--B\r\nContent-Type: x\r\n\r\nbody\r\n--B ... --B--\r\n` when more than
// one message is waiting. Parts are returned as spans; nothing is copied. A part counts only
// when its closing delimiter was seen, so a truncated body yields the complete parts before
// the damage plus an error saying where it stopped.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "span.hpp"

namespace comet {

enum class MultipartError : uint8_t {
    None,
    NoBoundary,           // Content-Type had no usable boundary parameter
    NoFirstDelimiter,     // the body never contains "--boundary"
    BadDelimiterLine,     // "--boundary" followed by something other than CRLF or "--"
    UnterminatedHeaders,  // a part's headers do not end with an empty line
    MissingClose,         // the body ends without the closing "--boundary--"
};

const char* describe(MultipartError error);

struct Part {
    Span content_type;  // empty when the part has no Content-Type header
    Span body;
};

struct MultipartResult {
    MultipartError error = MultipartError::None;
    uint32_t error_offset = 0;
    bool ok() const { return error == MultipartError::None; }
};

// Appends the complete parts of `body` to `parts` (which is not cleared).
MultipartResult split_multipart(std::string_view body, std::string_view boundary, std::vector<Part>& parts);

}  // namespace comet
