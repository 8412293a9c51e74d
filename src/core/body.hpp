// Turns one HTTP response body into the messages it carries.
//
// A plain body is one message; a multipart/mixed body is one message per part, each decoded
// by its own Content-Type. JSON (declared, or an undeclared body that looks like an object or
// array and parses) becomes a JSON message whose type and data are found by the scanner;
// anything else is a text message. Declared JSON that does not parse is a problem, reported,
// never delivered. Messages are spans into the body: the caller keeps the body alive.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "span.hpp"

namespace comet {

struct Extraction {
    std::string type_attr = "type";
    std::string data_attr = "data";  // empty: hand over the whole message (dataAttr: null)
};

enum MessageFlag : uint32_t {
    kMessageJson = 1,  // `data` is a JSON text; otherwise it is plain text
    kTypeString = 2,   // `type` is a JSON string token, quotes included
    kTypeScalar = 4,   // `type` is a JSON number or `true` token
};

// Five 32-bit words, no padding: an array of messages is handed to JavaScript as it stands,
// [flags, type offset, type length, data offset, data length] per message.
struct Message {
    uint32_t flags = 0;
    Span type;
    Span data;
};
static_assert(sizeof(Message) == 5 * sizeof(uint32_t), "Message is read by JavaScript as five uint32 words");

// The JSON values of a batch gathered into one JSON array, so JavaScript parses many messages
// with one JSON.parse instead of one per message (five times faster for 10,000 messages in
// Chromium; the shim parses it in runs of 256, js/src/decode.js says why, and finds each
// run's part by the values' lengths): for every JSON message, in order, its type token (or
// null when it has no string, number or true type) and then its data. Text messages
// contribute nothing. gathered_json_size is the array's exact size in bytes, 0 when the batch
// has no JSON message; gather_json_values writes the array to `out`, which holds that many
// bytes.
size_t gathered_json_size(const std::vector<Message>& messages);
void gather_json_values(std::string_view body, const std::vector<Message>& messages, char* out);

// Whether a batch is worth gathering: when its JSON messages' type and data average at most
// kGatherAtMost bytes. For small messages one JSON.parse beats one each; for larger ones the
// copy and one long parse cost more than parsing each where it stands in the body, and the
// copy doubles what the response takes of the wasm heap at its peak. Time in the page, from
// the load event through the last handler (Chromium, medians of 9 pages), gathered against
// not: 10,000 messages of 130 B 32.8 against 40.0 ms; 6,000 of 300 B 42.4 against 40.7;
// 2,000 of 1 KB 37.2 against 32.4; 500 of 4 KB 25.8 against 17.2; 32 of 64 KB 17.6 against 16.6.
// Again once the copy was memory.copy (bulk memory, CMakeLists.txt; medians of 11): 2,000 of
// 1 KB 27.9 against 25.5; 500 of 4 KB 20.5 against 19.4; 32 of 64 KB 18.2 against 14.8.
constexpr size_t kGatherAtMost = 512;
bool worth_gathering(const std::vector<Message>& messages);

struct BodyProblem {
    uint32_t offset = 0;  // where in the body it went wrong
    std::string detail;   // one readable sentence
};

struct DecodedBody {
    std::vector<Message> messages;
    std::vector<BodyProblem> problems;
    void clear() {
        messages.clear();
        problems.clear();
    }
};

// Appends to `out`.
void decode_body(std::string_view content_type, std::string_view body, const Extraction& extraction, DecodedBody& out);

}  // namespace comet
