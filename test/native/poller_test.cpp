// The long-poll state machine, driven with a fake clock (plain Millis values) and scripted
// responses. Every test asserts both the state and the exact actions that came out.
#include "poller.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace comet {
namespace {

constexpr Millis kTimeout = 30000;
constexpr Millis kRetry = 2500;
const char kUrl[] = "http://127.0.0.1:8080/sub?channel=news";

const char kLastModified[] = "Wed, 01 Jan 2025 00:00:00 GMT";
const char kCursorHeaders[] =
    "Last-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n"
    "Etag: 3\r\n"
    "Content-Type: text/plain\r\n";

PollerConfig config(std::string url = kUrl) {
    PollerConfig c;
    c.url = std::move(url);
    c.timeout = kTimeout;
    c.retry_delay = kRetry;
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

Response ok(std::string_view headers, std::string_view body) { return response(200, "OK", headers, body); }

// ---------------------------------------------------------------------------------------------
// Reading the actions.

std::string describe(const Action& action) {
    struct Visitor {
        std::string operator()(const StartRequest& a) const {
            std::string out = "StartRequest(#" + std::to_string(a.request_id) + " " + a.method + " " + a.url;
            for (const Header& h : a.headers) out += ", " + h.name + ": " + h.value;
            return out + ")";
        }
        std::string operator()(const AbortRequest& a) const {
            return "AbortRequest(#" + std::to_string(a.request_id) + ")";
        }
        std::string operator()(const Deliver& a) const {
            return "Deliver(" + std::to_string(a.messages.size()) + " messages)";
        }
        std::string operator()(const Report& a) const {
            return "Report(" + std::to_string(a.status) + " " + name_of(a.text_status) + ": " + a.detail + ")";
        }
        std::string operator()(const StateChanged& a) const {
            return std::string("StateChanged(") + name_of(a.from) + "->" + name_of(a.to) + ")";
        }
    };
    return std::visit(Visitor{}, action);
}

std::string pending(Poller& poller) {
    std::string out;
    for (const Action& action : poller.actions()) out += "\n  " + describe(action);
    return out.empty() ? " (none)" : out;
}

template <class T>
const char* action_name() {
    if constexpr (std::is_same_v<T, StartRequest>) return "StartRequest";
    if constexpr (std::is_same_v<T, AbortRequest>) return "AbortRequest";
    if constexpr (std::is_same_v<T, Deliver>) return "Deliver";
    if constexpr (std::is_same_v<T, Report>) return "Report";
    if constexpr (std::is_same_v<T, StateChanged>) return "StateChanged";
    return "?";
}

// Removes the oldest action, which must be a T.
template <class T>
T take(Poller& poller) {
    std::vector<Action>& actions = poller.actions();
    if (actions.empty()) {
        ADD_FAILURE() << "expected " << action_name<T>() << ", but no action is left";
        return T{};
    }
    Action front = std::move(actions.front());
    actions.erase(actions.begin());
    if (!std::holds_alternative<T>(front)) {
        ADD_FAILURE() << "expected " << action_name<T>() << ", got " << describe(front);
        return T{};
    }
    return std::get<T>(std::move(front));
}

void expect_state_changed(Poller& poller, State from, State to) {
    StateChanged changed = take<StateChanged>(poller);
    EXPECT_EQ(name_of(changed.from), std::string(name_of(from)));
    EXPECT_EQ(name_of(changed.to), std::string(name_of(to)));
}

#define EXPECT_NO_ACTIONS(poller) EXPECT_TRUE((poller).actions().empty()) << "left over:" << pending(poller)
#define EXPECT_STATE(poller, expected) EXPECT_EQ(name_of((poller).state()), std::string(name_of(expected)))

// The value of a request header, or "<absent>".
std::string header(const StartRequest& request, std::string_view name) {
    for (const Header& h : request.headers)
        if (h.name == name) return h.value;
    return "<absent>";
}

// Starts the poller at `now`, checks the first request and returns its id.
uint64_t start(Poller& poller, Millis now) {
    EXPECT_TRUE(poller.start(now));
    expect_state_changed(poller, State::Idle, State::Connecting);
    StartRequest request = take<StartRequest>(poller);
    EXPECT_NO_ACTIONS(poller);
    return request.request_id;
}

// Answers the request in flight with a 200 carrying the standard cursor; returns the next id.
uint64_t succeed(Poller& poller, Millis now, std::string_view body = "message") {
    bool was_open = poller.state() == State::Open;
    EXPECT_TRUE(poller.on_response(now, poller.current_request(), ok(kCursorHeaders, body)));
    if (!was_open) expect_state_changed(poller, State::Connecting, State::Open);
    StartRequest next = take<StartRequest>(poller);
    take<Deliver>(poller);
    EXPECT_NO_ACTIONS(poller);
    return next.request_id;
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
    StartRequest request = take<StartRequest>(poller);
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

TEST(Poller, SuccessOpensAndSendsTheNextRequestWithTheCursorBeforeDelivering) {
    Poller poller(config());
    uint64_t first = start(poller, 1000);
    std::string_view body = "hello";
    ASSERT_TRUE(poller.on_response(1500, first, ok(kCursorHeaders, body)));
    EXPECT_STATE(poller, State::Open);

    expect_state_changed(poller, State::Connecting, State::Open);
    StartRequest next = take<StartRequest>(poller);
    EXPECT_NE(next.request_id, first);
    ASSERT_EQ(next.headers.size(), 2u);
    EXPECT_EQ(header(next, "If-None-Match"), "3");
    EXPECT_EQ(header(next, "If-Modified-Since"), kLastModified);
    Deliver deliver = take<Deliver>(poller);
    ASSERT_EQ(deliver.messages.size(), 1u);
    EXPECT_EQ(deliver.messages[0].flags, 0);
    EXPECT_EQ(deliver.messages[0].data.in(body), "hello");
    EXPECT_NO_ACTIONS(poller);

    EXPECT_EQ(poller.etag(), "3");
    EXPECT_EQ(poller.last_modified(), kLastModified);
    EXPECT_EQ(poller.current_request(), next.request_id);
    EXPECT_EQ(poller.next_deadline(), 1500 + kTimeout);
}

TEST(Poller, SuccessWhileOpenStaysOpenWithoutStateChange) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 10);
    const char headers[] = "Last-Modified: Thu, 02 Jan 2025 00:00:00 GMT\r\nEtag: 0\r\n";
    ASSERT_TRUE(poller.on_response(20, poller.current_request(), ok(headers, "second")));
    EXPECT_STATE(poller, State::Open);
    StartRequest next = take<StartRequest>(poller);
    EXPECT_EQ(header(next, "If-None-Match"), "0");
    EXPECT_EQ(header(next, "If-Modified-Since"), "Thu, 02 Jan 2025 00:00:00 GMT");
    take<Deliver>(poller);
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, DeliversJsonWithTypeAndData) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    std::string_view body = R"({"type":"news","data":{"title":"t"}})";
    ASSERT_TRUE(poller.on_response(1, id, ok("Content-Type: application/json\r\nEtag: 1\r\n", body)));
    take<StateChanged>(poller);
    take<StartRequest>(poller);
    Deliver deliver = take<Deliver>(poller);
    ASSERT_EQ(deliver.messages.size(), 1u);
    EXPECT_EQ(deliver.messages[0].flags, kMessageJson | kTypeString);
    EXPECT_EQ(deliver.messages[0].type.in(body), R"("news")");
    EXPECT_EQ(deliver.messages[0].data.in(body), R"({"title":"t"})");
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, EtagAloneSendsIfNoneMatchAlone) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_response(1, id, ok("Etag: 7\r\n", "m")));
    take<StateChanged>(poller);
    StartRequest next = take<StartRequest>(poller);
    ASSERT_EQ(next.headers.size(), 1u);
    EXPECT_EQ(next.headers[0].name, "If-None-Match");
    EXPECT_EQ(next.headers[0].value, "7");
}

TEST(Poller, LastModifiedAloneSendsNeitherHeader) {
    // Nchan answers If-Modified-Since without If-None-Match with 400.
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_response(1, id, ok("Last-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n", "m")));
    take<StateChanged>(poller);
    StartRequest next = take<StartRequest>(poller);
    EXPECT_TRUE(next.headers.empty()) << describe(next);
    EXPECT_EQ(poller.last_modified(), kLastModified);
}

TEST(Poller, ResponseWithoutCursorKeepsThePreviousOne) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 1);
    ASSERT_TRUE(poller.on_response(2, poller.current_request(), ok("Content-Type: text/plain\r\n", "m")));
    StartRequest next = take<StartRequest>(poller);
    EXPECT_EQ(header(next, "If-None-Match"), "3");
    EXPECT_EQ(header(next, "If-Modified-Since"), kLastModified);
}

TEST(Poller, AResponseWithEitherCursorHeaderReplacesTheWholeCursor) {
    // Last-Modified and Etag are two halves of one message id: never mix two ids.
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 1);
    ASSERT_TRUE(poller.on_response(2, poller.current_request(), ok("Etag: 9\r\n", "m")));
    StartRequest next = take<StartRequest>(poller);
    EXPECT_EQ(header(next, "If-None-Match"), "9");
    EXPECT_EQ(header(next, "If-Modified-Since"), "<absent>");
    EXPECT_EQ(poller.last_modified(), "");
}

TEST(Poller, CacheBusterMarksOnlyRequestsWithoutACursor) {
    PollerConfig c = config();
    c.cache_buster = "k3y";
    Poller poller(c);
    ASSERT_TRUE(poller.start(0));
    take<StateChanged>(poller);
    StartRequest first = take<StartRequest>(poller);
    EXPECT_EQ(first.url, std::string(kUrl) + "&_=k3y-1");
    // Retrying before any cursor arrived: a fresh mark, so no cached answer can be reused.
    ASSERT_TRUE(poller.on_network_failure(5, first.request_id));
    ASSERT_TRUE(poller.on_timer(5 + kRetry));
    take<StateChanged>(poller);
    take<Report>(poller);
    take<StateChanged>(poller);
    StartRequest retry = take<StartRequest>(poller);
    EXPECT_EQ(retry.url, std::string(kUrl) + "&_=k3y-2");
    // With a cursor, If-None-Match keeps the browser cache out of the way: the URL is the user's.
    ASSERT_TRUE(poller.on_response(kRetry + 10, retry.request_id, ok(kCursorHeaders, "m")));
    take<StateChanged>(poller);
    StartRequest next = take<StartRequest>(poller);
    EXPECT_EQ(next.url, kUrl);
    EXPECT_EQ(header(next, "If-None-Match"), "3");
}

TEST(Poller, CacheBusterStartsTheQueryWhenTheUrlHasNone) {
    PollerConfig c = config("http://127.0.0.1/sub/a");
    c.cache_buster = "z";
    Poller poller(c);
    ASSERT_TRUE(poller.start(0));
    take<StateChanged>(poller);
    EXPECT_EQ(take<StartRequest>(poller).url, "http://127.0.0.1/sub/a?_=z-1");
}

TEST(Poller, CursorAdvancesPastMalformedJsonWhichIsReportedNotDelivered) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    const char headers[] =
        "Content-Type: application/json\r\nEtag: 9\r\nLast-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n";
    ASSERT_TRUE(poller.on_response(5, id, ok(headers, R"({"type":)")));
    EXPECT_STATE(poller, State::Open);
    expect_state_changed(poller, State::Connecting, State::Open);
    StartRequest next = take<StartRequest>(poller);
    EXPECT_EQ(header(next, "If-None-Match"), "9");
    EXPECT_EQ(header(next, "If-Modified-Since"), kLastModified);
    Report report = take<Report>(poller);
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
    take<StateChanged>(poller);
    StartRequest next = take<StartRequest>(poller);
    EXPECT_EQ(header(next, "If-None-Match"), "2");
    Deliver deliver = take<Deliver>(poller);
    ASSERT_EQ(deliver.messages.size(), 3u);
    EXPECT_EQ(deliver.messages[0].data.in(body), "p1");
    EXPECT_EQ(deliver.messages[1].type.in(body), R"("t")");
    EXPECT_EQ(deliver.messages[1].data.in(body), "2");
    EXPECT_EQ(deliver.messages[2].data.in(body), "p3");
    EXPECT_NO_ACTIONS(poller);
}

TEST(Poller, MultipartWithABadPartDeliversTheRestThenReportsIt) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    const char headers[] = "Content-Type: multipart/mixed; boundary=B\r\nEtag: 4\r\n";
    std::string_view body =
        "--B\r\nContent-Type: application/json\r\n\r\n{bad\r\n--B\r\nContent-Type: text/plain\r\n\r\nfine\r\n--B--\r\n";
    ASSERT_TRUE(poller.on_response(1, id, ok(headers, body)));
    take<StateChanged>(poller);
    take<StartRequest>(poller);
    Deliver deliver = take<Deliver>(poller);
    ASSERT_EQ(deliver.messages.size(), 1u);
    EXPECT_EQ(deliver.messages[0].data.in(body), "fine");
    Report report = take<Report>(poller);
    EXPECT_EQ(report.text_status, TextStatus::ParserError);
    EXPECT_NE(report.detail.find("part 1"), std::string::npos) << report.detail;
    EXPECT_NO_ACTIONS(poller);
}

// ---------------------------------------------------------------------------------------------
// Statuses that are not errors.

TEST(Poller, RepollStatusesAskAgainAtOnceWithoutAReport) {
    const int statuses[] = {408, 204};
    for (int status : statuses) {
        SCOPED_TRACE(status);
        Poller poller(config());
        uint64_t id = start(poller, 0);
        // While connecting: stays connecting, no cursor yet.
        ASSERT_TRUE(poller.on_response(100, id, response(status, "")));
        EXPECT_STATE(poller, State::Connecting);
        StartRequest again = take<StartRequest>(poller);
        EXPECT_NE(again.request_id, id);
        EXPECT_TRUE(again.headers.empty());
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.next_deadline(), 100 + kTimeout);

        // While open: stays open and keeps the cursor.
        succeed(poller, 200);
        ASSERT_TRUE(poller.on_response(300, poller.current_request(), response(status, "")));
        EXPECT_STATE(poller, State::Open);
        again = take<StartRequest>(poller);
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
    StartRequest again = take<StartRequest>(poller);
    EXPECT_EQ(header(again, "If-None-Match"), "3");
    EXPECT_NO_ACTIONS(poller);
}

// ---------------------------------------------------------------------------------------------
// Failures and the retry timer.

struct FailureRow {
    int status;
    const char* status_text;
};

const FailureRow kFailures[] = {
    {500, "Internal Server Error"}, {403, "Forbidden"}, {0, ""}, {400, "Bad Request"}, {410, "Gone"},
    {503, "Service Unavailable"},   {302, "Found"}};

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
        Report report = take<Report>(poller);
        EXPECT_EQ(report.text_status, TextStatus::Error);
        EXPECT_EQ(report.status, row.status);
        EXPECT_EQ(report.error_thrown, row.status_text);
        EXPECT_EQ(report.retry_in, kRetry);
        EXPECT_EQ(report.has_response, row.status != 0);
        EXPECT_NE(report.detail.find(kUrl), std::string::npos) << report.detail;
        EXPECT_NE(report.detail.find(std::to_string(kRetry)), std::string::npos) << report.detail;
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.current_request(), 0u);
        EXPECT_EQ(poller.next_deadline(), now + kRetry);

        // Before the deadline the timer does nothing.
        EXPECT_FALSE(poller.on_timer(now));
        EXPECT_FALSE(poller.on_timer(now + kRetry - 1));
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Waiting);

        ASSERT_TRUE(poller.on_timer(now + kRetry));
        EXPECT_STATE(poller, State::Connecting);
        expect_state_changed(poller, State::Waiting, State::Connecting);
        StartRequest again = take<StartRequest>(poller);
        EXPECT_NE(again.request_id, id);
        EXPECT_EQ(header(again, "If-None-Match"), "3");
        EXPECT_EQ(header(again, "If-Modified-Since"), kLastModified);
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.next_deadline(), now + kRetry + kTimeout);
    }
}

TEST(Poller, HttpFailureDetailNamesTheStatus) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_response(1, id, response(503, "Service Unavailable")));
    take<StateChanged>(poller);
    Report report = take<Report>(poller);
    EXPECT_NE(report.detail.find("GET"), std::string::npos) << report.detail;
    EXPECT_NE(report.detail.find("503 Service Unavailable"), std::string::npos) << report.detail;
}

TEST(Poller, NetworkFailureWhileConnectingReportsStatusZero) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_network_failure(700, id));
    EXPECT_STATE(poller, State::Waiting);
    expect_state_changed(poller, State::Connecting, State::Waiting);
    Report report = take<Report>(poller);
    EXPECT_EQ(report.status, 0);
    EXPECT_EQ(report.text_status, TextStatus::Error);
    EXPECT_EQ(report.error_thrown, "");
    EXPECT_EQ(report.retry_in, kRetry);
    EXPECT_FALSE(report.has_response);
    EXPECT_NE(report.detail.find(kUrl), std::string::npos) << report.detail;
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.next_deadline(), 700 + kRetry);

    // A late timer still retries, once.
    ASSERT_TRUE(poller.on_timer(700 + 10 * kRetry));
    expect_state_changed(poller, State::Waiting, State::Connecting);
    StartRequest again = take<StartRequest>(poller);
    EXPECT_TRUE(again.headers.empty());
    EXPECT_NO_ACTIONS(poller);
    EXPECT_FALSE(poller.on_timer(700 + 10 * kRetry));
}

TEST(Poller, RepeatedFailuresKeepTheSameCursorAndDelay) {
    Poller poller(config());
    start(poller, 0);
    succeed(poller, 1);
    Millis now = 10;
    for (int i = 0; i < 3; ++i) {
        ASSERT_TRUE(poller.on_network_failure(now, poller.current_request()));
        take<StateChanged>(poller);
        EXPECT_EQ(take<Report>(poller).retry_in, kRetry);
        EXPECT_EQ(poller.next_deadline(), now + kRetry);
        now += kRetry;
        ASSERT_TRUE(poller.on_timer(now));
        take<StateChanged>(poller);
        EXPECT_EQ(header(take<StartRequest>(poller), "If-None-Match"), "3");
        EXPECT_NO_ACTIONS(poller);
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
    EXPECT_STATE(poller, State::Connecting);
    EXPECT_EQ(take<AbortRequest>(poller).request_id, first);
    StartRequest again = take<StartRequest>(poller);
    EXPECT_NE(again.request_id, first);
    EXPECT_TRUE(again.headers.empty());
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(poller.current_request(), again.request_id);
    EXPECT_EQ(poller.next_deadline(), 1000 + 2 * kTimeout);

    // The aborted request may still answer; it is refused.
    EXPECT_FALSE(poller.on_response(1000 + kTimeout + 1, first, ok(kCursorHeaders, "late")));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Connecting);
}

TEST(Poller, TimeoutWhileOpenKeepsTheStateAndTheCursor) {
    Poller poller(config());
    start(poller, 0);
    uint64_t id = succeed(poller, 100);
    ASSERT_TRUE(poller.on_timer(100 + kTimeout));
    EXPECT_STATE(poller, State::Open);
    EXPECT_EQ(take<AbortRequest>(poller).request_id, id);
    StartRequest again = take<StartRequest>(poller);
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
    EXPECT_EQ(poller.next_deadline(), 2000 + kRetry);
}

// ---------------------------------------------------------------------------------------------
// Stale, unknown and illegal inputs are refused and change nothing.

TEST(Poller, AnswersForAnyRequestButTheCurrentOneAreRefused) {
    Poller poller(config());
    uint64_t first = start(poller, 0);
    ASSERT_TRUE(poller.on_timer(kTimeout));  // first is aborted, second sent
    take<AbortRequest>(poller);
    uint64_t second = take<StartRequest>(poller).request_id;

    const uint64_t stale_ids[] = {first, 0, second + 1, 12345};
    for (uint64_t stale : stale_ids) {
        SCOPED_TRACE(stale);
        EXPECT_FALSE(poller.on_response(kTimeout + 1, stale, ok(kCursorHeaders, "x")));
        EXPECT_FALSE(poller.on_response(kTimeout + 1, stale, response(500, "Internal Server Error")));
        EXPECT_FALSE(poller.on_network_failure(kTimeout + 1, stale));
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Connecting);
        EXPECT_EQ(poller.current_request(), second);
        EXPECT_EQ(poller.etag(), "");
    }
    // The current one is still accepted.
    EXPECT_TRUE(poller.on_response(kTimeout + 2, second, ok(kCursorHeaders, "x")));
}

TEST(Poller, AnswersAfterTheRequestWasAnsweredAreRefused) {
    Poller poller(config());
    uint64_t id = start(poller, 0);
    ASSERT_TRUE(poller.on_response(1, id, response(500, "Internal Server Error")));
    poller.clear_actions();
    EXPECT_FALSE(poller.on_response(2, id, ok(kCursorHeaders, "x")));
    EXPECT_FALSE(poller.on_network_failure(2, id));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Waiting);
    EXPECT_EQ(poller.next_deadline(), 1 + kRetry);
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
    ASSERT_TRUE(poller.on_network_failure(10, id));
    poller.clear_actions();
    EXPECT_FALSE(poller.start(11));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Waiting);
    EXPECT_EQ(poller.next_deadline(), 10 + kRetry);
}

// ---------------------------------------------------------------------------------------------
// Close.

// Drives a fresh poller into `state`, leaving no actions behind.
Poller poller_in(State state) {
    Poller poller(config());
    if (state != State::Idle) start(poller, 0);
    if (state == State::Open) succeed(poller, 10);
    if (state == State::Waiting) {
        EXPECT_TRUE(poller.on_network_failure(10, poller.current_request()));
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

TEST(Poller, CloseFromEveryStateEndsClosedAndAbortsWhatIsInFlight) {
    const State states[] = {State::Idle, State::Connecting, State::Open, State::Waiting};
    for (State state : states) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        uint64_t in_flight = poller.current_request();
        ASSERT_TRUE(poller.close());
        EXPECT_STATE(poller, State::Closed);
        expect_state_changed(poller, state, State::Closed);
        if (state == State::Connecting || state == State::Open) {
            ASSERT_NE(in_flight, 0u);
            EXPECT_EQ(take<AbortRequest>(poller).request_id, in_flight);
        } else {
            EXPECT_EQ(in_flight, 0u);
        }
        EXPECT_NO_ACTIONS(poller);
        EXPECT_EQ(poller.current_request(), 0u);
        EXPECT_FALSE(poller.next_deadline().has_value());
    }
}

TEST(Poller, AfterCloseEveryInputIsRefused) {
    const State states[] = {State::Idle, State::Connecting, State::Open, State::Waiting};
    for (State state : states) {
        SCOPED_TRACE(name_of(state));
        Poller poller = poller_in(state);
        uint64_t last = poller.current_request();
        ASSERT_TRUE(poller.close());
        poller.clear_actions();

        EXPECT_FALSE(poller.start(100));
        EXPECT_FALSE(poller.on_response(100, last, ok(kCursorHeaders, "x")));
        EXPECT_FALSE(poller.on_response(100, last, response(408, "")));
        EXPECT_FALSE(poller.on_network_failure(100, last));
        EXPECT_FALSE(poller.on_timer(100));
        EXPECT_FALSE(poller.on_timer(100 + kTimeout + kRetry));
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

TEST(Poller, SeveralPollersAreIndependent) {
    Poller a(config("http://example.test/sub/a"));
    Poller b(config("http://example.test/sub/b"));
    uint64_t a1 = start(a, 0);
    uint64_t b1 = start(b, 0);

    ASSERT_TRUE(a.on_response(10, a1, ok("Etag: 1\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\n", "for a")));
    EXPECT_STATE(a, State::Open);
    EXPECT_STATE(b, State::Connecting);
    EXPECT_NO_ACTIONS(b);
    take<StateChanged>(a);
    StartRequest a2 = take<StartRequest>(a);
    EXPECT_EQ(a2.url, "http://example.test/sub/a");
    EXPECT_EQ(header(a2, "If-None-Match"), "1");
    a.clear_actions();

    ASSERT_TRUE(b.on_response(20, b1, ok("Etag: 9\r\nLast-Modified: Tue, 02 Jan 2024 00:00:00 GMT\r\n", "for b")));
    take<StateChanged>(b);
    StartRequest b2 = take<StartRequest>(b);
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
        take<AbortRequest>(poller);
        EXPECT_EQ(header(take<StartRequest>(poller), "If-None-Match"), "3");
        EXPECT_NO_ACTIONS(poller);
        ++requests;
    }
    EXPECT_EQ(requests, 3600 * 1000 / kTimeout);
    EXPECT_STATE(poller, State::Open);
}

TEST(Poller, NamesForStatesEventsAndTextStatuses) {
    EXPECT_STREQ(name_of(State::Idle), "idle");
    EXPECT_STREQ(name_of(State::Connecting), "connecting");
    EXPECT_STREQ(name_of(State::Open), "open");
    EXPECT_STREQ(name_of(State::Waiting), "waiting");
    EXPECT_STREQ(name_of(State::Closed), "closed");
    EXPECT_STREQ(name_of(TextStatus::Error), "error");
    EXPECT_STREQ(name_of(TextStatus::ParserError), "parsererror");
    EXPECT_STREQ(name_of(Event::Deadline), "deadline");
}

}  // namespace
}  // namespace comet
