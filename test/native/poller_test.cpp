// The long-poll state machine, driven with a fake clock (plain Millis values) and scripted
// responses. Every test asserts both the state and the exact actions that came out.
#include "poller.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <deque>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace comet {
namespace {

constexpr Millis kTimeout = 30000;
constexpr Millis kRetry = 2500;      // the backoff's first ceiling
constexpr Millis kMaxRetry = 30000;  // its cap, and the top of the slow path
const char kUrl[] = "http://127.0.0.1:8080/sub?channel=news";

const char kLastModified[] = "Wed, 01 Jan 2025 00:00:00 GMT";
const char kCursorHeaders[] =
    "Last-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n"
    "Etag: 3\r\n"
    "Content-Type: text/plain\r\n";

PollerConfig config(std::string url = kUrl) {
    PollerConfig c;
    c.urls = {std::move(url)};
    c.timeout = kTimeout;
    c.retry_delay = kRetry;
    c.max_retry_delay = kMaxRetry;
    // The tests of what opens a connection (OpenWhen*, the table) use the product's default;
    // elsewhere a request in flight has one deadline, its timeout.
    c.open_after = 0;
    // A network failure counts at once here; the HeldNetworkFailure tests use the product's hold.
    c.failure_grace = 0;
    return c;
}

Response response(int status, std::string_view status_text, std::string_view headers = "", std::string_view body = "") {
    Response r;
    r.status = status;
    r.status_text = status_text;
    r.headers = headers;
    r.body = body;
    return r;
}

// Keeps the text of scripted responses alive for the whole run: a Response only holds views.
std::string_view keep(std::string text) {
    static std::deque<std::string> kept;
    kept.push_back(std::move(text));
    return kept.back();
}

// A 200 as the browser hands over one that arrived whole: with its body's Content-Length.
Response ok(std::string_view headers, std::string_view body) {
    return response(200, "OK", keep(std::string(headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n"),
                    body);
}

// Progress as the adapter reports it once a response is arriving: `bytes` received, as many
// announced by its Content-Length.
bool progress(Poller& poller, Millis now, uint64_t id, const Response& headers, uint64_t bytes) {
    return poller.on_progress(now, id, headers, bytes, bytes);
}

// ---------------------------------------------------------------------------------------------
// Reading the actions.

std::string describe(const Action& a) {
    switch (a.kind) {
        case Action::StartRequest: {
            std::string out = "StartRequest(#" + std::to_string(a.request_id) + " " + a.method + " " + a.url;
            for (const Header& h : a.headers) out += ", " + h.name + ": " + h.value;
            return out + ")";
        }
        case Action::AskHeaders:
            return "AskHeaders(#" + std::to_string(a.request_id) + (a.refresh ? " refresh" : "") + ")";
        case Action::AbortRequest: return "AbortRequest(#" + std::to_string(a.request_id) + ")";
        case Action::Deliver:
            return "Deliver(" + std::to_string(a.messages.size()) + " messages, " + a.previous.etag + "->" +
                   a.cursor.etag + ")";
        case Action::Report:
            return "Report(" + std::to_string(a.status) + " " + name_of(a.text_status) + ": " + a.detail + ")";
        case Action::StateChanged: return std::string("StateChanged(") + name_of(a.from) + "->" + name_of(a.to) + ")";
        case Action::UrlChanged: return "UrlChanged(" + std::to_string(a.index) + ")";
    }
    return "?";
}

std::string pending(Poller& poller) {
    std::string out;
    for (const Action& action : poller.actions()) out += "\n  " + describe(action);
    return out.empty() ? " (none)" : out;
}

// Removes the oldest action, which must be a `kind`.
Action take(Poller& poller, Action::Kind kind) {
    std::vector<Action>& actions = poller.actions();
    if (actions.empty()) {
        ADD_FAILURE() << "expected " << name_of(kind) << ", but no action is left";
        return Action{};
    }
    Action front = std::move(actions.front());
    actions.erase(actions.begin());
    if (front.kind != kind) {
        ADD_FAILURE() << "expected " << name_of(kind) << ", got " << describe(front);
        return Action{};
    }
    return front;
}

void expect_state_changed(Poller& poller, State from, State to) {
    Action changed = take(poller, Action::StateChanged);
    EXPECT_EQ(name_of(changed.from), std::string(name_of(from)));
    EXPECT_EQ(name_of(changed.to), std::string(name_of(to)));
}

#define EXPECT_NO_ACTIONS(poller) EXPECT_TRUE((poller).actions().empty()) << "left over:" << pending(poller)
#define EXPECT_STATE(poller, expected) EXPECT_EQ(name_of((poller).state()), std::string(name_of(expected)))

// The value of a request header, or "<absent>".
std::string header(const Action& request, std::string_view name) {
    for (const Header& h : request.headers)
        if (h.name == name) return h.value;
    return "<absent>";
}

// Starts the poller at `now`, checks the first request and returns its id.
uint64_t start(Poller& poller, Millis now) {
    EXPECT_TRUE(poller.start(now));
    expect_state_changed(poller, State::Idle, State::Connecting);
    Action request = take(poller, Action::StartRequest);
    EXPECT_NO_ACTIONS(poller);
    return request.request_id;
}

// Answers the request in flight with a 200 carrying the standard cursor; returns the next id.
uint64_t succeed(Poller& poller, Millis now, std::string_view body = "message") {
    bool was_open = poller.state() == State::Open;
    EXPECT_TRUE(poller.on_response(now, poller.current_request(), ok(kCursorHeaders, body)));
    if (!was_open) expect_state_changed(poller, State::Connecting, State::Open);
    take(poller, Action::Deliver);
    Action next = take(poller, Action::StartRequest);
    EXPECT_NO_ACTIONS(poller);
    return next.request_id;
}

// ---------------------------------------------------------------------------------------------
// Retry delays. The expected ranges are written out from the documented rules, not computed
// by the code under test; report.retry_in is the source of truth for when the retry comes.

constexpr size_t npos = std::string::npos;

// The backoff's ceiling after `failures` failures in a row: kRetry doubling, capped at kMaxRetry.
Millis ceiling_after(uint32_t failures) {
    static const Millis kCeilings[] = {kRetry, 5000, 10000, 20000, kMaxRetry};
    if (failures == 0) {
        ADD_FAILURE() << "no failure, no ceiling";
        return 0;
    }
    return failures <= 5 ? kCeilings[failures - 1] : kMaxRetry;
}

::testing::AssertionResult within(Millis value, Millis low, Millis high) {
    if (value >= low && value <= high) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << value << " is outside [" << low << ", " << high << "]";
}

// Full jitter: [max(1, ceiling / 10), ceiling].
::testing::AssertionResult is_backoff_delay(Millis delay, uint32_t failures) {
    Millis high = ceiling_after(failures);
    return within(delay, std::max<Millis>(1, high / 10), high) << " (backoff after " << failures << " failures)";
}

// The slow path for failures that will not heal soon: [max_retry_delay / 2, max_retry_delay].
::testing::AssertionResult is_slow_delay(Millis delay, Millis max_retry_delay = kMaxRetry) {
    return within(delay, max_retry_delay / 2, max_retry_delay) << " (slow path)";
}

// Checks what every failure report shares: Waiting, the timer at exactly now + retry_in, and
// a detail that says so.
Action expect_failure_report(Poller& poller, State from, Millis now) {
    expect_state_changed(poller, from, State::Waiting);
    Action report = take(poller, Action::Report);
    // With several URLs, every failure moves on to the next one, right after its report.
    if (poller.config().urls.size() > 1) {
        EXPECT_EQ(take(poller, Action::UrlChanged).index, poller.url_index());
    }
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Waiting);
    EXPECT_EQ(poller.current_request(), 0u);
    EXPECT_EQ(poller.next_deadline(), now + report.retry_in);
    EXPECT_NE(report.detail.find("retrying in " + std::to_string(report.retry_in) + " ms"), npos) << report.detail;
    return report;
}

// Answers the request in flight with a failure; returns its report.
Action fail(Poller& poller, Millis now, const Response& answer) {
    State from = poller.state();
    EXPECT_TRUE(poller.on_response(now, poller.current_request(), answer));
    return expect_failure_report(poller, from, now);
}

Action fail_network(Poller& poller, Millis now) {
    State from = poller.state();
    EXPECT_TRUE(poller.on_network_failure(now, poller.current_request()));
    return expect_failure_report(poller, from, now);
}

// Waits out the retry timer: nothing a millisecond early, the retry exactly at the deadline.
// Returns the retry.
Action retry_when_due(Poller& poller) {
    std::optional<Millis> due = poller.next_deadline();
    if (!due || poller.state() != State::Waiting) {
        ADD_FAILURE() << "no retry timer in state " << name_of(poller.state());
        return Action{};
    }
    EXPECT_FALSE(poller.on_timer(*due - 1));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Waiting);
    EXPECT_TRUE(poller.on_timer(*due));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    Action request = take(poller, Action::StartRequest);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), request.request_id);
    EXPECT_EQ(poller.next_deadline(), *due + kTimeout);
    return request;
}

// Drives a fresh poller into `state` through public inputs, leaving no actions behind.
// Offline and Suspended are reached from Open, so they hold the standard cursor.
Poller poller_in(State state, PollerConfig c = config()) {
    Poller poller(std::move(c));
    if (state != State::Idle) start(poller, 0);
    if (state == State::Open || state == State::Offline || state == State::Suspended) succeed(poller, 10);
    if (state == State::Waiting) {
        EXPECT_TRUE(poller.on_network_failure(10, poller.current_request()));
        poller.clear_actions();
    }
    if (state == State::Offline) {
        EXPECT_TRUE(poller.go_offline(20));
        poller.clear_actions();
    }
    if (state == State::Suspended) {
        EXPECT_TRUE(poller.suspend(20));
        poller.clear_actions();
    }
    if (state == State::Closed) {
        EXPECT_TRUE(poller.close());
        poller.clear_actions();
    }
    EXPECT_STATE(poller, state);
    EXPECT_NO_ACTIONS(poller);
    return poller;
}

// ---------------------------------------------------------------------------------------------
// Start.

TEST(Poller, StartsIdleWithNothingToDo) {
    Poller poller(config());
    EXPECT_STATE(poller, State::Idle);
    EXPECT_EQ(poller.current_request(), 0u);
    EXPECT_FALSE(poller.next_deadline().has_value());
    EXPECT_EQ(poller.last_modified(), "");
    EXPECT_EQ(poller.etag(), "");
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, StartSendsTheFirstRequestWithoutConditionalHeaders) {
    PollerConfig c = config();
    c.method = "POST";
    Poller poller(c);
    ASSERT_TRUE(poller.start(1000));
    EXPECT_STATE(poller, State::Connecting);
    expect_state_changed(poller, State::Idle, State::Connecting);
    Action request = take(poller, Action::StartRequest);
    EXPECT_NE(request.request_id, 0u);
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.url, kUrl);
    EXPECT_TRUE(request.headers.empty());
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), request.request_id);
}

TEST(Poller, StartingTwiceIsRefusedAndChangesNothing) {
    Poller poller(config());
    uint64_t id = start(poller, 1000);
    EXPECT_FALSE(poller.start(2000));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Connecting);
    EXPECT_EQ(poller.current_request(), id);
    EXPECT_EQ(poller.next_deadline(), 1000 + kTimeout);
}

// ---------------------------------------------------------------------------------------------
// Success and the cursor.

// A handler that closes the connection while the adapter carries out a Deliver: the next
// request and the reports decided with it are never carried out.
TEST(Poller, CloseDropsWhatIsStillQueued) {
    Poller poller(config());
    uint64_t first = start(poller, 1000);
    ASSERT_TRUE(poller.on_response(1500, first, ok(kCursorHeaders, "hello")));
    ASSERT_TRUE(poller.take_action()->kind == Action::StateChanged);
    ASSERT_TRUE(poller.take_action()->kind == Action::Deliver);
    ASSERT_TRUE(poller.actions().front().kind == Action::StartRequest);  // still queued
    uint64_t next = poller.current_request();
    ASSERT_TRUE(poller.close());
    expect_state_changed(poller, State::Open, State::Closed);
    EXPECT_EQ(take(poller, Action::AbortRequest).request_id, next);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_FALSE(poller.take_action().has_value());
}

TEST(Poller, SuccessOpensDeliversAndThenSendsTheNextRequestWithTheCursor) {
    Poller poller(config());
    uint64_t first = start(poller, 1000);
    std::string_view body = "hello";
    ASSERT_TRUE(poller.on_response(1500, first, ok(kCursorHeaders, body)));
    EXPECT_STATE(poller, State::Open);

    expect_state_changed(poller, State::Connecting, State::Open);
    // The handlers first: a message does not wait for the next request to be sent.
    Action deliver = take(poller, Action::Deliver);
    ASSERT_EQ(deliver.messages.size(), 1u);
    EXPECT_EQ(deliver.messages[0].flags, 0u);
    EXPECT_EQ(deliver.messages[0].data.in(body), "hello");
    // The batch carries the cursor before and after it, for resume and for the other tabs.
    EXPECT_TRUE(deliver.previous.empty());
    EXPECT_EQ(deliver.cursor.etag, "3");
    EXPECT_EQ(deliver.cursor.last_modified, kLastModified);
    Action next = take(poller, Action::StartRequest);
    EXPECT_NE(next.request_id, first);
    ASSERT_EQ(next.headers.size(), 2u);
    EXPECT_EQ(header(next, "If-None-Match"), "3");
    EXPECT_EQ(header(next, "If-Modified-Since"), kLastModified);
    EXPECT_NO_ACTIONS(poller);

    EXPECT_EQ(poller.etag(), "3");
    EXPECT_EQ(poller.last_modified(), kLastModified);
    EXPECT_EQ(poller.current_request(), next.request_id);
    EXPECT_EQ(poller.next_deadline(), 1500 + kTimeout);
}

// An idle connection keeps no room for actions: the queue's storage (several actions of some
// 180 B each in the wasm) goes once the adapter has taken the last one.
TEST(Poller, TakingTheLastActionReleasesTheQueue) {
    Poller poller(config());
    uint64_t first = start(poller, 1000);
    ASSERT_TRUE(poller.on_response(1500, first, ok(kCursorHeaders, "hello")));
    ASSERT_GE(poller.actions().size(), 3u);
    poller.take_action();
    EXPECT_GT(poller.actions().capacity(), 0u);  // not while actions remain
    while (poller.take_action()) {
    }
    EXPECT_EQ(poller.actions().capacity(), 0u);
}

TEST(Poller, SuccessWhileOpenStaysOpenWithoutStateChange) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 10);
    const char headers[] = "Last-Modified: Thu, 02 Jan 2025 00:00:00 GMT\r\nEtag: 0\r\n";
    ASSERT_TRUE(poller.on_response(20, poller.current_request(), ok(headers, "second")));
    EXPECT_STATE(poller, State::Open);
    take(poller, Action::Deliver);
    Action next = take(poller, Action::StartRequest);
    EXPECT_EQ(header(next, "If-None-Match"), "0");
    EXPECT_EQ(header(next, "If-Modified-Since"), "Thu, 02 Jan 2025 00:00:00 GMT");
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, DeliversJsonWithTypeAndData) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    std::string_view body = R"({"type":"news","data":{"title":"t"}})";
    ASSERT_TRUE(poller.on_response(1, id, ok("Content-Type: application/json\r\n", body)));
    take(poller, Action::StateChanged);
    Action deliver = take(poller, Action::Deliver);
    ASSERT_EQ(deliver.messages.size(), 1u);
    EXPECT_EQ(deliver.messages[0].flags, kMessageJson | kTypeString);
    EXPECT_EQ(deliver.messages[0].type.in(body), R"("news")");
    EXPECT_EQ(deliver.messages[0].data.in(body), R"({"title":"t"})");
    take(poller, Action::StartRequest);
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, AWholeIdIsSentBackAsBothHeaders) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_response(1, id, ok("Etag: 7\r\nLast-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n", "m")));
    take(poller, Action::StateChanged);
    take(poller, Action::Deliver);
    Action next = take(poller, Action::StartRequest);
    ASSERT_EQ(next.headers.size(), 2u);
    EXPECT_EQ(header(next, "If-None-Match"), "7");
    EXPECT_EQ(header(next, "If-Modified-Since"), kLastModified);
}

TEST(Poller, ResponseWithoutCursorKeepsThePreviousOne) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 1);
    ASSERT_TRUE(poller.on_response(2, poller.current_request(), ok("Content-Type: text/plain\r\n", "m")));
    take(poller, Action::Deliver);
    Action next = take(poller, Action::StartRequest);
    EXPECT_EQ(header(next, "If-None-Match"), "3");
    EXPECT_EQ(header(next, "If-Modified-Since"), kLastModified);
}

TEST(Poller, CacheBusterMarksOnlyRequestsWithoutACursor) {
    PollerConfig c = config();
    c.cache_buster = "k3y";
    Poller poller(c);
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Action first = take(poller, Action::StartRequest);
    EXPECT_EQ(first.url, std::string(kUrl) + "&_=k3y-1");
    // Retrying before any cursor arrived: a fresh mark, so no cached answer can be reused.
    ASSERT_TRUE(poller.on_network_failure(5, first.request_id));
    take(poller, Action::StateChanged);
    Millis due = 5 + take(poller, Action::Report).retry_in;
    ASSERT_TRUE(poller.on_timer(due));
    take(poller, Action::StateChanged);
    Action retry = take(poller, Action::StartRequest);
    EXPECT_EQ(retry.url, std::string(kUrl) + "&_=k3y-2");
    // With a cursor, If-None-Match keeps the browser cache out of the way: the URL is the user's.
    ASSERT_TRUE(poller.on_response(due + 10, retry.request_id, ok(kCursorHeaders, "m")));
    take(poller, Action::StateChanged);
    take(poller, Action::Deliver);
    Action next = take(poller, Action::StartRequest);
    EXPECT_EQ(next.url, kUrl);
    EXPECT_EQ(header(next, "If-None-Match"), "3");
}

TEST(Poller, CacheBusterStartsTheQueryWhenTheUrlHasNone) {
    PollerConfig c = config("http://127.0.0.1/sub/a");
    c.cache_buster = "z";
    Poller poller(c);
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    EXPECT_EQ(take(poller, Action::StartRequest).url, "http://127.0.0.1/sub/a?_=z-1");
}

TEST(Poller, CursorAdvancesPastMalformedJsonWhichIsReportedNotDelivered) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    const char headers[] =
        "Content-Type: application/json\r\nEtag: 9\r\nLast-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n";
    ASSERT_TRUE(poller.on_response(5, id, ok(headers, R"({"type":)")));
    EXPECT_STATE(poller, State::Open);
    expect_state_changed(poller, State::Connecting, State::Open);
    Action moved = take(poller, Action::Deliver);  // nothing to deliver, but the cursor moves on
    EXPECT_TRUE(moved.messages.empty());
    EXPECT_TRUE(moved.previous.empty());
    EXPECT_EQ(moved.cursor.etag, "9");
    Action next = take(poller, Action::StartRequest);
    EXPECT_EQ(header(next, "If-None-Match"), "9");
    EXPECT_EQ(header(next, "If-Modified-Since"), kLastModified);
    Action report = take(poller, Action::Report);
    EXPECT_EQ(report.status, 200);
    EXPECT_EQ(report.text_status, TextStatus::ParserError);
    EXPECT_EQ(report.retry_in, 0);
    EXPECT_TRUE(report.has_response);
    EXPECT_NE(report.error_thrown.find("Malformed JSON"), std::string::npos) << report.error_thrown;
    EXPECT_NE(report.detail.find(kUrl), std::string::npos) << report.detail;
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.etag(), "9");
}

TEST(Poller, MultipartDeliversAllPartsInOneDeliver) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    const char headers[] =
        "Content-Type: multipart/mixed; boundary=0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12\r\n"
        "Etag: 2\r\nLast-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n";
    std::string_view body =
        "--0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12\r\nContent-Type: text/plain\r\n\r\np1\r\n"
        "--0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12\r\nContent-Type: application/json\r\n\r\n{\"type\":\"t\",\"data\":2}\r\n"
        "--0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12\r\n\r\np3\r\n"
        "--0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12--\r\n";
    ASSERT_TRUE(poller.on_response(1, id, ok(headers, body)));
    take(poller, Action::StateChanged);
    Action deliver = take(poller, Action::Deliver);
    ASSERT_EQ(deliver.messages.size(), 3u);
    EXPECT_EQ(deliver.messages[0].data.in(body), "p1");
    EXPECT_EQ(deliver.messages[1].type.in(body), R"("t")");
    EXPECT_EQ(deliver.messages[1].data.in(body), "2");
    EXPECT_EQ(deliver.messages[2].data.in(body), "p3");
    Action next = take(poller, Action::StartRequest);
    EXPECT_EQ(header(next, "If-None-Match"), "2");
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, MultipartWithABadPartDeliversTheRestThenReportsIt) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    const char headers[] =
        "Content-Type: multipart/mixed; boundary=B\r\nEtag: 4\r\nLast-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n";
    std::string_view body =
        "--B\r\nContent-Type: application/json\r\n\r\n{bad\r\n--B\r\nContent-Type: text/plain\r\n\r\nfine\r\n--B--\r\n";
    ASSERT_TRUE(poller.on_response(1, id, ok(headers, body)));
    take(poller, Action::StateChanged);
    Action deliver = take(poller, Action::Deliver);
    take(poller, Action::StartRequest);
    ASSERT_EQ(deliver.messages.size(), 1u);
    EXPECT_EQ(deliver.messages[0].data.in(body), "fine");
    Action report = take(poller, Action::Report);
    EXPECT_EQ(report.text_status, TextStatus::ParserError);
    EXPECT_NE(report.detail.find("part 1"), std::string::npos) << report.detail;
    EXPECT_NO_ACTIONS(poller);
}

// ---------------------------------------------------------------------------------------------
// Only what verifiably arrived whole counts (integrity.hpp). Anything else is a connection cut
// short: reported as status 0, nothing delivered, the cursor kept, the backoff climbed.

// Answers the request in flight with `answer`, which must be taken for a response cut short.
Action expect_cut(Poller& poller, Millis now, const Response& answer, const std::string& reason) {
    const Cursor before = poller.cursor();
    Action report = fail(poller, now, answer);
    EXPECT_EQ(report.status, 0);
    EXPECT_EQ(report.text_status, TextStatus::Error);
    EXPECT_EQ(report.error_thrown, "Incomplete Response");
    EXPECT_FALSE(report.has_response);
    EXPECT_NE(report.detail.find(reason), npos) << report.detail;
    EXPECT_NE(report.detail.find("not delivered and the cursor stays"), npos) << report.detail;
    EXPECT_EQ(poller.etag(), before.etag);
    EXPECT_EQ(poller.last_modified(), before.last_modified);
    return report;
}

struct CutRow {
    int status;
    std::string headers;
    std::string body;
    std::string reason;  // what the report says
};

const std::string kWholeId = "Last-Modified: Thu, 02 Jan 2025 00:00:00 GMT\r\nEtag: 12\r\n";

// What Chromium and Firefox hand a page for a long poll cut short (measured: see
// test/browser/cuts.test.js), and the kinds of broken ids.
const CutRow kCutRows[] = {
    // Cut inside the header block: the lines so far, an empty body.
    {200, "Content-Type: application/json\r\nContent-Length: 21\r\n", "", "Content-Length 21, 0 bytes arrived"},
    {200, "Content-Length: 2\r\n", "", "Content-Length 2, 0 bytes arrived"},
    {200, "Content-Length: 21\r\n" + kWholeId, "", "Content-Length 21, 0 bytes arrived"},
    {200, "Content-Length: 21\r\nLast-Modified: Thu, 02 Jan 2025 00:00:00 GMT\r\nEtag: 1\r\n", "",
     "Content-Length 21, 0 bytes arrived"},
    {200, "", "", "cannot be shown to have arrived whole"},
    {200, "Server: nginx/1.22.1\r\nDate: Tue, 01 Dec 2026 21:46:12 GMT\r\n", "", "cannot be shown"},
    {200, "Content-Length: \r\n", "", "cannot be shown"},
    {200, "Transfer-Encoding: chunked\r\n" + kWholeId, "", "cannot be shown"},
    // A body cut short that a browser would hand over (none of ours does; the rule holds anyway).
    {200, "Content-Length: 21\r\n" + kWholeId, "{\"type\":\"t\"", "Content-Length 21, 11 bytes arrived"},
    {200, "Content-Length: 5\r\n" + kWholeId, "{\"type\":\"t\"}", "Content-Length 5, 12 bytes arrived"},
    // No framing at all: a body that ended when the connection did.
    {200, kWholeId, "{\"type\":\"t\"}", "cannot be shown"},
    // Whole framing, but half an id, or a malformed one.
    {200, "Content-Length: 1\r\nEtag: 12\r\n", "m", "message id that is not whole"},
    {200, "Content-Length: 1\r\nLast-Modified: Thu, 02 Jan 2025 00:00:00 GMT\r\n", "m", "not whole"},
    {200, "Content-Length: 1\r\nLast-Modified: Thu, 02 Jan 2025 00:00:00 GMT\r\nEtag: \r\n", "m", "not whole"},
    {200, "Content-Length: 1\r\nLast-Modified: Thu, 02 Jan 2025 00:00\r\nEtag: 12\r\n", "m", "not whole"},
    {206, "Content-Length: 0\r\nLast-Modified: Thu, 02 Jan 2025\r\nEtag: 1\r\n", "", "not whole"},
    // A status line cut short: "HTTP/1.1 2", "HTTP/1.1 20".
    {2, "", "", "status line cut short (status 2)"},
    {20, "", "", "status line cut short (status 20)"},
};

TEST(Poller, AResponseThatDidNotArriveWholeIsACutConnection) {
    for (State state : {State::Connecting, State::Open}) {
        for (const CutRow& row : kCutRows) {
            SCOPED_TRACE(std::string(name_of(state)) + " " + std::to_string(row.status) + "\n" + row.headers);
            Poller poller = poller_in(state);
            const std::string etag = poller.etag();
            Action report = expect_cut(poller, 1000, response(row.status, "OK", row.headers, row.body), row.reason);
            EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
            EXPECT_EQ(poller.failures(), 1u);
            // The retry asks again from where the stream stood.
            Action again = retry_when_due(poller);
            EXPECT_EQ(header(again, "If-None-Match"), state == State::Open ? etag : "<absent>");
        }
    }
}

TEST(Poller, ACutStatusLineSaysSo) {
    Poller poller = poller_in(State::Open);
    Action report = expect_cut(poller, 1000, response(20, ""), "status line cut short (status 20)");
    EXPECT_NE(report.detail.find(kUrl), npos) << report.detail;
}

TEST(Poller, CutResponsesClimbTheBackoffAndAWholeOneEndsTheRun) {
    Poller poller = poller_in(State::Open);
    Millis now = 1000;
    for (uint32_t failures = 1; failures <= 4; ++failures) {
        Action report = expect_cut(poller, now, response(200, "OK", "Content-Length: 21\r\n"), "was cut short");
        EXPECT_TRUE(is_backoff_delay(report.retry_in, failures));
        EXPECT_NE(report.detail.find("failure " + std::to_string(failures) + " in a row"), npos) << report.detail;
        retry_when_due(poller);
        now += report.retry_in;
    }
    succeed(poller, now + 1);
    EXPECT_EQ(poller.failures(), 0u);
}

TEST(Poller, AnEmptyBodyWithoutAnIdCountsOnlyWhereNoIdWasEverSent) {
    // "Content-Length: 0" and no id: a server without ids (delivered), or, once ids have come,
    // a header block cut right after Content-Length (not delivered).
    {
        Poller poller(config());
        uint64_t id = start(poller, 0);
        ASSERT_TRUE(poller.on_response(1, id, ok("", "")));
        take(poller, Action::StateChanged);
        EXPECT_EQ(take(poller, Action::Deliver).messages.size(), 1u);
        EXPECT_EQ(header(take(poller, Action::StartRequest), "If-None-Match"), "<absent>");
        EXPECT_NO_ACTIONS(poller);
    }
    {
        Poller poller = poller_in(State::Open);
        expect_cut(poller, 1000, ok("Content-Type: text/plain\r\n", ""), "carries no message id");
    }
    {
        // With a body byte, the header block is known to have ended: the server sent no id.
        Poller poller = poller_in(State::Open);
        ASSERT_TRUE(poller.on_response(1000, poller.current_request(), ok("Content-Type: text/plain\r\n", "m")));
        take(poller, Action::Deliver);
        EXPECT_EQ(header(take(poller, Action::StartRequest), "If-None-Match"), "3");
    }
}

TEST(Poller, AnEmptyMessageWithAWholeIdCounts) {
    Poller poller = poller_in(State::Open);
    ASSERT_TRUE(poller.on_response(1000, poller.current_request(), ok(kWholeId, "")));
    EXPECT_EQ(take(poller, Action::Deliver).messages.size(), 1u);
    EXPECT_EQ(header(take(poller, Action::StartRequest), "If-None-Match"), "12");
}

TEST(Poller, ChunkedAndCompressedResponsesCountWithABodyByte) {
    const std::string rows[] = {
        "Transfer-Encoding: chunked\r\n" + kWholeId,
        "Content-Encoding: gzip\r\nContent-Length: 3\r\n" + kWholeId,  // 3 bytes on the wire, more decoded
    };
    for (const std::string& headers : rows) {
        SCOPED_TRACE(headers);
        Poller poller = poller_in(State::Open);
        ASSERT_TRUE(
            poller.on_response(1000, poller.current_request(), response(200, "OK", headers, "{\"type\":\"t\"}")));
        EXPECT_EQ(take(poller, Action::Deliver).messages.size(), 1u);
        EXPECT_EQ(header(take(poller, Action::StartRequest), "If-None-Match"), "12");
        EXPECT_NO_ACTIONS(poller);
    }
}

TEST(Poller, AStartCursorThatIsNotWholeIsIgnored) {
    const Cursor rows[] = {
        {"", "7"},
        {kLastModified, ""},
        {"Wed, 01 Jan 2025", "7"},
        {"garbage", "garbage"},
    };
    for (const Cursor& given : rows) {
        SCOPED_TRACE(given.last_modified + " / " + given.etag);
        PollerConfig c = config();
        c.cursor = given;
        c.cache_buster = "t";
        Poller poller(c);
        EXPECT_TRUE(poller.cursor().empty());
        ASSERT_TRUE(poller.start(0));
        take(poller, Action::StateChanged);
        Action first = take(poller, Action::StartRequest);
        EXPECT_TRUE(first.headers.empty()) << describe(first);
        EXPECT_NE(first.url.find("_=t-"), npos) << first.url;  // a new subscriber's poll
    }
}

// ---------------------------------------------------------------------------------------------
// Statuses that are not errors.

TEST(Poller, RepollStatusesAskAgainAtOnceWithoutAReport) {
    const int statuses[] = {408, 204};
    for (int status : statuses) {
        SCOPED_TRACE(status);
        Poller poller(config());
        uint64_t id = start(poller, 0);
        // While connecting: the server answered, so it is open; no cursor yet.
        ASSERT_TRUE(poller.on_response(100, id, response(status, "")));
        EXPECT_STATE(poller, State::Open);
        expect_state_changed(poller, State::Connecting, State::Open);
        Action again = take(poller, Action::StartRequest);
        EXPECT_NE(again.request_id, id);
        EXPECT_TRUE(again.headers.empty());
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.next_deadline(), 100 + kTimeout);

        // While open: stays open and keeps the cursor.
        succeed(poller, 200);
        ASSERT_TRUE(poller.on_response(300, poller.current_request(), response(status, "")));
        EXPECT_STATE(poller, State::Open);
        again = take(poller, Action::StartRequest);
        EXPECT_EQ(header(again, "If-None-Match"), "3");
        EXPECT_EQ(header(again, "If-Modified-Since"), kLastModified);
        EXPECT_NO_ACTIONS(poller);
    }
}

TEST(Poller, NotModifiedWaitsTheRetryDelayQuietly) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 100);
    ASSERT_TRUE(poller.on_response(1000, poller.current_request(), response(304, "Not Modified")));
    EXPECT_STATE(poller, State::Waiting);
    expect_state_changed(poller, State::Open, State::Waiting);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), 0u);
    EXPECT_EQ(poller.next_deadline(), 1000 + kRetry);

    EXPECT_FALSE(poller.on_timer(1000 + kRetry - 1));
    EXPECT_NO_ACTIONS(poller);
    ASSERT_TRUE(poller.on_timer(1000 + kRetry));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    Action again = take(poller, Action::StartRequest);
    EXPECT_EQ(header(again, "If-None-Match"), "3");
    EXPECT_NO_ACTIONS(poller);
}

// ---------------------------------------------------------------------------------------------
// Failures and the retry timer.

struct FailureRow {
    int status;
    const char* status_text;
};

const FailureRow kFailures[] = {{500, "Internal Server Error"},
                                {403, "Forbidden"},
                                {0, ""},
                                {400, "Bad Request"},
                                {410, "Gone"},
                                {503, "Service Unavailable"},
                                {302, "Found"},
                                {404, "Not Found"},
                                {401, "Unauthorized"}};

// 410 and 503 are what Nchan answers while nginx reloads or restarts and while its Redis comes
// up: they heal within seconds and take the normal backoff.
bool slow_path_status(int status) { return status == 400 || status == 401 || status == 403 || status == 404; }

TEST(Poller, FailureReportsAndWaitsThenRetriesWithTheSameCursor) {
    for (const FailureRow& row : kFailures) {
        SCOPED_TRACE(row.status);
        Poller poller(config());
        start(poller, 0);
        uint64_t id = succeed(poller, 100);
        const Millis now = 5000;
        ASSERT_TRUE(poller.on_response(
            now, id, response(row.status, row.status_text, "Content-Type: text/html\r\n", "<html>error page</html>")));
        EXPECT_STATE(poller, State::Waiting);
        expect_state_changed(poller, State::Open, State::Waiting);
        Action report = take(poller, Action::Report);
        EXPECT_EQ(report.text_status, TextStatus::Error);
        EXPECT_EQ(report.status, row.status);
        EXPECT_EQ(report.error_thrown, row.status_text);
        // 400, 401, 403 and 404 take the slow path; everything else the first backoff step.
        if (slow_path_status(row.status)) {
            EXPECT_TRUE(is_slow_delay(report.retry_in));
        } else {
            EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
        }
        EXPECT_EQ(report.has_response, row.status != 0);
        EXPECT_EQ(report.has_body, row.status != 0);
        EXPECT_NE(report.detail.find(kUrl), npos) << report.detail;
        EXPECT_NE(report.detail.find("retrying in " + std::to_string(report.retry_in) + " ms"), npos) << report.detail;
        EXPECT_NE(report.detail.find("failure 1 in a row"), npos) << report.detail;
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.failures(), 1u);
        EXPECT_EQ(poller.current_request(), 0u);
        const Millis due = now + report.retry_in;
        EXPECT_EQ(poller.next_deadline(), due);

        // Before the deadline the timer does nothing.
        EXPECT_FALSE(poller.on_timer(now));
        EXPECT_FALSE(poller.on_timer(due - 1));
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Waiting);

        ASSERT_TRUE(poller.on_timer(due));
        EXPECT_STATE(poller, State::Connecting);
        expect_state_changed(poller, State::Waiting, State::Connecting);
        Action again = take(poller, Action::StartRequest);
        EXPECT_NE(again.request_id, id);
        EXPECT_EQ(header(again, "If-None-Match"), "3");
        EXPECT_EQ(header(again, "If-Modified-Since"), kLastModified);
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.next_deadline(), due + kTimeout);
        EXPECT_EQ(poller.failures(), 1u);  // the retry is not a success
    }
}

TEST(Poller, HttpFailureDetailNamesTheStatus) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_response(1, id, response(503, "Service Unavailable")));
    take(poller, Action::StateChanged);
    Action report = take(poller, Action::Report);
    EXPECT_NE(report.detail.find("GET"), std::string::npos) << report.detail;
    EXPECT_NE(report.detail.find("503 Service Unavailable"), std::string::npos) << report.detail;
}

TEST(Poller, NetworkFailureWhileConnectingReportsStatusZero) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_network_failure(700, id));
    EXPECT_STATE(poller, State::Waiting);
    expect_state_changed(poller, State::Connecting, State::Waiting);
    Action report = take(poller, Action::Report);
    EXPECT_EQ(report.status, 0);
    EXPECT_EQ(report.text_status, TextStatus::Error);
    EXPECT_EQ(report.error_thrown, "");
    EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
    EXPECT_FALSE(report.has_response);
    EXPECT_FALSE(report.has_body);
    EXPECT_NE(report.detail.find(kUrl), npos) << report.detail;
    EXPECT_NE(report.detail.find("retrying in " + std::to_string(report.retry_in) + " ms"), npos) << report.detail;
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.failures(), 1u);
    EXPECT_EQ(poller.next_deadline(), 700 + report.retry_in);

    // A late timer still retries, once.
    ASSERT_TRUE(poller.on_timer(700 + 10 * kMaxRetry));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    Action again = take(poller, Action::StartRequest);
    EXPECT_TRUE(again.headers.empty());
    EXPECT_NO_ACTIONS(poller);
    EXPECT_FALSE(poller.on_timer(700 + 10 * kMaxRetry));
}

// ---------------------------------------------------------------------------------------------
// A failure without a response is held for failure_grace before it counts: a browser leaving
// the page cancels its requests before pagehide (WebKit, 5 to 20 ms before), and that failure
// is the page's going, not the server's.

PollerConfig grace_config(Millis grace = 250) {
    PollerConfig c = config();
    c.failure_grace = grace;
    return c;
}

TEST(Poller, TheProductHoldsANetworkFailureForAQuarterSecond) { EXPECT_EQ(PollerConfig().failure_grace, 250); }

TEST(Poller, AHeldNetworkFailureCountsAfterTheGraceAndRetriesWhenItWouldHaveAnyway) {
    // The same seed with no hold: the delay the failure would have had.
    Poller at_once(config());
    ASSERT_TRUE(at_once.on_network_failure(700, start(at_once, 0)));
    expect_state_changed(at_once, State::Connecting, State::Waiting);
    const Millis delay = take(at_once, Action::Report).retry_in;
    const Millis held = std::min<Millis>(250, delay / 2);  // the grace, or half the delay if less

    Poller poller(grace_config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_network_failure(700, id));
    // Held: nothing said, nothing in flight, the state as it was.
    EXPECT_STATE(poller, State::Connecting);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), 0u);
    EXPECT_EQ(poller.next_deadline(), 700 + held);
    EXPECT_FALSE(poller.on_response(800, id, ok(kCursorHeaders, "late")));  // the failed request is done
    EXPECT_FALSE(poller.on_network_failure(800, id));
    EXPECT_FALSE(poller.on_timer(700 + held - 1));
    EXPECT_NO_ACTIONS(poller);

    ASSERT_TRUE(poller.on_timer(700 + held));
    expect_state_changed(poller, State::Connecting, State::Waiting);
    Action report = take(poller, Action::Report);
    EXPECT_EQ(report.status, 0);
    EXPECT_EQ(report.retry_in, delay - held);
    EXPECT_NE(report.detail.find("retrying in " + std::to_string(delay - held) + " ms (failure 1 in a row)"), npos)
        << report.detail;
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.failures(), 1u);
    EXPECT_EQ(poller.next_deadline(), 700 + delay);  // when it would have retried anyway
    ASSERT_TRUE(poller.on_timer(700 + delay));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    take(poller, Action::StartRequest);
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, AHeldNetworkFailureIsHeldAtMostHalfItsDelay) {
    PollerConfig c = grace_config();
    c.retry_delay = 100;  // first delays in [10, 100]: all shorter than the hold
    Poller poller(c);
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_network_failure(700, id));
    ASSERT_TRUE(poller.next_deadline().has_value());
    const Millis held = *poller.next_deadline() - 700;
    EXPECT_GE(held, 5);
    EXPECT_LE(held, 50);
    ASSERT_TRUE(poller.on_timer(700 + held));
    expect_state_changed(poller, State::Connecting, State::Waiting);
    const Millis retry_in = take(poller, Action::Report).retry_in;
    // The rest of the delay: at least as long as the hold, so the report never says "at once".
    EXPECT_GE(retry_in, held);
    EXPECT_LE(retry_in, held + 1);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.next_deadline(), 700 + held + retry_in);
    ASSERT_TRUE(poller.on_timer(700 + held + retry_in));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    take(poller, Action::StartRequest);
}

TEST(Poller, AHeldNetworkFailureWhoseTimerFiresLateStillWaitsTheRestOfItsDelay) {
    PollerConfig c = grace_config();
    c.retry_delay = 100;
    Poller poller(c);
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_network_failure(700, id));
    ASSERT_TRUE(poller.next_deadline().has_value());
    const Millis held = *poller.next_deadline() - 700;
    // A busy page runs the timer 300 ms late: past the whole delay (at most 100 ms).
    ASSERT_TRUE(poller.on_timer(1000));
    expect_state_changed(poller, State::Connecting, State::Waiting);
    const Millis retry_in = take(poller, Action::Report).retry_in;
    EXPECT_GE(retry_in, held);
    EXPECT_GE(retry_in, 1);
    EXPECT_EQ(poller.next_deadline(), 1000 + retry_in);
    EXPECT_FALSE(poller.on_timer(1000 + retry_in - 1));
    ASSERT_TRUE(poller.on_timer(1000 + retry_in));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    take(poller, Action::StartRequest);
}

TEST(Poller, AHeldNetworkFailureIsDroppedWhenThePageIsSuspendedAndTheCursorStays) {
    Poller poller(grace_config());
    start(poller, 0);
    uint64_t id = succeed(poller, 100);
    ASSERT_TRUE(poller.on_network_failure(700, id));
    EXPECT_NO_ACTIONS(poller);
    // pagehide, 7 ms later: the page is going into the back/forward cache.
    ASSERT_TRUE(poller.suspend(707));
    expect_state_changed(poller, State::Open, State::Suspended);
    EXPECT_NO_ACTIONS(poller);  // no report, and nothing in flight to abort
    EXPECT_EQ(poller.failures(), 0u);
    EXPECT_EQ(poller.next_deadline(), std::nullopt);
    EXPECT_FALSE(poller.on_timer(950));
    ASSERT_TRUE(poller.resume(5000));
    expect_state_changed(poller, State::Suspended, State::Connecting);
    Action request = take(poller, Action::StartRequest);
    EXPECT_NE(header(request, "If-None-Match"), "<absent>");  // from the cursor it had
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, AHeldNetworkFailureIsDroppedWhenTheBrowserGoesOfflineOrThePageCloses) {
    {
        Poller poller(grace_config());
        uint64_t id = start(poller, 0);
        ASSERT_TRUE(poller.on_network_failure(700, id));
        ASSERT_TRUE(poller.go_offline(720));
        expect_state_changed(poller, State::Connecting, State::Offline);
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.failures(), 0u);
        EXPECT_FALSE(poller.on_timer(950));
        ASSERT_TRUE(poller.go_online(2000));
        expect_state_changed(poller, State::Offline, State::Connecting);
        take(poller, Action::StartRequest);
        EXPECT_NO_ACTIONS(poller);
    }
    {
        Poller poller(grace_config());
        uint64_t id = start(poller, 0);
        ASSERT_TRUE(poller.on_network_failure(700, id));
        ASSERT_TRUE(poller.close());
        expect_state_changed(poller, State::Connecting, State::Closed);
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.next_deadline(), std::nullopt);
        EXPECT_FALSE(poller.on_timer(950));
    }
}

TEST(Poller, RepeatedFailuresKeepTheSameCursorAndGrowTheDelay) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 1);
    Millis now = 10;
    // Ceilings 2500, 5000, 10000, 20000, then the cap 30000; the floors (a tenth) grow with
    // them, so each range below excludes most of the one before.
    for (uint32_t failures = 1; failures <= 7; ++failures) {
        SCOPED_TRACE(failures);
        Action report = fail_network(poller, now);
        EXPECT_TRUE(is_backoff_delay(report.retry_in, failures));
        EXPECT_EQ(poller.failures(), failures);
        EXPECT_NE(report.detail.find("failure " + std::to_string(failures) + " in a row"), npos) << report.detail;
        Action again = retry_when_due(poller);
        EXPECT_EQ(header(again, "If-None-Match"), "3");
        EXPECT_EQ(header(again, "If-Modified-Since"), kLastModified);
        now += report.retry_in + 1;
    }
}

// ---------------------------------------------------------------------------------------------
// The request timeout.

TEST(Poller, RequestOutlivingTheTimeoutIsAbortedAndResentWithoutAReport) {
    Poller poller(config());
    uint64_t first = start(poller, 1000);
    EXPECT_EQ(poller.next_deadline(), 1000 + kTimeout);
    EXPECT_FALSE(poller.on_timer(1000 + kTimeout - 1));
    EXPECT_NO_ACTIONS(poller);

    ASSERT_TRUE(poller.on_timer(1000 + kTimeout));
    // The server held it all that time without failing: it accepted it.
    EXPECT_STATE(poller, State::Open);
    expect_state_changed(poller, State::Connecting, State::Open);
    EXPECT_EQ(take(poller, Action::AbortRequest).request_id, first);
    Action again = take(poller, Action::StartRequest);
    EXPECT_NE(again.request_id, first);
    EXPECT_TRUE(again.headers.empty());
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), again.request_id);
    EXPECT_EQ(poller.next_deadline(), 1000 + 2 * kTimeout);

    // The aborted request may still answer; it is refused.
    EXPECT_FALSE(poller.on_response(1000 + kTimeout + 1, first, ok(kCursorHeaders, "late")));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Open);
}

TEST(Poller, TimeoutWhileOpenKeepsTheStateAndTheCursor) {
    Poller poller(config());
    start(poller, 0);
    uint64_t id = succeed(poller, 100);
    ASSERT_TRUE(poller.on_timer(100 + kTimeout));
    EXPECT_STATE(poller, State::Open);
    EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
    Action again = take(poller, Action::StartRequest);
    EXPECT_EQ(header(again, "If-None-Match"), "3");
    EXPECT_EQ(header(again, "If-Modified-Since"), kLastModified);
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, TimeoutZeroMeansNoDeadline) {
    PollerConfig c = config();
    c.timeout = 0;
    Poller poller(c);
    start(poller, 1000);
    EXPECT_FALSE(poller.next_deadline().has_value());
    EXPECT_FALSE(poller.on_timer(1000));
    EXPECT_FALSE(poller.on_timer(1000 + 24 * 3600 * 1000LL));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Connecting);

    // The retry timer still runs.
    ASSERT_TRUE(poller.on_network_failure(2000, poller.current_request()));
    take(poller, Action::StateChanged);
    Action report = take(poller, Action::Report);
    EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
    EXPECT_EQ(poller.next_deadline(), 2000 + report.retry_in);
    // ... and the request that follows has no deadline again.
    ASSERT_TRUE(poller.on_timer(2000 + report.retry_in));
    EXPECT_STATE(poller, State::Connecting);
    EXPECT_FALSE(poller.next_deadline().has_value());
}

// ---------------------------------------------------------------------------------------------
// What "open" means for a long poll: the server has accepted a poll since the start or the
// last failure. It answered one (a message, 204, 408), or it held one for open_after without
// failing; a refusal, a reset or an error status comes back well within that. On a quiet
// channel a poll may wait minutes for its first message, and must not look like one that
// never got through.

PollerConfig product_config() {
    PollerConfig c = config();
    c.open_after = PollerConfig().open_after;
    return c;
}

TEST(Poller, TheProductOpensAfterOneSecondHeld) { EXPECT_EQ(PollerConfig().open_after, 1000); }

TEST(Poller, OpenWhenTheServerHoldsAPollPastTheGrace) {
    Poller poller(product_config());
    uint64_t id = start(poller, 500);
    EXPECT_EQ(poller.next_deadline(), 1500);
    EXPECT_FALSE(poller.on_timer(1499));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Connecting);

    ASSERT_TRUE(poller.on_timer(1500));
    EXPECT_STATE(poller, State::Open);
    expect_state_changed(poller, State::Connecting, State::Open);
    EXPECT_NO_ACTIONS(poller) << "the same request goes on: no abort, no report, no new request";
    EXPECT_EQ(poller.current_request(), id);
    EXPECT_EQ(poller.next_deadline(), 500 + kTimeout);
    EXPECT_FALSE(poller.on_timer(500 + kTimeout - 1));
    EXPECT_NO_ACTIONS(poller);

    // Its message arrives later, with no second state change.
    ASSERT_TRUE(poller.on_response(20000, id, ok(kCursorHeaders, "m")));
    take(poller, Action::Deliver);
    take(poller, Action::StartRequest);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Open);
}

TEST(Poller, AFailureWithinTheGraceNeverLooksOpen) {
    for (bool network : {true, false}) {
        SCOPED_TRACE(network ? "network failure" : "503");
        Poller poller(product_config());
        uint64_t id = start(poller, 0);
        if (network) {
            ASSERT_TRUE(poller.on_network_failure(30, id));
        } else {
            ASSERT_TRUE(poller.on_response(30, id, response(503, "Service Unavailable")));
        }
        expect_state_changed(poller, State::Connecting, State::Waiting);
        Action report = take(poller, Action::Report);
        EXPECT_NO_ACTIONS(poller);
        // The grace's time passes while waiting: nothing, the retry timer is the only one.
        EXPECT_EQ(poller.next_deadline(), 30 + report.retry_in);
        if (report.retry_in > 1000) {
            EXPECT_FALSE(poller.on_timer(1000));
            EXPECT_NO_ACTIONS(poller);
        }
        EXPECT_STATE(poller, State::Waiting);
    }
}

TEST(Poller, AfterAFailureTheRetryIsConnectingUntilHeldAndHoldingForgivesNothing) {
    Poller poller(product_config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_timer(1000));  // held: open
    poller.clear_actions();
    ASSERT_TRUE(poller.on_network_failure(5000, id));
    Action report = expect_failure_report(poller, State::Open, 5000);
    Millis retry = 5000 + report.retry_in;
    ASSERT_TRUE(poller.on_timer(retry));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    id = take(poller, Action::StartRequest).request_id;
    EXPECT_EQ(poller.next_deadline(), retry + 1000);
    ASSERT_TRUE(poller.on_timer(retry + 1000));
    expect_state_changed(poller, State::Connecting, State::Open);
    EXPECT_NO_ACTIONS(poller);
    // A server that holds polls and then drops them still climbs the backoff: only an answer
    // (a message, 204, 408) ends the run of failures.
    EXPECT_EQ(poller.failures(), 1u);
    ASSERT_TRUE(poller.on_network_failure(retry + 5000, id));
    take(poller, Action::StateChanged);
    report = take(poller, Action::Report);
    EXPECT_TRUE(is_backoff_delay(report.retry_in, 2)) << report.retry_in;
}

TEST(Poller, OnlineAndResumedPollsAreConnectingUntilHeld) {
    for (bool offline : {true, false}) {
        SCOPED_TRACE(offline ? "offline" : "suspended");
        Poller poller(product_config());
        start(poller, 0);
        ASSERT_TRUE(poller.on_timer(1000));
        ASSERT_TRUE(offline ? poller.go_offline(2000) : poller.suspend(2000));
        EXPECT_FALSE(poller.next_deadline().has_value());
        ASSERT_TRUE(offline ? poller.go_online(9000) : poller.resume(9000));
        EXPECT_STATE(poller, State::Connecting);
        EXPECT_EQ(poller.next_deadline(), 10000);
        poller.clear_actions();
        ASSERT_TRUE(poller.on_timer(10000));
        expect_state_changed(poller, State::Connecting, State::Open);
        EXPECT_NO_ACTIONS(poller);
    }
}

TEST(Poller, ATimeoutShorterThanTheGraceStillOpens) {
    PollerConfig c = product_config();
    c.timeout = 400;
    Poller poller(c);
    uint64_t id = start(poller, 0);
    EXPECT_EQ(poller.next_deadline(), 400);
    // The request outlived its timeout without failing: held all along.
    ASSERT_TRUE(poller.on_timer(400));
    expect_state_changed(poller, State::Connecting, State::Open);
    EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
    take(poller, Action::StartRequest);
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, WithoutAGraceOnlyAnAnswerOpens) {
    PollerConfig c = product_config();
    c.open_after = 0;
    Poller poller(c);
    uint64_t id = start(poller, 0);
    EXPECT_EQ(poller.next_deadline(), kTimeout);
    EXPECT_FALSE(poller.on_timer(kTimeout - 1));
    EXPECT_STATE(poller, State::Connecting);
    ASSERT_TRUE(poller.on_response(kTimeout - 1, id, response(204, "No Content")));
    expect_state_changed(poller, State::Connecting, State::Open);
}

// ---------------------------------------------------------------------------------------------
// Stale, unknown and illegal inputs are refused and change nothing.

TEST(Poller, AnswersForAnyRequestButTheCurrentOneAreRefused) {
    Poller poller(config());
    uint64_t first = start(poller, 0);
    ASSERT_TRUE(poller.on_timer(kTimeout));  // first is aborted, second sent
    take(poller, Action::StateChanged);
    take(poller, Action::AbortRequest);
    uint64_t second = take(poller, Action::StartRequest).request_id;

    const uint64_t stale_ids[] = {first, 0, second + 1, 12345};
    for (uint64_t stale : stale_ids) {
        SCOPED_TRACE(stale);
        EXPECT_FALSE(poller.on_response(kTimeout + 1, stale, ok(kCursorHeaders, "x")));
        EXPECT_FALSE(poller.on_response(kTimeout + 1, stale, response(500, "Internal Server Error")));
        EXPECT_FALSE(poller.on_network_failure(kTimeout + 1, stale));
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Open);
        EXPECT_EQ(poller.current_request(), second);
        EXPECT_EQ(poller.etag(), "");
    }
    // The current one is still accepted.
    EXPECT_TRUE(poller.on_response(kTimeout + 2, second, ok(kCursorHeaders, "x")));
}

TEST(Poller, AnswersAfterTheRequestWasAnsweredAreRefused) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    Action report = fail(poller, 1, response(500, "Internal Server Error"));
    EXPECT_FALSE(poller.on_response(2, id, ok(kCursorHeaders, "x")));
    EXPECT_FALSE(poller.on_network_failure(2, id));
    EXPECT_FALSE(progress(poller, 2, id, ok(kCursorHeaders, ""), 1u << 30));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Waiting);
    EXPECT_EQ(poller.next_deadline(), 1 + report.retry_in);
    EXPECT_EQ(poller.failures(), 1u);
    EXPECT_EQ(poller.etag(), "");
}

TEST(Poller, IllegalInputsWhileIdleAreRefused) {
    Poller poller(config());
    EXPECT_FALSE(poller.on_timer(0));
    EXPECT_FALSE(poller.on_timer(1000000));
    EXPECT_FALSE(poller.on_response(0, 0, ok(kCursorHeaders, "x")));
    EXPECT_FALSE(poller.on_response(0, 1, ok(kCursorHeaders, "x")));
    EXPECT_FALSE(poller.on_network_failure(0, 1));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Idle);
    EXPECT_FALSE(poller.next_deadline().has_value());
    // Still startable afterwards.
    EXPECT_TRUE(poller.start(5));
}

TEST(Poller, StartWhileWaitingIsRefused) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_EQ(poller.current_request(), id);
    Action report = fail_network(poller, 10);
    EXPECT_FALSE(poller.start(11));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Waiting);
    EXPECT_EQ(poller.next_deadline(), 10 + report.retry_in);
}

// ---------------------------------------------------------------------------------------------
// Close.

const State kLiveStates[] = {State::Idle,    State::Connecting, State::Open,
                             State::Waiting, State::Offline,    State::Suspended};

TEST(Poller, CloseFromEveryStateEndsClosedAndAbortsWhatIsInFlight) {
    for (State state : kLiveStates) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        uint64_t in_flight = poller.current_request();
        ASSERT_TRUE(poller.close());
        EXPECT_STATE(poller, State::Closed);
        expect_state_changed(poller, state, State::Closed);
        if (state == State::Connecting || state == State::Open) {
            ASSERT_NE(in_flight, 0u);
            EXPECT_EQ(take(poller, Action::AbortRequest).request_id, in_flight);
        } else {
            EXPECT_EQ(in_flight, 0u);
        }
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.current_request(), 0u);
        EXPECT_FALSE(poller.next_deadline().has_value());
    }
}

TEST(Poller, AfterCloseEveryInputIsRefused) {
    for (State state : kLiveStates) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        uint64_t last = poller.current_request();
        ASSERT_TRUE(poller.close());
        poller.clear_actions();

        EXPECT_FALSE(poller.start(100));
        EXPECT_FALSE(poller.on_response(100, last, ok(kCursorHeaders, "x")));
        EXPECT_FALSE(poller.on_response(100, last, response(408, "")));
        EXPECT_FALSE(poller.on_network_failure(100, last));
        EXPECT_FALSE(progress(poller, 100, last, ok(kCursorHeaders, ""), 1u << 30));
        EXPECT_FALSE(poller.on_timer(100));
        EXPECT_FALSE(poller.on_timer(100 + kTimeout + kMaxRetry));
        EXPECT_FALSE(poller.go_offline(100));
        EXPECT_FALSE(poller.go_online(100));
        EXPECT_FALSE(poller.suspend(100));
        EXPECT_FALSE(poller.resume(100));
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Closed);
        EXPECT_FALSE(poller.next_deadline().has_value());

        // Closing again is harmless: accepted, nothing happens.
        EXPECT_TRUE(poller.close());
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Closed);
    }
}

TEST(Poller, CloseKeepsTheCursorItHad) {
    Poller poller = poller_in(State::Open);
    ASSERT_TRUE(poller.close());
    EXPECT_EQ(poller.etag(), "3");
    EXPECT_EQ(poller.last_modified(), kLastModified);
}

// ---------------------------------------------------------------------------------------------
// Starting from a cursor (a reload's saved one, another tab's) and several URLs.

TEST(Poller, StartsFromAConfiguredCursorWithoutACacheBuster) {
    PollerConfig c = config();
    c.cache_buster = "k";
    c.cursor = Cursor{kLastModified, "41"};
    Poller poller(c);
    EXPECT_EQ(poller.etag(), "41");
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Action first = take(poller, Action::StartRequest);
    EXPECT_EQ(first.url, kUrl);
    EXPECT_EQ(header(first, "If-None-Match"), "41");
    EXPECT_EQ(header(first, "If-Modified-Since"), kLastModified);
    // The next response's id replaces it as usual.
    ASSERT_TRUE(poller.on_response(5, first.request_id, ok(kCursorHeaders, "m")));
    EXPECT_EQ(poller.etag(), "3");
}

// A connection keeps one copy of its settings and of its cursor (each a few heap strings in the
// wasm): the start cursor is taken, not copied, and the settings go back to the connection for
// its next poll once this one has closed.
TEST(Poller, TheStartCursorIsTakenAndTheSettingsHandedBack) {
    PollerConfig c = config();
    c.cache_buster = "k";
    c.cursor = Cursor{kLastModified, "41"};
    c.headers.push_back({"X-Token", "t"});
    Poller poller(c);
    EXPECT_TRUE(poller.config().cursor.empty());
    EXPECT_EQ(poller.etag(), "41");
    uint64_t first = start(poller, 0);
    ASSERT_TRUE(poller.on_response(5, first, ok(kCursorHeaders, "m")));
    ASSERT_TRUE(poller.close());
    PollerConfig back = poller.release_config();
    EXPECT_EQ(back.urls, c.urls);
    EXPECT_EQ(back.cache_buster, "k");
    ASSERT_EQ(back.headers.size(), 1u);
    EXPECT_EQ(back.headers[0].value, "t");
    EXPECT_TRUE(back.cursor.empty());
}

// The id a response carries becomes the cursor, and the next response's the one after it: the
// carried id moves into the cursor (no second copy), and is read afresh from every response.
TEST(Poller, EachResponsesIdBecomesTheCursorInTurn) {
    Poller poller(config());
    uint64_t request = start(poller, 0);
    for (int i = 1; i <= 3; ++i) {
        std::string etag = std::to_string(i);
        ASSERT_TRUE(poller.on_response(
            10 * i, request, ok("Last-Modified: " + std::string(kLastModified) + "\r\nEtag: " + etag + "\r\n", "m")));
        if (i == 1) take(poller, Action::StateChanged);  // connecting -> open
        Action batch = take(poller, Action::Deliver);
        EXPECT_EQ(batch.cursor.etag, etag);
        EXPECT_EQ(batch.previous.etag, i == 1 ? "" : std::to_string(i - 1));
        Action next = take(poller, Action::StartRequest);
        EXPECT_EQ(header(next, "If-None-Match"), etag);
        EXPECT_EQ(poller.etag(), etag);
        request = next.request_id;
    }
    // A response without an id keeps the cursor where it is.
    ASSERT_TRUE(poller.on_response(50, request, ok("", "m")));
    EXPECT_EQ(take(poller, Action::Deliver).cursor.etag, "3");
    EXPECT_EQ(header(take(poller, Action::StartRequest), "If-None-Match"), "3");
}

const char kUrlA[] = "http://a.test/sub/x";
const char kUrlB[] = "http://b.test/sub/x";
const char kUrlC[] = "http://c.test/sub/x";

PollerConfig two_instances() {
    PollerConfig c = config(kUrlA);
    c.urls.push_back(kUrlB);
    return c;
}

TEST(Poller, AFailureMovesToTheNextUrlAfterTheFloorAndTheCursorGoesAlong) {
    Poller poller(two_instances());
    start(poller, 0);
    EXPECT_EQ(poller.url(), kUrlA);
    succeed(poller, 10);
    Action report = fail_network(poller, 20);
    EXPECT_EQ(report.retry_in, kRetry / 10) << "the next instance is tried after the backoff's floor";
    EXPECT_NE(report.detail.find(std::string("GET ") + kUrlA + " failed"), npos) << report.detail;
    EXPECT_NE(report.detail.find(std::string(" ms at ") + kUrlB), npos) << report.detail;
    EXPECT_EQ(poller.url_index(), 1u);
    Action retry = retry_when_due(poller);
    EXPECT_EQ(retry.url, kUrlB);
    EXPECT_EQ(header(retry, "If-None-Match"), "3");
    EXPECT_EQ(header(retry, "If-Modified-Since"), kLastModified);
    // A success stays where it is.
    ASSERT_TRUE(poller.on_response(300, retry.request_id, ok(kCursorHeaders, "m")));
    take(poller, Action::StateChanged);
    take(poller, Action::Deliver);
    EXPECT_EQ(take(poller, Action::StartRequest).url, kUrlB);
    EXPECT_EQ(poller.url_index(), 1u);
}

TEST(Poller, OnceEveryUrlFailedInARowItBacksOffCountingRoundsFromThere) {
    PollerConfig c = two_instances();
    c.urls.push_back(kUrlC);
    Poller poller(c);
    start(poller, 0);
    Millis now = 0;
    const char* expected[] = {kUrlB, kUrlC, kUrlA, kUrlB, kUrlC};
    for (uint32_t failure = 1; failure <= 5; ++failure) {
        Action report = fail_network(poller, now);
        if (failure <= 2) {
            EXPECT_EQ(report.retry_in, kRetry / 10) << "failure " << failure;
        } else {
            EXPECT_TRUE(is_backoff_delay(report.retry_in, failure - 2)) << "failure " << failure;
        }
        Action retry = retry_when_due(poller);
        EXPECT_EQ(retry.url, expected[failure - 1]) << "failure " << failure;
        now = *poller.next_deadline() - kTimeout;
    }
}

TEST(Poller, RetryAfterAndTheSlowPathWaitOnlyOnceNoOtherUrlIsLeft) {
    Poller poller(two_instances());
    start(poller, 0);
    Action busy = fail(poller, 0, response(429, "Too Many Requests", "Retry-After: 120\r\n"));
    EXPECT_EQ(busy.retry_in, kRetry / 10) << "instance B owes nothing to A's Retry-After";
    retry_when_due(poller);
    Action missing = fail(poller, 1000, response(404, "Not Found"));
    EXPECT_TRUE(is_slow_delay(missing.retry_in)) << "both answered: the slow path";
    EXPECT_EQ(retry_when_due(poller).url, kUrlA);
    Action again = fail(poller, 40000, response(429, "Too Many Requests", "Retry-After: 120\r\n"));
    EXPECT_EQ(again.retry_in, 120000);
}

TEST(Poller, OneUrlIsRetriedInPlace) {
    Poller poller(config());
    start(poller, 0);
    fail_network(poller, 0);
    EXPECT_EQ(poller.url_index(), 0u);
    EXPECT_EQ(retry_when_due(poller).url, kUrl);
}

// ---------------------------------------------------------------------------------------------

TEST(Poller, SeveralPollersAreIndependent) {
    Poller a(config("http://example.test/sub/a"));
    Poller b(config("http://example.test/sub/b"));
    uint64_t a1 = start(a, 0);
    uint64_t b1 = start(b, 0);

    ASSERT_TRUE(a.on_response(10, a1, ok("Etag: 1\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n", "for a")));
    EXPECT_STATE(a, State::Open);
    EXPECT_STATE(b, State::Connecting);
    EXPECT_NO_ACTIONS(b);
    take(a, Action::StateChanged);
    take(a, Action::Deliver);
    Action a2 = take(a, Action::StartRequest);
    EXPECT_EQ(a2.url, "http://example.test/sub/a");
    EXPECT_EQ(header(a2, "If-None-Match"), "1");
    a.clear_actions();

    ASSERT_TRUE(b.on_response(20, b1, ok("Etag: 9\r\nLast-Modified: Tue, 02 Jan 2024 00:00:00 GMT\r\n", "for b")));
    take(b, Action::StateChanged);
    take(b, Action::Deliver);
    Action b2 = take(b, Action::StartRequest);
    EXPECT_EQ(b2.url, "http://example.test/sub/b");
    EXPECT_EQ(header(b2, "If-None-Match"), "9");
    EXPECT_EQ(header(b2, "If-Modified-Since"), "Tue, 02 Jan 2024 00:00:00 GMT");
    b.clear_actions();
    EXPECT_EQ(a.etag(), "1");
    EXPECT_EQ(b.etag(), "9");

    // A failure and a close on one leave the other untouched.
    ASSERT_TRUE(a.on_network_failure(30, a2.request_id));
    ASSERT_TRUE(a.close());
    EXPECT_STATE(a, State::Closed);
    EXPECT_STATE(b, State::Open);
    EXPECT_NO_ACTIONS(b);
    EXPECT_EQ(b.current_request(), b2.request_id);
    EXPECT_EQ(b.next_deadline(), 20 + kTimeout);
}

TEST(Poller, HourLongJumpsNeedNoRealTime) {
    // A whole hour of server-side 408s and timeouts, in a loop of fake time.
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 0);
    Millis now = 0;
    int requests = 0;
    while (now < 3600 * 1000) {
        now = *poller.next_deadline();
        ASSERT_TRUE(poller.on_timer(now));
        take(poller, Action::AbortRequest);
        EXPECT_EQ(header(take(poller, Action::StartRequest), "If-None-Match"), "3");
        EXPECT_NO_ACTIONS(poller);
        ++requests;
    }
    EXPECT_EQ(requests, 3600 * 1000 / kTimeout);
    EXPECT_STATE(poller, State::Open);
}

// ---------------------------------------------------------------------------------------------
// What a refused input must leave alone.

struct Snapshot {
    State state;
    uint64_t request;
    std::optional<Millis> deadline;
    uint32_t failures;
    std::string etag;
    std::string last_modified;
};

Snapshot snapshot(Poller& poller) {
    return Snapshot{poller.state(), poller.current_request(), poller.next_deadline(), poller.failures(),
                    poller.etag(),  poller.last_modified()};
}

void expect_unchanged(Poller& poller, const Snapshot& before) {
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, before.state);
    EXPECT_EQ(poller.current_request(), before.request);
    EXPECT_EQ(poller.next_deadline(), before.deadline);
    EXPECT_EQ(poller.failures(), before.failures);
    EXPECT_EQ(poller.etag(), before.etag);
    EXPECT_EQ(poller.last_modified(), before.last_modified);
}

// ---------------------------------------------------------------------------------------------
// Retry-After on 429 and 503.

struct RetryAfterRow {
    const char* headers;
    Millis wait;
};

const RetryAfterRow kRetryAfters[] = {
    {"Retry-After: 120\r\n", 120000},  // longer than max_retry_delay: the server knows best
    {"Retry-After: 1\r\n", 1000},
    {"retry-after:  7 \r\n", 7000},
    {"Retry-After: 0\r\n", kRetry / 10},  // never below retry_delay / 10: no hot loop
    {"Date: Wed, 01 Jan 2025 00:00:00 GMT\r\nRetry-After: Wed, 01 Jan 2025 00:01:30 GMT\r\n", 90000},
    {"Retry-After: Wed, 01 Jan 2025 00:01:30 GMT\r\nDate: Wed, 01 Jan 2025 00:00:00 GMT\r\n", 90000},
    {"Date: Wed, 01 Jan 2025 00:00:00 GMT\r\nRetry-After: Tue, 31 Dec 2024 23:59:00 GMT\r\n", kRetry / 10},  // past
    // Capped at one hour.
    {"Retry-After: 3600\r\n", 3600000},
    {"Retry-After: 3601\r\n", 3600000},
    {"Retry-After: 86400\r\n", 3600000},
    {"Retry-After: 99999999999999999999\r\n", 3600000},
    {"Date: Wed, 01 Jan 2025 00:00:00 GMT\r\nRetry-After: Wed, 01 Jan 2025 01:00:00 GMT\r\n", 3600000},
    {"Date: Wed, 01 Jan 2025 00:00:00 GMT\r\nRetry-After: Thu, 02 Jan 2025 00:00:00 GMT\r\n", 3600000},
};

TEST(Poller, TooManyRequestsWaitsExactlyTheRetryAfter) {
    for (int status : {429}) {
        for (const RetryAfterRow& row : kRetryAfters) {
            SCOPED_TRACE(std::to_string(status) + " " + row.headers);
            Poller poller(config());
            start(poller, 0);
            succeed(poller, 100);
            const Millis now = 5000;
            Action report = fail(poller, now, response(status, "Slow Down", row.headers, "busy"));
            EXPECT_EQ(report.status, status);
            EXPECT_EQ(report.retry_in, row.wait);
            EXPECT_EQ(poller.next_deadline(), now + row.wait);
            EXPECT_EQ(poller.failures(), 1u);
            Action again = retry_when_due(poller);
            EXPECT_EQ(header(again, "If-None-Match"), "3");
        }
    }
}

TEST(Poller, RetryAfterWinsOverTheBackoffEvenWhenShorter) {
    Poller poller(config());
    start(poller, 0);
    Millis now = 10;
    for (uint32_t failures = 1; failures <= 5; ++failures) {
        Action report = fail_network(poller, now);
        retry_when_due(poller);
        now += report.retry_in + 1;
    }
    // The backoff would now wait 3 to 30 seconds; the server asks for 2.
    Action report = fail(poller, now, response(429, "Too Many Requests", "Retry-After: 2\r\n"));
    EXPECT_EQ(report.retry_in, 2000);
    EXPECT_EQ(poller.failures(), 6u);  // still a failure in the row
    retry_when_due(poller);
    report = fail_network(poller, now + 2001);
    EXPECT_TRUE(is_backoff_delay(report.retry_in, 7));
}

TEST(Poller, TooManyRequestsAndServiceUnavailableWithoutAUsableRetryAfterBackOff) {
    const char* const headers[] = {
        "",
        "Retry-After: soon\r\n",
        "Retry-After: -1\r\n",
        "Retry-After:\r\n",
        "Retry-After: 1.5\r\n",
        "Retry-After: Wed, 01 Jan 2025 00:01:30 GMT\r\n",  // a date, but no Date header to measure it by
        "Date: yesterday\r\nRetry-After: Wed, 01 Jan 2025 00:01:30 GMT\r\n",
    };
    for (int status : {429, 503}) {
        for (const char* h : headers) {
            SCOPED_TRACE(std::to_string(status) + " " + h);
            Poller poller(config());
            start(poller, 0);
            Action first = fail(poller, 10, response(status, "Busy", h));
            EXPECT_TRUE(is_backoff_delay(first.retry_in, 1));
            retry_when_due(poller);
            Action second = fail(poller, 10 + first.retry_in + 1, response(status, "Busy", h));
            EXPECT_TRUE(is_backoff_delay(second.retry_in, 2));
            EXPECT_EQ(poller.failures(), 2u);
        }
    }
}

TEST(Poller, RetryAfterOnOtherStatusesIsIgnored) {
    const char* const headers[] = {
        "Retry-After: 120\r\n",
        "Date: Wed, 01 Jan 2025 00:00:00 GMT\r\nRetry-After: Wed, 01 Jan 2025 00:02:00 GMT\r\n",
    };
    for (int status : {500, 502, 503, 504, 302, 418, 400, 403, 404, 410}) {
        for (const char* h : headers) {
            SCOPED_TRACE(std::to_string(status) + " " + h);
            Poller poller(config());
            start(poller, 0);
            Action report = fail(poller, 10, response(status, "Nope", h));
            EXPECT_NE(report.retry_in, 120000);
            if (slow_path_status(status)) {
                EXPECT_TRUE(is_slow_delay(report.retry_in));
            } else {
                EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The backoff, the slow path and what resets them.

TEST(Poller, FailuresThatWillNotHealTakeTheSlowPath) {
    const Millis max_retry = 60000;  // not the default: the slow path follows the config
    for (int status : {400, 403, 404}) {
        SCOPED_TRACE(status);
        Millis lowest = max_retry;
        Millis highest = 0;
        for (uint64_t seed = 1; seed <= 200; ++seed) {
            PollerConfig c = config();
            c.max_retry_delay = max_retry;
            c.random_seed = seed;
            Poller poller(c);
            start(poller, 0);
            // The very first failure already waits long: asking again soon cannot help.
            Action report = fail(poller, 10, response(status, "No"));
            ASSERT_TRUE(is_slow_delay(report.retry_in, max_retry)) << "seed " << seed;
            EXPECT_EQ(poller.failures(), 1u);
            lowest = std::min(lowest, report.retry_in);
            highest = std::max(highest, report.retry_in);
        }
        // Spread over the range, not one fixed delay.
        EXPECT_GT(highest - lowest, max_retry / 4) << lowest << ".." << highest;
    }
}

TEST(Poller, WhatAReloadOrRestartAnswersTakesTheNormalBackoff) {
    // nginx reloading or stopping: Nchan answers waiting polls 410, then the port refuses;
    // while its Redis comes up: 503, with or without Retry-After. All heal in seconds.
    const Response answers[] = {
        response(410, "Gone"),
        response(503, "Service Unavailable"),
        response(503, "Service Unavailable", "Retry-After: 120\r\n"),
    };
    for (const Response& answer : answers) {
        SCOPED_TRACE(std::to_string(answer.status) + " " + std::string(answer.headers));
        Poller poller = poller_in(State::Open);
        Millis now = 1000;
        Action first = fail(poller, now, answer);
        EXPECT_TRUE(is_backoff_delay(first.retry_in, 1));
        retry_when_due(poller);
        now += first.retry_in;
        Action refused = fail_network(poller, now);
        EXPECT_TRUE(is_backoff_delay(refused.retry_in, 2));
        retry_when_due(poller);
        now += refused.retry_in;
        Action again = fail(poller, now, answer);
        EXPECT_TRUE(is_backoff_delay(again.retry_in, 3));
        EXPECT_EQ(header(retry_when_due(poller), "If-None-Match"), "3");
    }
}

TEST(Poller, SlowPathFailuresCountInTheRow) {
    Poller poller(config());
    start(poller, 0);
    Millis now = 10;
    for (uint32_t failures = 1; failures <= 3; ++failures) {
        Action report = fail(poller, now, response(404, "Not Found"));
        EXPECT_TRUE(is_slow_delay(report.retry_in));
        EXPECT_EQ(poller.failures(), failures);
        retry_when_due(poller);
        now += report.retry_in + 1;
    }
    Action report = fail(poller, now, response(500, "Internal Server Error"));
    EXPECT_TRUE(is_backoff_delay(report.retry_in, 4));
    EXPECT_EQ(poller.failures(), 4u);
}

TEST(Poller, ASuccessResetsTheFailuresAndTheCeiling) {
    Poller poller(config());
    start(poller, 0);
    EXPECT_EQ(poller.failures(), 0u);
    Millis now = 10;
    for (uint32_t failures = 1; failures <= 5; ++failures) {
        SCOPED_TRACE(failures);
        Action report = fail(poller, now, response(500, "Internal Server Error"));
        EXPECT_TRUE(is_backoff_delay(report.retry_in, failures));
        EXPECT_EQ(poller.failures(), failures);
        retry_when_due(poller);
        now += report.retry_in + 1;
    }
    // After five failures the next one would wait 3 to 30 seconds. A 200 starts over.
    succeed(poller, now);
    EXPECT_EQ(poller.failures(), 0u);
    Action report = fail(poller, now + 1, response(500, "Internal Server Error"));
    EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
    EXPECT_EQ(poller.failures(), 1u);
}

TEST(Poller, ARepollResetsTheFailuresToo) {
    for (int status : {408, 204}) {
        SCOPED_TRACE(status);
        Poller poller(config());
        start(poller, 0);
        Millis now = 10;
        for (uint32_t failures = 1; failures <= 4; ++failures) {
            Action report = fail_network(poller, now);
            retry_when_due(poller);
            now += report.retry_in + 1;
        }
        EXPECT_EQ(poller.failures(), 4u);
        // The server answered: it is up.
        ASSERT_TRUE(poller.on_response(now, poller.current_request(), response(status, "")));
        EXPECT_STATE(poller, State::Open);
        expect_state_changed(poller, State::Connecting, State::Open);
        take(poller, Action::StartRequest);
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.failures(), 0u);
        Action report = fail_network(poller, now + 1);
        EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
    }
}

TEST(Poller, TheSeedMakesTheDelaysRepeatable) {
    auto delays = [](uint64_t seed) {
        PollerConfig c = config();
        c.random_seed = seed;
        Poller poller(c);
        start(poller, 0);
        std::vector<Millis> out;
        Millis now = 10;
        for (int i = 0; i < 6; ++i) {
            Action report = fail_network(poller, now);
            out.push_back(report.retry_in);
            retry_when_due(poller);
            now += report.retry_in + 1;
        }
        return out;
    };
    EXPECT_EQ(delays(42), delays(42));
    EXPECT_NE(delays(42), delays(43));
}

// ---------------------------------------------------------------------------------------------
// Oversized responses.

constexpr uint64_t kLimit = 64;
const char kNextLastModified[] = "Thu, 02 Jan 2025 00:00:00 GMT";
const char kNextCursorHeaders[] =
    "Last-Modified: Thu, 02 Jan 2025 00:00:00 GMT\r\n"
    "Etag: 8\r\n"
    "Content-Type: text/plain\r\n";
const char kNoCursorHeaders[] = "Content-Type: text/plain\r\n";

PollerConfig small_config() {
    PollerConfig c = config();
    c.max_response_bytes = kLimit;
    return c;
}

void expect_oversize_report(const Action& report, uint64_t bytes) {
    EXPECT_EQ(report.status, 200);
    EXPECT_EQ(report.text_status, TextStatus::Error);
    EXPECT_EQ(report.error_thrown, "Response Too Large");
    EXPECT_TRUE(report.has_response);
    EXPECT_FALSE(report.has_body);  // the body is not there to hand over
    EXPECT_NE(report.detail.find(kUrl), npos) << report.detail;
    EXPECT_NE(report.detail.find("maxResponseBytes (" + std::to_string(kLimit) + ")"), npos) << report.detail;
    EXPECT_NE(report.detail.find(std::to_string(bytes)), npos) << report.detail;
}

TEST(Poller, ProgressWithinTheLimitChangesNothing) {
    for (State state : {State::Connecting, State::Open}) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state, small_config());
        const Snapshot before = snapshot(poller);
        uint64_t id = poller.current_request();
        for (uint64_t bytes : {uint64_t{0}, uint64_t{1}, kLimit - 1, kLimit}) {
            for (const char* headers : {kNextCursorHeaders, kNoCursorHeaders}) {
                SCOPED_TRACE(bytes);
                EXPECT_FALSE(progress(poller, 1000, id, ok(headers, ""), bytes));
                expect_unchanged(poller, before);
            }
        }
        // Past the limit, but for another request: refused as well.
        EXPECT_FALSE(progress(poller, 1000, id + 1, ok(kNextCursorHeaders, ""), kLimit + 1));
        EXPECT_FALSE(progress(poller, 1000, id - 1, ok(kNoCursorHeaders, ""), kLimit + 1));
        expect_unchanged(poller, before);
    }
}

TEST(Poller, ProgressPastTheLimitWithACursorAbortsAndStepsPastIt) {
    for (State state : {State::Connecting, State::Open}) {
        for (uint64_t bytes : {kLimit + 1, uint64_t{5} << 30}) {
            SCOPED_TRACE(std::string(name_of(state)) + " " + std::to_string(bytes));
            Poller poller = poller_in(state, small_config());
            uint64_t id = poller.current_request();
            ASSERT_TRUE(progress(poller, 1000, id, ok(kNextCursorHeaders, ""), bytes));
            EXPECT_STATE(poller, State::Open);
            if (state == State::Connecting) expect_state_changed(poller, State::Connecting, State::Open);
            EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
            Action report = take(poller, Action::Report);
            expect_oversize_report(report, bytes);
            EXPECT_EQ(report.retry_in, 0);
            EXPECT_EQ(take(poller, Action::Deliver).cursor.etag, "8");  // no messages: the skipped one's id
            Action next = take(poller, Action::StartRequest);
            EXPECT_GT(next.request_id, id);
            // The skipped message's id is the new cursor.
            EXPECT_EQ(header(next, "If-None-Match"), "8");
            EXPECT_EQ(header(next, "If-Modified-Since"), kNextLastModified);
            EXPECT_NO_ACTIONS(poller);
            EXPECT_EQ(poller.etag(), "8");
            EXPECT_EQ(poller.last_modified(), kNextLastModified);
            EXPECT_EQ(poller.failures(), 0u);
            EXPECT_EQ(poller.current_request(), next.request_id);
            EXPECT_EQ(poller.next_deadline(), 1000 + kTimeout);

            // The abandoned request is gone: whatever it still says is refused.
            const Snapshot after = snapshot(poller);
            EXPECT_FALSE(progress(poller, 1001, id, ok(kNextCursorHeaders, ""), bytes + 1));
            EXPECT_FALSE(poller.on_response(1001, id, ok(kCursorHeaders, "late")));
            EXPECT_FALSE(poller.on_network_failure(1001, id));
            expect_unchanged(poller, after);
        }
    }
}

TEST(Poller, AnAnnouncedSizeAloneDoesNotVouchForTheId) {
    // Content-Length past the limit arrived, but no body byte yet: the header block may still
    // turn out to be cut short, "Etag: 1" where the server sent "12". Only a body byte shows
    // it ended; until then nothing happens, and a cut shows up as an incomplete response.
    Poller poller = poller_in(State::Open, small_config());
    uint64_t id = poller.current_request();
    const Snapshot before = snapshot(poller);
    EXPECT_FALSE(poller.on_progress(1000, id, ok(kNextCursorHeaders, ""), 0, kLimit + 1));
    expect_unchanged(poller, before);
    ASSERT_TRUE(poller.on_progress(1001, id, ok(kNextCursorHeaders, ""), 1, kLimit + 1));
    EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
    expect_oversize_report(take(poller, Action::Report), kLimit + 1);
    EXPECT_EQ(take(poller, Action::Deliver).cursor.etag, "8");
    EXPECT_EQ(header(take(poller, Action::StartRequest), "If-None-Match"), "8");
    EXPECT_NO_ACTIONS(poller);

    // An oversized error page needs no body byte: it is a failure whatever its headers say.
    Poller failing = poller_in(State::Open, small_config());
    ASSERT_TRUE(
        failing.on_progress(1000, failing.current_request(), response(500, "", kNextCursorHeaders), 0, kLimit + 1));
    expect_state_changed(failing, State::Open, State::Waiting);
    failing.clear_actions();
    EXPECT_EQ(failing.etag(), "3");

    // A broken id on an oversized message cannot be stepped past: a failure, not a skip.
    Poller broken = poller_in(State::Open, small_config());
    ASSERT_TRUE(broken.on_progress(1000, broken.current_request(), ok("Etag: 8\r\n", ""), 1, kLimit + 1));
    expect_state_changed(broken, State::Open, State::Waiting);
    broken.clear_actions();
    EXPECT_EQ(broken.etag(), "3");
}

TEST(Poller, AnOversizedMessageWithACursorEndsTheRunOfFailures) {
    Poller poller(small_config());
    start(poller, 0);
    Action report = fail_network(poller, 10);
    retry_when_due(poller);
    EXPECT_EQ(poller.failures(), 1u);
    ASSERT_TRUE(
        progress(poller, 10 + report.retry_in + 5, poller.current_request(), ok(kNextCursorHeaders, ""), kLimit + 1));
    expect_state_changed(poller, State::Connecting, State::Open);
    poller.clear_actions();
    EXPECT_EQ(poller.failures(), 0u);
}

TEST(Poller, ProgressPastTheLimitWithoutACursorAbortsAndBacksOff) {
    for (State state : {State::Connecting, State::Open}) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state, small_config());
        const std::string etag = poller.etag();
        uint64_t id = poller.current_request();
        ASSERT_TRUE(progress(poller, 1000, id, ok(kNoCursorHeaders, ""), kLimit + 1));
        expect_state_changed(poller, state, State::Waiting);
        EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
        Action report = take(poller, Action::Report);
        expect_oversize_report(report, kLimit + 1);
        EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
        EXPECT_NE(report.detail.find("retrying in " + std::to_string(report.retry_in) + " ms"), npos) << report.detail;
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Waiting);
        EXPECT_EQ(poller.failures(), 1u);
        EXPECT_EQ(poller.current_request(), 0u);
        EXPECT_EQ(poller.next_deadline(), 1000 + report.retry_in);
        EXPECT_EQ(poller.etag(), etag);

        // The retry asks for the same message again, with the cursor it had.
        Action again = retry_when_due(poller);
        EXPECT_EQ(header(again, "If-None-Match"), state == State::Open ? "3" : "<absent>");

        // Too large again and again: it climbs the backoff like any other failure.
        Millis now = 1000 + report.retry_in + 5;
        for (uint32_t failures = 2; failures <= 6; ++failures) {
            SCOPED_TRACE(failures);
            ASSERT_TRUE(progress(poller, now, again.request_id, ok(kNoCursorHeaders, ""), kLimit + 1));
            expect_state_changed(poller, State::Connecting, State::Waiting);
            EXPECT_EQ(take(poller, Action::AbortRequest).request_id, again.request_id);
            Action next = take(poller, Action::Report);
            EXPECT_TRUE(is_backoff_delay(next.retry_in, failures));
            EXPECT_EQ(poller.failures(), failures);
            EXPECT_EQ(poller.next_deadline(), now + next.retry_in);
            EXPECT_NO_ACTIONS(poller);
            again = retry_when_due(poller);
            now += next.retry_in + 5;
        }
    }
}

TEST(Poller, AnOversizedErrorPageIsAFailureEvenWithACursor) {
    // Only a 2xx holds a message to step past. An error page's Etag is no message id: taking
    // it would poison the cursor, and skipping would re-ask at once, in a loop, without backoff.
    for (int status : {500, 502, 404, 429}) {
        SCOPED_TRACE(status);
        Poller poller = poller_in(State::Open, small_config());
        Millis now = 1000;
        for (uint32_t failures = 1; failures <= 3; ++failures) {
            uint64_t id = poller.current_request();
            State from = poller.state();
            ASSERT_TRUE(progress(poller, now, id, response(status, "", kNextCursorHeaders), kLimit + 1));
            expect_state_changed(poller, from, State::Waiting);
            EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
            Action report = take(poller, Action::Report);
            EXPECT_EQ(report.status, status);
            EXPECT_FALSE(report.has_body);
            EXPECT_TRUE(is_backoff_delay(report.retry_in, failures));
            EXPECT_NO_ACTIONS(poller);
            EXPECT_EQ(poller.failures(), failures);
            EXPECT_EQ(poller.etag(), "3");
            EXPECT_EQ(poller.last_modified(), kLastModified);
            EXPECT_EQ(poller.next_deadline(), now + report.retry_in);
            EXPECT_EQ(header(retry_when_due(poller), "If-None-Match"), "3");
            now += report.retry_in + 1;
        }
    }
}

TEST(Poller, ACompleteResponseOverTheLimitIsSkippedTheSameWayWithoutAnAbort) {
    const std::string big(kLimit + 1, 'x');
    for (State state : {State::Connecting, State::Open}) {
        SCOPED_TRACE(name_of(state));
        {
            Poller poller = poller_in(state, small_config());
            uint64_t id = poller.current_request();
            ASSERT_TRUE(poller.on_response(1000, id, ok(kNextCursorHeaders, big)));
            EXPECT_STATE(poller, State::Open);
            if (state == State::Connecting) expect_state_changed(poller, State::Connecting, State::Open);
            Action report = take(poller, Action::Report);  // no AbortRequest: it already arrived whole
            expect_oversize_report(report, big.size());
            EXPECT_EQ(report.retry_in, 0);
            EXPECT_EQ(take(poller, Action::Deliver).cursor.etag, "8");
            Action next = take(poller, Action::StartRequest);  // and no Deliver
            EXPECT_EQ(header(next, "If-None-Match"), "8");
            EXPECT_EQ(header(next, "If-Modified-Since"), kNextLastModified);
            EXPECT_NO_ACTIONS(poller);
            EXPECT_EQ(poller.failures(), 0u);
            EXPECT_EQ(poller.next_deadline(), 1000 + kTimeout);
        }
        {
            Poller poller = poller_in(state, small_config());
            const std::string etag = poller.etag();
            ASSERT_TRUE(poller.on_response(1000, poller.current_request(), ok(kNoCursorHeaders, big)));
            expect_state_changed(poller, state, State::Waiting);
            Action report = take(poller, Action::Report);
            expect_oversize_report(report, big.size());
            EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
            EXPECT_NO_ACTIONS(poller);
            EXPECT_EQ(poller.failures(), 1u);
            EXPECT_EQ(poller.current_request(), 0u);
            EXPECT_EQ(poller.next_deadline(), 1000 + report.retry_in);
            EXPECT_EQ(poller.etag(), etag);
        }
        {
            // Exactly the limit is fine.
            Poller poller = poller_in(state, small_config());
            const std::string body(kLimit, 'x');
            ASSERT_TRUE(poller.on_response(1000, poller.current_request(), ok(kNextCursorHeaders, body)));
            EXPECT_STATE(poller, State::Open);
            if (state == State::Connecting) take(poller, Action::StateChanged);
            EXPECT_EQ(take(poller, Action::Deliver).messages.size(), 1u);
            take(poller, Action::StartRequest);
            EXPECT_NO_ACTIONS(poller);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Offline and online.

TEST(Poller, GoingOfflineAbortsWhatIsInFlightAndSetsNoTimer) {
    for (State state : {State::Connecting, State::Open}) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        uint64_t id = poller.current_request();
        const std::string etag = poller.etag();
        ASSERT_TRUE(poller.go_offline(1000));
        EXPECT_STATE(poller, State::Offline);
        expect_state_changed(poller, state, State::Offline);
        EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
        EXPECT_NO_ACTIONS(poller);  // not an error: no Report
        EXPECT_EQ(poller.current_request(), 0u);
        EXPECT_FALSE(poller.next_deadline().has_value());
        EXPECT_EQ(poller.failures(), 0u);
        EXPECT_EQ(poller.etag(), etag);

        const Snapshot after = snapshot(poller);
        EXPECT_FALSE(poller.on_timer(1000 + kTimeout));
        EXPECT_FALSE(poller.on_timer(1000 + 24 * 3600 * 1000LL));
        EXPECT_FALSE(poller.on_response(1001, id, ok(kCursorHeaders, "late")));
        EXPECT_FALSE(poller.on_network_failure(1001, id));
        EXPECT_FALSE(progress(poller, 1001, id, ok(kCursorHeaders, ""), uint64_t{1} << 40));
        EXPECT_FALSE(poller.go_offline(1002));
        expect_unchanged(poller, after);
    }
}

TEST(Poller, GoingOfflineWhileWaitingCancelsTheRetryTimer) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 5);
    Action report = fail_network(poller, 10);
    const Millis due = 10 + report.retry_in;
    ASSERT_TRUE(poller.go_offline(11));
    expect_state_changed(poller, State::Waiting, State::Offline);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_FALSE(poller.next_deadline().has_value());
    const Snapshot after = snapshot(poller);
    EXPECT_FALSE(poller.on_timer(due));
    EXPECT_FALSE(poller.on_timer(due + 3600 * 1000));
    expect_unchanged(poller, after);
    EXPECT_EQ(poller.failures(), 1u);
}

TEST(Poller, GoingOnlineFromOfflineAsksAtOnceWithTheCursor) {
    Poller poller = poller_in(State::Offline);
    ASSERT_TRUE(poller.go_online(7000));
    EXPECT_STATE(poller, State::Connecting);
    expect_state_changed(poller, State::Offline, State::Connecting);
    Action request = take(poller, Action::StartRequest);
    EXPECT_EQ(header(request, "If-None-Match"), "3");
    EXPECT_EQ(header(request, "If-Modified-Since"), kLastModified);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), request.request_id);
    EXPECT_EQ(poller.next_deadline(), 7000 + kTimeout);
    succeed(poller, 7100);
    EXPECT_STATE(poller, State::Open);
}

TEST(Poller, GoingOnlineWhileWaitingRetriesAtOnceAndForgetsTheFailures) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 5);
    Millis now = 10;
    for (int i = 0; i < 3; ++i) {
        if (i > 0) retry_when_due(poller);
        now += fail_network(poller, now).retry_in + 1;
    }
    EXPECT_EQ(poller.failures(), 3u);
    ASSERT_TRUE(poller.go_online(now));  // before the retry timer
    expect_state_changed(poller, State::Waiting, State::Connecting);
    Action request = take(poller, Action::StartRequest);
    EXPECT_EQ(header(request, "If-None-Match"), "3");
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.failures(), 0u);
    EXPECT_EQ(poller.current_request(), request.request_id);
    EXPECT_EQ(poller.next_deadline(), now + kTimeout);
    Action report = fail_network(poller, now + 1);
    EXPECT_TRUE(is_backoff_delay(report.retry_in, 1));
}

TEST(Poller, GoingOnlineFromOfflineForgetsTheFailures) {
    Poller poller(config());
    start(poller, 0);
    Millis now = 10;
    now += fail_network(poller, now).retry_in + 1;
    retry_when_due(poller);
    now += fail_network(poller, now).retry_in + 1;
    ASSERT_TRUE(poller.go_offline(now));
    EXPECT_EQ(poller.failures(), 2u);
    ASSERT_TRUE(poller.go_online(now + 1));
    poller.clear_actions();
    EXPECT_EQ(poller.failures(), 0u);
}

TEST(Poller, GoingOnlineWhenNotOfflineOrWaitingIsRefused) {
    for (State state : {State::Idle, State::Connecting, State::Open, State::Suspended, State::Closed}) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        const Snapshot before = snapshot(poller);
        EXPECT_FALSE(poller.go_online(1000));
        expect_unchanged(poller, before);
    }
}

TEST(Poller, GoingOfflineWhenNothingRunsIsRefused) {
    for (State state : {State::Idle, State::Offline, State::Suspended, State::Closed}) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        const Snapshot before = snapshot(poller);
        EXPECT_FALSE(poller.go_offline(1000));
        expect_unchanged(poller, before);
    }
}

// ---------------------------------------------------------------------------------------------
// Suspend and resume (pagehide / pageshow).

TEST(Poller, SuspendingAbortsWhatIsInFlightAndSetsNoTimer) {
    for (State state : {State::Connecting, State::Open, State::Waiting, State::Offline}) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        uint64_t id = poller.current_request();
        ASSERT_TRUE(poller.suspend(1000));
        EXPECT_STATE(poller, State::Suspended);
        expect_state_changed(poller, state, State::Suspended);
        if (state == State::Connecting || state == State::Open) {
            ASSERT_NE(id, 0u);
            EXPECT_EQ(take(poller, Action::AbortRequest).request_id, id);
        }
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.current_request(), 0u);
        EXPECT_FALSE(poller.next_deadline().has_value());

        // Nothing but resume and close moves it now.
        const Snapshot after = snapshot(poller);
        EXPECT_FALSE(poller.on_timer(1000 + 24 * 3600 * 1000LL));
        EXPECT_FALSE(poller.on_response(1001, id, ok(kCursorHeaders, "late")));
        EXPECT_FALSE(poller.on_network_failure(1001, id));
        EXPECT_FALSE(poller.start(1001));
        EXPECT_FALSE(poller.suspend(1001));
        EXPECT_FALSE(poller.go_offline(1001));
        EXPECT_FALSE(poller.go_online(1001));
        expect_unchanged(poller, after);
    }
}

TEST(Poller, ResumingAsksAtOnceWithTheCursor) {
    Poller poller = poller_in(State::Suspended);
    ASSERT_TRUE(poller.resume(9000));
    EXPECT_STATE(poller, State::Connecting);
    expect_state_changed(poller, State::Suspended, State::Connecting);
    Action request = take(poller, Action::StartRequest);
    EXPECT_EQ(header(request, "If-None-Match"), "3");
    EXPECT_EQ(header(request, "If-Modified-Since"), kLastModified);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), request.request_id);
    EXPECT_EQ(poller.next_deadline(), 9000 + kTimeout);
}

TEST(Poller, ResumingWhenNotSuspendedIsRefused) {
    for (State state : {State::Idle, State::Connecting, State::Open, State::Waiting, State::Offline, State::Closed}) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        const Snapshot before = snapshot(poller);
        EXPECT_FALSE(poller.resume(1000));
        expect_unchanged(poller, before);
    }
}

// ---------------------------------------------------------------------------------------------
// Every state x every public input, against the documented table. The table is data written
// from the header's contract, not read from poller.cpp.

enum class Input : uint8_t {
    Start,
    Ok,                  // 200, small, with a new cursor
    OkTooLarge,          // 200 arrived whole but past max_response_bytes, with a cursor
    OkTooLargeNoCursor,  // ... without one
    OkCut,               // 200 whose header block was cut: Content-Length 21, no body
    Repoll,              // 408
    NotModified,         // 304
    ServerError,         // 500
    NetworkFailure,
    ProgressAtLimit,           // on_progress with exactly max_response_bytes
    ProgressTooLarge,          // on_progress past it, with a cursor
    ProgressTooLargeNoCursor,  // ... without one
    ProgressNoBodyYet,         // announced past it, no body byte yet: the id cannot be trusted
    TimerEarly,                // on_timer a millisecond before next_deadline (or now, if none)
    TimerDue,                  // on_timer at next_deadline (or a day later, if none)
    TimerLate,                 // on_timer a day later
    GoOffline,
    GoOnline,
    Suspend,
    Resume,
    Close,
};

const char* input_name(Input input) {
    switch (input) {
        case Input::Start: return "start";
        case Input::Ok: return "200";
        case Input::OkTooLarge: return "200 too large";
        case Input::OkTooLargeNoCursor: return "200 too large, no cursor";
        case Input::OkCut: return "200 cut short";
        case Input::Repoll: return "408";
        case Input::NotModified: return "304";
        case Input::ServerError: return "500";
        case Input::NetworkFailure: return "network failure";
        case Input::ProgressAtLimit: return "progress at the limit";
        case Input::ProgressTooLarge: return "progress too large";
        case Input::ProgressTooLargeNoCursor: return "progress too large, no cursor";
        case Input::ProgressNoBodyYet: return "progress announced too large, no body yet";
        case Input::TimerEarly: return "timer early";
        case Input::TimerDue: return "timer due";
        case Input::TimerLate: return "timer a day later";
        case Input::GoOffline: return "go offline";
        case Input::GoOnline: return "go online";
        case Input::Suspend: return "suspend";
        case Input::Resume: return "resume";
        case Input::Close: return "close";
    }
    return "?";
}

constexpr State kAllStates[] = {State::Idle,    State::Connecting, State::Open,  State::Waiting,
                                State::Offline, State::Suspended,  State::Closed};

// One row per input, one cell per state in kAllStates order. "-": refused. Otherwise
// "<state after>:<actions in order>", with C StateChanged, R StartRequest, A AbortRequest,
// D Deliver, E Report, U UrlChanged.
struct TableRow {
    Input input;
    const char* cells[7];
};

// clang-format off
const TableRow kTable[] = {
    //                                idle             connecting        open           waiting           offline           suspended         closed
    {Input::Start,                  {"connecting:CR", "-",              "-",           "-",              "-",              "-",              "-"}},
    {Input::Ok,                     {"-",             "open:CDR",       "open:DR",     "-",              "-",              "-",              "-"}},
    {Input::OkTooLarge,             {"-",             "open:CEDR",      "open:EDR",     "-",              "-",              "-",              "-"}},
    {Input::OkTooLargeNoCursor,     {"-",             "waiting:CE",     "waiting:CE",  "-",              "-",              "-",              "-"}},
    {Input::OkCut,                  {"-",             "waiting:CE",     "waiting:CE",  "-",              "-",              "-",              "-"}},
    {Input::Repoll,                 {"-",             "open:CR",        "open:R",      "-",              "-",              "-",              "-"}},
    {Input::NotModified,            {"-",             "waiting:C",      "waiting:C",   "-",              "-",              "-",              "-"}},
    {Input::ServerError,            {"-",             "waiting:CE",     "waiting:CE",  "-",              "-",              "-",              "-"}},
    {Input::NetworkFailure,         {"-",             "waiting:CE",     "waiting:CE",  "-",              "-",              "-",              "-"}},
    {Input::ProgressAtLimit,        {"-",             "-",              "-",           "-",              "-",              "-",              "-"}},
    {Input::ProgressTooLarge,       {"-",             "open:CAEDR",     "open:AEDR",    "-",              "-",              "-",              "-"}},
    {Input::ProgressTooLargeNoCursor,{"-",            "waiting:CAE",    "waiting:CAE", "-",              "-",              "-",              "-"}},
    {Input::ProgressNoBodyYet,      {"-",             "-",              "-",           "-",              "-",              "-",              "-"}},
    {Input::TimerEarly,             {"-",             "-",              "-",           "-",              "-",              "-",              "-"}},
    {Input::TimerDue,               {"-",             "open:C",         "open:AR",     "connecting:CR",  "-",              "-",              "-"}},
    {Input::TimerLate,              {"-",             "open:CAR",       "open:AR",     "connecting:CR",  "-",              "-",              "-"}},
    {Input::GoOffline,              {"-",             "offline:CA",     "offline:CA",  "offline:C",      "-",              "-",              "-"}},
    {Input::GoOnline,               {"-",             "-",              "-",           "connecting:CR",  "connecting:CR",  "-",              "-"}},
    {Input::Suspend,                {"-",             "suspended:CA",   "suspended:CA","suspended:C",    "suspended:C",    "-",              "-"}},
    {Input::Resume,                 {"-",             "-",              "-",           "-",              "-",              "connecting:CR",  "-"}},
    {Input::Close,                  {"closed:C",      "closed:CA",      "closed:CA",   "closed:C",       "closed:C",       "closed:C",       "closed:"}},
};
// clang-format on

// Reaches `state` from a fresh poller through public inputs only. Returns the id of the last
// request sent, in flight or not (0 if none).
uint64_t reach(Poller& poller, State state) {
    if (state == State::Idle) return 0;
    EXPECT_TRUE(poller.start(0));
    uint64_t id = poller.current_request();
    if (state == State::Open || state == State::Offline || state == State::Suspended || state == State::Closed) {
        EXPECT_TRUE(poller.on_response(10, id, ok(kCursorHeaders, "m")));
        id = poller.current_request();
    }
    if (state == State::Waiting) {
        EXPECT_TRUE(poller.on_network_failure(10, id));
    } else if (state == State::Offline) {
        EXPECT_TRUE(poller.go_offline(20));
    } else if (state == State::Suspended) {
        EXPECT_TRUE(poller.suspend(20));
    } else if (state == State::Closed) {
        EXPECT_TRUE(poller.close());
    }
    poller.clear_actions();
    EXPECT_STATE(poller, state);
    return id;
}

constexpr Millis kInputAt = 1000;  // every state is reached by t=20; no deadline falls before this

Millis input_time(Poller& poller, Input input) {
    std::optional<Millis> deadline = poller.next_deadline();
    if (input == Input::TimerEarly) return deadline ? *deadline - 1 : kInputAt;
    if (input == Input::TimerDue) return deadline ? *deadline : kInputAt + 24 * 3600 * 1000LL;
    if (input == Input::TimerLate) return kInputAt + 24 * 3600 * 1000LL;
    return kInputAt;
}

bool feed(Poller& poller, Input input, uint64_t id, Millis at) {
    static const std::string big(kLimit + 1, 'x');
    switch (input) {
        case Input::Start: return poller.start(at);
        case Input::Ok: return poller.on_response(at, id, ok(kNextCursorHeaders, "m"));
        case Input::OkTooLarge: return poller.on_response(at, id, ok(kNextCursorHeaders, big));
        case Input::OkTooLargeNoCursor: return poller.on_response(at, id, ok(kNoCursorHeaders, big));
        case Input::OkCut:
            return poller.on_response(at, id,
                                      response(200, "OK", std::string(kNextCursorHeaders) + "Content-Length: 21\r\n"));
        case Input::Repoll: return poller.on_response(at, id, response(408, "Request Timeout"));
        case Input::NotModified: return poller.on_response(at, id, response(304, "Not Modified"));
        case Input::ServerError:
            return poller.on_response(at, id, response(500, "Internal Server Error", kNoCursorHeaders, "oops"));
        case Input::NetworkFailure: return poller.on_network_failure(at, id);
        case Input::ProgressAtLimit: return progress(poller, at, id, ok(kNextCursorHeaders, ""), kLimit);
        case Input::ProgressTooLarge: return progress(poller, at, id, ok(kNextCursorHeaders, ""), kLimit + 1);
        case Input::ProgressTooLargeNoCursor: return progress(poller, at, id, ok(kNoCursorHeaders, ""), kLimit + 1);
        case Input::ProgressNoBodyYet: return poller.on_progress(at, id, ok(kNextCursorHeaders, ""), 0, kLimit + 1);
        case Input::TimerEarly:
        case Input::TimerDue:
        case Input::TimerLate: return poller.on_timer(at);
        case Input::GoOffline: return poller.go_offline(at);
        case Input::GoOnline: return poller.go_online(at);
        case Input::Suspend: return poller.suspend(at);
        case Input::Resume: return poller.resume(at);
        case Input::Close: return poller.close();
    }
    return false;
}

char action_letter(const Action& action) {
    switch (action.kind) {
        case Action::StartRequest: return 'R';
        case Action::AskHeaders: return 'H';
        case Action::AbortRequest: return 'A';
        case Action::Deliver: return 'D';
        case Action::Report: return 'E';
        case Action::StateChanged: return 'C';
        case Action::UrlChanged: return 'U';
    }
    return '?';
}

TEST(Poller, EveryInputInEveryStateFollowsTheTable) {
    ASSERT_EQ(std::size(kTable), static_cast<size_t>(Input::Close) + 1) << "one row per input";
    for (size_t row = 0; row < std::size(kTable); ++row) {
        ASSERT_EQ(static_cast<size_t>(kTable[row].input), row) << "rows in Input order";
        for (size_t column = 0; column < std::size(kAllStates); ++column) {
            const State from = kAllStates[column];
            const Input input = kTable[row].input;
            const std::string cell = kTable[row].cells[column];
            SCOPED_TRACE(std::string(input_name(input)) + " while " + name_of(from) + " -> " + cell);

            PollerConfig product = small_config();
            product.open_after = PollerConfig().open_after;
            Poller poller(product);
            const uint64_t last_request = reach(poller, from);
            // Answers go to the request in flight, or to the last one sent when none is.
            const uint64_t id = last_request ? last_request : 1;
            const uint64_t in_flight = poller.current_request();
            const Snapshot before = snapshot(poller);
            const Millis at = input_time(poller, input);
            const bool accepted = feed(poller, input, id, at);

            if (cell == "-") {
                EXPECT_FALSE(accepted);
                expect_unchanged(poller, before);
                continue;
            }
            EXPECT_TRUE(accepted);
            const size_t colon = cell.find(':');
            ASSERT_NE(colon, npos);
            const std::string to = cell.substr(0, colon);
            const std::string letters = cell.substr(colon + 1);
            EXPECT_EQ(name_of(poller.state()), to);

            std::string got;
            for (const Action& action : poller.actions()) got += action_letter(action);
            EXPECT_EQ(got, letters) << pending(poller);
            if (got != letters) continue;

            std::optional<Millis> retry_in;
            for (const Action& action : poller.actions()) {
                if (const Action* changed = action.kind == Action::StateChanged ? &action : nullptr) {
                    EXPECT_EQ(changed->from, from);
                    EXPECT_EQ(name_of(changed->to), to);
                } else if (const Action* abort = action.kind == Action::AbortRequest ? &action : nullptr) {
                    EXPECT_NE(in_flight, 0u);
                    EXPECT_EQ(abort->request_id, in_flight);
                } else if (const Action* start = action.kind == Action::StartRequest ? &action : nullptr) {
                    EXPECT_GT(start->request_id, last_request);
                    EXPECT_EQ(start->request_id, poller.current_request());
                } else if (const Action* report = action.kind == Action::Report ? &action : nullptr) {
                    retry_in = report->retry_in;
                }
            }

            // What each state promises about the request in flight and the timer.
            switch (poller.state()) {
                case State::Connecting:
                    // Open once the server has held the request this long.
                    EXPECT_NE(poller.current_request(), 0u);
                    EXPECT_EQ(poller.next_deadline(), at + PollerConfig().open_after);
                    break;
                case State::Open:
                    EXPECT_NE(poller.current_request(), 0u);
                    // Held: the request sent at 0 goes on.
                    EXPECT_EQ(poller.next_deadline(), got.find('R') != npos ? at + kTimeout : kTimeout);
                    break;
                case State::Waiting:
                    EXPECT_EQ(poller.current_request(), 0u);
                    // After a report, its retry_in; after a quiet 304, retry_delay.
                    EXPECT_EQ(poller.next_deadline(), at + (retry_in ? *retry_in : kRetry));
                    break;
                case State::Idle:
                case State::Offline:
                case State::Suspended:
                case State::Closed:
                    EXPECT_EQ(poller.current_request(), 0u);
                    EXPECT_FALSE(poller.next_deadline().has_value());
                    break;
            }
        }
    }
}

TEST(Poller, AnswersForAnotherRequestAreRefusedInEveryState) {
    const Input answers[] = {Input::Ok,
                             Input::OkTooLarge,
                             Input::OkTooLargeNoCursor,
                             Input::OkCut,
                             Input::Repoll,
                             Input::NotModified,
                             Input::ServerError,
                             Input::NetworkFailure,
                             Input::ProgressTooLarge,
                             Input::ProgressTooLargeNoCursor};
    for (State from : kAllStates) {
        for (Input input : answers) {
            Poller poller(small_config());
            const uint64_t last_request = reach(poller, from);
            for (uint64_t stale : {uint64_t{0}, last_request + 1, last_request + 1000}) {
                if (stale == 0 && last_request == 0) continue;
                SCOPED_TRACE(std::string(input_name(input)) + " while " + name_of(from) + " for #" +
                             std::to_string(stale));
                const Snapshot before = snapshot(poller);
                EXPECT_FALSE(feed(poller, input, stale, kInputAt));
                expect_unchanged(poller, before);
            }
        }
    }
}

TEST(Poller, NamesForStatesEventsAndTextStatuses) {
    EXPECT_STREQ(name_of(State::Idle), "idle");
    EXPECT_STREQ(name_of(State::Connecting), "connecting");
    EXPECT_STREQ(name_of(State::Open), "open");
    EXPECT_STREQ(name_of(State::Waiting), "waiting");
    EXPECT_STREQ(name_of(State::Offline), "offline");
    EXPECT_STREQ(name_of(State::Suspended), "suspended");
    EXPECT_STREQ(name_of(State::Closed), "closed");
    EXPECT_STREQ(name_of(TextStatus::Error), "error");
    EXPECT_STREQ(name_of(TextStatus::ParserError), "parsererror");
    EXPECT_STREQ(name_of(Event::Start), "start");
    EXPECT_STREQ(name_of(Event::Success), "success");
    EXPECT_STREQ(name_of(Event::Incomplete), "incomplete");
    EXPECT_STREQ(name_of(Event::Repoll), "repoll");
    EXPECT_STREQ(name_of(Event::NotModified), "not-modified");
    EXPECT_STREQ(name_of(Event::HttpFailure), "http-failure");
    EXPECT_STREQ(name_of(Event::NetworkFailure), "network-failure");
    EXPECT_STREQ(name_of(Event::FailureDue), "failure-due");
    EXPECT_STREQ(name_of(Event::TooLarge), "too-large");
    EXPECT_STREQ(name_of(Event::TooLargeNoCursor), "too-large-no-cursor");
    EXPECT_STREQ(name_of(Event::Deadline), "deadline");
    EXPECT_STREQ(name_of(Event::RetryDue), "retry-due");
    EXPECT_STREQ(name_of(Event::GoOffline), "go-offline");
    EXPECT_STREQ(name_of(Event::GoOnline), "go-online");
    EXPECT_STREQ(name_of(Event::Suspend), "suspend");
    EXPECT_STREQ(name_of(Event::Resume), "resume");
    EXPECT_STREQ(name_of(Event::Close), "close");
}

}  // namespace
}  // namespace comet
