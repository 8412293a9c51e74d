#include "connection.hpp"

#include <emscripten/eventloop.h>

#include "bindings.hpp"
#include "http_text.hpp"

namespace comet {

Connection::Connection(uint32_t id, PollerConfig poll, TabConfig tab, bool debug)
    : id_(id), cache_buster_(std::move(poll.cache_buster)), debug_(debug), tab_(tab) {
    poll_config_ = std::make_unique<PollerConfig>(std::move(poll));
}

Connection::~Connection() {
    if (timer_id_) emscripten_clear_timeout(timer_id_);
}

void Connection::run_actions() {
    // One action at a time: carrying one out may call back into this connection (a handler
    // that closes it), and the Tab's queue then holds only what that input decided.
    while (std::optional<TabAction> next = tab_.take_action()) carry_out(*next);
    arm_timer();
}

void Connection::carry_out(const TabAction& a) {
    switch (a.kind) {
        case TabAction::StartPoll: start_poll(a.cursor, a.offline); break;
        case TabAction::StopPoll:
            if (poll_) poll_->close();
            break;
        case TabAction::PollInput: pass_on(a.event); break;
        case TabAction::RequestLock: js::lock(id_, "request"); break;
        case TabAction::ReleaseLock: js::lock(id_, "release"); break;
        case TabAction::LeaveTabs: js::lock(id_, "leave"); break;
        case TabAction::PostHello: js::post(id_, "hello", a.cursor, a.state); break;
        case TabAction::PostWelcome: js::post(id_, "welcome", a.cursor, a.state); break;
        case TabAction::PostState: js::post(id_, "state", a.cursor, a.to); break;
        case TabAction::DeliverOwn: {
            static const std::vector<Message> none;
            js::batch(id_, batch_ ? response_->body : std::string_view(), batch_ ? batch_->messages : none, a.relay,
                      a.previous, a.cursor);
            break;
        }
        case TabAction::ReportOwn: js::report(id_, *report_, response_, a.relay); break;
        case TabAction::DeliverRelayed: js::relayed(id_, "deliver"); break;
        case TabAction::DropLateCopy: js::relayed(id_, "drop"); break;
        case TabAction::ReportRelayed: js::relayed(id_, "report"); break;
        case TabAction::SaveCursor: js::save(id_, a.cursor); break;
        case TabAction::ShowState: js::state(id_, a.from, a.to); break;
        case TabAction::Note: js::log(id_, a.warning, concat({poll_config().urls[url_index_], ": ", a.text})); break;
    }
}

void Connection::start_poll(const Cursor& cursor, bool offline) {
    // A tab starts a poll only when none runs, so the last one has stopped; its settings come back.
    PollerConfig config = poll_ ? poll_->take_config() : std::move(*poll_config_);
    poll_.reset();
    poll_config_.reset();
    config.cursor = cursor;
    // Every poll this connection starts marks its cursorless requests apart from the last one's.
    config.cache_buster = concat({cache_buster_, "-", decimal(++polls_started_)});
    // Every poll starts at the first URL.
    url_index_ = 0;
    js::url(id_, 0);
    poll_ = std::make_unique<FetchConnection>(id_, std::move(config), debug_, *this);
    poll_->start();
    if (offline) poll_->go_offline();
}

void Connection::pass_on(Event event) {
    if (!poll_) return;
    switch (event) {
        case Event::Suspend: poll_->suspend(); break;
        case Event::Resume: poll_->resume(); break;
        case Event::GoOffline: poll_->go_offline(); break;
        case Event::GoOnline: poll_->go_online(); break;
        default: break;
    }
}

void Connection::delivered(const Action& batch, const Response& response) {
    batch_ = &batch;
    response_ = &response;
    tab_.own_batch(now_ms(), batch.cursor);
    run_actions();
    batch_ = nullptr;
    response_ = nullptr;
}

void Connection::reported(const Action& report, const Response* response) {
    report_ = &report;
    response_ = response;
    tab_.own_report(now_ms());
    run_actions();
    report_ = nullptr;
    response_ = nullptr;
}

void Connection::state_changed(State from, State to) {
    tab_.own_state(now_ms(), from, to);
    run_actions();
}

void Connection::url_changed(size_t index) {
    url_index_ = index;
    js::url(id_, index);
}

void Connection::on_timer(void* self) {
    auto* connection = static_cast<Connection*>(self);
    connection->timer_id_ = 0;
    connection->tab_.on_timer(now_ms());
    connection->run_actions();
}

void Connection::arm_timer() {
    if (timer_id_) {
        emscripten_clear_timeout(timer_id_);
        timer_id_ = 0;
    }
    std::optional<Millis> deadline = tab_.next_deadline();
    if (!deadline) return;
    double delay = static_cast<double>(*deadline) - static_cast<double>(now_ms());
    timer_id_ = emscripten_set_timeout(&Connection::on_timer, delay < 0 ? 0 : delay + 1, this);
}

}  // namespace comet
