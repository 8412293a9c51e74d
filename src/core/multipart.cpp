#include "multipart.hpp"

#include <cstdint>

#include "bytes.hpp"
#include "http_text.hpp"

namespace comet {

const char* describe(MultipartError error) {
    switch (error) {
        case MultipartError::None: return "no error";
        case MultipartError::NoBoundary: return "multipart response without a boundary parameter";
        case MultipartError::NoFirstDelimiter: return "multipart body does not contain its boundary";
        case MultipartError::BadDelimiterLine: return "malformed multipart boundary line";
        case MultipartError::UnterminatedHeaders: return "multipart part headers are not terminated";
        case MultipartError::MissingClose: return "multipart body is truncated (no closing boundary)";
    }
    return "unknown error";
}

namespace {

constexpr size_t kMaxBoundary = 70;  // RFC 2046

// Whether `s` holds the two bytes `a` `b` at `pos`. The checks below run once per part, and
// std::string_view::compare is a chain of calls (strlen, compare, a memcmp a byte at a time),
// which V8's baseline tier, where a backlog's one on_response call runs, keeps as calls.
bool two_at(std::string_view s, size_t pos, char a, char b) {
    return pos < s.size() && s.size() - pos >= 2 && s[pos] == a && s[pos + 1] == b;
}

// Whether the `n` bytes at `a` and `b` are the same, eight at a time.
bool same_bytes(const char* a, const char* b, size_t n) {
    for (; n >= 8; a += 8, b += 8, n -= 8)
        if (load8(a) != load8(b)) return false;
    for (; n; ++a, ++b, --n)
        if (*a != *b) return false;
    return true;
}

// Whether the delimiter "--boundary" starts at `pos` (at most body.size()).
bool delimiter_at(std::string_view body, size_t pos, std::string_view boundary) {
    return body.size() - pos >= 2 + boundary.size() && body[pos] == '-' && body[pos + 1] == '-' &&
           same_bytes(body.data() + pos + 2, boundary.data(), boundary.size());
}

// After "--boundary" at `pos`: skips transport padding and the line break. Returns the
// position after it, or npos. Sets `closing` when the delimiter is the close delimiter.
size_t after_delimiter(std::string_view body, size_t pos, bool& closing) {
    closing = false;
    if (two_at(body, pos, '-', '-')) {
        closing = true;
        return pos + 2;
    }
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (two_at(body, pos, '\r', '\n')) return pos + 2;
    if (pos < body.size() && body[pos] == '\n') return pos + 1;  // tolerate bare LF
    return std::string_view::npos;
}

// True when what follows "--boundary" could still grow into "--" or padding and a line break:
// the body was cut short inside a delimiter line, which is truncation, not a malformed line.
bool ends_inside_delimiter_line(std::string_view rest) {
    if (rest == "-") return true;
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\t')) rest.remove_prefix(1);
    return rest.empty() || rest == "\r";
}

// The position of the first line break at or after `from`, or `size` when there is none:
// eight bytes at a time, the first flagged byte (bytes.hpp) of a word being a line break.
size_t next_line_break(const char* text, size_t from, size_t size) {
    for (; size - from >= 8; from += 8) {
        if (uint64_t found = bytes_equal_to(load8(text + from), '\n'))
            return from + static_cast<size_t>(__builtin_ctzll(found)) / 8;
    }
    while (from < size && text[from] != '\n') ++from;
    return from;
}

// The position of the next "--boundary" that starts a line at or after `from`, or npos. A
// delimiter follows a line break, and line breaks are rarer in a body than '-' (JSON strings
// cannot hold one): the search goes from line break to line break.
size_t find_delimiter(std::string_view body, std::string_view boundary, size_t from) {
    const char* text = body.data();
    const size_t size = body.size();
    if (from > size) return std::string_view::npos;
    // The line break before a delimiter at `from` is at from - 1; none can start the body.
    for (size_t at = next_line_break(text, from ? from - 1 : 0, size); at < size;
         at = next_line_break(text, at + 1, size)) {
        if (delimiter_at(body, at + 1, boundary)) return at + 1;
    }
    return std::string_view::npos;
}

bool has_blank_line(std::string_view text) {
    return text.compare(0, 2, "\r\n") == 0 || (!text.empty() && text[0] == '\n') ||
           text.find("\r\n\r\n") != std::string_view::npos || text.find("\n\n") != std::string_view::npos;
}

}  // namespace

// Out of line (CMakeLists.txt says why): the loop over a body's parts is the splitter's own.
__attribute__((noinline)) MultipartResult split_multipart(std::string_view body, std::string_view boundary,
                                                          std::vector<Part>& parts) {
    MultipartResult result;
    if (boundary.empty() || boundary.size() > kMaxBoundary) {
        result.error = MultipartError::NoBoundary;
        return result;
    }
    auto fail = [&](MultipartError error, size_t at) {
        result.error = error;
        result.error_offset = static_cast<uint32_t>(at > body.size() ? body.size() : at);
        return result;
    };

    // The first delimiter may open the body or follow a preamble after a line break.
    size_t pos;
    if (delimiter_at(body, 0, boundary)) {
        pos = 0;
    } else {
        pos = find_delimiter(body, boundary, 0);
        if (pos == std::string_view::npos) return fail(MultipartError::NoFirstDelimiter, 0);
    }

    for (;;) {
        // pos is at "--boundary".
        bool closing = false;
        size_t line_end = after_delimiter(body, pos + 2 + boundary.size(), closing);
        if (line_end == std::string_view::npos) {
            if (ends_inside_delimiter_line(body.substr(pos + 2 + boundary.size())))
                return fail(MultipartError::MissingClose, body.size());
            return fail(MultipartError::BadDelimiterLine, pos);
        }
        if (closing) return result;  // the epilogue after the close delimiter is ignored

        // The part runs to the next line break followed by "--boundary".
        size_t headers_begin = line_end;
        size_t next = find_delimiter(body, boundary, headers_begin);
        if (next == std::string_view::npos) {
            // Headers that never end are what a truncated part looks like too; say truncated
            // only when the headers did end.
            if (!has_blank_line(body.substr(headers_begin)))
                return fail(MultipartError::UnterminatedHeaders, headers_begin);
            return fail(MultipartError::MissingClose, body.size());
        }

        // Its headers end at an empty line, which must come before the next delimiter; a part
        // without headers starts with that line.
        size_t body_begin;
        Span content_type;
        std::string_view part = body.substr(headers_begin, next - headers_begin);
        if (two_at(part, 0, '\r', '\n')) {
            body_begin = headers_begin + 2;
        } else if (!part.empty() && part[0] == '\n') {
            body_begin = headers_begin + 1;
        } else {
            // The first empty line, CRLF or bare LF. A bare one counts only before the first
            // CRLF one: looked for there alone, not through the whole part (its body too).
            size_t blank = part.find("\r\n\r\n");
            size_t blank_lf = part.substr(0, blank).find("\n\n");
            size_t header_len;
            if (blank != std::string_view::npos && (blank_lf == std::string_view::npos || blank <= blank_lf)) {
                header_len = blank;
                body_begin = headers_begin + blank + 4;
            } else if (blank_lf != std::string_view::npos) {
                header_len = blank_lf;
                body_begin = headers_begin + blank_lf + 2;
            } else {
                return fail(MultipartError::UnterminatedHeaders, headers_begin);
            }
            bool found = false;
            std::string_view value = find_header(part.substr(0, header_len), "content-type", &found);
            if (found) content_type = span_of(body, value);
        }
        // The line break before the delimiter belongs to the delimiter.
        size_t body_end = next;
        if (body_end > body_begin && body[body_end - 1] == '\n') --body_end;
        if (body_end > body_begin && body[body_end - 1] == '\r') --body_end;
        parts.push_back(
            Part{content_type, Span{static_cast<uint32_t>(body_begin), static_cast<uint32_t>(body_end - body_begin)}});
        pos = next;
    }
}

}  // namespace comet
