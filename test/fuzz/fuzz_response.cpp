// libFuzzer target for what a response must show before it counts (integrity.hpp), through the
// Poller that applies it.
//
// Input: a header block, a blank line, then the body (LF or CRLF):
//   Content-Length: 2\nLast-Modified: Tue, 01 Dec 2026 21:46:12 GMT\nEtag: 3\n\nhi
// The same response is handed to a Poller that holds no cursor and to one that holds a whole
// one, with status 200 and with a status line cut short.
// Invariants: the cursor is always empty or a whole message id; a response is delivered only
// when check_framing calls it whole and its id is whole or absent; a response that is not
// delivered leaves the cursor as it was; whatever happens, the Poller ends Open (delivered or
// skipped) or Waiting (reported), never anything else. With the cursor in the query, the next
// request's URL holds only URL-safe bytes and gives back the cursor's tag exactly, whatever
// bytes the Etag had.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.hpp"
#include "integrity.hpp"
#include "poller.hpp"

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// The next request's URL: printable, no space; its last_event_id, at most the 128 bytes Nchan
// reads, decodes to the cursor; a cursor too long for that goes in the headers instead.
void check_query(const comet::Poller& poller, const std::vector<comet::Action>& actions) {
    for (const comet::Action& action : actions) {
        if (action.kind != comet::Action::StartRequest) continue;
        for (char c : action.url) CHECK(c > ' ' && c < 127);
        const comet::Cursor& cursor = poller.cursor();
        size_t at = action.url.find("last_event_id=");
        if (at == std::string::npos) {
            bool headers = !action.headers.empty();
            CHECK(headers == !cursor.empty());
            if (headers) CHECK(action.headers[0].value == cursor.etag);
            continue;
        }
        CHECK(!cursor.empty() && action.headers.empty());
        size_t end = std::min(action.url.find('&', at), action.url.size());
        CHECK(end - at - 14 <= 128);
        size_t colon = action.url.find(':', at);
        CHECK(colon != std::string::npos && colon < end);
        std::string tag;
        for (size_t i = colon + 1; i < end; ++i) {
            if (action.url[i] != '%') {
                tag += action.url[i];
                continue;
            }
            CHECK(i + 2 < end);
            int high = hex_value(action.url[i + 1]), low = hex_value(action.url[i + 2]);
            CHECK(high >= 0 && low >= 0);
            tag += static_cast<char>(high * 16 + low);
            i += 2;
        }
        CHECK(tag == cursor.etag);
    }
}

void feed(std::string_view headers, std::string_view body, int status, const comet::Cursor& start, bool in_query) {
    comet::PollerConfig config;
    config.cursor_in_query = in_query;
    config.urls = {"http://127.0.0.1/sub/x"};
    config.max_response_bytes = 4096;
    config.cursor = start;
    comet::Poller poller(config);
    CHECK(poller.start(0));
    poller.clear_actions();
    const comet::Cursor before = poller.cursor();

    comet::Response response;
    response.status = status;
    response.status_text = "OK";
    response.headers = headers;
    response.body = body;
    CHECK(poller.on_response(1, poller.current_request(), response));

    bool delivered = false;
    for (const comet::Action& action : poller.actions())
        if (action.kind == comet::Action::Deliver) delivered = true;
    const comet::Cursor& after = poller.cursor();
    CHECK(after.empty() || comet::well_formed(after));

    comet::Cursor carried;
    comet::CursorCheck id = comet::read_cursor(headers, carried);
    bool whole = comet::check_framing(headers, body.size()).framing == comet::Framing::Whole;
    if (delivered) {
        CHECK(status == 200);
        CHECK(whole);
        CHECK(id != comet::CursorCheck::Broken);
        if (id == comet::CursorCheck::Valid)
            CHECK(after.last_modified == carried.last_modified && after.etag == carried.etag);
    }
    bool moved = after.last_modified != before.last_modified || after.etag != before.etag;
    if (moved) CHECK(status == 200 && whole && id == comet::CursorCheck::Valid);
    CHECK(poller.state() == comet::State::Open || poller.state() == comet::State::Waiting);
    if (in_query) check_query(poller, poller.actions());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > (1u << 16)) return 0;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t blank = input.find("\n\n");
    size_t crlf = input.find("\r\n\r\n");
    size_t split = std::min(blank, crlf);
    if (split == std::string_view::npos) return 0;
    size_t skip = split == crlf ? 4 : 2;
    std::string_view headers = input.substr(0, split + skip / 2);
    std::string_view body = input.substr(split + skip);

    const comet::Cursor none;
    const comet::Cursor held{"Mon, 30 Nov 2026 10:00:00 GMT", "4"};
    for (int status : {200, 20}) {
        for (bool in_query : {false, true}) {
            feed(headers, body, status, none, in_query);
            feed(headers, body, status, held, in_query);
        }
    }
    return 0;
}
