// libFuzzer target for split_multipart.
//
// Input: the boundary on the first line (a trailing CR is dropped), then the body, e.g.
//   B\n--B\r\nContent-Type: text/plain\r\n\r\np1\r\n--B--\r\n
// Invariants: parts come in order, do not overlap and lie in the body; the error offset lies in
// the body; and the complete parts, written out again in Nchan's shape with the same boundary,
// split into the same bodies and content types.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "multipart.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto split = first_line_and_rest(data, size);
    if (!split) return 0;
    auto [boundary, body] = *split;

    // The parts vector is appended to, never cleared: a sentinel must survive.
    std::vector<comet::Part> parts;
    parts.push_back(comet::Part{comet::Span{7, 7}, comet::Span{7, 7}});
    comet::MultipartResult result = comet::split_multipart(body, boundary, parts);
    CHECK(!parts.empty() && parts[0].body == (comet::Span{7, 7}) && parts[0].content_type == (comet::Span{7, 7}));
    parts.erase(parts.begin());

    CHECK(result.error_offset <= body.size());
    CHECK(result.ok() == (result.error == comet::MultipartError::None));
    bool usable_boundary = !boundary.empty() && boundary.size() <= 70;
    if (!usable_boundary) {
        CHECK(result.error == comet::MultipartError::NoBoundary && parts.empty());
        return 0;
    }
    if (result.error == comet::MultipartError::NoFirstDelimiter) CHECK(parts.empty());

    uint32_t previous_end = 0;
    for (const comet::Part& part : parts) {
        CHECK(within(part.body, body.size()));
        CHECK(within(part.content_type, body.size()));
        // In order and not overlapping; a part is preceded by at least a delimiter line.
        CHECK(part.body.offset >= previous_end + 2 + boundary.size());
        if (part.content_type.length > 0) {
            CHECK(part.content_type.offset >= previous_end);
            CHECK(part.content_type.end() <= part.body.offset);
            std::string_view type = part.content_type.in(body);
            CHECK(type.find('\n') == std::string_view::npos);
            CHECK(type.front() != ' ' && type.front() != '\t');
            CHECK(type.back() != ' ' && type.back() != '\t' && type.back() != '\r');
        }
        // A part's body never contains a delimiter at a line start.
        std::string_view content = part.body.in(body);
        std::string delimiter = "\n--" + std::string(boundary);
        CHECK(content.find(delimiter) == std::string_view::npos);
        previous_end = part.body.end();
    }
    if (result.ok()) CHECK(previous_end <= body.size());

    // Write the complete parts out again and split that. Only for boundaries without CR: CR is
    // no RFC 2046 boundary character and cannot reach the splitter from a real Content-Type
    // header, and with a boundary like "B\r" a body line "--B" would turn into a delimiter
    // once the "\r\n" before the next delimiter follows it.
    if (boundary.find('\r') != std::string_view::npos) return 0;
    std::string again;
    for (const comet::Part& part : parts) {
        again += "--";
        again += boundary;
        again += "\r\n";
        if (part.content_type.length > 0) {
            again += "Content-Type: ";
            again += part.content_type.in(body);
            again += "\r\n";
        }
        again += "\r\n";
        again += part.body.in(body);
        again += "\r\n";
    }
    again += "--";
    again += boundary;
    again += "--\r\n";
    std::vector<comet::Part> reparts;
    comet::MultipartResult reresult = comet::split_multipart(again, boundary, reparts);
    if (!reresult.ok()) {
        std::fprintf(stderr, "re-serialised body does not split: %s at %u\n", comet::describe(reresult.error),
                     reresult.error_offset);
        std::abort();
    }
    CHECK(reparts.size() == parts.size());
    for (size_t i = 0; i < parts.size(); ++i) {
        CHECK(reparts[i].body.in(again) == parts[i].body.in(body));
        CHECK(reparts[i].content_type.in(again) == parts[i].content_type.in(body));
    }
    return 0;
}
