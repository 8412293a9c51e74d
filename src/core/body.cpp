#include "body.hpp"

#include <cstdint>
#include <cstring>
#include <string>

#include "http_text.hpp"
#include "json_scan.hpp"
#include "multipart.hpp"

namespace comet {

namespace {

std::string_view strip_bom(std::string_view s) {
    if (s.size() >= 3 && static_cast<unsigned char>(s[0]) == 0xEF && static_cast<unsigned char>(s[1]) == 0xBB &&
        static_cast<unsigned char>(s[2]) == 0xBF)
        s.remove_prefix(3);
    return s;
}

Span shifted(Span span, uint32_t by) { return Span{span.offset + by, span.length}; }

// Decodes one message (a whole plain body or one part) found at `piece` inside `body`.
void decode_one(std::string_view body, std::string_view piece, bool declared_json, const Extraction& extraction,
                size_t part_number, DecodedBody& out) {
    piece = strip_bom(piece);
    uint32_t base = span_of(body, piece).offset;
    if (declared_json || looks_like_json(piece)) {
        JsonScan scan = scan_json(piece, extraction.type_attr, extraction.data_attr);
        if (scan.ok()) {
            Message message;
            message.flags = kMessageJson;
            if (scan.has_type) {
                if (scan.type_kind == JsonKind::String) {
                    message.flags |= kTypeString;
                    message.type = shifted(scan.type, base);
                } else if (scan.type_kind == JsonKind::Number || scan.type_kind == JsonKind::True) {
                    message.flags |= kTypeScalar;
                    message.type = shifted(scan.type, base);
                }
            }
            message.data = shifted(scan.has_data ? scan.data : scan.value, base);
            out.messages.push_back(message);
            return;
        }
        if (declared_json) {
            BodyProblem problem;
            problem.offset = base + scan.error_offset;
            problem.detail = concat({"Malformed JSON", part_number ? " in part " : "",
                                     part_number ? std::string_view(decimal(part_number)) : std::string_view(),
                                     " at byte ", decimal(problem.offset), ": ", describe(scan.error)});
            out.problems.push_back(std::move(problem));
            return;
        }
        // Undeclared and not JSON after all: it is text, and text is delivered.
    }
    Message message;
    message.data = span_of(body, piece);
    out.messages.push_back(message);
}

// The product is built with bulk memory (CMakeLists.txt), so this is the wasm's memory.copy,
// which the engine runs natively. The loop of eight-byte copies it replaces ran in V8's
// baseline tier: up to 10 ms of a 10,000-message drain's load handler (README, Benchmark).
char* copy_bytes(char* out, std::string_view from) {
    std::memcpy(out, from.data(), from.size());
    return out + from.size();
}

}  // namespace

size_t gathered_json_size(const std::vector<Message>& messages) {
    size_t size = 0;
    for (const Message& message : messages) {
        if (!(message.flags & kMessageJson)) continue;
        bool typed = message.flags & (kTypeString | kTypeScalar);
        size += 2 + (typed ? message.type.length : 4) + message.data.length;  // "[" or ",", the type, ",", the data
    }
    return size ? size + 1 : 0;  // "]"
}

bool worth_gathering(const std::vector<Message>& messages) {
    size_t count = 0;
    size_t bytes = 0;
    for (const Message& message : messages) {
        if (!(message.flags & kMessageJson)) continue;
        ++count;
        bytes += message.type.length + message.data.length;
    }
    return count && bytes <= kGatherAtMost * count;
}

void gather_json_values(std::string_view body, const std::vector<Message>& messages, char* out) {
    char separator = '[';
    for (const Message& message : messages) {
        if (!(message.flags & kMessageJson)) continue;
        *out++ = separator;
        separator = ',';
        out = (message.flags & (kTypeString | kTypeScalar)) ? copy_bytes(out, message.type.in(body))
                                                            : copy_bytes(out, "null");
        *out++ = ',';
        out = copy_bytes(out, message.data.in(body));
    }
    if (separator == ',') *out = ']';  // a JSON message was written
}

// Out of line, as split_multipart is (CMakeLists.txt says why): its loop over the parts then
// stays out of Poller::apply, which V8 would otherwise compile whole with its optimizing tier in
// the middle of every large drain.
__attribute__((noinline)) void decode_body(std::string_view content_type, std::string_view body,
                                           const Extraction& extraction, DecodedBody& out) {
    ContentType type = parse_content_type(content_type);
    if (!is_multipart_mixed(type.media_type)) {
        decode_one(body, body, is_json_media_type(type.media_type), extraction, 0, out);
        return;
    }
    std::vector<Part> parts;
    MultipartResult split = split_multipart(body, type.boundary, parts);
    out.messages.reserve(out.messages.size() + parts.size());
    // The parts of one response nearly always share one Content-Type: read it once.
    std::string_view previous_type;
    bool previous_json = false;
    for (size_t i = 0; i < parts.size(); ++i) {
        std::string_view part_type = parts[i].content_type.in(body);
        if (i == 0 || part_type != previous_type) {
            previous_type = part_type;
            previous_json = is_json_media_type(parse_content_type(part_type).media_type);
        }
        decode_one(body, parts[i].body.in(body), previous_json, extraction, i + 1, out);
    }
    if (!split.ok()) {
        BodyProblem problem;
        problem.offset = split.error_offset;
        problem.detail =
            concat({"Broken multipart response after ", decimal(parts.size()), " complete part(s), at byte ",
                    decimal(split.error_offset), ": ", describe(split.error)});
        out.problems.push_back(std::move(problem));
    }
}

}  // namespace comet
