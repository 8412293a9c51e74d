// The Poller's request headers and credentials: headers asked for before every request
// (a page's function), fresh ones after a 401/403 once per run of failures, a caller that
// cannot supply them, withCredentials, the cursor in the query instead of headers, and what a
// failure from another origin says.
#include <gtest/gtest.h>

#include <deque>
#include <string>
#include <vector>

#include "http_text.hpp"
#include "poller.hpp"

namespace comet {
namespace {

constexpr Millis kTimeout = 30000;
constexpr Millis kRetry = 2500;
constexpr Millis kMaxRetry = 30000;
const char kUrl[] = "http://127.0.0.1:8080/sub?channel=news";
const char kOtherUrl[] = "http://127.0.0.1:8081/sub?channel=news";
constexpr size_t npos = std::string::npos;

const char kCursorHeaders[] =
    "Last-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n"
    "Etag: 3\r\n"
    "Content-Type: text/plain\r\n";
// Nchan's multiplexed locations send a compound tag, one part per channel.
const char kCompoundHeaders[] =
    "Last-Modified: Wed, 01 Jan 2025 00:00:00 GMT\r\n"
    "Etag: 0,[0],-\r\n"
    "Content-Type: text/plain\r\n";
constexpr int64_t kLastModifiedSeconds = 1735689600;  // Wed, 01 Jan 2025 00:00:00 GMT

PollerConfig asking_config() {
    PollerConfig c;
    c.urls = {kUrl};
    c.timeout = kTimeout;
    c.retry_delay = kRetry;
    c.max_retry_delay = kMaxRetry;
    c.ask_headers = true;
    c.refresh_headers = true;
    c.open_after = 0;  // HeldCountsFromTheSendNotTheAsk uses the product's
    c.failure_grace = 0;
    return c;
}

std::string_view keep(std::string text) {
    static std::deque<std::string> kept;
    kept.push_back(std::move(text));
    return kept.back();
}

Response response(int status, std::string_view status_text, std::string_view headers = "", std::string_view body = "") {
    Response r;
    r.status = status;
    r.status_text = status_text;
    r.headers = keep(std::string(headers) + "Content-Length: " + std::to_string(body.size()) + "\r\n");
    r.body = body;
    return r;
}

Response ok(std::string_view headers = kCursorHeaders, std::string_view body = "m") {
    return response(200, "OK", headers, body);
}

Response unauthorized() { return response(401, "Unauthorized", "Content-Type: text/plain\r\n", "token expired"); }

std::string kinds(Poller& poller) {
    std::string out;
    for (const Action& action : poller.actions()) out += std::string(name_of(action.kind)) + " ";
    return out;
}

// Removes the oldest action, which must be a `kind`.
Action take(Poller& poller, Action::Kind kind) {
    std::optional<Action> front = poller.take_action();
    if (!front) {
        ADD_FAILURE() << "expected " << name_of(kind) << ", but no action is left";
        return Action{};
    }
    EXPECT_EQ(std::string(name_of(front->kind)), name_of(kind)) << front->detail;
    return *front;
}

void skip_state_change(Poller& poller) {
    if (!poller.actions().empty() && poller.actions().front().kind == Action::StateChanged) poller.take_action();
}

#define EXPECT_NO_ACTIONS(poller) EXPECT_TRUE((poller).actions().empty()) << "left over: " << kinds(poller)
#define EXPECT_STATE(poller, expected) EXPECT_EQ(name_of((poller).state()), std::string(name_of(expected)))

std::string header(const Action& request, std::string_view name) {
    std::string value = "<absent>";
    int seen = 0;
    for (const Header& h : request.headers) {
        if (iequals(h.name, name)) {
            value = h.value;
            ++seen;
        }
    }
    EXPECT_LE(seen, 1) << name << " sent twice";
    return value;
}

// Expects an AskHeaders for the request in flight, answers it with `headers`, and returns
// the request that follows.
Action answer_headers(Poller& poller, Millis now, std::vector<Header> headers, bool refresh = false) {
    Action ask = take(poller, Action::AskHeaders);
    EXPECT_EQ(ask.refresh, refresh);
    EXPECT_EQ(ask.url, poller.url());
    EXPECT_EQ(ask.request_id, poller.current_request());
    EXPECT_TRUE(poller.awaiting_headers());
    EXPECT_TRUE(poller.on_headers(now, ask.request_id, std::move(headers)));
    Action request = take(poller, Action::StartRequest);
    EXPECT_EQ(request.request_id, ask.request_id);
    EXPECT_FALSE(poller.awaiting_headers());
    EXPECT_NO_ACTIONS(poller);
    return request;
}

std::vector<Header> token(const std::string& value) { return {Header{"Authorization", "Bearer " + value}}; }

// Started, its first request sent with token "a".
Poller started(PollerConfig config = asking_config()) {
    Poller poller(std::move(config));
    EXPECT_TRUE(poller.start(0));
    skip_state_change(poller);
    answer_headers(poller, 1, token("a"));
    return poller;
}

// Answers the request in flight with a 200 and sends the next one with token `next`.
void succeed(Poller& poller, Millis now, const std::string& next = "a") {
    ASSERT_TRUE(poller.on_response(now, poller.current_request(), ok()));
    skip_state_change(poller);
    take(poller, Action::Deliver);
    answer_headers(poller, now, token(next));
}

TEST(Headers, EveryRequestWaitsForItsHeaders) {
    Poller poller(asking_config());
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Action ask = take(poller, Action::AskHeaders);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_EQ(ask.request_id, 1u);
    EXPECT_FALSE(ask.refresh);
    EXPECT_EQ(ask.url, kUrl);
    EXPECT_STATE(poller, State::Connecting);
    // Nothing was sent: an answer to it is refused, and so is one for another request.
    EXPECT_FALSE(poller.on_response(5, 1, ok()));
    EXPECT_FALSE(poller.on_network_failure(5, 1));
    EXPECT_FALSE(poller.on_progress(5, 1, ok(), 100, 100));
    EXPECT_FALSE(poller.on_headers(5, 2, token("a")));
    EXPECT_FALSE(poller.on_headers_failed(5, 2, "nope"));
    EXPECT_NO_ACTIONS(poller);

    ASSERT_TRUE(poller.on_headers(5, 1, token("a")));
    Action request = take(poller, Action::StartRequest);
    EXPECT_EQ(request.request_id, 1u);
    EXPECT_EQ(header(request, "Authorization"), "Bearer a");
    EXPECT_EQ(poller.next_deadline(), 0 + kTimeout) << "the timeout counts from the ask";
    // Answered once only.
    EXPECT_FALSE(poller.on_headers(6, 1, token("b")));
    EXPECT_NO_ACTIONS(poller);

    // The next request, after a success, asks again and carries the cursor too.
    ASSERT_TRUE(poller.on_response(10, 1, ok()));
    take(poller, Action::StateChanged);
    take(poller, Action::Deliver);
    Action next = answer_headers(poller, 10, token("b"));
    EXPECT_EQ(header(next, "Authorization"), "Bearer b");
    EXPECT_EQ(header(next, "If-None-Match"), "3");
    EXPECT_EQ(header(next, "If-Modified-Since"), "Wed, 01 Jan 2025 00:00:00 GMT");
}

TEST(Headers, ConfiguredAskedAndCursorHeadersMergeByNameLaterWinning) {
    PollerConfig config = asking_config();
    config.headers = {{"X-App", "configured"}, {"Authorization", "Bearer configured"}};
    Poller poller = started(config);
    ASSERT_TRUE(poller.on_response(10, poller.current_request(), ok()));
    skip_state_change(poller);
    take(poller, Action::Deliver);
    // Names compare without case; a caller's If-None-Match cannot displace the cursor's.
    Action request =
        answer_headers(poller, 10, {{"authorization", "Bearer asked"}, {"If-None-Match", "999"}, {"X-Other", "o"}});
    EXPECT_EQ(header(request, "X-App"), "configured");
    EXPECT_EQ(header(request, "Authorization"), "Bearer asked");
    EXPECT_EQ(header(request, "X-Other"), "o");
    EXPECT_EQ(header(request, "If-None-Match"), "3");
    EXPECT_EQ(request.headers.size(), 5u);
}

TEST(Headers, WithoutAskingConfiguredHeadersGoStraightOut) {
    PollerConfig config = asking_config();
    config.ask_headers = false;
    config.headers = {{"X-App", "configured"}};
    config.with_credentials = true;
    Poller poller(config);
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Action request = take(poller, Action::StartRequest);
    EXPECT_EQ(header(request, "X-App"), "configured");
    EXPECT_TRUE(request.with_credentials);
    EXPECT_FALSE(poller.awaiting_headers());
}

TEST(Headers, CredentialsGoWithEveryRequestOnlyWhenConfigured) {
    for (bool credentials : {false, true}) {
        PollerConfig config = asking_config();
        config.with_credentials = credentials;
        Poller poller(config);
        ASSERT_TRUE(poller.start(0));
        take(poller, Action::StateChanged);
        Action ask = take(poller, Action::AskHeaders);
        ASSERT_TRUE(poller.on_headers(1, ask.request_id, {}));
        EXPECT_EQ(take(poller, Action::StartRequest).with_credentials, credentials);
    }
}

TEST(Headers, AFailingCallerIsReportedAndBackedOffAtTheSameUrl) {
    PollerConfig config = asking_config();
    config.urls = {kUrl, kOtherUrl};
    Poller poller(config);
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Millis now = 0;
    Millis previous_ceiling = 0;
    for (uint32_t failure = 1; failure <= 4; ++failure) {
        Action ask = take(poller, Action::AskHeaders);
        EXPECT_FALSE(ask.refresh);
        ASSERT_TRUE(
            poller.on_headers_failed(now, ask.request_id, "the headers function threw TypeError: x is undefined"));
        EXPECT_STATE(poller, State::Waiting);
        take(poller, Action::StateChanged);
        Action report = take(poller, Action::Report);
        EXPECT_NO_ACTIONS(poller) << "no UrlChanged: the server did not fail";
        EXPECT_EQ(report.cause, Action::HeadersFn);
        EXPECT_EQ(report.status, 0);
        EXPECT_FALSE(report.has_response);
        EXPECT_EQ(report.error_thrown, "the headers function threw TypeError: x is undefined");
        EXPECT_NE(report.detail.find(std::string(kUrl) + " was not sent: the headers function threw TypeError: x is "
                                                         "undefined; retrying in "),
                  npos)
            << report.detail;
        EXPECT_NE(report.detail.find("retrying in " + std::to_string(report.retry_in) + " ms"), npos);
        EXPECT_NE(report.detail.find("failure " + std::to_string(failure) + " in a row"), npos) << report.detail;
        // The backoff: [ceiling / 10, ceiling], the ceiling doubling from retry_delay.
        Millis ceiling = std::min<Millis>(kMaxRetry, kRetry << (failure - 1));
        EXPECT_GE(report.retry_in, ceiling / 10);
        EXPECT_LE(report.retry_in, ceiling);
        EXPECT_GT(ceiling, previous_ceiling);
        previous_ceiling = ceiling;
        EXPECT_EQ(poller.url(), kUrl);
        EXPECT_FALSE(poller.on_timer(now + report.retry_in - 1));
        now += report.retry_in;
        ASSERT_TRUE(poller.on_timer(now));
        take(poller, Action::StateChanged);
    }
    // A caller that answers again ends the run.
    answer_headers(poller, now, token("a"));
    ASSERT_TRUE(poller.on_response(now + 5, poller.current_request(), ok()));
    EXPECT_EQ(poller.failures(), 0u);
}

TEST(Headers, AnAskNeverAnsweredFailsAtTheTimeout) {
    Poller poller(asking_config());
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Action ask = take(poller, Action::AskHeaders);
    EXPECT_EQ(poller.next_deadline(), kTimeout);
    EXPECT_FALSE(poller.on_timer(kTimeout - 1));
    ASSERT_TRUE(poller.on_timer(kTimeout));
    take(poller, Action::StateChanged);
    Action report = take(poller, Action::Report);
    EXPECT_NO_ACTIONS(poller) << "nothing was sent, so nothing is aborted";
    EXPECT_EQ(report.cause, Action::HeadersFn);
    EXPECT_NE(report.detail.find("was not sent: its headers did not arrive within the timeout (30000 ms); retrying"),
              npos)
        << report.detail;
    // The late answer is refused.
    EXPECT_FALSE(poller.on_headers(kTimeout + 1, ask.request_id, token("late")));
    EXPECT_NO_ACTIONS(poller);
    EXPECT_STATE(poller, State::Waiting);
}

TEST(Headers, UnauthorizedAsksForFreshHeadersAndRetriesAtOnceOncePerRun) {
    for (int status : {401, 403}) {
        SCOPED_TRACE(status);
        Poller poller = started();
        succeed(poller, 10);
        EXPECT_STATE(poller, State::Open);
        Response refused = response(status, status == 401 ? "Unauthorized" : "Forbidden", "", "no");
        ASSERT_TRUE(poller.on_response(20, poller.current_request(), refused));
        // Open -> Connecting: a failure, answered at once.
        Action changed = take(poller, Action::StateChanged);
        EXPECT_EQ(changed.to, State::Connecting);
        Action report = take(poller, Action::Report);
        EXPECT_EQ(report.cause, Action::Refreshing);
        EXPECT_EQ(report.status, status);
        EXPECT_EQ(report.retry_in, 0);
        EXPECT_TRUE(report.has_response);
        EXPECT_TRUE(report.has_body);
        EXPECT_NE(report.detail.find("asking for fresh headers and retrying at once"), npos) << report.detail;
        Action retry = answer_headers(poller, 20, token("fresh"), /*refresh=*/true);
        EXPECT_EQ(header(retry, "Authorization"), "Bearer fresh");
        EXPECT_EQ(header(retry, "If-None-Match"), "3") << "the cursor stays";
        EXPECT_EQ(poller.failures(), 0u);

        // Refused again in the same run: the slow path, said so, no second refresh.
        ASSERT_TRUE(poller.on_response(30, poller.current_request(), refused));
        take(poller, Action::StateChanged);
        Action slow = take(poller, Action::Report);
        EXPECT_EQ(slow.cause, Action::Response);
        EXPECT_GE(slow.retry_in, kMaxRetry / 2);
        EXPECT_LE(slow.retry_in, kMaxRetry);
        EXPECT_NE(slow.detail.find("again, with fresh headers"), npos) << slow.detail;
        EXPECT_NO_ACTIONS(poller);
        EXPECT_STATE(poller, State::Waiting);

        // Every later try of the run asks normally and stays on the slow path: never a loop.
        Millis now = 30 + slow.retry_in;
        for (int round = 0; round < 3; ++round) {
            ASSERT_TRUE(poller.on_timer(now));
            take(poller, Action::StateChanged);
            answer_headers(poller, now, token("still-bad"), /*refresh=*/false);
            ASSERT_TRUE(poller.on_response(now + 5, poller.current_request(), refused));
            take(poller, Action::StateChanged);
            Action again = take(poller, Action::Report);
            EXPECT_EQ(again.cause, Action::Response);
            EXPECT_GE(again.retry_in, kMaxRetry / 2);
            now += 5 + again.retry_in;
        }

        // A success ends the run: the next refusal may refresh again.
        ASSERT_TRUE(poller.on_timer(now));
        take(poller, Action::StateChanged);
        answer_headers(poller, now, token("good"));
        succeed(poller, now + 5);
        ASSERT_TRUE(poller.on_response(now + 10, poller.current_request(), refused));
        take(poller, Action::StateChanged);
        EXPECT_EQ(take(poller, Action::Report).cause, Action::Refreshing);
        take(poller, Action::AskHeaders);
    }
}

TEST(Headers, UnauthorizedWithoutAskingTakesTheSlowPath) {
    PollerConfig config = asking_config();
    config.ask_headers = false;
    Poller poller(config);
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Action request = take(poller, Action::StartRequest);
    ASSERT_TRUE(poller.on_response(5, request.request_id, unauthorized()));
    take(poller, Action::StateChanged);
    Action report = take(poller, Action::Report);
    EXPECT_EQ(report.cause, Action::Response);
    EXPECT_GE(report.retry_in, kMaxRetry / 2);
    EXPECT_EQ(report.detail.find("fresh headers"), npos) << report.detail;
}

TEST(Headers, UnauthorizedFromHeadersThatCannotChangeTakesTheSlowPath) {
    // Asked before every request (the page's $.ajaxSettings.headers, say), but from no
    // function that could fetch new ones: a 403 from a location that refuses unknown channels
    // must not be retried at once.
    PollerConfig config = asking_config();
    config.refresh_headers = false;
    Poller poller = started(config);
    ASSERT_TRUE(poller.on_response(5, poller.current_request(), response(403, "Forbidden")));
    take(poller, Action::StateChanged);
    Action report = take(poller, Action::Report);
    EXPECT_EQ(report.cause, Action::Response);
    EXPECT_GE(report.retry_in, kMaxRetry / 2);
    EXPECT_NO_ACTIONS(poller);
}

TEST(Headers, ARefreshAfterAFailedCallerStillHappensOncePerRun) {
    Poller poller = started();
    ASSERT_TRUE(poller.on_response(5, poller.current_request(), unauthorized()));
    EXPECT_EQ(take(poller, Action::Report).cause, Action::Refreshing) << "connecting stays connecting";
    Action ask = take(poller, Action::AskHeaders);
    EXPECT_TRUE(ask.refresh);
    // The function fails when asked to refresh: reported and backed off like any failure.
    ASSERT_TRUE(poller.on_headers_failed(6, ask.request_id, "login required"));
    take(poller, Action::StateChanged);
    Action report = take(poller, Action::Report);
    EXPECT_EQ(report.cause, Action::HeadersFn);
    EXPECT_GT(report.retry_in, 0);
    ASSERT_TRUE(poller.on_timer(6 + report.retry_in));
    take(poller, Action::StateChanged);
    answer_headers(poller, 6 + report.retry_in, token("b"), /*refresh=*/false);
    // Still the same run: no second refresh.
    ASSERT_TRUE(poller.on_response(7 + report.retry_in, poller.current_request(), unauthorized()));
    take(poller, Action::StateChanged);
    EXPECT_EQ(take(poller, Action::Report).cause, Action::Response);
}

TEST(Headers, PausingOrClosingWhileAskingAbortsNothingAndRefusesTheLateAnswer) {
    using Input = bool (Poller::*)(Millis);
    const struct {
        const char* name;
        Input input;
        State to;
    } cases[] = {{"offline", &Poller::go_offline, State::Offline}, {"suspend", &Poller::suspend, State::Suspended}};
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        Poller poller(asking_config());
        ASSERT_TRUE(poller.start(0));
        take(poller, Action::StateChanged);
        Action ask = take(poller, Action::AskHeaders);
        ASSERT_TRUE((poller.*c.input)(5));
        take(poller, Action::StateChanged);
        EXPECT_NO_ACTIONS(poller) << "no AbortRequest: nothing was sent";
        EXPECT_STATE(poller, c.to);
        EXPECT_FALSE(poller.on_headers(6, ask.request_id, token("late")));
        EXPECT_FALSE(poller.next_deadline().has_value());
        EXPECT_NO_ACTIONS(poller);
    }
    Poller poller(asking_config());
    ASSERT_TRUE(poller.start(0));
    poller.clear_actions();
    ASSERT_TRUE(poller.close());
    take(poller, Action::StateChanged);
    EXPECT_NO_ACTIONS(poller);
    EXPECT_FALSE(poller.on_headers(6, 1, token("late")));
    EXPECT_FALSE(poller.on_headers_failed(6, 1, "late"));
}

TEST(Headers, TheCursorInTheQueryReplacesItsHeaders) {
    PollerConfig config = asking_config();
    config.ask_headers = false;
    config.cursor_in_query = true;
    config.cache_buster = "tok";
    Poller poller(config);
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    Action first = take(poller, Action::StartRequest);
    EXPECT_EQ(first.url, std::string(kUrl) + "&_=tok-1");
    EXPECT_TRUE(first.headers.empty());

    // Nchan's multiplexed tag, percent-encoded; the seconds of Last-Modified.
    ASSERT_TRUE(poller.on_response(5, first.request_id, ok(kCompoundHeaders)));
    take(poller, Action::StateChanged);
    Action delivered = take(poller, Action::Deliver);
    EXPECT_EQ(delivered.cursor.etag, "0,[0],-");
    Action next = take(poller, Action::StartRequest);
    EXPECT_EQ(next.url,
              std::string(kUrl) + "&last_event_id=" + std::to_string(kLastModifiedSeconds) + ":0,[0],-&_=tok-2");
    EXPECT_TRUE(next.headers.empty()) << "no If-None-Match, no If-Modified-Since: no preflight";

    // A URL without a query gets one; without a cache buster, only the cursor.
    config.urls = {"http://127.0.0.1:8080/sub/news"};
    config.cache_buster.clear();
    config.cursor = Cursor{"Wed, 01 Jan 2025 00:00:00 GMT", "7"};
    Poller resumed(config);
    ASSERT_TRUE(resumed.start(0));
    take(resumed, Action::StateChanged);
    EXPECT_EQ(take(resumed, Action::StartRequest).url,
              "http://127.0.0.1:8080/sub/news?last_event_id=" + std::to_string(kLastModifiedSeconds) + ":7");
}

// Nchan reads at most 128 bytes of last_event_id, as it stands in the URL, and drops a longer
// one without a word (the poll would start from the oldest buffered message): such a cursor
// goes in the headers. Anything but unreserved characters and ",[]" is percent-encoded.
TEST(Headers, ACursorTooLongForNchansQueryGoesInTheHeaders) {
    PollerConfig config = asking_config();
    config.ask_headers = false;
    config.cursor_in_query = true;
    config.cache_buster = "tok";
    auto tags = [](int channels) {
        std::string tag = "[0]";
        for (int i = 1; i < channels; ++i) tag += ",-";
        return tag;
    };
    // 10 digits, ':', then 2 * channels + 1 bytes: 58 channels make 128.
    struct Case {
        std::string etag;
        bool in_query;
    };
    for (const Case& c : {Case{tags(58), true}, Case{tags(59), false}, Case{tags(255), false}, Case{"a b%&\"", true},
                          Case{std::string(117, 'x'), true}, Case{std::string(118, 'x'), false},
                          Case{std::string(39, ' '), true}, Case{std::string(40, ' '), false}}) {
        SCOPED_TRACE(c.etag);
        config.cursor = Cursor{"Wed, 01 Jan 2025 00:00:00 GMT", c.etag};
        Poller poller(config);
        ASSERT_TRUE(poller.start(0));
        take(poller, Action::StateChanged);
        Action request = take(poller, Action::StartRequest);
        size_t at = request.url.find("last_event_id=");
        EXPECT_EQ(at != npos, c.in_query) << request.url;
        if (c.in_query) {
            std::string value = request.url.substr(at + 14, request.url.find('&', at) - at - 14);
            EXPECT_LE(value.size(), 128u);
            EXPECT_EQ(header(request, "If-None-Match"), "<absent>");
            if (c.etag == "a b%&\"") {
                EXPECT_EQ(value, std::to_string(kLastModifiedSeconds) + ":a%20b%25%26%22");
            }
        } else {
            EXPECT_EQ(header(request, "If-None-Match"), c.etag);
            EXPECT_EQ(header(request, "If-Modified-Since"), "Wed, 01 Jan 2025 00:00:00 GMT");
        }
        EXPECT_NE(request.url.find("_=tok-1"), npos) << "the cache buster either way";
    }
}

TEST(Headers, TheCompoundTagTravelsBackExactlyInTheHeaderToo) {
    Poller poller = started();
    ASSERT_TRUE(poller.on_response(5, poller.current_request(), ok(kCompoundHeaders)));
    skip_state_change(poller);
    take(poller, Action::Deliver);
    Action next = answer_headers(poller, 5, {});
    EXPECT_EQ(header(next, "If-None-Match"), "0,[0],-");
}

TEST(Headers, ANetworkFailureFromAnotherOriginSaysTheServerMayNotAllowThisOne) {
    struct Case {
        const char* page_origin;
        bool credentials;
        bool mentions_origin;
    };
    for (const Case& c : {Case{"http://127.0.0.1:9000", false, true}, Case{"http://127.0.0.1:9000", true, true},
                          Case{"http://127.0.0.1:8080", false, false}, Case{"", false, false}}) {
        SCOPED_TRACE(std::string(c.page_origin) + (c.credentials ? " with credentials" : ""));
        PollerConfig config = asking_config();
        config.ask_headers = false;
        config.page_origin = c.page_origin;
        config.with_credentials = c.credentials;
        Poller poller(config);
        ASSERT_TRUE(poller.start(0));
        poller.clear_actions();
        ASSERT_TRUE(poller.on_network_failure(5, poller.current_request()));
        take(poller, Action::StateChanged);
        Action report = take(poller, Action::Report);
        EXPECT_EQ(report.status, 0);
        bool mentions = report.detail.find("does not allow this page's origin http://127.0.0.1:9000") != npos;
        EXPECT_EQ(mentions, c.mentions_origin) << report.detail;
        EXPECT_EQ(report.detail.find("Access-Control-Allow-Credentials") != npos, c.credentials) << report.detail;
        EXPECT_NE(report.detail.find("retrying in"), npos);
    }
}

TEST(Headers, NamesOfTheNewEventsAndActions) {
    EXPECT_STREQ(name_of(Event::Unauthorized), "unauthorized");
    EXPECT_STREQ(name_of(Event::HeadersReady), "headers-ready");
    EXPECT_STREQ(name_of(Event::HeadersFailed), "headers-failed");
    EXPECT_STREQ(name_of(Action::AskHeaders), "AskHeaders");
}

TEST(Headers, HeldCountsFromTheSendNotTheAsk) {
    PollerConfig config = asking_config();
    config.open_after = PollerConfig().open_after;
    Poller poller(config);
    ASSERT_TRUE(poller.start(0));
    take(poller, Action::StateChanged);
    take(poller, Action::AskHeaders);
    // While the page's function works, nothing has reached the server: no grace runs.
    EXPECT_EQ(poller.next_deadline(), kTimeout);
    EXPECT_FALSE(poller.on_timer(1000));
    EXPECT_STATE(poller, State::Connecting);
    ASSERT_TRUE(poller.on_headers(2500, 1, token("a")));
    take(poller, Action::StartRequest);
    EXPECT_EQ(poller.next_deadline(), 3500);
    EXPECT_FALSE(poller.on_timer(3499));
    ASSERT_TRUE(poller.on_timer(3500));
    EXPECT_STATE(poller, State::Open);
}

}  // namespace
}  // namespace comet
