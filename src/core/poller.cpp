#include "poller.hpp"

#include <algorithm>
#include <iterator>

#include "http_text.hpp"
#include "transitions.hpp"

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
        case Event::Incomplete: return "incomplete";
        case Event::Repoll: return "repoll";
        case Event::Held: return "held";
        case Event::NotModified: return "not-modified";
        case Event::HttpFailure: return "http-failure";
        case Event::NetworkFailure: return "network-failure";
        case Event::FailureDue: return "failure-due";
        case Event::TooLarge: return "too-large";
        case Event::TooLargeNoCursor: return "too-large-no-cursor";
        case Event::Unauthorized: return "unauthorized";
        case Event::HeadersReady: return "headers-ready";
        case Event::HeadersFailed: return "headers-failed";
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

const char* name_of(Action::Kind kind) {
    switch (kind) {
        case Action::StartRequest: return "StartRequest";
        case Action::AskHeaders: return "AskHeaders";
        case Action::AbortRequest: return "AbortRequest";
        case Action::Deliver: return "Deliver";
        case Action::Report: return "Report";
        case Action::StateChanged: return "StateChanged";
        case Action::UrlChanged: return "UrlChanged";
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

// What a transition does. Each is one fixed recipe: none looks at the event that chose it.
enum class Effect : uint8_t {
    Nothing,
    Send,             // start the next request (or ask for its headers first)
    SendAsked,        // the headers asked for are here: send the request
    RefreshThenSend,  // 401/403: report, ask for fresh headers, send at once
    ForgiveThenSend,  // the server answered (408, 204) or the network is new: failures start over; ask again
    DeliverThenSend,  // take the cursor, deliver, start the next request, report bad parts
    SkipThenSend,     // too large, but its id is known: abandon it, step past it, report it, ask again
    AbortThenSend,    // the request outlived its timeout: not an error, ask again
    FailHttp,         // report the status, move on to the next URL, start the retry timer
    HoldFailure,      // a failure without an HTTP response: count it, choose its delay, hold the report
    FailNetwork,      // the held one stands: report it, move on to the next URL, wait out the rest
    FailIncomplete,   // the same for a response that did not verifiably arrive whole
    FailOversize,     // too large and no id to step past it by: abandon it, report, back off
    FailHeaders,      // the caller could not supply the headers: report, back off
    WaitQuietly,      // 304: nothing new, ask again after retry_delay
    Pause,            // offline or suspended: abort what is in flight, no timer
    Stop,             // abort what is in flight, cancel the timer
};

using Row = Transition<State, Event, Effect>;

// Everything that moves the state lives here. Anything absent is refused.
constexpr Row kTransitions[] = {
    {State::Idle, Event::Start, State::Connecting, Effect::Send},

    {State::Connecting, Event::Success, State::Open, Effect::DeliverThenSend},
    {State::Open, Event::Success, State::Open, Effect::DeliverThenSend},
    {State::Connecting, Event::Held, State::Open, Effect::Nothing},
    {State::Connecting, Event::Repoll, State::Open, Effect::ForgiveThenSend},
    {State::Open, Event::Repoll, State::Open, Effect::ForgiveThenSend},
    {State::Connecting, Event::Deadline, State::Open, Effect::AbortThenSend},  // held all along
    {State::Open, Event::Deadline, State::Open, Effect::AbortThenSend},
    {State::Connecting, Event::NotModified, State::Waiting, Effect::WaitQuietly},
    {State::Open, Event::NotModified, State::Waiting, Effect::WaitQuietly},
    {State::Connecting, Event::HttpFailure, State::Waiting, Effect::FailHttp},
    {State::Open, Event::HttpFailure, State::Waiting, Effect::FailHttp},
    // Held first (failure_grace): a page that is leaving suspends or closes meanwhile.
    {State::Connecting, Event::NetworkFailure, State::Connecting, Effect::HoldFailure},
    {State::Open, Event::NetworkFailure, State::Open, Effect::HoldFailure},
    {State::Connecting, Event::FailureDue, State::Waiting, Effect::FailNetwork},
    {State::Open, Event::FailureDue, State::Waiting, Effect::FailNetwork},
    {State::Connecting, Event::Incomplete, State::Waiting, Effect::FailIncomplete},
    {State::Open, Event::Incomplete, State::Waiting, Effect::FailIncomplete},
    {State::Connecting, Event::TooLarge, State::Open, Effect::SkipThenSend},
    {State::Open, Event::TooLarge, State::Open, Effect::SkipThenSend},
    {State::Connecting, Event::TooLargeNoCursor, State::Waiting, Effect::FailOversize},
    {State::Open, Event::TooLargeNoCursor, State::Waiting, Effect::FailOversize},
    {State::Connecting, Event::Unauthorized, State::Connecting, Effect::RefreshThenSend},
    {State::Open, Event::Unauthorized, State::Connecting, Effect::RefreshThenSend},
    {State::Connecting, Event::HeadersReady, State::Connecting, Effect::SendAsked},
    {State::Open, Event::HeadersReady, State::Open, Effect::SendAsked},
    {State::Connecting, Event::HeadersFailed, State::Waiting, Effect::FailHeaders},
    {State::Open, Event::HeadersFailed, State::Waiting, Effect::FailHeaders},

    {State::Waiting, Event::RetryDue, State::Connecting, Effect::Send},

    // The browser's offline/online events: stop trying while offline, try at once when back.
    {State::Connecting, Event::GoOffline, State::Offline, Effect::Pause},
    {State::Open, Event::GoOffline, State::Offline, Effect::Pause},
    {State::Waiting, Event::GoOffline, State::Offline, Effect::Pause},
    {State::Offline, Event::GoOnline, State::Connecting, Effect::ForgiveThenSend},
    {State::Waiting, Event::GoOnline, State::Connecting, Effect::ForgiveThenSend},

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

Event classify(int status) {
    if (status == 0) return Event::NetworkFailure;
    if (status < 100 || status > 599) return Event::Incomplete;  // a status line cut short: "2", "20"
    if (status == 204 || status == 408) return Event::Repoll;
    if (status == 304) return Event::NotModified;
    if (status >= 200 && status < 300) return Event::Success;
    return Event::HttpFailure;
}

bool refused_credentials(int status) { return status == 401 || status == 403; }

// Statuses that asking again soon cannot change: slow path, never a hot loop. (A 401 or 403
// first asks for fresh headers, when it can: see PollerConfig.) Not 410 or 503: Nchan answers
// every waiting poll with 410 while nginx reloads or stops, and 503 until its Redis is up;
// both heal within seconds.
bool cannot_heal(int status) { return status == 400 || refused_credentials(status) || status == 404; }

// "scheme://host:port" of an absolute URL, as the shim makes them.
std::string_view origin_of(std::string_view url) {
    size_t scheme = url.find("://");
    if (scheme == std::string_view::npos) return {};
    size_t end = url.find_first_of("/?#", scheme + 3);
    return url.substr(0, end);
}

// Percent-encodes all but RFC 3986's unreserved characters and the ",[]" of Nchan's compound
// tags ("0,[1],-"), which browsers send in a query as they are: Nchan reads at most 128 bytes of
// the value as it stands in the URL (kNchanIdBytes), and each encoded one would cost 3.
void append_encoded(std::string& out, std::string_view text) {
    static const char kHex[] = "0123456789ABCDEF";
    for (unsigned char c : text) {
        char piece[3] = {static_cast<char>(c), kHex[c >> 4], kHex[c & 15]};
        bool plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
                     c == '.' || c == '_' || c == '~' || c == ',' || c == '[' || c == ']';
        if (!plain) piece[0] = '%';
        out.append(piece, plain ? 1 : 3);
    }
}

constexpr Millis kMaxRetryAfter = 3600 * 1000;

// Nchan drops a last_event_id longer than this, without a word, and starts the poll from its
// oldest buffered message (nchan_subscriber_get_msg_id reads it into 128 bytes): about 58
// multiplexed channels' tags. A longer cursor goes in the headers.
constexpr size_t kNchanIdBytes = 128;

}  // namespace

Poller::Poller(PollerConfig config)
    : config_(std::move(config)), backoff_(config_.retry_delay, config_.max_retry_delay, config_.random_seed) {
    if (config_.urls.empty()) config_.urls = std::vector<std::string>(1);
    // A saved or relayed id that is not whole would send the server somewhere else in the
    // stream: better to start as a new subscriber.
    if (well_formed(config_.cursor)) cursor_ = std::move(config_.cursor);
    config_.cursor = Cursor();  // read once, here: no second copy kept per connection
}

PollerConfig Poller::release_config() { return std::move(config_); }

bool Poller::holding() const {
    return state_ == State::Connecting && in_flight_ && !awaiting_headers_ && config_.open_after > 0;
}

std::optional<Millis> Poller::next_deadline() const {
    if (state_ == State::Waiting) return retry_at_;
    if (failure_held_) return held_until_;
    std::optional<Millis> next;
    if (in_flight_ && config_.timeout > 0) next = request_deadline_;
    if (holding() && (!next || held_at_ < *next)) next = held_at_;
    return next;
}

bool Poller::start(Millis now) { return apply(now, Event::Start, nullptr); }

bool Poller::close() {
    actions_.clear();
    return apply(0, Event::Close, nullptr);
}

std::optional<Action> Poller::take_action() {
    if (actions_.empty()) return std::nullopt;
    std::optional<Action> next(std::move(actions_.front()));
    actions_.erase(actions_.begin());
    if (actions_.empty()) std::vector<Action>().swap(actions_);
    return next;
}

bool Poller::on_response(Millis now, uint64_t request_id, const Response& response) {
    if (!sent(request_id)) return false;
    carried_ = CursorCheck::Absent;
    Event event = classify(response.status);
    if (event == Event::HttpFailure && refused_credentials(response.status) && config_.ask_headers &&
        config_.refresh_headers && !refreshed_)
        event = Event::Unauthorized;
    if (event == Event::Incomplete) {
        incomplete_ = concat({"has a status line cut short (status ", decimal(response.status), ")"});
    } else if (event == Event::Success) {
        event = verify(response);
    }
    if (event == Event::Success && response.body.size() > config_.max_response_bytes) {
        oversize_bytes_ = response.body.size();
        event = carried_ == CursorCheck::Valid ? Event::TooLarge : Event::TooLargeNoCursor;
        // It arrived whole, so there is nothing left to abort. (Both events are accepted in
        // every state that has a request in flight, so this cannot leak into a refusal.)
        in_flight_ = false;
    }
    return apply(now, event, &response);
}

// A 2xx counts only when it verifiably arrived whole with a whole message id (integrity.hpp);
// anything else is a connection cut short: Incomplete, with the reason kept for the report.
// The id it carries is read into carried_id_ on the way, for take_cursor().
Event Poller::verify(const Response& response) {
    FramingCheck framing = check_framing(response.headers, response.body.size());
    if (framing.framing != Framing::Whole) {
        Decimal arrived = decimal(response.body.size());
        incomplete_ =
            framing.framing == Framing::LengthMismatch
                ? concat(
                      {"was cut short (Content-Length ", decimal(framing.declared), ", ", arrived, " bytes arrived)"})
                : concat({"cannot be shown to have arrived whole (", arrived,
                          " bytes arrived; it needs a Content-Length, or chunked framing with a body: a "
                          "cross-origin server must list Transfer-Encoding in Access-Control-Expose-Headers)"});
        return Event::Incomplete;
    }
    CursorCheck cursor = carried_ = read_cursor(response.headers, carried_id_);
    if (cursor == CursorCheck::Broken) {
        incomplete_ = concat({"carries a message id that is not whole (Last-Modified \"",
                              find_header(response.headers, "last-modified"), "\", Etag \"",
                              find_header(response.headers, "etag"), "\")"});
        return Event::Incomplete;
    }
    // A server that has sent ids sends one with every message. Without one and without a body
    // byte to show that the header block ended, it was cut short after "Content-Length: 0".
    if (cursor == CursorCheck::Absent && !cursor_.empty() && response.body.empty()) {
        incomplete_ = "carries no message id (Last-Modified and Etag), unlike the ones before it";
        return Event::Incomplete;
    }
    return Event::Success;
}

bool Poller::too_large(uint64_t received, uint64_t announced) const {
    return std::max(received, announced) > config_.max_response_bytes;
}

bool Poller::on_progress(Millis now, uint64_t request_id, const Response& headers_only, uint64_t received,
                         uint64_t announced) {
    if (!sent(request_id)) return false;
    if (!too_large(received, announced)) return false;
    Event event = classify(headers_only.status);
    // Until a body byte has arrived, the header block may yet turn out to be cut short, its
    // message id with it: wait for one, or for the end of the response.
    if (event == Event::Success && received == 0) return false;
    oversize_bytes_ = std::max(received, announced);
    // Only a 2xx carries a message to step past: an oversized error page's Etag is no message
    // id, and skipping it would reset the backoff and re-ask at once, in a loop.
    carried_ = event == Event::Success ? read_cursor(headers_only.headers, carried_id_) : CursorCheck::Absent;
    return apply(now, carried_ == CursorCheck::Valid ? Event::TooLarge : Event::TooLargeNoCursor, &headers_only);
}

bool Poller::go_offline(Millis now) { return apply(now, Event::GoOffline, nullptr); }
bool Poller::go_online(Millis now) { return apply(now, Event::GoOnline, nullptr); }
bool Poller::suspend(Millis now) { return apply(now, Event::Suspend, nullptr); }
bool Poller::resume(Millis now) { return apply(now, Event::Resume, nullptr); }

bool Poller::on_network_failure(Millis now, uint64_t request_id) {
    if (!sent(request_id)) return false;
    return apply(now, Event::NetworkFailure, nullptr);
}

bool Poller::on_headers(Millis now, uint64_t request_id, std::vector<Header> headers) {
    if (!awaiting_headers() || request_id != request_id_) return false;
    asked_ = std::move(headers);
    return apply(now, Event::HeadersReady, nullptr);
}

bool Poller::on_headers_failed(Millis now, uint64_t request_id, std::string error) {
    if (!awaiting_headers() || request_id != request_id_) return false;
    headers_error_ = std::move(error);
    return apply(now, Event::HeadersFailed, nullptr);
}

bool Poller::on_timer(Millis now) {
    if (state_ == State::Waiting && now >= retry_at_) return apply(now, Event::RetryDue, nullptr);
    if (failure_held_ && now >= held_until_) return apply(now, Event::FailureDue, nullptr);
    if (in_flight_ && config_.timeout > 0 && now >= request_deadline_) {
        // Headers that never come fail like a function that threw: reported, backed off.
        if (awaiting_headers_) {
            headers_error_ =
                concat({"its headers did not arrive within the timeout (", decimal(config_.timeout), " ms)"});
            return apply(now, Event::HeadersFailed, nullptr);
        }
        return apply(now, Event::Deadline, nullptr);
    }
    if (holding() && now >= held_at_) return apply(now, Event::Held, nullptr);
    return false;
}

bool Poller::apply(Millis now, Event event, const Response* response) {
    const Row* t = find_transition(kTransitions, state_, event);
    if (!t) return false;
    State from = state_;
    state_ = t->to;
    if (from != state_) {
        Action& change = emit(Action::StateChanged);
        change.from = from;
        change.to = state_;
    }
    switch (t->effect) {
        case Effect::Nothing: break;
        case Effect::Send: send_request(now); break;
        case Effect::SendAsked: start_request(now, std::move(asked_)); break;
        case Effect::RefreshThenSend: {
            in_flight_ = false;
            refreshed_ = refresh_next_ = true;
            Action& refreshing = report(response->status, std::string(response->status_text), true, true);
            refreshing.cause = Action::Refreshing;
            refreshing.detail = concat({config_.method, " ", url(), " failed with HTTP ", decimal(response->status),
                                        response->status_text.empty() ? "" : " ", response->status_text,
                                        "; asking for fresh headers and retrying at once"});
            send_request(now);
            break;
        }
        case Effect::ForgiveThenSend:
            failures_ = 0;
            refreshed_ = false;
            send_request(now);
            break;
        case Effect::DeliverThenSend:
            in_flight_ = false;
            failures_ = 0;
            refreshed_ = false;
            deliver(now, *response);
            break;
        case Effect::SkipThenSend: skip(now, *response); break;
        case Effect::AbortThenSend:
            abort_request();
            send_request(now);
            break;
        case Effect::FailHttp:
            fail(now, response->status, std::string(response->status_text), true,
                 concat({"failed with HTTP ", decimal(response->status), response->status_text.empty() ? "" : " ",
                         response->status_text,
                         refreshed_ && refused_credentials(response->status) ? " again, with fresh headers" : ""}),
                 response);
            break;
        case Effect::HoldFailure:
            in_flight_ = false;
            ++failures_;
            failure_held_ = true;
            held_retry_at_ = now + failure_delay(nullptr);
            held_until_ = now + std::min(config_.failure_grace, (held_retry_at_ - now) / 2);
            if (now >= held_until_) apply(now, Event::FailureDue, nullptr);
            break;
        case Effect::FailNetwork: {
            failure_held_ = false;
            std::string_view origin = origin_of(url());
            bool foreign = !config_.page_origin.empty() && !origin.empty() && !iequals(origin, config_.page_origin);
            report_failure(
                now, 0, "", false,
                foreign ? concat({"failed without an HTTP response (refused, reset or blocked; or the server, on "
                                  "another origin, does not allow this page's origin ",
                                  config_.page_origin,
                                  config_.with_credentials
                                      ? " with credentials: Access-Control-Allow-Origin must name it and "
                                        "Access-Control-Allow-Credentials be true)"
                                      : ": Access-Control-Allow-Origin)"})
                        : std::string("failed without an HTTP response (refused, reset or blocked)"),
                // The rest of the delay; a hold that ended late (a busy page's timer) does not
                // eat into it: at least what the hold left, so it is never "at once".
                std::max(held_retry_at_ - now, held_retry_at_ - held_until_));
            break;
        }
        case Effect::FailHeaders: fail_headers(now); break;
        case Effect::FailIncomplete:
            // To the page, a response cut short is what it is: a failed connection (status 0).
            fail(now, 0, "Incomplete Response", false,
                 concat({"failed: the response ", incomplete_, "; it is not delivered and the cursor stays"}), nullptr);
            break;
        case Effect::FailOversize: fail_oversize(now, *response); break;
        case Effect::WaitQuietly:
            in_flight_ = false;
            begin_wait(now, config_.retry_delay);
            break;
        case Effect::Pause:
        case Effect::Stop:
            if (in_flight_) abort_request();
            drop_held_failure();
            break;
    }
    return true;
}

void Poller::send_request(Millis now) {
    in_flight_ = true;
    ++request_id_;
    request_deadline_ = now + config_.timeout;
    if (!config_.ask_headers) {
        start_request(now, {});
        return;
    }
    awaiting_headers_ = true;
    Action& ask = emit(Action::AskHeaders);
    ask.request_id = request_id_;
    ask.url = url();
    ask.refresh = refresh_next_;
    refresh_next_ = false;
}

void Poller::start_request(Millis now, std::vector<Header> asked) {
    awaiting_headers_ = false;
    held_at_ = now + config_.open_after;
    Action& request = emit(Action::StartRequest);
    request.request_id = request_id_;
    request.method = config_.method;
    request.with_credentials = config_.with_credentials;
    std::string& target = request.url = url();
    auto parameter = [&target](std::string_view name) {
        target += target.find('?') == std::string::npos ? "?" : "&";
        target += name;
        target += "=";
    };
    // The cursor is whole or empty (read_cursor, the constructor): both parts or neither.
    bool in_query = false;
    if (config_.cursor_in_query && !cursor_.empty()) {
        std::string id(decimal(parse_http_date(cursor_.last_modified).value_or(0)));
        id += ":";
        append_encoded(id, cursor_.etag);
        in_query = id.size() <= kNchanIdBytes;
        if (in_query) {
            parameter("last_event_id");
            target += id;
        }
    }
    if ((cursor_.empty() || config_.cursor_in_query) && !config_.cache_buster.empty()) {
        parameter("_");
        target += config_.cache_buster;
        target += "-";
        target += decimal(request_id_);
    }
    // The configured headers, then the ones asked for, then the cursor's: a later one with
    // the same name replaces an earlier one, and the request carries each name where its
    // last one stands. (A few headers: comparing each with the ones after it is cheapest, in
    // code too.)
    std::vector<Header> all = config_.headers;
    for (Header& header : asked) all.push_back(std::move(header));
    if (!in_query && !cursor_.empty()) {
        all.push_back(Header{"If-None-Match", cursor_.etag});
        all.push_back(Header{"If-Modified-Since", cursor_.last_modified});
    }
    for (size_t i = 0; i < all.size(); ++i) {
        bool replaced = false;
        for (size_t later = i + 1; later < all.size(); ++later)
            replaced = replaced || iequals(all[i].name, all[later].name);
        if (!replaced) request.headers.push_back(std::move(all[i]));
    }
}

void Poller::abort_request() {
    bool started = !awaiting_headers_;
    in_flight_ = awaiting_headers_ = false;
    // A request still waiting for its headers was never started: nothing to abort.
    if (started) emit(Action::AbortRequest).request_id = request_id_;
}

void Poller::begin_wait(Millis now, Millis delay) { retry_at_ = now + delay; }

void Poller::deliver(Millis now, const Response& response) {
    // The response arrived whole, so its id is the new cursor, bad parts included: a message
    // that cannot be parsed is reported once, never fetched again in a loop.
    Cursor previous = cursor_;
    take_cursor();

    decoded_.clear();
    decode_body(find_header(response.headers, "content-type"), response.body, config_.extraction, decoded_);
    // Moved, not copied: the batch owns its vector and nothing stays behind at the high-water mark.
    if (!decoded_.messages.empty() || previous != cursor_) {
        Action& batch = emit(Action::Deliver);
        batch.messages = std::move(decoded_.messages);
        batch.previous = std::move(previous);
        batch.cursor = cursor_;
    }
    // The handlers first, then the next poll: sending a request costs the browser a quarter of
    // a millisecond or more, which every message would otherwise wait for. What is published
    // while the handlers run waits in the server's buffer for the next poll.
    send_request(now);
    for (BodyProblem& problem : decoded_.problems) {
        Action& bad = report(response.status, problem.detail, true, true);
        bad.text_status = TextStatus::ParserError;
        bad.detail =
            concat({config_.method, " ", url(), ": ", problem.detail, "; that message is skipped and polling goes on"});
    }
}

void Poller::take_cursor() {
    // Both headers move together, and only as a whole id; Absent (a server without ids) keeps it.
    // Moved: a Last-Modified is a heap string, and one copy is enough.
    if (carried_ == CursorCheck::Valid) {
        cursor_ = std::move(carried_id_);
        carried_ = CursorCheck::Absent;
    }
}

Millis Poller::failure_delay(const Response* response) {
    // With other URLs still untried in this run of failures, move on after the backoff's
    // floor: the next instance owes nothing to this one's Retry-After or slow path. Once every
    // URL has failed in a row, back off as with one URL, counting rounds from there.
    size_t others = config_.urls.size() - 1;
    if (failures_ <= others) return backoff_.floor();
    uint32_t rounds = failures_ - static_cast<uint32_t>(others);
    if (response) {
        int status = response->status;
        // Retry-After is a rate limit's exact word. A 503's is not heeded: servers send one
        // while they restart, and the normal backoff finds them back sooner.
        if (status == 429) {
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

std::string Poller::oversize_sentence() const {
    return concat({config_.method, " ", url(), ": the response (", decimal(oversize_bytes_),
                   "+ bytes) exceeds maxResponseBytes (", decimal(config_.max_response_bytes), ")"});
}

// Too large, with a whole id: abandoned and stepped past, as a success that delivers nothing.
void Poller::skip(Millis now, const Response& response) {
    if (in_flight_) abort_request();
    failures_ = 0;
    refreshed_ = false;
    Cursor previous = cursor_;
    take_cursor();
    report(response.status, "Response Too Large", true, false).detail =
        concat({oversize_sentence(), "; that message is skipped and polling goes on"});
    if (previous != cursor_) {
        Action& moved = emit(Action::Deliver);
        moved.previous = std::move(previous);
        moved.cursor = cursor_;
    }
    send_request(now);
}

// The caller could not supply the headers: reported, backed off, the URL kept (it is not the
// server's failure).
void Poller::fail_headers(Millis now) {
    in_flight_ = awaiting_headers_ = false;
    ++failures_;
    Millis retry_in = backoff_.delay(failures_);
    Action& failure = report(0, headers_error_, false, false);
    failure.cause = Action::HeadersFn;
    failure.retry_in = retry_in;
    failure.detail = concat({config_.method, " ", url(), " was not sent: ", headers_error_, "; retrying in ",
                             decimal(retry_in), " ms (failure ", decimal(failures_), " in a row)"});
    begin_wait(now, retry_in);
}

// Too large, and no id to step past it by: abandoned, reported, asked again from the same
// cursor after the backoff (at the same URL: another instance has the same message).
void Poller::fail_oversize(Millis now, const Response& response) {
    if (in_flight_) abort_request();
    ++failures_;
    Millis retry_in = backoff_.delay(failures_);
    Action& failure = report(response.status, "Response Too Large", true, false);
    failure.retry_in = retry_in;
    failure.detail = concat(
        {oversize_sentence(), " and carries no message id to skip it by; retrying in ", decimal(retry_in), " ms"});
    begin_wait(now, retry_in);
}

Action& Poller::emit(Action::Kind kind) {
    actions_.emplace_back();
    actions_.back().kind = kind;
    return actions_.back();
}

Action& Poller::report(int status, std::string error_thrown, bool has_response, bool has_body) {
    Action& report = emit(Action::Report);
    report.status = status;
    report.error_thrown = std::move(error_thrown);
    report.has_response = has_response;
    report.has_body = has_body;
    return report;
}

// A failure: counted, reported with the delay before the next try, and the poll moves on to
// the next URL (when there are several) before that try. `what` says what happened;
// `described`: the response's status, headers and body describe it; `delay_from` is the
// response whose Retry-After or status may set the delay.
void Poller::fail(Millis now, int status, std::string error_thrown, bool described, std::string_view what,
                  const Response* delay_from) {
    in_flight_ = false;
    ++failures_;
    report_failure(now, status, std::move(error_thrown), described, what, failure_delay(delay_from));
}

void Poller::report_failure(Millis now, int status, std::string error_thrown, bool described, std::string_view what,
                            Millis retry_in) {
    size_t next = (url_index_ + 1) % config_.urls.size();
    bool moves = next != url_index_;
    Action& failure = report(status, std::move(error_thrown), described, described);
    failure.retry_in = retry_in;
    failure.detail = concat({config_.method, " ", url(), " ", what, "; retrying in ", decimal(retry_in), " ms",
                             moves ? " at " : "", moves ? std::string_view(config_.urls[next]) : std::string_view(),
                             " (failure ", decimal(failures_), " in a row)"});
    begin_wait(now, retry_in);
    if (moves) {
        url_index_ = next;
        emit(Action::UrlChanged).index = next;
    }
}

// The page went (suspended, closed) or the network did (offline) while a failure was held: it
// was theirs, not the server's. It is not counted, and its delay is not waited out.
void Poller::drop_held_failure() {
    if (!failure_held_) return;
    failure_held_ = false;
    --failures_;
}

}  // namespace comet
