// The boundary to JavaScript: one class, methods prefixed with '_' because only the shim
// (js/jquery.comet.shim.js) calls them; the public API is the shim's.
#include <emscripten/bind.h>

#include <cmath>
#include <string>

#include "fetch_connection.hpp"

namespace {

comet::FetchConnection* make_connection(std::string url, std::string method, double timeout, double retry_delay,
                                        std::string type_attr, std::string data_attr, std::string cache_buster,
                                        emscripten::val sink) {
    comet::PollerConfig config;
    config.url = std::move(url);
    config.method = std::move(method);
    config.timeout = static_cast<comet::Millis>(std::llround(timeout));
    config.retry_delay = static_cast<comet::Millis>(std::llround(retry_delay));
    config.extraction.type_attr = std::move(type_attr);
    config.extraction.data_attr = std::move(data_attr);  // "" means dataAttr: null
    config.cache_buster = std::move(cache_buster);
    return new comet::FetchConnection(std::move(config), std::move(sink));
}

}  // namespace

EMSCRIPTEN_BINDINGS(jquery_comet) {
    emscripten::class_<comet::FetchConnection>("_Connection")
        .constructor(&make_connection, emscripten::allow_raw_pointers())
        .function("_start", &comet::FetchConnection::start)
        .function("_close", &comet::FetchConnection::close)
        .function("_state", &comet::FetchConnection::state)
        .function("_openRequests", &comet::FetchConnection::open_requests);
}
