// What a response must show before it counts: that it arrived whole, and a message id that is
// whole too.
//
// Browsers hand a page answers that did not arrive whole. Chromium and Firefox both take a
// connection that closes inside the response's header block for the end of the headers: the
// page sees status 200 (or a status line cut to "2" or "20"), the header lines that had arrived
// -- the last one possibly cut short, "Etag: 1" where the server sent "12" -- and an empty
// body. A body cut short after a whole header block is a network error in both, as long as
// Content-Length or chunked framing tells them how long it should have been. (Measured with a
// proxy that cuts a real Nchan response at every byte; see test/browser/cuts.test.js.)
//
// So a header block is only known to be whole when something after it arrived: the body
// bytes that Content-Length announced, or (chunked or compressed, where the body's size is not
// Content-Length) at least one body byte, after which the browser checks the framing itself.
// An empty body with "Content-Length: 0" is taken at its word: it cannot show more. The
// message id must then be whole as well: both of its headers, a date that parses and a tag
// that is not empty.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace comet {

// Where a stream stands: the server's id of the last message that arrived whole, Nchan's
// Last-Modified + Etag, sent back as If-Modified-Since + If-None-Match. Empty: nothing yet,
// and the server decides where a new subscriber starts.
struct Cursor {
    std::string last_modified;
    std::string etag;
    bool empty() const { return last_modified.empty() && etag.empty(); }
    bool operator==(const Cursor& other) const { return etag == other.etag && last_modified == other.last_modified; }
    bool operator!=(const Cursor& other) const { return !(*this == other); }
};

// A usable id: an HTTP date (IMF-fixdate) and a non-empty tag. An empty cursor is not one.
bool well_formed(const Cursor& cursor);

enum class CursorCheck : uint8_t {
    Absent,  // neither header: a server without message ids
    Valid,   // both, well-formed
    Broken,  // one without the other, or either malformed: a header block cut short
};

// Reads the id a response carries; `out` is assigned only when it is Valid.
CursorCheck read_cursor(std::string_view headers, Cursor& out);

enum class Framing : uint8_t {
    Whole,
    LengthMismatch,  // Content-Length announced another number of bytes than arrived
    Unverifiable,    // nothing shows the header block ended: no usable Content-Length, and no
                     // chunked or compressed body byte after it
};

struct FramingCheck {
    Framing framing = Framing::Whole;
    uint64_t declared = 0;  // Content-Length, when there is a usable one
};

// Whether a response of `body_bytes` bytes with these headers verifiably arrived whole.
FramingCheck check_framing(std::string_view headers, uint64_t body_bytes);

// A Content-Length value: decimal digits, or a list of identical ones (browsers join repeated
// headers with ", "). False for anything else.
bool parse_content_length(std::string_view value, uint64_t& out);

}  // namespace comet
