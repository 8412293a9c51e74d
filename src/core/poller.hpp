// The long-poll state machine, without I/O and without a clock.
//
// Theory of operation. A Poller owns one subscription: a URL, a cursor (the server's
// Last-Modified + Etag of the last message that arrived whole) and a retry timer. The caller
// feeds it inputs -- start, a response, a network failure, the time -- each with the current
// time in milliseconds, and then drains the actions it produced: start a request, abort a
// request, deliver messages, report an error, state changed. Between inputs the caller asks
// next_deadline() and calls on_timer(now) once that time has come; the Poller never reads a
// clock, so tests jump hours ahead in a microsecond.
//
// A response counts -- its messages delivered, its id taken as the cursor -- only when it
// verifiably arrived whole, with a whole message id (integrity.hpp): browsers hand a page
// "200"s whose header block was cut short. Anything else is Incomplete, a connection cut short:
// reported, nothing delivered, the cursor kept, backed off like a network failure.
//
// A connection may name several URLs: instances of one server that share their message store
// (Nchan on Redis), so a message id from one is valid on the others. A failure moves to the
// next URL, and the cursor goes along. It may also start from a cursor: a reload's saved one,
// or the one another tab had reached.
//
// Every transition lives in the table in poller.cpp (state x event -> next state, effect).
// An input that the table does not allow in the current state is refused: it returns false,
// changes nothing and produces no action. Responses and failures carry the id of the request
// they answer; one for any request but the current one is refused the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "backoff.hpp"
#include "body.hpp"
#include "integrity.hpp"

namespace comet {

struct Header {
    std::string name;
    std::string value;
};

struct PollerConfig {
    // The URLs to poll, in order of preference; at least one. After a failure the next one is
    // tried (round robin); a success stays where it is.
    std::vector<std::string> urls;
    std::string method = "GET";
    Millis timeout = 60000;  // a request still open after this long is aborted and re-sent; 0 = never
    // A long poll that the server holds this long without failing counts as accepted: the
    // state goes from Connecting to Open (Held) without waiting for a message, which on a quiet
    // channel may take minutes. Refusals, resets and error statuses come back well within it.
    // 0 = only a response opens.
    Millis open_after = 1000;
    // A failure without any response (status 0) is held this long before it counts: a browser
    // that leaves the page cancels its requests first (WebKit does so 5 to 20 ms before
    // pagehide), and such a failure is the page going, not the server. Suspended, offline or
    // closed within the hold, it is dropped unreported; otherwise it is reported and retried
    // as ever, at the same time: the hold is part of the retry delay, at most half of it, so
    // the report still says when the retry comes (never "at once"). 0 = count it at once.
    Millis failure_grace = 250;
    Millis retry_delay = 1000;                // the first backoff step after a failure
    Millis max_retry_delay = 30000;           // the backoff's cap, and the slow path's delay
    uint64_t max_response_bytes = 16u << 20;  // a larger response is reported and skipped
    uint64_t random_seed = 1;                 // for the backoff's jitter
    Extraction extraction;
    // When set, a request without a cursor gets "_=<cache_buster>-<request id>" appended to
    // its query, so the browser's HTTP cache can neither answer it nor hold it behind another
    // identical poll (Chromium's cache lock). Requests with a cursor carry If-None-Match,
    // which already keeps them out of the cache.
    std::string cache_buster;
    Cursor cursor;  // where to start; one that is not well_formed() is ignored
    // Request headers. `headers` go with every request. With ask_headers, every request first
    // asks the caller for more (AskHeaders, answered by on_headers or on_headers_failed). With
    // refresh_headers too (the answer comes from a page's function that can fetch a new
    // token), a 401 or 403 makes the next ask say `refresh` and go at once, once per run of
    // failures; a second one in the run, or any without refresh_headers, takes the slow path
    // like every failure that retrying soon cannot heal.
    std::vector<Header> headers;
    bool ask_headers = false;
    bool refresh_headers = false;
    bool with_credentials = false;  // cookies and HTTP auth on cross-origin requests
    // The cursor as Nchan's "last_event_id=<seconds>:<tag>" query parameter instead of
    // If-None-Match and If-Modified-Since (with a cache buster on every request): a
    // cross-origin GET without custom headers then needs no CORS preflight.
    bool cursor_in_query = false;
    // The page's origin ("http://host:port"), so that a failure without a response from a URL
    // on another origin can say that the server may not allow this one. Empty: not said.
    std::string page_origin;
};

enum class State : uint8_t {
    Idle,        // created, not started
    Connecting,  // a request is in flight; the server has not yet been seen to accept one since
                 // start or the last failure
    Open,        // a request is in flight, and since start or the last failure the server has
                 // answered one (a message, 204, 408) or held one for open_after without failing
    Waiting,     // a failure happened; the retry timer runs
    Offline,     // the browser said it is offline: no request, no timer, until it is back
    Suspended,   // the page was hidden into the back/forward cache: no request until it returns
    Closed,      // close() was called; terminal
};
const char* name_of(State state);

enum class Event : uint8_t {
    Start,
    Success,           // 2xx that verifiably arrived whole, delivered
    Incomplete,        // 2xx that did not verifiably arrive whole, or a status line cut short
    Repoll,            // 408 (server-side long-poll timeout) or 204: ask again at once
    Held,              // the request has been out for open_after without an answer: accepted
    NotModified,       // 304 from an interval-poll location: ask again after retry_delay
    HttpFailure,       // any other status
    NetworkFailure,    // status 0: refused, reset, DNS, CORS; held for failure_grace
    FailureDue,        // ... and the hold is over: it counts
    TooLarge,          // the response grew past max_response_bytes; its cursor is known
    TooLargeNoCursor,  // ... and it carries no cursor to step past it by
    Unauthorized,      // 401 or 403 with ask_headers, the first in a run of failures
    HeadersReady,      // the caller answered AskHeaders
    HeadersFailed,     // ... or could not
    Deadline,          // the request outlived `timeout`
    RetryDue,          // the retry timer expired
    GoOffline,
    GoOnline,
    Suspend,
    Resume,
    Close,
};
const char* name_of(Event event);

// textStatus values follow jQuery's, as the original's onError received them.
enum class TextStatus : uint8_t { Error, ParserError };
const char* name_of(TextStatus status);

// What the Poller decided. One struct for every kind rather than a std::variant (as the Tab's
// actions): in the wasm a variant's machinery costs about 2 KB. Each kind uses the fields its
// line names; the others keep their defaults.
struct Action {
    enum Kind : uint8_t {
        StartRequest,  // request_id, method, url, headers, with_credentials
        AskHeaders,    // request_id, url, refresh: the headers for this request, please
        AbortRequest,  // request_id
        // messages found in the response being handled (their spans point into the body passed
        // to on_response, which the caller keeps alive while it carries the action out), and
        // the cursor they moved from `previous` to `cursor` (equal for a server without ids).
        // No messages: the cursor moved alone (an oversized message was skipped, or a response
        // carried an id and nothing to deliver); then there may be no body either.
        Deliver,
        Report,        // status ... has_body: an error, for onError and comet.error
        StateChanged,  // from, to
        UrlChanged,    // index: a failure moved the poll to another of config().urls
    };
    // Why a Report was made, beyond its status.
    enum Cause : uint8_t {
        Response,    // a response or its absence
        Refreshing,  // a 401/403: asking for fresh headers and retrying at once
        HeadersFn,   // the caller could not supply the headers (error_thrown says why)
    };
    Kind kind = AbortRequest;
    uint64_t request_id = 0;
    std::string method;
    std::string url;
    std::vector<Header> headers;
    bool with_credentials = false;
    bool refresh = false;
    Cause cause = Response;
    std::vector<Message> messages;
    Cursor previous;
    Cursor cursor;
    int status = 0;  // HTTP status, 0 for a network failure
    TextStatus text_status = TextStatus::Error;
    std::string error_thrown;   // jQuery's errorThrown: the status text, or the parse error
    std::string detail;         // one readable sentence: what happened and what happens next
    Millis retry_in = 0;        // delay before the next request (0: at once)
    bool has_response = false;  // the response's status and headers describe this report
    bool has_body = false;      // ... and its body too (not for an oversized one)
    State from = State::Idle;
    State to = State::Idle;
    size_t index = 0;
};
const char* name_of(Action::Kind kind);

struct Response {
    int status = 0;
    std::string_view status_text;
    std::string_view headers;  // "name: value" lines
    std::string_view body;
};

class Poller {
  public:
    explicit Poller(PollerConfig config);

    bool start(Millis now);
    bool on_response(Millis now, uint64_t request_id, const Response& response);
    bool on_network_failure(Millis now, uint64_t request_id);
    // Bytes of the response body received so far and the size announced for it (0: not
    // known), with the headers; a response past max_response_bytes is abandoned here, before
    // it is all in memory.
    bool on_progress(Millis now, uint64_t request_id, const Response& headers_only, uint64_t received,
                     uint64_t announced);
    // The answer to AskHeaders for request `request_id`: its headers, or why there are none.
    bool on_headers(Millis now, uint64_t request_id, std::vector<Header> headers);
    // `error` completes "GET <url> was not sent: ..." ("the headers function threw Error: x").
    bool on_headers_failed(Millis now, uint64_t request_id, std::string error);
    bool on_timer(Millis now);
    bool go_offline(Millis now);
    bool go_online(Millis now);
    bool suspend(Millis now);
    bool resume(Millis now);
    // Drops every action still queued, then stops.
    bool close();

    State state() const { return state_; }
    std::optional<Millis> next_deadline() const;
    // The request in flight (or waiting for its headers), or 0.
    uint64_t current_request() const { return in_flight_ ? request_id_ : 0; }
    bool awaiting_headers() const { return in_flight_ && awaiting_headers_; }

    // The actions decided so far, oldest first. An adapter takes them one at a time with
    // take_action(): carrying one out may feed the Poller a new input (a handler that closes
    // the connection), and what that input does to the queue holds for the rest.
    std::vector<Action>& actions() { return actions_; }
    std::optional<Action> take_action();
    void clear_actions() { actions_.clear(); }

    // The cursor, as last seen; the configured one until a response carries one.
    const Cursor& cursor() const { return cursor_; }
    const std::string& last_modified() const { return cursor_.last_modified; }
    const std::string& etag() const { return cursor_.etag; }
    // The URL polled now, and its place in config().urls.
    const std::string& url() const { return config_.urls[url_index_]; }
    size_t url_index() const { return url_index_; }
    const PollerConfig& config() const { return config_; }
    // The settings, handed back to whoever starts the next poll with them: only for a closed
    // poller, which is then only destroyed. (Its cursor is gone: the poller took it at start.)
    PollerConfig release_config();
    // Failures since the last success.
    uint32_t failures() const { return failures_; }

  private:
    bool apply(Millis now, Event event, const Response* response);
    bool too_large(uint64_t received, uint64_t announced) const;
    void send_request(Millis now);
    void start_request(Millis now, std::vector<Header> asked);
    bool holding() const;  // Connecting, with a request sent that may yet count as Held
    bool sent(uint64_t request_id) const { return in_flight_ && !awaiting_headers_ && request_id == request_id_; }
    void abort_request();
    void begin_wait(Millis now, Millis delay);
    void deliver(Millis now, const Response& response);
    void skip(Millis now, const Response& response);
    Action& emit(Action::Kind kind);
    Action& report(int status, std::string error_thrown, bool has_response, bool has_body);
    void fail(Millis now, int status, std::string error_thrown, bool described, std::string_view what,
              const Response* delay_from);
    // fail()'s second half: the failure is counted and its delay chosen.
    void report_failure(Millis now, int status, std::string error_thrown, bool described, std::string_view what,
                        Millis retry_in);
    void drop_held_failure();
    void fail_oversize(Millis now, const Response& response);
    void fail_headers(Millis now);
    std::string oversize_sentence() const;
    Event verify(const Response& response);
    void take_cursor();
    Millis failure_delay(const Response* response);

    PollerConfig config_;
    State state_ = State::Idle;
    bool in_flight_ = false;
    bool awaiting_headers_ = false;  // in flight, but not sent: AskHeaders is unanswered
    bool refreshed_ = false;         // this run of failures already asked for fresh headers
    bool refresh_next_ = false;      // the next AskHeaders says refresh
    std::vector<Header> asked_;      // the answer being sent (HeadersReady)
    std::string headers_error_;      // why there is none (HeadersFailed)
    uint64_t request_id_ = 0;
    Millis request_deadline_ = 0;
    Millis held_at_ = 0;  // when the request sent while Connecting counts as accepted
    Millis retry_at_ = 0;
    // A network failure being held (NetworkFailure): until when, and when its retry is due.
    bool failure_held_ = false;
    Millis held_until_ = 0;
    Millis held_retry_at_ = 0;
    Cursor cursor_;
    size_t url_index_ = 0;
    uint32_t failures_ = 0;
    uint64_t oversize_bytes_ = 0;
    std::string incomplete_;  // why the response being handled does not count (Incomplete)
    // The id the response being handled carries, as verify() or on_progress() read it.
    CursorCheck carried_ = CursorCheck::Absent;
    Cursor carried_id_;
    Backoff backoff_;
    DecodedBody decoded_;
    std::vector<Action> actions_;
};

}  // namespace comet
