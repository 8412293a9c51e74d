// One $.comet connection in the wasm module: its Tab machine (shared tabs, resume, what the
// page sees) and, while this tab polls, a FetchConnection. Carries the Tab's actions out --
// starting and stopping the poll here, everything else through the calls to JavaScript in
// bindings.hpp -- and feeds the poll's deliveries, states and reports to the Tab. Decides
// nothing: the Poller and the Tab do.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "fetch_connection.hpp"
#include "tab.hpp"

namespace comet {

class Connection {
  public:
    // `poll` is the configuration of every poll this connection starts; each starts from the
    // cursor the Tab gives it.
    Connection(uint32_t id, PollerConfig poll, TabConfig tab, bool debug);
    ~Connection();
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    uint32_t id() const { return id_; }
    Tab& tab() { return tab_; }
    // Carries out what the Tab decided after an input from JavaScript.
    void run_actions();
    int open_requests() const { return poll_ ? poll_->open_requests() : 0; }
    // The page's answer to the poll's AskHeaders (ignored once that poll is gone).
    void headers_answered(uint64_t request_id, std::vector<Header> headers) {
        if (poll_) poll_->headers_answered(request_id, std::move(headers));
    }
    void headers_failed(uint64_t request_id, std::string error) {
        if (poll_) poll_->headers_failed(request_id, std::move(error));
    }

    // What the poll decided besides I/O (FetchConnection hands it on, in order). `response`
    // is the one a batch's spans point into; alive during the call.
    void delivered(const Action& batch, const Response& response);
    void reported(const Action& report, const Response* response);
    void state_changed(State from, State to);
    void url_changed(size_t index);

  private:
    static void on_timer(void* self);
    void carry_out(const TabAction& action);
    void start_poll(const Cursor& cursor, bool offline);
    void pass_on(Event event);
    void arm_timer();

    const PollerConfig& poll_config() const { return poll_ ? poll_->config() : *poll_config_; }

    uint32_t id_;
    // The poll's settings: here until the first poll starts; then the poll holds them, and the
    // next start takes them back from it. One copy per connection, not two, and none of its
    // 168 B inline here while a poll runs.
    std::unique_ptr<PollerConfig> poll_config_;
    std::string cache_buster_;  // the base of every poll's own
    bool debug_;
    Tab tab_;
    std::unique_ptr<FetchConnection> poll_;
    uint32_t polls_started_ = 0;
    size_t url_index_ = 0;  // of the running poll, for the debug lines
    // What the poll handed over and the Tab is deciding about, for the actions that carry it.
    const Action* batch_ = nullptr;
    const Response* response_ = nullptr;
    const Action* report_ = nullptr;
    long timer_id_ = 0;
};

}  // namespace comet
