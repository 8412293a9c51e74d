// The boundary to JavaScript. Only the shim (js/jquery.comet.shim.js) calls these, so their
// names start with '_'; the public API is the shim's.
//
// Free functions over a connection id rather than an embind class_: the class machinery is
// about 2.4 KB of the gzipped file (its JS registry plus RTTI and dynamic_cast in the wasm),
// for a handful of calls. Calls back to JS go through EM_JS (see fetch_connection.cpp).
#include <emscripten/bind.h>
#include <emscripten/em_js.h>
#include <emscripten/emmalloc.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "fetch_connection.hpp"
#include "integrity.hpp"

namespace {

// The live connections. A page has a few, so a vector searched by id does; ids are never
// reused, so a late call with a stale id finds nothing instead of another connection.
std::vector<std::unique_ptr<comet::FetchConnection>> connections;
uint32_t last_id = 0;

std::vector<std::unique_ptr<comet::FetchConnection>>::iterator find(uint32_t id) {
    return std::find_if(
        connections.begin(), connections.end(),
        [id](const std::unique_ptr<comet::FetchConnection>& connection) { return connection->id() == id; });
}

// The arguments are the shim's settled, validated options; an empty data_attr means null.
// `urls` holds one URL or several, one per line (a parsed URL cannot contain a line break);
// the cursor to start from is empty for none.
uint32_t open_connection(std::string urls, std::string method, double timeout, double retry_delay,
                         double max_retry_delay, double max_response_bytes, std::string type_attr,
                         std::string data_attr, std::string cache_buster, double seed_high, double seed_low,
                         std::string last_modified, std::string etag, bool debug, bool track_cursor) {
    comet::PollerConfig config;
    for (size_t start = 0; start <= urls.size();) {
        size_t end = std::min(urls.find('\n', start), urls.size());
        config.urls.push_back(urls.substr(start, end - start));
        start = end + 1;
    }
    config.method = std::move(method);
    config.timeout = std::llround(timeout);
    config.retry_delay = std::llround(retry_delay);
    config.max_retry_delay = std::llround(max_retry_delay);
    config.max_response_bytes = static_cast<uint64_t>(max_response_bytes);
    // Two 32-bit halves: a double holds 53 bits exactly, not 64.
    config.random_seed = (static_cast<uint64_t>(seed_high) << 32) | static_cast<uint64_t>(seed_low);
    config.extraction.type_attr = std::move(type_attr);
    config.extraction.data_attr = std::move(data_attr);
    config.cache_buster = std::move(cache_buster);
    config.cursor.last_modified = std::move(last_modified);
    config.cursor.etag = std::move(etag);
    connections.push_back(std::make_unique<comet::FetchConnection>(++last_id, std::move(config), debug, track_cursor));
    return last_id;
}

// What the shim asks of a connection. Numbers, not names: the shim has the same list.
enum Command { Start, Close, GoOffline, GoOnline, Suspend, Resume, Destroy };

void command(uint32_t id, int what) {
    auto found = find(id);
    if (found == connections.end()) return;
    comet::FetchConnection* connection = found->get();
    switch (what) {
        case Start: connection->start(); break;
        case Close: connection->close(); break;
        case GoOffline: connection->go_offline(); break;
        case GoOnline: connection->go_online(); break;
        case Suspend: connection->suspend(); break;
        case Resume: connection->resume(); break;
        // Only ever called from a timer, never from inside this connection's own callbacks.
        case Destroy: connections.erase(found); break;
    }
}

// For leak tests: fetches open across all connections, what the wasm heap holds, and how
// many XHRs Emscripten's Fetch still keeps (it frees them by leaving holes in one array).
int open_requests() {
    int open = 0;
    for (auto& connection : connections) open += connection->open_requests();
    return open;
}

double heap_size() { return static_cast<double>(emmalloc_dynamic_heap_size()); }
double heap_free() { return static_cast<double>(emmalloc_free_dynamic_memory()); }

// Whether a cursor from storage or from another tab is a whole message id (integrity.hpp): the
// shim takes no other.
bool whole_cursor(std::string last_modified, std::string etag) {
    return comet::well_formed(comet::Cursor{std::move(last_modified), std::move(etag)});
}

EM_JS(int, comet_live_xhrs, (), {
    var live = 0;
    for (var i in Fetch.xhrs) live++;
    return live;
});

int live_xhrs() { return comet_live_xhrs(); }

}  // namespace

EMSCRIPTEN_BINDINGS(jquery_comet) {
    emscripten::function("_open", &open_connection);
    emscripten::function("_command", &command);
    emscripten::function("_wholeCursor", &whole_cursor);
    emscripten::function("_openRequests", &open_requests);
    emscripten::function("_heapSize", &heap_size);
    emscripten::function("_heapFree", &heap_free);
    emscripten::function("_liveXhrs", &live_xhrs);
}
