#include "integrity.hpp"

#include "backoff.hpp"
#include "http_text.hpp"

namespace comet {

namespace {

// The last transfer coding is chunked ("chunked", "gzip, chunked").
bool is_chunked(std::string_view transfer_encoding) {
    size_t comma = transfer_encoding.rfind(',');
    std::string_view last = comma == std::string_view::npos ? transfer_encoding : transfer_encoding.substr(comma + 1);
    return iequals(trim(last), "chunked");
}

// A content coding the browser undoes before the page sees the body.
bool is_encoded(std::string_view content_encoding) {
    content_encoding = trim(content_encoding);
    return !content_encoding.empty() && !iequals(content_encoding, "identity");
}

bool parse_digits(std::string_view digits, uint64_t& out) {
    if (digits.empty() || digits.size() > 19) return false;  // 19 digits always fit in 64 bits
    uint64_t value = 0;
    for (char c : digits) {
        if (c < '0' || c > '9') return false;
        value = value * 10 + static_cast<uint64_t>(c - '0');
    }
    out = value;
    return true;
}

// The one test of a whole message id, for a stored cursor and for a response's headers alike.
bool whole_id(std::string_view date, std::string_view tag) { return !tag.empty() && parse_http_date(date); }

}  // namespace

bool well_formed(const Cursor& cursor) { return whole_id(cursor.last_modified, cursor.etag); }

CursorCheck read_cursor(std::string_view headers, Cursor& out) {
    bool has_date = false;
    bool has_tag = false;
    std::string_view date = find_header(headers, "last-modified", &has_date);
    std::string_view tag = find_header(headers, "etag", &has_tag);
    if (!has_date && !has_tag) return CursorCheck::Absent;
    if (!has_date || !has_tag || !whole_id(date, tag)) return CursorCheck::Broken;
    out.last_modified.assign(date);
    out.etag.assign(tag);
    return CursorCheck::Valid;
}

bool parse_content_length(std::string_view value, uint64_t& out) {
    bool first = true;
    uint64_t agreed = 0;
    for (;;) {
        size_t comma = value.find(',');
        uint64_t one = 0;
        if (!parse_digits(trim(value.substr(0, comma)), one)) return false;
        if (!first && one != agreed) return false;
        agreed = one;
        first = false;
        if (comma == std::string_view::npos) break;
        value.remove_prefix(comma + 1);
    }
    out = agreed;
    return true;
}

FramingCheck check_framing(std::string_view headers, uint64_t body_bytes) {
    FramingCheck check;
    bool has_length = false;
    std::string_view length = find_header(headers, "content-length", &has_length);
    bool usable_length = has_length && parse_content_length(length, check.declared);
    if (usable_length && !is_encoded(find_header(headers, "content-encoding"))) {
        check.framing = check.declared == body_bytes ? Framing::Whole : Framing::LengthMismatch;
        return check;
    }
    // Compressed (Content-Length counts the bytes before the browser decoded them) or
    // chunked: the browser fails a body cut short, so one body byte shows the rest is whole.
    bool framed_by_browser = usable_length || is_chunked(find_header(headers, "transfer-encoding"));
    check.framing = framed_by_browser && body_bytes > 0 ? Framing::Whole : Framing::Unverifiable;
    return check;
}

}  // namespace comet
