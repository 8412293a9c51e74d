// The boundary between C++ and JavaScript: every call across it, both directions, is here.
//
// Into wasm (embind functions on the module object; only the shim calls them, hence the '_'):
//
//   _openWith(urls, method, typeAttr, dataAttr, cacheBuster, pageOrigin, timeout, retryDelay,
//             maxRetryDelay, maxResponseBytes, seedHigh, seedLow, flags) -> id
//                                   a connection for the shim's settled options (below)
//   _begin(id, saved, lastModified, etag, online)
//                                   connect(): the cursor found in storage (saved: whether
//                                   there is one), what the browser says about the network
//   _signal(id, kind) -> bool       what the page says, by kind (enum Signal below):
//                                   0 close(): stop, let another tab lead; _destroy(id) later
//                                   1 offline, 2 online: the browser's events
//                                   3 pagehide; 4, 5 pageshow from the back/forward cache,
//                                     offline or online
//                                   6 the tab lock is ours (false: give it back at once)
//                                   7 another tab's hello, 8 its error (the shim holds the
//                                     error's data while the call lasts)
//   _destroy(id)                    frees it (from a timer, never inside its own callbacks)
//   _peerBatch(id, previousLastModified, previousEtag, lastModified, etag)
//   _peerWelcome(id, lastModified, etag, state) _peerState(id, state)
//                                   what another tab posted (the shim holds a batch's data
//                                   while the call lasts)
//   _headers(id, requestId, list)  the page's answer to ask(): request headers, "name\nvalue"
//                                   pairs joined by "\n" (names and values hold no line break)
//   _headersFailed(id, requestId, error)
//                                   ... or why it has none (what its function threw, say)
//   _findHeader(block, name) -> value, or "\n" when absent (a value never holds a line break)
//   _stat(kind) -> number           for leak tests and debugging: 0 the open requests, 1 the
//                                   heap's size, 2 its free part, 3 the XHRs Fetch keeps, 4 the
//                                   wasm memory's size
//
// Out of wasm (the functions of Module._comet, which the shim supplies before the module
// starts; byte ranges are views into wasm memory valid only while the call lasts):
//
//   batch(id, body, messages, values, relay)   deliver a batch of this tab's poll: the body,
//                                   five words per message (body.hpp), their JSON values in
//                                   one array; relay: null, or {previous, cursor} to post it
//                                   to the other tabs with, first
//   report(id, status, textStatus, errorThrown, detail, retryIn, statusText, headers, body, relay,
//          cause)                   cause: "server", "refresh" (a 401/403: fresh headers, retry
//                                   at once) or "headers" (the page could not supply them; the
//                                   shim keeps what its function threw, for onError)
//   ask(id, requestId, refresh)     the headers for this request of the poll, please (refresh:
//                                   after a 401/403); answered by _headers or _headersFailed, at
//                                   once or later
//   relayed(id, what)               the other tab's batch or error in hand: "deliver", "drop",
//                                   "report"
//   state(id, from, to)             the state the page sees changed
//   url(id, index)                  the poll moved to urls[index]
//   save(id, cursor)                keep the cursor for the next page load (resume)
//   post(id, kind, cursor, state)   to the other tabs: "hello", "welcome", "state"
//   lock(id, what)                  the tab lock: "request", "release", "leave"
//   log(id, warning, text)          a debug line (shown with the `debug` option)
//
// Free functions over a connection id rather than an embind class_: the class machinery is
// about 2.4 KB of the gzipped file (its JS registry plus RTTI and dynamic_cast in the wasm).
#include "bindings.hpp"

#include <emscripten/bind.h>
#include <emscripten/em_js.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "connection.hpp"
#include "http_text.hpp"
#include "malloc.hpp"

// ---------------------------------------------------------------------------------------------
// Out of wasm.

EM_JS(void, comet_js_batch,
      (uint32_t id, const uint8_t* body, uint32_t length, const uint32_t* messages, uint32_t count,
       const uint8_t* values, uint32_t values_length, int relay, const char* previous_last_modified,
       const char* previous_etag, const char* last_modified, const char* etag),
      {
          // Quoted: closure renames the module's own property names, not the shim's.
          Module['_comet']['batch'](
              id, HEAPU8.subarray(body, body + length), HEAPU32.subarray(messages >> 2, (messages >> 2) + count * 5),
              HEAPU8.subarray(values, values + values_length),
              relay ? {
                  'previous' :
                      {'lastModified' : UTF8ToString(previous_last_modified), 'etag' : UTF8ToString(previous_etag)},
                  'cursor' : {'lastModified' : UTF8ToString(last_modified), 'etag' : UTF8ToString(etag)}
              }
                    : null);
      });

EM_JS(void, comet_js_report,
      (uint32_t id, int status, const char* text_status, const char* error_thrown, const char* detail, double retry_in,
       const char* status_text, const char* headers, const uint8_t* body, uint32_t body_length, int has_body, int relay,
       const char* cause),
      {
          Module['_comet']['report'](id, status, UTF8ToString(text_status), UTF8ToString(error_thrown),
                                     UTF8ToString(detail), retry_in, UTF8ToString(status_text), UTF8ToString(headers),
                                     has_body ? HEAPU8.subarray(body, body + body_length) : null, !!relay,
                                     UTF8ToString(cause));
      });

EM_JS(void, comet_js_ask, (uint32_t id, double request_id, int refresh),
      { Module['_comet']['ask'](id, request_id, !!refresh); });

EM_JS(void, comet_js_relayed, (uint32_t id, const char* what),
      { Module['_comet']['relayed'](id, UTF8ToString(what)); });

EM_JS(void, comet_js_state, (uint32_t id, const char* from, const char* to),
      { Module['_comet']['state'](id, UTF8ToString(from), UTF8ToString(to)); });

EM_JS(void, comet_js_url, (uint32_t id, uint32_t index), { Module['_comet']['url'](id, index); });

EM_JS(void, comet_js_save, (uint32_t id, const char* last_modified, const char* etag),
      { Module['_comet']['save'](id, {'lastModified' : UTF8ToString(last_modified), 'etag' : UTF8ToString(etag)}); });

EM_JS(void, comet_js_post,
      (uint32_t id, const char* kind, const char* last_modified, const char* etag, const char* state), {
          Module['_comet']['post'](id, UTF8ToString(kind),
                                   {'lastModified' : UTF8ToString(last_modified), 'etag' : UTF8ToString(etag)},
                                   UTF8ToString(state));
      });

EM_JS(void, comet_js_lock, (uint32_t id, const char* what), { Module['_comet']['lock'](id, UTF8ToString(what)); });

EM_JS(void, comet_js_log, (uint32_t id, int warning, const char* text, uint32_t length),
      { Module['_comet']['log'](id, !!warning, UTF8ToString(text, length)); });

namespace comet::js {

void batch(uint32_t id, std::string_view body, const std::vector<Message>& messages, bool relay, const Cursor& previous,
           const Cursor& cursor) {
    // One crossing per response. The values buffer lives for this call only: nothing stays
    // behind at a high-water mark. Not a std::string: resizing one would first fill it.
    // Without it (large messages), JavaScript parses each value where it stands in the body.
    size_t size = worth_gathering(messages) ? gathered_json_size(messages) : 0;
    std::unique_ptr<char[]> values(size ? new char[size] : nullptr);
    if (size) gather_json_values(body, messages, values.get());
    comet_js_batch(id, reinterpret_cast<const uint8_t*>(body.data()), static_cast<uint32_t>(body.size()),
                   reinterpret_cast<const uint32_t*>(messages.data()), static_cast<uint32_t>(messages.size()),
                   reinterpret_cast<const uint8_t*>(values.get()), static_cast<uint32_t>(size), relay,
                   previous.last_modified.c_str(), previous.etag.c_str(), cursor.last_modified.c_str(),
                   cursor.etag.c_str());
}

void report(uint32_t id, const Action& report, const Response* response, bool relay) {
    const Response* described = report.has_response ? response : nullptr;
    // NUL-terminated copies for the trip across: errors are rare, the copies are small.
    std::string status_text(described ? described->status_text : std::string_view());
    std::string headers(described ? described->headers : std::string_view());
    std::string_view body = described && report.has_body ? described->body : std::string_view();
    comet_js_report(id, report.status, name_of(report.text_status), report.error_thrown.c_str(), report.detail.c_str(),
                    static_cast<double>(report.retry_in), status_text.c_str(), headers.c_str(),
                    reinterpret_cast<const uint8_t*>(body.data()), static_cast<uint32_t>(body.size()),
                    described && report.has_body, relay,
                    report.cause == Action::Refreshing  ? "refresh"
                    : report.cause == Action::HeadersFn ? "headers"
                                                        : "server");
}

void ask_headers(uint32_t id, uint64_t request_id, bool refresh) {
    comet_js_ask(id, static_cast<double>(request_id), refresh);
}

void relayed(uint32_t id, const char* what) { comet_js_relayed(id, what); }
void state(uint32_t id, State from, State to) { comet_js_state(id, name_of(from), name_of(to)); }
void url(uint32_t id, size_t index) { comet_js_url(id, static_cast<uint32_t>(index)); }
void save(uint32_t id, const Cursor& cursor) { comet_js_save(id, cursor.last_modified.c_str(), cursor.etag.c_str()); }
void post(uint32_t id, const char* kind, const Cursor& cursor, State state) {
    comet_js_post(id, kind, cursor.last_modified.c_str(), cursor.etag.c_str(), name_of(state));
}
void lock(uint32_t id, const char* what) { comet_js_lock(id, what); }
void log(uint32_t id, bool warning, std::string_view text) {
    comet_js_log(id, warning, text.data(), static_cast<uint32_t>(text.size()));
}

}  // namespace comet::js

// ---------------------------------------------------------------------------------------------
// Into wasm.

namespace {

using comet::Connection;

// The shim's settled, validated options (js/src/options.js) arrive as _openWith's arguments
// (js/src/connection.js passes them): one embind value_object of 19 fields was ~1 KB of the
// gzipped file, its JS registration and a getter and setter per field.
//   urls            one URL, or several one per line (a parsed URL holds no line break)
//   dataAttr        empty for null
//   cacheBuster     unique per connection and page load (see PollerConfig)
//   pageOrigin      location.origin, for what a failure from another origin says
//   seedHigh/Low    the backoff's random seed, as two 32-bit halves: a double holds 53 bits
//                   exactly, not 64
//   flags           the OpenFlag bits
enum OpenFlag : int {
    Debug = 1,
    Shared = 2,  // the option, and the browser has Web Locks and BroadcastChannel
    Resume = 4,
    WithCredentials = 8,
    CursorInQuery = 16,
    AskHeaders = 32,      // ask the page for headers before every request
    RefreshHeaders = 64,  // ... from a function: a 401/403 asks it for fresh ones
};

// The live connections. A page has a few, so a vector searched by id does; ids are never
// reused, so a late call with a stale id finds nothing instead of another connection.
std::vector<std::unique_ptr<Connection>> connections;
uint32_t last_id = 0;

Connection* find(uint32_t id) {
    for (auto& connection : connections)
        if (connection->id() == id) return connection.get();
    return nullptr;
}

// std::llround for the options' milliseconds (0 to 2^31 - 1, settled by js/src/options.js),
// without libm's: a half rounds up, and the difference from the whole part is exact.
comet::Millis round_ms(double ms) {
    auto whole = static_cast<comet::Millis>(ms);
    return ms - static_cast<double>(whole) >= 0.5 ? whole + 1 : whole;
}

uint32_t open_connection(std::string urls, std::string method, std::string type_attr, std::string data_attr,
                         std::string cache_buster, std::string page_origin, double timeout, double retry_delay,
                         double max_retry_delay, double max_response_bytes, double seed_high, double seed_low,
                         int flags) {
    comet::PollerConfig poll;
    // Sized first, then filled: no vector<string> growth code in the wasm for this.
    poll.urls = std::vector<std::string>(std::count(urls.begin(), urls.end(), '\n') + 1);
    size_t start = 0;
    for (std::string& url : poll.urls) {
        size_t end = std::min(urls.find('\n', start), urls.size());
        url = urls.substr(start, end - start);
        start = end + 1;
    }
    poll.method = std::move(method);
    poll.timeout = round_ms(timeout);
    poll.retry_delay = round_ms(retry_delay);
    poll.max_retry_delay = round_ms(max_retry_delay);
    poll.max_response_bytes = static_cast<uint64_t>(max_response_bytes);
    poll.random_seed = (static_cast<uint64_t>(seed_high) << 32) | static_cast<uint64_t>(seed_low);
    poll.extraction.type_attr = std::move(type_attr);
    poll.extraction.data_attr = std::move(data_attr);
    poll.cache_buster = std::move(cache_buster);
    poll.with_credentials = flags & WithCredentials;
    poll.cursor_in_query = flags & CursorInQuery;
    poll.ask_headers = flags & AskHeaders;
    poll.refresh_headers = flags & RefreshHeaders;
    poll.page_origin = std::move(page_origin);
    comet::TabConfig tab;
    tab.shared = flags & Shared;
    tab.resume = flags & Resume;
    connections.push_back(std::make_unique<Connection>(++last_id, std::move(poll), tab, flags & Debug));
    return last_id;
}

// Gives the connection's Tab an input, then carries out what it decided.
template <class Input>
bool feed(uint32_t id, Input input) {
    Connection* connection = find(id);
    if (!connection) return false;
    bool taken = input(connection->tab(), comet::now_ms());
    connection->run_actions();
    return taken;
}

comet::State state_named(const std::string& name) {
    for (int s = 0; s <= static_cast<int>(comet::State::Closed); ++s)
        if (name == comet::name_of(static_cast<comet::State>(s))) return static_cast<comet::State>(s);
    return comet::State::Idle;
}

void begin(uint32_t id, bool saved, std::string last_modified, std::string etag, bool online) {
    std::optional<comet::Cursor> cursor;
    if (saved) cursor = comet::Cursor{std::move(last_modified), std::move(etag)};
    feed(id, [&](comet::Tab& tab, comet::Millis now) { return tab.begin(now, cursor, online); });
}

// What the page says to a connection, one call for every kind that carries nothing but the
// id (one binding for eight: with _stat below, 228 B less gzip). The shim numbers them so:
enum Signal : uint32_t { Close, Offline, Online, Hide, ShowOffline, ShowOnline, LockGranted, PeerHello, PeerReport };

bool signal(uint32_t id, uint32_t kind) {
    return feed(id, [kind](comet::Tab& tab, comet::Millis now) {
        switch (kind) {
            case Close: return tab.close();
            case Offline: return tab.go_offline(now);
            case Online: return tab.go_online(now);
            case Hide: return tab.page_hidden(now);
            case ShowOffline:
            case ShowOnline: return tab.page_shown(now, kind == ShowOnline);
            case LockGranted: return tab.lock_granted(now);
            case PeerHello: return tab.peer_hello(now);
            case PeerReport: return tab.peer_report(now);
            default: return false;
        }
    });
}

void destroy(uint32_t id) {
    for (size_t i = 0; i < connections.size(); ++i) {
        if (connections[i]->id() == id) {
            connections.erase(connections.begin() + i);
            return;
        }
    }
}

void peer_batch(uint32_t id, std::string previous_last_modified, std::string previous_etag, std::string last_modified,
                std::string etag) {
    comet::Cursor previous{std::move(previous_last_modified), std::move(previous_etag)};
    comet::Cursor cursor{std::move(last_modified), std::move(etag)};
    feed(id, [&](comet::Tab& tab, comet::Millis now) { return tab.peer_batch(now, previous, cursor); });
}
void peer_welcome(uint32_t id, std::string last_modified, std::string etag, std::string state) {
    comet::Cursor cursor{std::move(last_modified), std::move(etag)};
    feed(id, [&](comet::Tab& tab, comet::Millis now) { return tab.peer_welcome(now, cursor, state_named(state)); });
}
void peer_state(uint32_t id, std::string state) {
    feed(id, [&](comet::Tab& tab, comet::Millis now) { return tab.peer_state(now, state_named(state)); });
}

void headers(uint32_t id, double request_id, std::string list) {
    Connection* connection = find(id);
    if (!connection) return;
    std::vector<comet::Header> parsed;
    for (size_t at = 0; at < list.size();) {
        size_t name_end = list.find('\n', at);
        if (name_end == std::string::npos) break;
        size_t value_end = std::min(list.find('\n', name_end + 1), list.size());
        parsed.push_back(
            comet::Header{list.substr(at, name_end - at), list.substr(name_end + 1, value_end - name_end - 1)});
        at = value_end + 1;
    }
    connection->headers_answered(static_cast<uint64_t>(request_id), std::move(parsed));
}

void headers_failed(uint32_t id, double request_id, std::string error) {
    if (Connection* connection = find(id))
        connection->headers_failed(static_cast<uint64_t>(request_id), std::move(error));
}

std::string find_header(std::string block, std::string name) {
    bool found = false;
    std::string_view value = comet::find_header(block, name, &found);
    return found ? std::string(value) : std::string("\n");
}

// How many XHRs Emscripten's Fetch still keeps (it frees them by leaving holes in one array).
EM_JS(int, comet_live_xhrs, (), {
    var live = 0;
    for (var i in Fetch.xhrs) live++;
    return live;
});

// For leak tests and debugging, one call: 0 the polls' open requests, 1 the heap's size, 2 its
// free part, 3 the XHRs Fetch keeps, 4 the wasm memory's size (MINIMAL_RUNTIME puts no HEAP8
// on the module).
double stat(uint32_t kind) {
    int open = 0;
    switch (kind) {
        case 0:
            for (auto& connection : connections) open += connection->open_requests();
            return static_cast<double>(open);
        case 1: return static_cast<double>(comet::malloc_heap.size());
        case 2: return static_cast<double>(comet::malloc_heap.free_bytes());
        case 3: return comet_live_xhrs();
        default: return static_cast<double>(__builtin_wasm_memory_size(0)) * 65536;
    }
}

}  // namespace

EMSCRIPTEN_BINDINGS(jquery_comet) {
    emscripten::function("_openWith", &open_connection);
    emscripten::function("_begin", &begin);
    emscripten::function("_signal", &signal);
    emscripten::function("_destroy", &destroy);
    emscripten::function("_peerBatch", &peer_batch);
    emscripten::function("_peerWelcome", &peer_welcome);
    emscripten::function("_peerState", &peer_state);
    emscripten::function("_headers", &headers);
    emscripten::function("_headersFailed", &headers_failed);
    emscripten::function("_findHeader", &find_header);
    emscripten::function("_stat", &stat);
}
