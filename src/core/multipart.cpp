#include "multipart.hpp"

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

// After "--boundary" at `pos`: skips transport padding and the line break. Returns the
// position after it, or npos. Sets `closing` when the delimiter is the close delimiter.
size_t after_delimiter(std::string_view body, size_t pos, bool& closing) {
    closing = false;
    if (body.compare(pos, 2, "--") == 0) {
        closing = true;
        return pos + 2;
    }
    while (pos < body.size() && (body[pos] == ' ' || body[pos] == '\t')) ++pos;
    if (body.compare(pos, 2, "\r\n") == 0) return pos + 2;
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

// The position of the next "--boundary" that starts a line at or after `from`, or npos.
size_t find_delimiter(std::string_view body, std::string_view boundary, size_t from) {
    for (;;) {
        size_t at = body.find("--", from);
        if (at == std::string_view::npos) return at;
        if (at > 0 && body[at - 1] == '\n' && body.compare(at + 2, boundary.size(), boundary) == 0) return at;
        from = at + 1;
    }
}

bool has_blank_line(std::string_view text) {
    return text.compare(0, 2, "\r\n") == 0 || (!text.empty() && text[0] == '\n') ||
           text.find("\r\n\r\n") != std::string_view::npos || text.find("\n\n") != std::string_view::npos;
}

}  // namespace

MultipartResult split_multipart(std::string_view body, std::string_view boundary, std::vector<Part>& parts) {
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
    if (body.size() >= boundary.size() + 2 && body.compare(0, 2, "--") == 0 &&
        body.compare(2, boundary.size(), boundary) == 0) {
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
        if (part.compare(0, 2, "\r\n") == 0) {
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
