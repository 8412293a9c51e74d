// libFuzzer target for decode_body.
//
// Input: the Content-Type value on the first line (a trailing CR is dropped), then the body:
//   multipart/mixed; boundary=B\n--B\r\n\r\n{"type":"a","data":1}\r\n--B--\r\n
// Invariants: every message span lies in the body; messages come in ascending order of data
// offset; a JSON message's data span is a JSON text on its own (and its type span a JSON string
// or scalar token as flagged); problems point into the body.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "body.hpp"
#include "fuzz_check.hpp"
#include "json_scan.hpp"

namespace {

void check(std::string_view content_type, std::string_view body, const comet::Extraction& extraction) {
    comet::DecodedBody out;
    out.messages.push_back(comet::Message{});  // decode_body appends: this one must survive
    comet::decode_body(content_type, body, extraction, out);
    CHECK(!out.messages.empty() && out.messages[0].flags == 0 && out.messages[0].data == comet::Span{});
    out.messages.erase(out.messages.begin());

    bool first = true;
    uint32_t previous = 0;
    for (const comet::Message& message : out.messages) {
        CHECK(within(message.data, body.size()));
        CHECK(within(message.type, body.size()));
        CHECK(first || message.data.offset > previous);
        first = false;
        previous = message.data.offset;
        CHECK((message.flags & ~(comet::kMessageJson | comet::kTypeString | comet::kTypeScalar)) == 0);
        if (message.flags & comet::kMessageJson) {
            comet::JsonScan alone = comet::scan_json(message.data.in(body), "type", "data");
            CHECK(alone.ok());
            CHECK(alone.value == (comet::Span{0, message.data.length}));
        } else {
            CHECK((message.flags & (comet::kTypeString | comet::kTypeScalar)) == 0);
        }
        CHECK(!((message.flags & comet::kTypeString) && (message.flags & comet::kTypeScalar)));
        if (message.flags & (comet::kTypeString | comet::kTypeScalar)) {
            comet::JsonScan type = comet::scan_json(message.type.in(body), "type", "data");
            CHECK(type.ok() && type.value == (comet::Span{0, message.type.length}));
            if (message.flags & comet::kTypeString) CHECK(type.kind == comet::JsonKind::String);
            if (message.flags & comet::kTypeScalar)
                CHECK(type.kind == comet::JsonKind::Number || type.kind == comet::JsonKind::True);
        } else {
            CHECK(message.type == comet::Span{});
        }
    }
    for (const comet::BodyProblem& problem : out.problems) {
        CHECK(problem.offset <= body.size());
        CHECK(!problem.detail.empty());
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    auto split = first_line_and_rest(data, size);
    if (!split) return 0;
    auto [content_type, body] = *split;

    check(content_type, body, comet::Extraction{});
    comet::Extraction whole;  // dataAttr: null
    whole.data_attr.clear();
    check(content_type, body, whole);
    return 0;
}
