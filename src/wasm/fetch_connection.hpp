// The I/O adapter: carries out a Poller's actions with emscripten_fetch and setTimeout, and
// turns fetch callbacks and timer expiries back into Poller inputs. The only code that
// includes <emscripten/fetch.h>. It decides nothing; the Poller does.
#pragma once

#include <emscripten/fetch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "poller.hpp"

namespace comet {

class FetchConnection {
  public:
    // `id` names this connection in the calls back to the shim (Module._cometMessages,
    // _cometReport, _cometState, _cometUrl, with `track_cursor` _cometCursor, and with `debug`
    // _cometRequest and _cometResponse; see fetch_connection.cpp).
    FetchConnection(uint32_t id, PollerConfig config, bool debug, bool track_cursor);
    ~FetchConnection();
    FetchConnection(const FetchConnection&) = delete;
    FetchConnection& operator=(const FetchConnection&) = delete;

    void start();
    void close();
    void go_offline();
    void go_online();
    void suspend();
    void resume();
    uint32_t id() const { return id_; }
    // How many fetches this connection has open right now: 0 or 1. For leak tests.
    int open_requests() const { return fetch_ ? 1 : 0; }

  private:
    static void on_fetch_success(emscripten_fetch_t* fetch);
    static void on_fetch_error(emscripten_fetch_t* fetch);
    static void on_fetch_progress(emscripten_fetch_t* fetch);
    static void on_timer(void* self);

    // Gives the Poller an input that needs only the time, then carries out what it decided.
    void feed(bool (Poller::*input)(Millis));
    void fetch_finished(emscripten_fetch_t* fetch, bool success);
    void read_headers(emscripten_fetch_t* fetch);
    void run_actions(const Response* response);
    void start_fetch(const StartRequest& request);
    void abort_fetch();
    void arm_timer();
    void deliver(const Deliver& deliver, const Response& response);
    void report(const Report& report, const Response* response);

    uint32_t id_;
    bool debug_;         // also tell the shim about every request and response, for its console log
    bool track_cursor_;  // tell the shim the cursor after every response that moved or delivered
    Cursor reported_cursor_;
    size_t reported_url_index_ = 0;
    Poller poller_;
    emscripten_fetch_t* fetch_ = nullptr;  // the request in flight, owned
    uint64_t fetch_request_id_ = 0;
    long timer_id_ = 0;
    Millis timer_at_ = -1;
    std::string headers_;  // the current response's header block
};

}  // namespace comet
