// The poll's I/O adapter: carries out a Poller's requests with emscripten_fetch and its
// deadlines with setTimeout, and turns fetch callbacks and timer expiries back into Poller
// inputs. The only code that includes <emscripten/fetch.h>. Every other action (deliver,
// report, state, cursor, URL) it hands on as it came to the Connection that owns it.
#pragma once

#include <emscripten/fetch.h>

#include <cstdint>
#include <string>

#include "poller.hpp"

namespace comet {

// The time in whole milliseconds since the page started, as the core's machines take it.
Millis now_ms();

class Connection;  // connection.hpp: receives the actions that are not I/O, in order

class FetchConnection {
  public:
    // `id` names the connection in the debug log lines (`debug`: one per request and response).
    FetchConnection(uint32_t id, PollerConfig config, bool debug, Connection& owner);
    ~FetchConnection();
    FetchConnection(const FetchConnection&) = delete;
    FetchConnection& operator=(const FetchConnection&) = delete;

    void start();
    void close();
    void go_offline();
    void go_online();
    void suspend();
    void resume();
    // The page's answer to an AskHeaders: the headers, or why there are none.
    void headers_answered(uint64_t request_id, std::vector<Header> headers);
    void headers_failed(uint64_t request_id, std::string error);
    // How many fetches this connection has open right now: 0 or 1. For leak tests.
    int open_requests() const { return fetch_ ? 1 : 0; }
    const PollerConfig& config() const { return poller_.config(); }
    // Closes the poll (if it still runs) and hands its settings back for the next one.
    PollerConfig take_config();

  private:
    static void on_fetch_success(emscripten_fetch_t* fetch);
    static void on_fetch_error(emscripten_fetch_t* fetch);
    static void on_fetch_progress(emscripten_fetch_t* fetch);
    static void on_timer(void* self);

    // Gives the Poller an input that needs only the time, then carries out what it decided.
    void feed(bool (Poller::*input)(Millis));
    void fetch_finished(emscripten_fetch_t* fetch, bool success);
    const std::string& headers_of(emscripten_fetch_t* fetch);
    void run_actions(const Response* response);
    void start_fetch(const Action& request);
    void abort_fetch();
    void arm_timer();

    uint32_t id_;
    bool debug_;
    Connection& owner_;
    Poller poller_;
    emscripten_fetch_t* fetch_ = nullptr;  // the request in flight, owned
    uint64_t fetch_request_id_ = 0;
    bool running_ = false;       // run_actions is carrying actions out
    bool headers_read_ = false;  // headers_ holds the current fetch's header block
    std::string headers_;
    long timer_id_ = 0;
    Millis timer_at_ = -1;
};

}  // namespace comet
