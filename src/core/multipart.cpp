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
        size_t found = std::string_view::npos;
        for (size_t from = 0;;) {
            size_t at = body.find("--", from);
            if (at == std::string_view::npos) break;
            if (at > 0 && body[at - 1] == '\n' && body.compare(at + 2, boundary.size(), boundary) == 0) {
                found = at;
                break;
            }
            from = at + 1;
        }
        if (found == std::string_view::npos) return fail(MultipartError::NoFirstDelimiter, 0);
        pos = found;
    }

    for (;;) {
        // pos is at "--boundary".
        bool closing = false;
        size_t line_end = after_delimiter(body, pos + 2 + boundary.size(), closing);
        if (line_end == std::string_view::npos) return fail(MultipartError::BadDelimiterLine, pos);
        if (closing) return result;  // the epilogue after the close delimiter is ignored

        // Part headers end at an empty line; a part without headers starts with that line.
        size_t headers_begin = line_end;
        size_t body_begin;
        Span content_type;
        if (body.compare(headers_begin, 2, "\r\n") == 0) {
            body_begin = headers_begin + 2;
        } else if (headers_begin < body.size() && body[headers_begin] == '\n') {
            body_begin = headers_begin + 1;
        } else {
            size_t blank = body.find("\r\n\r\n", headers_begin);
            size_t blank_lf = body.find("\n\n", headers_begin);
            size_t header_len;
            if (blank != std::string_view::npos && (blank_lf == std::string_view::npos || blank <= blank_lf)) {
                header_len = blank - headers_begin;
                body_begin = blank + 4;
            } else if (blank_lf != std::string_view::npos) {
                header_len = blank_lf - headers_begin;
                body_begin = blank_lf + 2;
            } else {
                return fail(MultipartError::UnterminatedHeaders, headers_begin);
            }
            std::string_view headers = body.substr(headers_begin, header_len);
            bool found = false;
            std::string_view value = find_header(headers, "content-type", &found);
            if (found) content_type = span_of(body, value);
        }

        // The part body runs to the next line break followed by "--boundary".
        size_t next = std::string_view::npos;
        for (size_t from = body_begin;;) {
            size_t at = body.find("--", from);
            if (at == std::string_view::npos) break;
            if (at > 0 && body[at - 1] == '\n' && at >= body_begin &&
                body.compare(at + 2, boundary.size(), boundary) == 0) {
                next = at;
                break;
            }
            from = at + 1;
        }
        if (next == std::string_view::npos) return fail(MultipartError::MissingClose, body.size());
        // The line break before the delimiter belongs to the delimiter.
        size_t body_end = next;
        if (body_end > body_begin && body[body_end - 1] == '\n') --body_end;
        if (body_end > body_begin && body[body_end - 1] == '\r') --body_end;
        parts.push_back(Part{content_type, Span{static_cast<uint32_t>(body_begin),
                                                static_cast<uint32_t>(body_end - body_begin)}});
        pos = next;
    }
}

}  // namespace comet
