// The calls from C++ out to JavaScript: one function per kind of call, each carried by an
// EM_JS function in bindings.cpp (where the whole contract, both directions, is written down).
// The adapters call these; nothing else in C++ reaches JavaScript.
#pragma once

#include <cstdint>
#include <string_view>

#include "poller.hpp"

namespace comet::js {

// Deliver a batch of this tab's poll (possibly empty: the cursor moved without messages);
// with `relay`, post it to the other tabs first, with the cursor before and after it.
void batch(uint32_t id, std::string_view body, const std::vector<Message>& messages, bool relay, const Cursor& previous,
           const Cursor& cursor);
// Report an error of this tab's poll (`response`: the one it is about, or null); with `relay`,
// the other tabs report it too.
void report(uint32_t id, const Action& report, const Response* response, bool relay);
// Ask the page for the headers of request `request_id` of this tab's poll (`refresh`: after a
// 401/403, fresh ones); the answer comes back through _headers or _headersFailed.
void ask_headers(uint32_t id, uint64_t request_id, bool refresh);
// The other tab's batch or error that JavaScript is handling: "deliver", "drop" or "report".
void relayed(uint32_t id, const char* what);
void state(uint32_t id, State from, State to);
void url(uint32_t id, size_t index);
void save(uint32_t id, const Cursor& cursor);
// To the other tabs: "hello", "welcome" (with cursor and state) or "state" (with state).
void post(uint32_t id, const char* kind, const Cursor& cursor, State state);
// The tab lock: "request", "release" or "leave".
void lock(uint32_t id, const char* what);
// A line for the debug log (the `debug` option).
void log(uint32_t id, bool warning, std::string_view text);

}  // namespace comet::js
