#include "poller.hpp"

#include <algorithm>
#include <iterator>

#include "http_text.hpp"

namespace comet {

const char* name_of(State state) {
    switch (state) {
        case State::Idle: return "idle";
        case State::Connecting: return "connecting";
        case State::Open: return "open";
        case State::Waiting: return "waiting";
        case State::Closed: return "closed";
    }
    return "?";
}

const char* name_of(Event event) {
    switch (event) {
        case Event::Start: return "start";
        case Event::Success: return "success";
        case Event::Repoll: return "repoll";
        case Event::NotModified: return "not-modified";
        case Event::HttpFailure: return "http-failure";
        case Event::NetworkFailure: return "network-failure";
        case Event::Deadline: return "deadline";
        case Event::RetryDue: return "retry-due";
        case Event::Close: return "close";
    }
    return "?";
}

const char* name_of(TextStatus status) {
    switch (status) {
        case TextStatus::Error: return "error";
        case TextStatus::ParserError: return "parsererror";
    }
    return "?";
}

namespace {

enum class Effect : uint8_t {
    Nothing,
    Send,             // start the next request
    DeliverThenSend,  // take the cursor, start the next request, deliver, report bad parts
    AbortThenSend,    // the request outlived its timeout: not an error, ask again
    ReportThenWait,   // report the failure, start the retry timer
    WaitQuietly,      // 304: nothing new, ask again after retry_delay
    Stop,             // abort what is in flight, cancel the timer
};

struct Transition {
    State from;
    Event event;
    State to;
    Effect effect;
};

// Everything that moves the state lives here. Anything absent is refused.
constexpr Transition kTransitions[] = {
    {State::Idle, Event::Start, State::Connecting, Effect::Send},

    {State::Connecting, Event::Success, State::Open, Effect::DeliverThenSend},
    {State::Open, Event::Success, State::Open, Effect::DeliverThenSend},
    {State::Connecting, Event::Repoll, State::Connecting, Effect::Send},
    {State::Open, Event::Repoll, State::Open, Effect::Send},
    {State::Connecting, Event::Deadline, State::Connecting, Effect::AbortThenSend},
    {State::Open, Event::Deadline, State::Open, Effect::AbortThenSend},
    {State::Connecting, Event::NotModified, State::Waiting, Effect::WaitQuietly},
    {State::Open, Event::NotModified, State::Waiting, Effect::WaitQuietly},
    {State::Connecting, Event::HttpFailure, State::Waiting, Effect::ReportThenWait},
    {State::Open, Event::HttpFailure, State::Waiting, Effect::ReportThenWait},
    {State::Connecting, Event::NetworkFailure, State::Waiting, Effect::ReportThenWait},
    {State::Open, Event::NetworkFailure, State::Waiting, Effect::ReportThenWait},

    {State::Waiting, Event::RetryDue, State::Connecting, Effect::Send},

    {State::Idle, Event::Close, State::Closed, Effect::Stop},
    {State::Connecting, Event::Close, State::Closed, Effect::Stop},
    {State::Open, Event::Close, State::Closed, Effect::Stop},
    {State::Waiting, Event::Close, State::Closed, Effect::Stop},
    {State::Closed, Event::Close, State::Closed, Effect::Nothing},  // close() twice is harmless
};

const Transition* find_transition(State from, Event event) {
    for (const Transition& t : kTransitions)
        if (t.from == from && t.event == event) return &t;
    return nullptr;
}

Event classify(int status) {
    if (status == 0) return Event::NetworkFailure;
    if (status == 204 || status == 408) return Event::Repoll;
    if (status == 304) return Event::NotModified;
    if (status >= 200 && status < 300) return Event::Success;
    return Event::HttpFailure;
}

}  // namespace

Poller::Poller(PollerConfig config) : config_(std::move(config)) {}

std::optional<Millis> Poller::next_deadline() const {
    if (state_ == State::Waiting) return retry_at_;
    if (in_flight_ && config_.timeout > 0) return request_deadline_;
    return std::nullopt;
}

bool Poller::start(Millis now) { return apply(now, Event::Start, nullptr); }

bool Poller::close() { return apply(0, Event::Close, nullptr); }

bool Poller::on_response(Millis now, uint64_t request_id, const Response& response) {
    if (!in_flight_ || request_id != request_id_) return false;
    return apply(now, classify(response.status), &response);
}

bool Poller::on_network_failure(Millis now, uint64_t request_id) {
    if (!in_flight_ || request_id != request_id_) return false;
    return apply(now, Event::NetworkFailure, nullptr);
}

bool Poller::on_timer(Millis now) {
    if (state_ == State::Waiting && now >= retry_at_) return apply(now, Event::RetryDue, nullptr);
    if (in_flight_ && config_.timeout > 0 && now >= request_deadline_) return apply(now, Event::Deadline, nullptr);
    return false;
}

bool Poller::apply(Millis now, Event event, const Response* response) {
    const Transition* t = find_transition(state_, event);
    if (!t) return false;
    State from = state_;
    state_ = t->to;
    if (from != state_) actions_.push_back(StateChanged{from, state_});
    switch (t->effect) {
        case Effect::Nothing: break;
        case Effect::Send: send_request(now); break;
        case Effect::DeliverThenSend:
            in_flight_ = false;
            deliver(now, *response);
            break;
        case Effect::AbortThenSend:
            abort_request();
            send_request(now);
            break;
        case Effect::ReportThenWait:
            in_flight_ = false;
            report_failure(now, event, response);
            break;
        case Effect::WaitQuietly:
            in_flight_ = false;
            begin_wait(now, config_.retry_delay);
            break;
        case Effect::Stop:
            if (in_flight_) abort_request();
            break;
    }
    return true;
}

void Poller::send_request(Millis now) {
    in_flight_ = true;
    ++request_id_;
    request_deadline_ = now + config_.timeout;
    StartRequest request{request_id_, config_.method, config_.url, {}};
    if (etag_.empty() && !config_.cache_buster.empty()) {
        request.url += config_.url.find('?') == std::string::npos ? "?_=" : "&_=";
        request.url += config_.cache_buster;
        request.url += '-';
        request.url += std::to_string(request_id_);
    }
    // Nchan answers If-Modified-Since without If-None-Match with 400, so the pair travels
    // together or the date stays home.
    if (!etag_.empty()) {
        request.headers.push_back(Header{"If-None-Match", etag_});
        if (!last_modified_.empty()) request.headers.push_back(Header{"If-Modified-Since", last_modified_});
    }
    actions_.push_back(std::move(request));
}

void Poller::abort_request() {
    in_flight_ = false;
    actions_.push_back(AbortRequest{request_id_});
}

void Poller::begin_wait(Millis now, Millis delay) { retry_at_ = now + delay; }

void Poller::deliver(Millis now, const Response& response) {
    // The response arrived whole, so its id is the new cursor, bad parts included: a message
    // that cannot be parsed is reported once, never fetched again in a loop. The two headers
    // are one id: a response that carries either replaces both, so ids never mix.
    bool has_date = false;
    bool has_tag = false;
    std::string_view date = find_header(response.headers, "last-modified", &has_date);
    std::string_view tag = find_header(response.headers, "etag", &has_tag);
    if (has_date || has_tag) {
        last_modified_.assign(date);
        etag_.assign(tag);
    }

    // Ask for the next message before the handlers run, so they do not delay it.
    send_request(now);
    decoded_.clear();
    decode_body(find_header(response.headers, "content-type"), response.body, config_.extraction, decoded_);
    if (!decoded_.messages.empty()) actions_.push_back(Deliver{decoded_.messages});
    for (BodyProblem& problem : decoded_.problems) {
        Report report;
        report.status = response.status;
        report.text_status = TextStatus::ParserError;
        report.error_thrown = problem.detail;
        report.detail = config_.method + " " + config_.url + ": " + problem.detail +
                        "; that message is skipped and polling goes on";
        report.retry_in = 0;
        report.has_response = true;
        actions_.push_back(std::move(report));
    }
}

void Poller::report_failure(Millis now, Event event, const Response* response) {
    Report report;
    report.retry_in = config_.retry_delay;
    report.text_status = TextStatus::Error;
    std::string what;
    if (event == Event::NetworkFailure || !response) {
        report.status = 0;
        what = "failed without an HTTP response (refused, reset or blocked)";
    } else {
        report.status = response->status;
        report.error_thrown.assign(response->status_text);
        report.has_response = true;
        what = "failed with HTTP " + std::to_string(response->status);
        if (!response->status_text.empty()) what += " " + std::string(response->status_text);
    }
    report.detail = config_.method + " " + config_.url + " " + what + "; retrying in " +
                    std::to_string(report.retry_in) + " ms";
    actions_.push_back(std::move(report));
    begin_wait(now, config_.retry_delay);
}

}  // namespace comet
