// The boundary to JavaScript: one class, methods prefixed with '_' because only the shim
// (js/jquery.comet.shim.js) calls them; the public API is the shim's.
#include <emscripten/bind.h>
#include <emscripten/em_js.h>
#include <emscripten/emmalloc.h>

#include <cmath>
#include <string>

#include "fetch_connection.hpp"

namespace {

double number(const emscripten::val& options, const char* key) { return options[key].as<double>(); }

// `options` is the shim's settled, validated settings object.
comet::FetchConnection* make_connection(emscripten::val options, emscripten::val sink) {
    comet::PollerConfig config;
    config.url = options["url"].as<std::string>();
    config.method = options["requestMethod"].as<std::string>();
    config.timeout = std::llround(number(options, "timeout"));
    config.retry_delay = std::llround(number(options, "retryDelay"));
    config.max_retry_delay = std::llround(number(options, "maxRetryDelay"));
    config.max_response_bytes = static_cast<uint64_t>(number(options, "maxResponseBytes"));
    // Two 32-bit halves: a double holds 53 bits exactly, not 64.
    config.random_seed = (static_cast<uint64_t>(number(options, "seedHigh")) << 32) |
                         static_cast<uint64_t>(number(options, "seedLow"));
    config.extraction.type_attr = options["typeAttr"].as<std::string>();
    emscripten::val data_attr = options["dataAttr"];
    config.extraction.data_attr = data_attr.isNull() ? std::string() : data_attr.as<std::string>();
    config.cache_buster = options["cacheBuster"].as<std::string>();
    return new comet::FetchConnection(std::move(config), std::move(sink));
}

// For the leak tests: what the wasm heap holds, and how many XHRs Emscripten's Fetch still
// keeps (it frees them by leaving holes in one array).
EM_JS(int, comet_live_xhrs, (), {
    var live = 0;
    for (var i in Fetch.xhrs) live++;
    return live;
});

emscripten::val heap_stats() {
    emscripten::val stats = emscripten::val::object();
    size_t heap = emmalloc_dynamic_heap_size();
    stats.set("dynamicHeap", static_cast<double>(heap));
    stats.set("used", static_cast<double>(heap - emmalloc_free_dynamic_memory()));
    stats.set("liveXhrs", comet_live_xhrs());
    return stats;
}

}  // namespace

EMSCRIPTEN_BINDINGS(jquery_comet) {
    emscripten::function("_heapStats", &heap_stats);
    emscripten::class_<comet::FetchConnection>("_Connection")
        .constructor(&make_connection, emscripten::allow_raw_pointers())
        .function("_start", &comet::FetchConnection::start)
        .function("_close", &comet::FetchConnection::close)
        .function("_goOffline", &comet::FetchConnection::go_offline)
        .function("_goOnline", &comet::FetchConnection::go_online)
        .function("_suspend", &comet::FetchConnection::suspend)
        .function("_resume", &comet::FetchConnection::resume)
        .function("_state", &comet::FetchConnection::state)
        .function("_openRequests", &comet::FetchConnection::open_requests);
}
