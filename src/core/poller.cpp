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
        case State::Offline: return "offline";
        case State::Suspended: return "suspended";
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
        case Event::TooLarge: return "too-large";
        case Event::TooLargeNoCursor: return "too-large-no-cursor";
        case Event::Deadline: return "deadline";
        case Event::RetryDue: return "retry-due";
        case Event::GoOffline: return "go-offline";
        case Event::GoOnline: return "go-online";
        case Event::Suspend: return "suspend";
        case Event::Resume: return "resume";
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
    DeliverThenSend,  // take the cursor, deliver, start the next request, report bad parts
    AbortThenSend,    // the request outlived its timeout: not an error, ask again
    ReportThenWait,   // report the failure, start the retry timer
    SkipThenSend,     // too large, but its cursor is known: report it, step past it, ask again
    WaitQuietly,      // 304: nothing new, ask again after retry_delay
    Pause,            // offline or suspended: abort what is in flight, no timer
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
    {State::Connecting, Event::TooLarge, State::Open, Effect::SkipThenSend},
    {State::Open, Event::TooLarge, State::Open, Effect::SkipThenSend},
    {State::Connecting, Event::TooLargeNoCursor, State::Waiting, Effect::ReportThenWait},
    {State::Open, Event::TooLargeNoCursor, State::Waiting, Effect::ReportThenWait},

    {State::Waiting, Event::RetryDue, State::Connecting, Effect::Send},

    // The browser's offline/online events: stop trying while offline, try at once when back.
    {State::Connecting, Event::GoOffline, State::Offline, Effect::Pause},
    {State::Open, Event::GoOffline, State::Offline, Effect::Pause},
    {State::Waiting, Event::GoOffline, State::Offline, Effect::Pause},
    {State::Offline, Event::GoOnline, State::Connecting, Effect::Send},
    {State::Waiting, Event::GoOnline, State::Connecting, Effect::Send},

    // pagehide / pageshow: nothing open while the page sits in the back/forward cache.
    {State::Connecting, Event::Suspend, State::Suspended, Effect::Pause},
    {State::Open, Event::Suspend, State::Suspended, Effect::Pause},
    {State::Waiting, Event::Suspend, State::Suspended, Effect::Pause},
    {State::Offline, Event::Suspend, State::Suspended, Effect::Pause},
    {State::Suspended, Event::Resume, State::Connecting, Effect::Send},

    {State::Idle, Event::Close, State::Closed, Effect::Stop},
    {State::Connecting, Event::Close, State::Closed, Effect::Stop},
    {State::Open, Event::Close, State::Closed, Effect::Stop},
    {State::Waiting, Event::Close, State::Closed, Effect::Stop},
    {State::Offline, Event::Close, State::Closed, Effect::Stop},
    {State::Suspended, Event::Close, State::Closed, Effect::Stop},
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

// The message id a response carries: its Last-Modified and Etag, the two halves of one id.
struct CursorHeaders {
    std::string_view last_modified;
    std::string_view etag;
    bool present = false;  // either header was sent
};

CursorHeaders cursor_of(const Response& response) {
    CursorHeaders cursor;
    bool has_date = false;
    bool has_tag = false;
    cursor.last_modified = find_header(response.headers, "last-modified", &has_date);
    cursor.etag = find_header(response.headers, "etag", &has_tag);
    cursor.present = has_date || has_tag;
    return cursor;
}

bool has_cursor(const Response& response) { return cursor_of(response).present; }

// Statuses that asking again soon cannot change: slow path, never a hot loop.
bool cannot_heal(int status) { return status == 400 || status == 403 || status == 404 || status == 410; }

constexpr Millis kMaxRetryAfter = 3600 * 1000;

}  // namespace

Poller::Poller(PollerConfig config)
    : config_(std::move(config)),
      cursor_(config_.cursor),
      backoff_(config_.retry_delay, config_.max_retry_delay, config_.random_seed) {
    if (config_.urls.empty()) config_.urls.emplace_back();
}

std::optional<Millis> Poller::next_deadline() const {
    if (state_ == State::Waiting) return retry_at_;
    if (in_flight_ && config_.timeout > 0) return request_deadline_;
    return std::nullopt;
}

bool Poller::start(Millis now) { return apply(now, Event::Start, nullptr); }

bool Poller::close() { return apply(0, Event::Close, nullptr); }

bool Poller::on_response(Millis now, uint64_t request_id, const Response& response) {
    if (!in_flight_ || request_id != request_id_) return false;
    Event event = classify(response.status);
    if (event == Event::Success && response.body.size() > config_.max_response_bytes) {
        oversize_bytes_ = response.body.size();
        event = has_cursor(response) ? Event::TooLarge : Event::TooLargeNoCursor;
        // It arrived whole, so there is nothing left to abort. (Both events are accepted in
        // every state that has a request in flight, so this cannot leak into a refusal.)
        in_flight_ = false;
    }
    return apply(now, event, &response);
}

bool Poller::on_progress(Millis now, uint64_t request_id, const Response& headers_only, uint64_t bytes) {
    if (!in_flight_ || request_id != request_id_) return false;
    if (bytes <= config_.max_response_bytes) return false;
    oversize_bytes_ = bytes;
    // Only a 2xx carries a message to step past: an oversized error page's Etag is no message
    // id, and skipping it would reset the backoff and re-ask at once, in a loop.
    bool skippable = classify(headers_only.status) == Event::Success && has_cursor(headers_only);
    return apply(now, skippable ? Event::TooLarge : Event::TooLargeNoCursor, &headers_only);
}

bool Poller::go_offline(Millis now) { return apply(now, Event::GoOffline, nullptr); }
bool Poller::go_online(Millis now) { return apply(now, Event::GoOnline, nullptr); }
bool Poller::suspend(Millis now) { return apply(now, Event::Suspend, nullptr); }
bool Poller::resume(Millis now) { return apply(now, Event::Resume, nullptr); }

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
        case Effect::Send:
            if (event == Event::Repoll) failures_ = 0;    // the server answered: it is up
            if (event == Event::GoOnline) failures_ = 0;  // a new network: start over
            send_request(now);
            break;
        case Effect::DeliverThenSend:
            in_flight_ = false;
            failures_ = 0;
            deliver(now, *response);
            break;
        case Effect::SkipThenSend:
            if (in_flight_) abort_request();
            failures_ = 0;
            take_cursor(*response);
            report_oversize(now, *response, oversize_bytes_);
            send_request(now);
            break;
        case Effect::AbortThenSend:
            abort_request();
            send_request(now);
            break;
        case Effect::ReportThenWait:
            if (in_flight_ && event == Event::TooLargeNoCursor) abort_request();
            in_flight_ = false;
            ++failures_;
            if (event == Event::TooLargeNoCursor) {
                report_oversize(now, *response, oversize_bytes_);
            } else {
                report_failure(now, event, response);
            }
            break;
        case Effect::WaitQuietly:
            in_flight_ = false;
            begin_wait(now, config_.retry_delay);
            break;
        case Effect::Pause:
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
    StartRequest request{request_id_, config_.method, url(), {}};
    if (cursor_.etag.empty() && !config_.cache_buster.empty()) {
        request.url += request.url.find('?') == std::string::npos ? "?_=" : "&_=";
        request.url += config_.cache_buster;
        request.url += '-';
        request.url += std::to_string(request_id_);
    }
    // Nchan answers If-Modified-Since without If-None-Match with 400, so the pair travels
    // together or the date stays home.
    if (!cursor_.etag.empty()) {
        request.headers.push_back(Header{"If-None-Match", cursor_.etag});
        if (!cursor_.last_modified.empty())
            request.headers.push_back(Header{"If-Modified-Since", cursor_.last_modified});
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
    // that cannot be parsed is reported once, never fetched again in a loop.
    take_cursor(response);

    decoded_.clear();
    decode_body(find_header(response.headers, "content-type"), response.body, config_.extraction, decoded_);
    // Moved, not copied: the batch owns its vector and nothing stays behind at the high-water mark.
    if (!decoded_.messages.empty()) actions_.push_back(Deliver{std::move(decoded_.messages)});
    // The handlers first, then the next poll: sending a request costs the browser a quarter of
    // a millisecond or more, which every message would otherwise wait for. What is published
    // while the handlers run waits in the server's buffer for the next poll.
    send_request(now);
    for (BodyProblem& problem : decoded_.problems) {
        Report report;
        report.status = response.status;
        report.text_status = TextStatus::ParserError;
        report.error_thrown = problem.detail;
        report.detail =
            config_.method + " " + url() + ": " + problem.detail + "; that message is skipped and polling goes on";
        report.retry_in = 0;
        report.has_response = true;
        report.has_body = true;
        actions_.push_back(std::move(report));
    }
}

bool Poller::take_cursor(const Response& response) {
    // The two headers are one id: a response that carries either replaces both, so ids never mix.
    CursorHeaders cursor = cursor_of(response);
    if (!cursor.present) return false;
    cursor_.last_modified.assign(cursor.last_modified);
    cursor_.etag.assign(cursor.etag);
    return true;
}

Millis Poller::failure_delay(Event event, const Response* response) {
    // With other URLs still untried in this run of failures, move on after the backoff's
    // floor: the next instance owes nothing to this one's Retry-After or slow path. Once every
    // URL has failed in a row, back off as with one URL, counting rounds from there.
    size_t others = config_.urls.size() - 1;
    if (failures_ <= others) return backoff_.floor();
    uint32_t rounds = failures_ - static_cast<uint32_t>(others);
    if (event == Event::HttpFailure && response) {
        int status = response->status;
        if (status == 429 || status == 503) {
            bool found = false;
            std::string_view value = find_header(response->headers, "retry-after", &found);
            if (found) {
                std::optional<Millis> wait = parse_retry_after(value, find_header(response->headers, "date"));
                // "Retry-After: 0" on every answer must not become a hot loop: never less than
                // the backoff's smallest floor (retry_delay / 10).
                if (wait) return std::min(std::max(*wait, backoff_.floor()), kMaxRetryAfter);
            }
        }
        if (cannot_heal(status)) return backoff_.slow_delay();
    }
    return backoff_.delay(rounds);
}

void Poller::report_oversize(Millis now, const Response& response, uint64_t bytes) {
    Report report;
    report.status = response.status;
    report.text_status = TextStatus::Error;
    report.error_thrown = "Response Too Large";
    report.has_response = true;
    report.has_body = false;
    std::string what = config_.method + " " + url() + ": the response (" + std::to_string(bytes) +
                       "+ bytes) exceeds maxResponseBytes (" + std::to_string(config_.max_response_bytes) + ")";
    if (state_ == State::Open) {
        report.retry_in = 0;
        report.detail = what + "; that message is skipped and polling goes on";
    } else {
        report.retry_in = backoff_.delay(failures_);
        report.detail =
            what + " and carries no message id to skip it by; retrying in " + std::to_string(report.retry_in) + " ms";
        begin_wait(now, report.retry_in);
    }
    actions_.push_back(std::move(report));
}

void Poller::report_failure(Millis now, Event event, const Response* response) {
    Report report;
    report.retry_in = failure_delay(event, response);
    report.text_status = TextStatus::Error;
    std::string what;
    if (event == Event::NetworkFailure || !response) {
        report.status = 0;
        what = "failed without an HTTP response (refused, reset or blocked)";
    } else {
        report.status = response->status;
        report.error_thrown.assign(response->status_text);
        report.has_response = true;
        report.has_body = true;
        what = "failed with HTTP " + std::to_string(response->status);
        if (!response->status_text.empty()) what += " " + std::string(response->status_text);
    }
    std::string failed_url = url();
    std::string next;
    if (config_.urls.size() > 1) {
        url_index_ = (url_index_ + 1) % config_.urls.size();
        next = " at " + url();
    }
    report.detail = config_.method + " " + failed_url + " " + what + "; retrying in " +
                    std::to_string(report.retry_in) + " ms" + next + " (failure " + std::to_string(failures_) +
                    " in a row)";
    begin_wait(now, report.retry_in);
    actions_.push_back(std::move(report));
}

}  // namespace comet
