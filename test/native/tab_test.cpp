// The shared-tab and resume machine, driven with a fake clock (plain Millis values). Every test
// asserts both the state and the exact actions that came out, in order.
#include "tab.hpp"

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace comet {
namespace {

constexpr Millis kSettle = 100;  // TabConfig's default
const char kDate[] = "Wed, 01 Jan 2025 00:00:00 GMT";

// A whole id: an IMF-fixdate and a tag.
Cursor id(const char* etag) { return Cursor{kDate, etag}; }
// Ids that are not whole: a header block cut short.
const Cursor kNoTag{kDate, ""};
const Cursor kCutDate{"Wed, 01 Jan 2025", "3"};
const Cursor kNoDate{"", "3"};

TabConfig solo_config(bool resume = false) {
    TabConfig c;
    c.shared = false;
    c.resume = resume;
    return c;
}

TabConfig shared_config(bool resume = false) {
    TabConfig c;
    c.shared = true;
    c.resume = resume;
    return c;
}

// ---------------------------------------------------------------------------------------------
// Reading the actions.

std::string cursor_text(const Cursor& cursor) {
    return cursor.empty() ? std::string("(none)") : "[" + cursor.last_modified + " | " + cursor.etag + "]";
}

std::string describe(const TabAction& a) {
    switch (a.kind) {
        case TabAction::StartPoll: return "StartPoll(" + cursor_text(a.cursor) + (a.offline ? ", offline" : "") + ")";
        case TabAction::PollInput: return std::string("PollInput(") + name_of(a.event) + ")";
        case TabAction::PostWelcome: return "PostWelcome(" + cursor_text(a.cursor) + ", " + name_of(a.state) + ")";
        case TabAction::PostState: return std::string("PostState(") + name_of(a.to) + ")";
        case TabAction::DeliverOwn:
            return "DeliverOwn(" + std::string(a.relay ? "relay, " : "") + cursor_text(a.previous) + " -> " +
                   cursor_text(a.cursor) + ")";
        case TabAction::ReportOwn: return a.relay ? "ReportOwn(relay)" : "ReportOwn";
        case TabAction::SaveCursor: return "SaveCursor(" + cursor_text(a.cursor) + ")";
        case TabAction::ShowState: return std::string("ShowState(") + name_of(a.from) + "->" + name_of(a.to) + ")";
        case TabAction::Note: return std::string(a.warning ? "Note(warning: " : "Note(") + a.text + ")";
        default: return name_of(a.kind);
    }
}

std::string pending(Tab& tab) {
    std::string out;
    for (const TabAction& action : tab.actions()) out += "\n  " + describe(action);
    return out.empty() ? " (none)" : out;
}

// Removes the oldest action (through take_action(), as the adapter does), which must be a `kind`.
TabAction take(Tab& tab, TabAction::Kind kind) {
    std::optional<TabAction> action = tab.take_action();
    if (!action) {
        ADD_FAILURE() << "expected " << name_of(kind) << ", but no action is left";
        return TabAction{};
    }
    if (action->kind != kind) {
        ADD_FAILURE() << "expected " << name_of(kind) << ", got " << describe(*action);
        return TabAction{};
    }
    return std::move(*action);
}

#define EXPECT_NO_ACTIONS(tab) EXPECT_TRUE((tab).actions().empty()) << "left over:" << pending(tab)
#define EXPECT_STATE(tab, expected) EXPECT_EQ(name_of((tab).state()), std::string(name_of(expected)))
#define EXPECT_SHOWN(tab, expected) EXPECT_EQ(name_of((tab).shown()), std::string(name_of(expected)))
// Cursors compare as text, so that a failure prints both.
#define EXPECT_CURSOR(actual, expected) EXPECT_EQ(cursor_text(actual), cursor_text(expected))

void expect_start(Tab& tab, const Cursor& cursor, bool offline = false) {
    TabAction start = take(tab, TabAction::StartPoll);
    EXPECT_CURSOR(start.cursor, cursor);
    EXPECT_EQ(start.offline, offline);
}

void expect_poll_input(Tab& tab, Event event) {
    TabAction input = take(tab, TabAction::PollInput);
    EXPECT_EQ(name_of(input.event), std::string(name_of(event)));
}

// Returns the line, for a look at its text.
std::string expect_note(Tab& tab, bool warning) {
    TabAction note = take(tab, TabAction::Note);
    EXPECT_EQ(note.warning, warning) << note.text;
    EXPECT_FALSE(note.text.empty());
    return note.text;
}

void expect_show(Tab& tab, State from, State to) {
    TabAction show = take(tab, TabAction::ShowState);
    EXPECT_EQ(name_of(show.from), std::string(name_of(from)));
    EXPECT_EQ(name_of(show.to), std::string(name_of(to)));
}

void expect_save(Tab& tab, const Cursor& cursor) { EXPECT_CURSOR(take(tab, TabAction::SaveCursor).cursor, cursor); }

void expect_deliver_own(Tab& tab, bool relay, const Cursor& previous, const Cursor& cursor) {
    TabAction own = take(tab, TabAction::DeliverOwn);
    EXPECT_EQ(own.relay, relay);
    EXPECT_CURSOR(own.previous, previous);
    EXPECT_CURSOR(own.cursor, cursor);
}

void expect_welcome(Tab& tab, const Cursor& cursor, State state) {
    TabAction welcome = take(tab, TabAction::PostWelcome);
    EXPECT_CURSOR(welcome.cursor, cursor);
    EXPECT_EQ(name_of(welcome.state), std::string(name_of(state)));
}

void expect_post_state(Tab& tab, State to) {
    EXPECT_EQ(name_of(take(tab, TabAction::PostState).to), std::string(name_of(to)));
}

// What following looks like: ask for the lock, and say so.
void expect_follow(Tab& tab) {
    take(tab, TabAction::RequestLock);
    expect_note(tab, false);
}

// A shared tab that has begun (from `saved`, with resume) and follows; actions cleared.
Tab following(TabConfig config, const std::optional<Cursor>& saved = std::nullopt, bool online = true) {
    config.shared = true;
    Tab tab(config);
    EXPECT_TRUE(tab.begin(0, saved, online));
    EXPECT_STATE(tab, TabState::Following);
    tab.actions().clear();
    return tab;
}

// ... that got the lock at t=1000 and settles until 1000 + settle.
Tab settling(TabConfig config, const std::optional<Cursor>& saved = std::nullopt) {
    Tab tab = following(config, saved);
    EXPECT_TRUE(tab.lock_granted(1000));
    EXPECT_STATE(tab, TabState::Settling);
    tab.actions().clear();
    return tab;
}

// ... that has settled and polls for every tab.
Tab leading(TabConfig config, const std::optional<Cursor>& saved = std::nullopt) {
    Tab tab = settling(config, saved);
    EXPECT_TRUE(tab.on_timer(1000 + config.settle));
    EXPECT_STATE(tab, TabState::Leading);
    tab.actions().clear();
    return tab;
}

// A tab that polls alone; actions cleared.
Tab solo(TabConfig config, const std::optional<Cursor>& saved = std::nullopt, bool online = true) {
    config.shared = false;
    Tab tab(config);
    EXPECT_TRUE(tab.begin(0, saved, online));
    EXPECT_STATE(tab, TabState::Solo);
    tab.actions().clear();
    return tab;
}

// ---------------------------------------------------------------------------------------------
// Begin, alone.

TEST(TabBegin, DefaultsAreSoloWithoutResumeAndASettleOf100) {
    TabConfig config;
    EXPECT_FALSE(config.shared);
    EXPECT_FALSE(config.resume);
    EXPECT_EQ(config.settle, kSettle);
    EXPECT_EQ(config.history, 64u);

    Tab tab(config);
    EXPECT_STATE(tab, TabState::Idle);
    EXPECT_SHOWN(tab, State::Connecting);
    EXPECT_CURSOR(tab.cursor(), Cursor{});
    EXPECT_FALSE(tab.next_deadline().has_value());
    EXPECT_NO_ACTIONS(tab);
    EXPECT_FALSE(tab.take_action().has_value());
}

TEST(TabBegin, SoloStartsThePollAsANewSubscriber) {
    Tab tab(solo_config());
    EXPECT_TRUE(tab.begin(0, std::nullopt, true));
    EXPECT_STATE(tab, TabState::Solo);
    expect_start(tab, Cursor{});
    EXPECT_NO_ACTIONS(tab);
    EXPECT_FALSE(tab.take_action().has_value());
    EXPECT_CURSOR(tab.cursor(), Cursor{});
    EXPECT_FALSE(tab.next_deadline().has_value());
}

TEST(TabBegin, SoloWithResumeStartsFromAWholeSavedCursor) {
    Tab tab(solo_config(true));
    EXPECT_TRUE(tab.begin(0, id("3"), true));
    EXPECT_STATE(tab, TabState::Solo);
    const std::string note = expect_note(tab, false);
    EXPECT_NE(note.find("3"), std::string::npos) << note;
    expect_start(tab, id("3"));
    EXPECT_NO_ACTIONS(tab);  // nothing to save: it is what storage holds
    EXPECT_CURSOR(tab.cursor(), id("3"));
}

TEST(TabBegin, ABrokenSavedCursorWarnsAndStartsAnew) {
    for (const Cursor& broken : {kNoTag, kCutDate, kNoDate}) {
        SCOPED_TRACE(cursor_text(broken));
        Tab tab(solo_config(true));
        EXPECT_TRUE(tab.begin(0, broken, true));
        EXPECT_STATE(tab, TabState::Solo);
        expect_note(tab, true);
        expect_start(tab, Cursor{});
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), Cursor{});
    }
}

TEST(TabBegin, WithoutResumeASavedCursorIsIgnored) {
    for (const Cursor& saved : {id("3"), kNoTag}) {
        SCOPED_TRACE(cursor_text(saved));
        Tab tab(solo_config(false));
        EXPECT_TRUE(tab.begin(0, saved, true));
        expect_start(tab, Cursor{});
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), Cursor{});
    }
}

TEST(TabBegin, OfflineStartsThePollOffline) {
    Tab tab(solo_config(true));
    EXPECT_TRUE(tab.begin(0, id("3"), false));
    expect_note(tab, false);
    expect_start(tab, id("3"), true);
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabBegin, BeginningTwiceIsRefused) {
    for (bool shared : {false, true}) {
        SCOPED_TRACE(shared ? "shared" : "solo");
        TabConfig config = shared ? shared_config(true) : solo_config(true);
        Tab tab(config);
        EXPECT_TRUE(tab.begin(0, id("1"), true));
        tab.actions().clear();
        const TabState state = tab.state();
        EXPECT_FALSE(tab.begin(10, id("2"), false));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, state);
        EXPECT_CURSOR(tab.cursor(), id("1"));
    }
}

// ---------------------------------------------------------------------------------------------
// Begin, shared: follow, get the lock, settle, lead.

TEST(TabShared, BeginSaysHelloAndAsksForTheLock) {
    Tab tab(shared_config());
    EXPECT_TRUE(tab.begin(0, std::nullopt, true));
    EXPECT_STATE(tab, TabState::Following);
    take(tab, TabAction::PostHello);
    expect_follow(tab);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_FALSE(tab.next_deadline().has_value());
    EXPECT_CURSOR(tab.cursor(), Cursor{});
}

TEST(TabShared, BeginWithResumeTakesAWholeSavedCursorFirst) {
    Tab tab(shared_config(true));
    EXPECT_TRUE(tab.begin(0, id("3"), true));
    EXPECT_STATE(tab, TabState::Following);
    expect_note(tab, false);
    take(tab, TabAction::PostHello);
    expect_follow(tab);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("3"));
}

TEST(TabShared, BeginWithResumeWarnsOfABrokenSavedCursor) {
    Tab tab(shared_config(true));
    EXPECT_TRUE(tab.begin(0, kCutDate, true));
    expect_note(tab, true);
    take(tab, TabAction::PostHello);
    expect_follow(tab);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), Cursor{});
}

TEST(TabShared, TheLockHolderSettlesThenPolls) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.lock_granted(1000));
    EXPECT_STATE(tab, TabState::Settling);
    expect_note(tab, false);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_EQ(tab.next_deadline(), 1000 + kSettle);

    EXPECT_FALSE(tab.on_timer(1000));
    EXPECT_FALSE(tab.on_timer(1000 + kSettle - 1));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Settling);
    EXPECT_EQ(tab.next_deadline(), 1000 + kSettle);

    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    EXPECT_STATE(tab, TabState::Leading);
    expect_start(tab, Cursor{});
    EXPECT_NO_ACTIONS(tab);
    EXPECT_FALSE(tab.next_deadline().has_value());

    // No timer while leading.
    EXPECT_FALSE(tab.on_timer(1000 + 10 * kSettle));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Leading);
}

TEST(TabShared, TheSettleDelayIsTheConfigsAndALateTimerStillLeads) {
    TabConfig config = shared_config(true);
    config.settle = 250;
    Tab tab = following(config, id("3"));
    EXPECT_TRUE(tab.lock_granted(5000));
    expect_note(tab, false);
    EXPECT_EQ(tab.next_deadline(), 5250);
    EXPECT_FALSE(tab.on_timer(5249));
    EXPECT_TRUE(tab.on_timer(9000));
    expect_start(tab, id("3"));
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabShared, TheLockIsOnlyTakenWhileFollowing) {
    for (bool shared : {false, true}) {
        Tab tab(shared ? shared_config() : solo_config());
        EXPECT_FALSE(tab.lock_granted(0));  // idle
        EXPECT_STATE(tab, TabState::Idle);
        EXPECT_NO_ACTIONS(tab);
    }
    Tab alone = solo(solo_config());
    EXPECT_FALSE(alone.lock_granted(10));
    EXPECT_NO_ACTIONS(alone);
    EXPECT_STATE(alone, TabState::Solo);

    Tab tab = settling(shared_config());
    EXPECT_FALSE(tab.lock_granted(1050));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_EQ(tab.next_deadline(), 1000 + kSettle);  // not pushed back
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    tab.actions().clear();
    EXPECT_FALSE(tab.lock_granted(2000));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Leading);
}

TEST(TabShared, ANewLeaderPollsFromTheCursorOfTheLastBatchItDelivered) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.peer_batch(100, Cursor{}, id("1")));
    take(tab, TabAction::DeliverRelayed);
    EXPECT_NO_ACTIONS(tab);  // no SaveCursor without resume
    EXPECT_TRUE(tab.lock_granted(1000));
    expect_note(tab, false);
    // The old leader's last batch, while this tab settles.
    EXPECT_TRUE(tab.peer_batch(1050, id("1"), id("2")));
    take(tab, TabAction::DeliverRelayed);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("2"));
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    expect_start(tab, id("2"));
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabShared, OfflineWhileFollowingIsRecordedForTheStart) {
    Tab tab = following(shared_config());
    EXPECT_FALSE(tab.go_offline(10));  // nothing to tell: no poll
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Following);
    EXPECT_TRUE(tab.lock_granted(1000));
    expect_note(tab, false);
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    expect_start(tab, Cursor{}, true);
    EXPECT_NO_ACTIONS(tab);
    // The leader's poll hears the browser from now on.
    EXPECT_TRUE(tab.go_online(2000));
    expect_poll_input(tab, Event::GoOnline);
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabShared, BackOnlineWhileFollowingStartsOnline) {
    Tab tab = following(shared_config());
    EXPECT_FALSE(tab.go_offline(10));
    EXPECT_FALSE(tab.go_online(20));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_TRUE(tab.lock_granted(1000));
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    expect_note(tab, false);
    expect_start(tab, Cursor{}, false);
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabShared, OfflineWhileSettlingOrSinceBeginIsRecordedForTheStart) {
    {
        SCOPED_TRACE("settling");
        Tab tab = settling(shared_config());
        EXPECT_FALSE(tab.go_offline(1010));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, TabState::Settling);
        EXPECT_TRUE(tab.on_timer(1000 + kSettle));
        expect_start(tab, Cursor{}, true);
        EXPECT_NO_ACTIONS(tab);
    }
    {
        SCOPED_TRACE("begin");
        Tab tab = following(shared_config(), std::nullopt, false);
        EXPECT_TRUE(tab.lock_granted(1000));
        EXPECT_TRUE(tab.on_timer(1000 + kSettle));
        expect_note(tab, false);
        expect_start(tab, Cursor{}, true);
        EXPECT_NO_ACTIONS(tab);
    }
}

// ---------------------------------------------------------------------------------------------
// Another tab's batches: deliver, drop as a late copy, or deliver and keep the cursor.

TEST(TabPeerBatch, ABatchStartingWhereTheTabStandsIsDelivered) {
    for (bool resume : {false, true}) {
        SCOPED_TRACE(resume ? "resume" : "no resume");
        Tab tab = following(shared_config(resume));
        EXPECT_TRUE(tab.peer_batch(10, Cursor{}, id("1")));
        take(tab, TabAction::DeliverRelayed);
        if (resume) expect_save(tab, id("1"));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("1"));

        EXPECT_TRUE(tab.peer_batch(20, id("1"), id("2")));
        take(tab, TabAction::DeliverRelayed);
        if (resume) expect_save(tab, id("2"));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("2"));
        EXPECT_STATE(tab, TabState::Following);
    }
}

TEST(TabPeerBatch, ABatchThatDoesNotMoveTheCursorIsDeliveredWithoutASave) {
    Tab tab = following(shared_config(true), id("1"));
    EXPECT_TRUE(tab.peer_batch(10, id("1"), id("1")));
    take(tab, TabAction::DeliverRelayed);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("1"));
}

TEST(TabPeerBatch, ALateCopyIsDropped) {
    for (bool resume : {false, true}) {
        SCOPED_TRACE(resume ? "resume" : "no resume");
        Tab tab = following(shared_config(resume));
        EXPECT_TRUE(tab.peer_batch(5, Cursor{}, id("1")));
        EXPECT_TRUE(tab.peer_batch(10, id("1"), id("2")));
        tab.actions().clear();
        // The old leader's copy of the batch the new leader already relayed.
        EXPECT_TRUE(tab.peer_batch(20, id("1"), id("2")));
        take(tab, TabAction::DropLateCopy);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("2"));
        // ... whatever cursor it ends at, even one that is not whole.
        EXPECT_TRUE(tab.peer_batch(30, id("1"), kNoTag));
        take(tab, TabAction::DropLateCopy);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("2"));
        EXPECT_STATE(tab, TabState::Following);
    }
}

TEST(TabPeerBatch, ABatchFromSomewhereNewIsDelivered) {
    Tab tab = following(shared_config(true), id("1"));
    EXPECT_TRUE(tab.peer_batch(10, id("1"), id("2")));
    tab.actions().clear();
    // This tab missed 2 -> 5 (frozen, say): it cannot get it back, so it takes what comes.
    EXPECT_TRUE(tab.peer_batch(20, id("5"), id("6")));
    take(tab, TabAction::DeliverRelayed);
    expect_save(tab, id("6"));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("6"));
    // 2 is now a cursor it moved past: a batch from there is a late copy.
    EXPECT_TRUE(tab.peer_batch(30, id("2"), id("3")));
    take(tab, TabAction::DropLateCopy);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("6"));
}

TEST(TabPeerBatch, ABatchStartingWhereTheTabStandsIsDeliveredEvenIfItStoodThereBefore) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.peer_batch(5, Cursor{}, id("1")));
    EXPECT_TRUE(tab.peer_batch(10, id("1"), id("2")));
    EXPECT_TRUE(tab.peer_batch(20, id("2"), id("1")));  // back to 1, which it has moved past
    tab.actions().clear();
    EXPECT_TRUE(tab.peer_batch(30, id("1"), id("2")));
    take(tab, TabAction::DeliverRelayed);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("2"));
}

TEST(TabPeerBatch, ABatchWhoseCursorIsNotWholeIsDeliveredButTheTabKeepsItsCursor) {
    for (const Cursor& broken : {kNoTag, kCutDate, kNoDate}) {
        SCOPED_TRACE(cursor_text(broken));
        Tab tab = following(shared_config(true), id("1"));
        EXPECT_TRUE(tab.peer_batch(10, id("1"), broken));
        take(tab, TabAction::DeliverRelayed);
        expect_note(tab, true);
        EXPECT_NO_ACTIONS(tab);  // nothing saved
        EXPECT_CURSOR(tab.cursor(), id("1"));
        // The next batch from where it stands still counts.
        EXPECT_TRUE(tab.peer_batch(20, id("1"), id("2")));
        take(tab, TabAction::DeliverRelayed);
        expect_save(tab, id("2"));
        EXPECT_NO_ACTIONS(tab);
    }
}

// A relayed batch from a server without message ids comes with empty cursors before and
// after; an empty cursor is not a whole id, so every such batch is delivered and the debug log
// says the tab keeps its own cursor (as the JavaScript version did).
TEST(TabPeerBatch, ABatchWithoutIdsIsDeliveredWithAWarning) {
    Tab tab = following(shared_config(true));
    EXPECT_TRUE(tab.peer_batch(10, Cursor{}, Cursor{}));
    take(tab, TabAction::DeliverRelayed);
    expect_note(tab, true);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), Cursor{});
}

// The empty cursor is never remembered as passed: a batch from it comes from a leader that
// polls as a new subscriber (it never had a cursor), never a copy of one this tab has.
TEST(TabPeerBatch, ABatchFromTheEmptyCursorIsNeverALateCopy) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.peer_batch(10, Cursor{}, id("1")));
    tab.actions().clear();
    EXPECT_TRUE(tab.peer_batch(20, Cursor{}, id("7")));
    take(tab, TabAction::DeliverRelayed);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("7"));
}

TEST(TabPeerBatch, TheHistoryOfPassedCursorsIsBounded) {
    // Moves (none) -> 1 -> 2 -> 3 -> 4 -> 5 and asks about a batch from 1 and one from 2.
    for (size_t history : {size_t{3}, size_t{64}}) {
        SCOPED_TRACE("history " + std::to_string(history));
        TabConfig config = shared_config();
        config.history = history;
        Tab tab = following(config);
        const char* tags[] = {"1", "2", "3", "4", "5"};
        Cursor at;
        for (const char* tag : tags) {
            EXPECT_TRUE(tab.peer_batch(10, at, id(tag)));
            at = id(tag);
        }
        tab.actions().clear();
        EXPECT_CURSOR(tab.cursor(), id("5"));

        // 2 is among the last three passed (2, 3, 4) either way.
        EXPECT_TRUE(tab.peer_batch(20, id("2"), id("3")));
        take(tab, TabAction::DropLateCopy);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("5"));

        // 1 is not, with a history of three: no longer known as passed, so delivered.
        EXPECT_TRUE(tab.peer_batch(30, id("1"), id("2")));
        if (history == 3) {
            take(tab, TabAction::DeliverRelayed);
            EXPECT_CURSOR(tab.cursor(), id("2"));
        } else {
            take(tab, TabAction::DropLateCopy);
            EXPECT_CURSOR(tab.cursor(), id("5"));
        }
        EXPECT_NO_ACTIONS(tab);
    }
}

// The history is a ring: after many more moves than it holds, exactly the last `history`
// cursors passed are known, whichever slot each sits in.
TEST(TabPeerBatch, TheHistoryKeepsTheLastCursorsPassedAcrossManyWrapArounds) {
    TabConfig config = shared_config();
    config.history = 3;
    Tab tab = following(config);
    Cursor at;
    for (int n = 1; n <= 11; ++n) {  // passes 1..10, stands at 11
        EXPECT_TRUE(tab.peer_batch(n, at, id(std::to_string(n).c_str())));
        at = id(std::to_string(n).c_str());
    }
    tab.actions().clear();
    for (const char* passed : {"8", "9", "10"}) {
        SCOPED_TRACE(passed);
        EXPECT_TRUE(tab.peer_batch(100, id(passed), id("99")));
        take(tab, TabAction::DropLateCopy);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("11"));
    }
    EXPECT_TRUE(tab.peer_batch(200, id("7"), id("8")));  // forgotten: delivered
    take(tab, TabAction::DeliverRelayed);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("8"));
}

TEST(TabPeerBatch, ASettlingTabTakesBatchesByTheSameRules) {
    Tab tab = settling(shared_config(true), id("1"));
    EXPECT_TRUE(tab.peer_batch(1010, id("1"), id("2")));
    take(tab, TabAction::DeliverRelayed);
    expect_save(tab, id("2"));
    EXPECT_TRUE(tab.peer_batch(1020, id("1"), id("2")));
    take(tab, TabAction::DropLateCopy);
    EXPECT_TRUE(tab.peer_batch(1030, id("2"), kNoTag));
    take(tab, TabAction::DeliverRelayed);
    expect_note(tab, true);
    EXPECT_TRUE(tab.peer_batch(1040, id("8"), id("9")));
    take(tab, TabAction::DeliverRelayed);
    expect_save(tab, id("9"));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Settling);
    EXPECT_EQ(tab.next_deadline(), 1000 + kSettle);  // batches do not move the deadline
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    expect_start(tab, id("9"));
    EXPECT_NO_ACTIONS(tab);
}

// ---------------------------------------------------------------------------------------------
// The leader's welcome, states and reports; hello.

TEST(TabWelcome, ATabWithoutACursorAdoptsAWholeOne) {
    for (bool resume : {false, true}) {
        SCOPED_TRACE(resume ? "resume" : "no resume");
        Tab tab = following(shared_config(resume));
        EXPECT_TRUE(tab.peer_welcome(10, id("3"), State::Open));
        if (resume) expect_save(tab, id("3"));
        expect_show(tab, State::Connecting, State::Open);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("3"));
        EXPECT_SHOWN(tab, State::Open);
        EXPECT_STATE(tab, TabState::Following);
        // The leader's batches from there are delivered.
        EXPECT_TRUE(tab.peer_batch(20, id("3"), id("4")));
        take(tab, TabAction::DeliverRelayed);
        if (resume) expect_save(tab, id("4"));
        EXPECT_NO_ACTIONS(tab);
    }
}

TEST(TabWelcome, ATabWithACursorKeepsIt) {
    Tab tab = following(shared_config(true), id("1"));
    EXPECT_TRUE(tab.peer_welcome(10, id("3"), State::Waiting));
    expect_show(tab, State::Connecting, State::Waiting);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("1"));
}

TEST(TabWelcome, ACursorThatIsNotWholeIsNotAdopted) {
    for (const Cursor& broken : {Cursor{}, kNoTag, kCutDate, kNoDate}) {
        SCOPED_TRACE(cursor_text(broken));
        Tab tab = following(shared_config(true));
        EXPECT_TRUE(tab.peer_welcome(10, broken, State::Open));
        expect_show(tab, State::Connecting, State::Open);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), Cursor{});
    }
}

TEST(TabWelcome, TheStateIsMirroredUnlessClosedOrAlreadyShown) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.peer_welcome(10, id("3"), State::Connecting));  // what it shows already
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), id("3"));  // the cursor is still adopted
    EXPECT_SHOWN(tab, State::Connecting);

    Tab closed = following(shared_config());
    EXPECT_TRUE(closed.peer_welcome(10, id("3"), State::Closed));
    EXPECT_NO_ACTIONS(closed);
    EXPECT_CURSOR(closed.cursor(), id("3"));
    EXPECT_SHOWN(closed, State::Connecting);

    EXPECT_TRUE(closed.peer_welcome(20, id("4"), State::Offline));
    expect_show(closed, State::Connecting, State::Offline);
    EXPECT_NO_ACTIONS(closed);
    EXPECT_CURSOR(closed.cursor(), id("3"));
    EXPECT_TRUE(closed.peer_welcome(30, id("4"), State::Offline));
    EXPECT_NO_ACTIONS(closed);
}

TEST(TabWelcome, PeerStatesAreMirroredWhenTheyDiffer) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.peer_state(10, State::Open));
    expect_show(tab, State::Connecting, State::Open);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_TRUE(tab.peer_state(20, State::Open));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_TRUE(tab.peer_state(30, State::Waiting));
    expect_show(tab, State::Open, State::Waiting);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_SHOWN(tab, State::Waiting);
    // A leader's poll only closes because it stops leading: refused.
    EXPECT_FALSE(tab.peer_state(40, State::Closed));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_SHOWN(tab, State::Waiting);
    EXPECT_STATE(tab, TabState::Following);
}

TEST(TabWelcome, PeerReportsAreReported) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.peer_report(10));
    take(tab, TabAction::ReportRelayed);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Following);
}

TEST(TabWelcome, ASettlingTabStillTakesWhatTheOldLeaderPosts) {
    Tab tab = settling(shared_config(true));
    EXPECT_TRUE(tab.peer_welcome(1010, id("3"), State::Open));
    expect_save(tab, id("3"));
    expect_show(tab, State::Connecting, State::Open);
    EXPECT_TRUE(tab.peer_state(1020, State::Waiting));
    expect_show(tab, State::Open, State::Waiting);
    EXPECT_TRUE(tab.peer_report(1030));
    take(tab, TabAction::ReportRelayed);
    EXPECT_FALSE(tab.peer_state(1040, State::Closed));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Settling);
    EXPECT_EQ(tab.next_deadline(), 1000 + kSettle);
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    expect_start(tab, id("3"));
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabWelcome, ALeaderIgnoresWhatOtherTabsPost) {
    Tab tab = settling(shared_config(true));
    EXPECT_TRUE(tab.peer_batch(1010, Cursor{}, id("2")));
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    EXPECT_TRUE(tab.own_state(1200, State::Connecting, State::Open));
    tab.actions().clear();
    EXPECT_SHOWN(tab, State::Open);

    EXPECT_FALSE(tab.peer_batch(1300, id("2"), id("3")));   // fresh
    EXPECT_FALSE(tab.peer_batch(1300, Cursor{}, id("2")));  // late copy
    EXPECT_FALSE(tab.peer_batch(1300, id("2"), kNoTag));    // broken
    EXPECT_FALSE(tab.peer_batch(1300, id("7"), id("8")));   // from somewhere new
    EXPECT_FALSE(tab.peer_welcome(1300, id("9"), State::Waiting));
    EXPECT_FALSE(tab.peer_state(1300, State::Waiting));
    EXPECT_FALSE(tab.peer_state(1300, State::Closed));
    EXPECT_FALSE(tab.peer_report(1300));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Leading);
    EXPECT_CURSOR(tab.cursor(), id("2"));
    EXPECT_SHOWN(tab, State::Open);
}

TEST(TabWelcome, HelloIsAnsweredByTheLockHolderOnly) {
    {
        SCOPED_TRACE("following");
        Tab tab = following(shared_config());
        EXPECT_FALSE(tab.peer_hello(10));
        EXPECT_NO_ACTIONS(tab);
    }
    {
        SCOPED_TRACE("settling");
        Tab tab = following(shared_config());
        EXPECT_TRUE(tab.peer_batch(10, Cursor{}, id("1")));
        EXPECT_TRUE(tab.peer_state(20, State::Open));
        EXPECT_TRUE(tab.lock_granted(1000));
        tab.actions().clear();
        EXPECT_TRUE(tab.peer_hello(1010));
        expect_welcome(tab, id("1"), State::Open);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, TabState::Settling);
    }
    {
        SCOPED_TRACE("settling, no cursor yet");
        Tab tab = settling(shared_config());
        EXPECT_TRUE(tab.peer_hello(1010));
        expect_welcome(tab, Cursor{}, State::Connecting);
        EXPECT_NO_ACTIONS(tab);
    }
    {
        SCOPED_TRACE("leading");
        Tab tab = leading(shared_config());
        EXPECT_TRUE(tab.own_batch(1200, id("4")));
        EXPECT_TRUE(tab.own_state(1210, State::Connecting, State::Open));
        tab.actions().clear();
        EXPECT_TRUE(tab.peer_hello(1300));
        expect_welcome(tab, id("4"), State::Open);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, TabState::Leading);
    }
    {
        SCOPED_TRACE("solo, idle, closed");
        Tab alone = solo(solo_config());
        EXPECT_FALSE(alone.peer_hello(10));
        EXPECT_NO_ACTIONS(alone);
        Tab idle(shared_config());
        EXPECT_FALSE(idle.peer_hello(10));
        EXPECT_NO_ACTIONS(idle);
        Tab closed = leading(shared_config());
        EXPECT_TRUE(closed.close());
        closed.actions().clear();
        EXPECT_FALSE(closed.peer_hello(2000));
        EXPECT_NO_ACTIONS(closed);
    }
}

// ---------------------------------------------------------------------------------------------
// What this tab's own poll did.

TEST(TabOwn, ASoloBatchIsDeliveredAndTheCursorSavedWithResume) {
    for (bool resume : {false, true}) {
        SCOPED_TRACE(resume ? "resume" : "no resume");
        Tab tab = solo(solo_config(resume));
        EXPECT_TRUE(tab.own_batch(10, id("1")));
        expect_deliver_own(tab, false, Cursor{}, id("1"));
        if (resume) expect_save(tab, id("1"));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("1"));

        EXPECT_TRUE(tab.own_batch(20, id("2")));
        expect_deliver_own(tab, false, id("1"), id("2"));
        if (resume) expect_save(tab, id("2"));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("2"));
        EXPECT_STATE(tab, TabState::Solo);
    }
}

// An idle connection keeps no room for actions (some 70 B each in the wasm), as the Poller's.
TEST(TabOwn, TakingTheLastActionReleasesTheQueue) {
    Tab tab = solo(solo_config(true));
    EXPECT_TRUE(tab.own_batch(10, id("1")));
    ASSERT_GE(tab.actions().size(), 2u);
    tab.take_action();
    EXPECT_GT(tab.actions().capacity(), 0u);  // not while actions remain
    while (tab.take_action()) {
    }
    EXPECT_EQ(tab.actions().capacity(), 0u);
}

TEST(TabOwn, ABatchThatLeavesTheCursorWhereItWasSavesNothing) {
    Tab tab = solo(solo_config(true));  // a server without ids: empty before and after
    EXPECT_TRUE(tab.own_batch(10, Cursor{}));
    expect_deliver_own(tab, false, Cursor{}, Cursor{});
    EXPECT_NO_ACTIONS(tab);
    EXPECT_CURSOR(tab.cursor(), Cursor{});
}

// The cursor before the batch is where this tab stands (the poll's own `previous`, equal to it
// whenever the poll started from the tab's cursor, is not passed in).
TEST(TabOwn, TheCursorBeforeABatchIsWhereTheTabStands) {
    Tab tab = solo(solo_config(true), id("1"));
    EXPECT_TRUE(tab.own_batch(10, id("2")));
    expect_deliver_own(tab, false, id("1"), id("2"));
    expect_save(tab, id("2"));
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabOwn, ALeadersBatchIsRelayed) {
    for (bool resume : {false, true}) {
        SCOPED_TRACE(resume ? "resume" : "no resume");
        Tab tab = leading(shared_config(resume));
        EXPECT_TRUE(tab.own_batch(1200, id("1")));
        expect_deliver_own(tab, true, Cursor{}, id("1"));
        if (resume) expect_save(tab, id("1"));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_TRUE(tab.own_batch(1300, id("2")));
        expect_deliver_own(tab, true, id("1"), id("2"));
        if (resume) expect_save(tab, id("2"));
        EXPECT_NO_ACTIONS(tab);
        EXPECT_CURSOR(tab.cursor(), id("2"));
        EXPECT_STATE(tab, TabState::Leading);
    }
}

TEST(TabOwn, ALeadersPassedCursorsCountWhenItFollowsAgain) {
    Tab tab = leading(shared_config(true), id("1"));
    EXPECT_TRUE(tab.own_batch(1200, id("2")));
    EXPECT_TRUE(tab.page_hidden(1300));
    tab.actions().clear();
    EXPECT_TRUE(tab.peer_batch(1400, id("1"), id("2")));
    take(tab, TabAction::DropLateCopy);
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabOwn, ASoloStateChangeIsShownAsGiven) {
    Tab tab = solo(solo_config());
    EXPECT_TRUE(tab.own_state(10, State::Idle, State::Connecting));
    expect_show(tab, State::Idle, State::Connecting);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_SHOWN(tab, State::Connecting);
    EXPECT_TRUE(tab.own_state(20, State::Connecting, State::Open));
    expect_show(tab, State::Connecting, State::Open);
    EXPECT_TRUE(tab.own_state(30, State::Open, State::Suspended));
    expect_show(tab, State::Open, State::Suspended);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_SHOWN(tab, State::Suspended);
    EXPECT_STATE(tab, TabState::Solo);
}

TEST(TabOwn, ALeadersStateChangeIsShownFromWhatThePageSawAndPostedWhenItDiffers) {
    Tab tab = following(shared_config());
    EXPECT_TRUE(tab.peer_state(10, State::Open));  // the old leader's
    EXPECT_TRUE(tab.lock_granted(1000));
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    tab.actions().clear();

    EXPECT_TRUE(tab.own_state(1110, State::Idle, State::Connecting));
    expect_show(tab, State::Open, State::Connecting);
    expect_post_state(tab, State::Connecting);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_TRUE(tab.own_state(1120, State::Connecting, State::Open));
    expect_show(tab, State::Connecting, State::Open);
    expect_post_state(tab, State::Open);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_SHOWN(tab, State::Open);
    // The same state again: nothing to show or post.
    EXPECT_TRUE(tab.own_state(1130, State::Waiting, State::Open));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_SHOWN(tab, State::Open);
    EXPECT_STATE(tab, TabState::Leading);
}

TEST(TabOwn, ALeaderThatShowsConnectingAlreadyPostsNothingForConnecting) {
    Tab tab = leading(shared_config());
    EXPECT_TRUE(tab.own_state(1110, State::Idle, State::Connecting));
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabOwn, ThePollClosingIsRefusedInEveryState) {
    for (TabState state : {TabState::Idle, TabState::Solo, TabState::Following, TabState::Settling, TabState::Leading,
                           TabState::Closed}) {
        SCOPED_TRACE(name_of(state));
        Tab tab = state == TabState::Idle        ? Tab(solo_config())
                  : state == TabState::Solo      ? solo(solo_config())
                  : state == TabState::Following ? following(shared_config())
                  : state == TabState::Settling  ? settling(shared_config())
                                                 : leading(shared_config());
        if (state == TabState::Closed) {
            EXPECT_TRUE(tab.close());
        }
        tab.actions().clear();
        for (State from : {State::Idle, State::Connecting, State::Open, State::Waiting}) {
            EXPECT_FALSE(tab.own_state(2000, from, State::Closed));
        }
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, state);
        EXPECT_SHOWN(tab, State::Connecting);
    }
}

TEST(TabOwn, ReportsAreRelayedByTheLeaderOnly) {
    Tab alone = solo(solo_config());
    EXPECT_TRUE(alone.own_report(10));
    EXPECT_FALSE(take(alone, TabAction::ReportOwn).relay);
    EXPECT_NO_ACTIONS(alone);

    Tab leader = leading(shared_config());
    EXPECT_TRUE(leader.own_report(1200));
    EXPECT_TRUE(take(leader, TabAction::ReportOwn).relay);
    EXPECT_NO_ACTIONS(leader);

    Tab follower = following(shared_config());
    EXPECT_FALSE(follower.own_report(10));
    EXPECT_NO_ACTIONS(follower);
    Tab settler = settling(shared_config());
    EXPECT_FALSE(settler.own_report(1010));
    EXPECT_NO_ACTIONS(settler);
}

TEST(TabOwn, ATabThatDoesNotPollRefusesItsPollsBatches) {
    Tab follower = following(shared_config(true), id("1"));
    EXPECT_FALSE(follower.own_batch(10, id("2")));
    Tab settler = settling(shared_config(true), id("1"));
    EXPECT_FALSE(settler.own_batch(1010, id("2")));
    Tab idle(solo_config(true));
    EXPECT_FALSE(idle.own_batch(10, id("2")));
    for (Tab* tab : {&follower, &settler, &idle}) {
        EXPECT_NO_ACTIONS(*tab);
        EXPECT_NE(cursor_text(tab->cursor()), cursor_text(id("2")));
    }
}

// ---------------------------------------------------------------------------------------------
// The page's life: pagehide/pageshow (back/forward cache), offline/online.

TEST(TabPage, ASoloPollIsSuspendedAndResumed) {
    Tab tab = solo(solo_config());
    EXPECT_TRUE(tab.page_hidden(10));
    expect_poll_input(tab, Event::Suspend);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Solo);
    EXPECT_TRUE(tab.page_shown(20, true));
    expect_poll_input(tab, Event::Resume);
    EXPECT_NO_ACTIONS(tab);

    EXPECT_TRUE(tab.page_hidden(30));
    expect_poll_input(tab, Event::Suspend);
    EXPECT_TRUE(tab.page_shown(40, false));  // back, and the browser is offline
    expect_poll_input(tab, Event::Resume);
    expect_poll_input(tab, Event::GoOffline);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Solo);
}

TEST(TabPage, OfflineAndOnlinePassOnToASoloOrLeadingPoll) {
    for (bool shared : {false, true}) {
        SCOPED_TRACE(shared ? "leading" : "solo");
        Tab tab = shared ? leading(shared_config()) : solo(solo_config());
        const TabState state = tab.state();
        EXPECT_TRUE(tab.go_offline(2000));
        expect_poll_input(tab, Event::GoOffline);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_TRUE(tab.go_online(2010));
        expect_poll_input(tab, Event::GoOnline);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, state);
    }
}

TEST(TabPage, APageShownOnlineOnlyResumesEvenAfterGoingOffline) {
    Tab tab = solo(solo_config());
    EXPECT_TRUE(tab.go_offline(10));
    EXPECT_TRUE(tab.page_hidden(20));
    tab.actions().clear();
    EXPECT_TRUE(tab.page_shown(30, true));  // back online meanwhile
    expect_poll_input(tab, Event::Resume);
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabPage, ALeaderHiddenStopsPollingAndLetsTheNextTabLead) {
    Tab tab = leading(shared_config(true), id("1"));
    EXPECT_TRUE(tab.own_batch(1200, id("2")));
    tab.actions().clear();
    EXPECT_TRUE(tab.page_hidden(1300));
    EXPECT_STATE(tab, TabState::Following);
    take(tab, TabAction::StopPoll);
    take(tab, TabAction::ReleaseLock);
    expect_follow(tab);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_FALSE(tab.next_deadline().has_value());
    EXPECT_CURSOR(tab.cursor(), id("2"));

    // A follower again: the next leader's batches come in, its own poll's are refused.
    EXPECT_FALSE(tab.page_shown(1400, true));
    EXPECT_FALSE(tab.own_batch(1400, id("3")));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_TRUE(tab.peer_batch(1500, id("2"), id("3")));
    take(tab, TabAction::DeliverRelayed);
    expect_save(tab, id("3"));
    EXPECT_NO_ACTIONS(tab);
    // And it leads again from there once the lock comes back.
    EXPECT_TRUE(tab.lock_granted(2000));
    expect_note(tab, false);
    EXPECT_TRUE(tab.on_timer(2000 + kSettle));
    expect_start(tab, id("3"));
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabPage, ASettlingTabHiddenGivesTheLockUpBeforePolling) {
    Tab tab = settling(shared_config());
    EXPECT_TRUE(tab.page_hidden(1050));
    EXPECT_STATE(tab, TabState::Following);
    take(tab, TabAction::ReleaseLock);
    expect_follow(tab);
    EXPECT_NO_ACTIONS(tab);
    EXPECT_FALSE(tab.next_deadline().has_value());
    EXPECT_FALSE(tab.on_timer(1000 + kSettle));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Following);
}

TEST(TabPage, PageLifeIsRefusedWhereThereIsNoPoll) {
    Tab idle(solo_config());
    EXPECT_FALSE(idle.page_hidden(10));
    EXPECT_FALSE(idle.page_shown(20, true));
    EXPECT_FALSE(idle.go_offline(30));
    EXPECT_FALSE(idle.go_online(40));
    EXPECT_NO_ACTIONS(idle);
    EXPECT_STATE(idle, TabState::Idle);

    Tab follower = following(shared_config());
    EXPECT_FALSE(follower.page_hidden(10));
    EXPECT_FALSE(follower.page_shown(20, true));
    EXPECT_NO_ACTIONS(follower);
    EXPECT_STATE(follower, TabState::Following);

    Tab settler = settling(shared_config());
    EXPECT_FALSE(settler.page_shown(1010, true));
    EXPECT_NO_ACTIONS(settler);
    EXPECT_STATE(settler, TabState::Settling);
}

TEST(TabPage, GoingOfflineBeforeBeginIsOverriddenByBegin) {
    Tab tab(solo_config());
    EXPECT_FALSE(tab.go_offline(0));
    EXPECT_TRUE(tab.begin(10, std::nullopt, true));
    expect_start(tab, Cursor{}, false);
    EXPECT_NO_ACTIONS(tab);
}

// page_shown(now, online) records what the browser says even where the table refuses it (while
// following), as go_offline() does: the poll a later lock starts is told it is offline.
TEST(TabPage, ARefusedPageShownStillRecordsTheNetwork) {
    Tab tab = following(shared_config());
    EXPECT_FALSE(tab.page_shown(10, false));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_TRUE(tab.lock_granted(1000));
    expect_note(tab, false);
    EXPECT_TRUE(tab.on_timer(1000 + kSettle));
    expect_start(tab, Cursor{}, true);
    EXPECT_NO_ACTIONS(tab);
}

// ---------------------------------------------------------------------------------------------
// Close.

TEST(TabClose, ClosingDropsWhatIsStillQueued) {
    {
        SCOPED_TRACE("solo");
        Tab tab(solo_config(true));
        EXPECT_TRUE(tab.begin(0, id("1"), true));  // Note, StartPoll
        EXPECT_TRUE(tab.own_batch(10, id("2")));
        EXPECT_TRUE(tab.own_state(20, State::Idle, State::Connecting));
        EXPECT_EQ(tab.actions().size(), 5u) << pending(tab);
        EXPECT_TRUE(tab.close());
        EXPECT_STATE(tab, TabState::Closed);
        take(tab, TabAction::StopPoll);
        EXPECT_NO_ACTIONS(tab);
    }
    {
        SCOPED_TRACE("shared");
        Tab tab(shared_config(true));
        EXPECT_TRUE(tab.begin(0, id("1"), true));  // Note, PostHello, RequestLock, Note
        EXPECT_TRUE(tab.peer_batch(10, id("1"), id("2")));
        EXPECT_TRUE(tab.lock_granted(20));
        EXPECT_EQ(tab.actions().size(), 7u) << pending(tab);
        EXPECT_TRUE(tab.close());
        EXPECT_STATE(tab, TabState::Closed);
        take(tab, TabAction::StopPoll);
        take(tab, TabAction::LeaveTabs);
        EXPECT_NO_ACTIONS(tab);
    }
}

TEST(TabClose, EachStateClosesItsOwnWay) {
    {
        SCOPED_TRACE("idle");
        Tab tab(shared_config());
        EXPECT_TRUE(tab.close());
        take(tab, TabAction::StopPoll);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, TabState::Closed);
    }
    {
        SCOPED_TRACE("solo");
        Tab tab = solo(solo_config());
        EXPECT_TRUE(tab.close());
        take(tab, TabAction::StopPoll);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, TabState::Closed);
    }
    for (int which = 0; which < 3; ++which) {
        SCOPED_TRACE(which == 0 ? "following" : which == 1 ? "settling" : "leading");
        Tab tab = which == 0   ? following(shared_config())
                  : which == 1 ? settling(shared_config())
                               : leading(shared_config());
        EXPECT_TRUE(tab.close());
        take(tab, TabAction::StopPoll);
        take(tab, TabAction::LeaveTabs);
        EXPECT_NO_ACTIONS(tab);
        EXPECT_STATE(tab, TabState::Closed);
        EXPECT_FALSE(tab.next_deadline().has_value());
    }
}

TEST(TabClose, ClosingTwiceIsHarmless) {
    Tab tab = leading(shared_config());
    EXPECT_TRUE(tab.close());
    tab.actions().clear();
    EXPECT_TRUE(tab.close());
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Closed);
}

// As documented ("drops every action still queued"): a second close() before the first one's
// actions were taken drops those too.
TEST(TabClose, ASecondCloseDropsTheFirstOnesUntakenActions) {
    Tab tab = leading(shared_config());
    EXPECT_TRUE(tab.close());
    EXPECT_TRUE(tab.close());
    EXPECT_NO_ACTIONS(tab);
}

TEST(TabClose, AfterCloseEveryInputIsRefused) {
    Tab tab = settling(shared_config(true), id("1"));
    EXPECT_TRUE(tab.peer_state(1010, State::Open));
    EXPECT_TRUE(tab.close());
    tab.actions().clear();

    EXPECT_FALSE(tab.begin(2000, id("1"), true));
    EXPECT_FALSE(tab.lock_granted(2000));
    EXPECT_FALSE(tab.on_timer(1000 + kSettle));
    EXPECT_FALSE(tab.on_timer(999999));
    EXPECT_FALSE(tab.page_hidden(2000));
    EXPECT_FALSE(tab.page_shown(2000, true));
    EXPECT_FALSE(tab.go_offline(2000));
    EXPECT_FALSE(tab.go_online(2000));
    EXPECT_FALSE(tab.own_batch(2000, id("2")));
    EXPECT_FALSE(tab.own_state(2000, State::Open, State::Waiting));
    EXPECT_FALSE(tab.own_state(2000, State::Open, State::Closed));
    EXPECT_FALSE(tab.own_report(2000));
    EXPECT_FALSE(tab.peer_hello(2000));
    EXPECT_FALSE(tab.peer_batch(2000, id("1"), id("2")));
    EXPECT_FALSE(tab.peer_batch(2000, id("8"), kNoTag));
    EXPECT_FALSE(tab.peer_welcome(2000, id("9"), State::Waiting));
    EXPECT_FALSE(tab.peer_state(2000, State::Waiting));
    EXPECT_FALSE(tab.peer_report(2000));
    EXPECT_NO_ACTIONS(tab);
    EXPECT_STATE(tab, TabState::Closed);
    EXPECT_CURSOR(tab.cursor(), id("1"));
    EXPECT_SHOWN(tab, State::Open);
    EXPECT_FALSE(tab.next_deadline().has_value());
}

// ---------------------------------------------------------------------------------------------
// Every state x every public input, against the documented table. The table is data written
// from the header's contract, not read from tab.cpp.

enum class Input : uint8_t {
    Begin,        // begin() with config.shared = false
    BeginShared,  // ... with config.shared = true
    LockGranted,
    TimerEarly,  // on_timer a millisecond before next_deadline (or now, if none)
    TimerDue,    // on_timer at next_deadline (or a day later, if none)
    PageHidden,
    PageShown,  // online
    GoOffline,
    GoOnline,
    OwnBatch,   // 2 -> 3
    OwnState,   // connecting -> open
    OwnClosed,  // open -> closed
    OwnReport,
    PeerHello,
    PeerBatch,        // 2 -> 3: from where the tab stands
    LateCopy,         // 1 -> 2: from where it stood
    PeerBrokenBatch,  // 2 -> a cursor without its tag
    PeerWelcome,      // 9, open
    PeerState,        // open
    PeerClosed,       // closed
    PeerReport,
    Close,
};

const char* input_name(Input input) {
    switch (input) {
        case Input::Begin: return "begin";
        case Input::BeginShared: return "begin shared";
        case Input::LockGranted: return "lock granted";
        case Input::TimerEarly: return "timer early";
        case Input::TimerDue: return "timer due";
        case Input::PageHidden: return "page hidden";
        case Input::PageShown: return "page shown";
        case Input::GoOffline: return "go offline";
        case Input::GoOnline: return "go online";
        case Input::OwnBatch: return "own batch";
        case Input::OwnState: return "own state";
        case Input::OwnClosed: return "own state closed";
        case Input::OwnReport: return "own report";
        case Input::PeerHello: return "peer hello";
        case Input::PeerBatch: return "peer batch";
        case Input::LateCopy: return "peer batch, late copy";
        case Input::PeerBrokenBatch: return "peer batch, broken cursor";
        case Input::PeerWelcome: return "peer welcome";
        case Input::PeerState: return "peer state";
        case Input::PeerClosed: return "peer state closed";
        case Input::PeerReport: return "peer report";
        case Input::Close: return "close";
    }
    return "?";
}

constexpr TabState kAllStates[] = {TabState::Idle,     TabState::Solo,    TabState::Following,
                                   TabState::Settling, TabState::Leading, TabState::Closed};

// One row per input, one cell per state in kAllStates order. "-": refused. Otherwise
// "<state after>:<actions in order>", with
//   S StartPoll    X StopPoll       I PollInput     L RequestLock     U ReleaseLock   Q LeaveTabs
//   H PostHello    W PostWelcome    P PostState     D DeliverOwn      E ReportOwn
//   R DeliverRelayed               Z DropLateCopy  F ReportRelayed   C SaveCursor    T ShowState
//   N Note         ! Note (warning)
// Every tab has resume on; all but the idle one stand at 2, having moved past 1.
struct TableRow {
    Input input;
    const char* cells[6];
};

// clang-format off
const TableRow kTable[] = {
    //                           idle              solo          following         settling          leading             closed
    {Input::Begin,             {"solo:NS",        "-",          "-",              "-",              "-",                "-"}},
    {Input::BeginShared,       {"following:NHLN", "-",          "-",              "-",              "-",                "-"}},
    {Input::LockGranted,       {"-",              "-",          "settling:N",     "-",              "-",                "-"}},
    {Input::TimerEarly,        {"-",              "-",          "-",              "-",              "-",                "-"}},
    {Input::TimerDue,          {"-",              "-",          "-",              "leading:S",      "-",                "-"}},
    {Input::PageHidden,        {"-",              "solo:I",     "-",              "following:ULN",  "following:XULN",   "-"}},
    {Input::PageShown,         {"-",              "solo:I",     "-",              "-",              "leading:I",        "-"}},
    {Input::GoOffline,         {"-",              "solo:I",     "-",              "-",              "leading:I",        "-"}},
    {Input::GoOnline,          {"-",              "solo:I",     "-",              "-",              "leading:I",        "-"}},
    {Input::OwnBatch,          {"-",              "solo:DC",    "-",              "-",              "leading:DC",       "-"}},
    {Input::OwnState,          {"-",              "solo:T",     "-",              "-",              "leading:TP",       "-"}},
    {Input::OwnClosed,         {"-",              "-",          "-",              "-",              "-",                "-"}},
    {Input::OwnReport,         {"-",              "solo:E",     "-",              "-",              "leading:E",        "-"}},
    {Input::PeerHello,         {"-",              "-",          "-",              "settling:W",     "leading:W",        "-"}},
    {Input::PeerBatch,         {"-",              "-",          "following:RC",   "settling:RC",    "-",                "-"}},
    {Input::LateCopy,          {"-",              "-",          "following:Z",    "settling:Z",     "-",                "-"}},
    {Input::PeerBrokenBatch,   {"-",              "-",          "following:R!",   "settling:R!",    "-",                "-"}},
    {Input::PeerWelcome,       {"-",              "-",          "following:T",    "settling:T",     "-",                "-"}},
    {Input::PeerState,         {"-",              "-",          "following:T",    "settling:T",     "-",                "-"}},
    {Input::PeerClosed,        {"-",              "-",          "-",              "-",              "-",                "-"}},
    {Input::PeerReport,        {"-",              "-",          "following:F",    "settling:F",     "-",                "-"}},
    {Input::Close,             {"closed:X",       "closed:X",   "closed:XQ",      "closed:XQ",      "closed:XQ",        "closed:"}},
};
// clang-format on

// Reaches `state` from a fresh machine through public inputs only, standing at 2 after 1
// (except when idle), with nothing shown but the initial "connecting"; actions cleared. An idle
// machine is shared or not as the input to come needs (begin() reads config.shared).
Tab tab_in(TabState state, Input input) {
    const bool shared = state == TabState::Idle ? input == Input::BeginShared : state != TabState::Solo;
    TabConfig config = shared ? shared_config(true) : solo_config(true);
    Tab tab(config);
    if (state != TabState::Idle) {
        EXPECT_TRUE(tab.begin(0, id("1"), true));
        if (state == TabState::Solo) {
            EXPECT_TRUE(tab.own_batch(10, id("2")));
        } else {
            EXPECT_TRUE(tab.peer_batch(10, id("1"), id("2")));
            if (state != TabState::Following) {
                EXPECT_TRUE(tab.lock_granted(20));
            }
            if (state == TabState::Leading || state == TabState::Closed) {
                EXPECT_TRUE(tab.on_timer(20 + kSettle));
            }
        }
        if (state == TabState::Closed) {
            EXPECT_TRUE(tab.close());
        }
    }
    tab.actions().clear();
    EXPECT_STATE(tab, state);
    EXPECT_SHOWN(tab, State::Connecting);
    EXPECT_CURSOR(tab.cursor(), state == TabState::Idle ? Cursor{} : id("2"));
    return tab;
}

constexpr Millis kInputAt = 1000;  // every state is reached by t=120

Millis input_time(const Tab& tab, Input input) {
    std::optional<Millis> deadline = tab.next_deadline();
    if (input == Input::TimerEarly) return deadline ? *deadline - 1 : kInputAt;
    if (input == Input::TimerDue) return deadline ? *deadline : kInputAt + 24 * 3600 * 1000LL;
    return kInputAt;
}

bool feed(Tab& tab, Input input, Millis at) {
    switch (input) {
        case Input::Begin:
        case Input::BeginShared: return tab.begin(at, id("1"), true);
        case Input::LockGranted: return tab.lock_granted(at);
        case Input::TimerEarly:
        case Input::TimerDue: return tab.on_timer(at);
        case Input::PageHidden: return tab.page_hidden(at);
        case Input::PageShown: return tab.page_shown(at, true);
        case Input::GoOffline: return tab.go_offline(at);
        case Input::GoOnline: return tab.go_online(at);
        case Input::OwnBatch: return tab.own_batch(at, id("3"));
        case Input::OwnState: return tab.own_state(at, State::Connecting, State::Open);
        case Input::OwnClosed: return tab.own_state(at, State::Open, State::Closed);
        case Input::OwnReport: return tab.own_report(at);
        case Input::PeerHello: return tab.peer_hello(at);
        case Input::PeerBatch: return tab.peer_batch(at, id("2"), id("3"));
        case Input::LateCopy: return tab.peer_batch(at, id("1"), id("2"));
        case Input::PeerBrokenBatch: return tab.peer_batch(at, id("2"), kNoTag);
        case Input::PeerWelcome: return tab.peer_welcome(at, id("9"), State::Open);
        case Input::PeerState: return tab.peer_state(at, State::Open);
        case Input::PeerClosed: return tab.peer_state(at, State::Closed);
        case Input::PeerReport: return tab.peer_report(at);
        case Input::Close: return tab.close();
    }
    return false;
}

char action_letter(const TabAction& action) {
    switch (action.kind) {
        case TabAction::StartPoll: return 'S';
        case TabAction::StopPoll: return 'X';
        case TabAction::PollInput: return 'I';
        case TabAction::RequestLock: return 'L';
        case TabAction::ReleaseLock: return 'U';
        case TabAction::LeaveTabs: return 'Q';
        case TabAction::PostHello: return 'H';
        case TabAction::PostWelcome: return 'W';
        case TabAction::PostState: return 'P';
        case TabAction::DeliverOwn: return 'D';
        case TabAction::ReportOwn: return 'E';
        case TabAction::DeliverRelayed: return 'R';
        case TabAction::DropLateCopy: return 'Z';
        case TabAction::ReportRelayed: return 'F';
        case TabAction::SaveCursor: return 'C';
        case TabAction::ShowState: return 'T';
        case TabAction::Note: return action.warning ? '!' : 'N';
    }
    return '?';
}

// The event a PollInput passes on for each input that has one.
std::optional<Event> poll_event(Input input) {
    switch (input) {
        case Input::PageHidden: return Event::Suspend;
        case Input::PageShown: return Event::Resume;
        case Input::GoOffline: return Event::GoOffline;
        case Input::GoOnline: return Event::GoOnline;
        default: return std::nullopt;
    }
}

TEST(Tab, EveryInputInEveryStateFollowsTheTable) {
    ASSERT_EQ(std::size(kTable), static_cast<size_t>(Input::Close) + 1) << "one row per input";
    for (size_t row = 0; row < std::size(kTable); ++row) {
        ASSERT_EQ(static_cast<size_t>(kTable[row].input), row) << "rows in Input order";
        for (size_t column = 0; column < std::size(kAllStates); ++column) {
            const TabState from = kAllStates[column];
            const Input input = kTable[row].input;
            const std::string cell = kTable[row].cells[column];
            SCOPED_TRACE(std::string(input_name(input)) + " while " + name_of(from) + " -> " + cell);

            Tab tab = tab_in(from, input);
            const Cursor cursor_before = tab.cursor();
            const State shown_before = tab.shown();
            const std::optional<Millis> deadline_before = tab.next_deadline();
            const Millis at = input_time(tab, input);
            const bool accepted = feed(tab, input, at);

            if (cell == "-") {
                EXPECT_FALSE(accepted);
                EXPECT_NO_ACTIONS(tab);
                EXPECT_STATE(tab, from);
                EXPECT_CURSOR(tab.cursor(), cursor_before);
                EXPECT_SHOWN(tab, shown_before);
                EXPECT_EQ(tab.next_deadline(), deadline_before);
                continue;
            }
            EXPECT_TRUE(accepted);
            const size_t colon = cell.find(':');
            ASSERT_NE(colon, std::string::npos);
            const std::string to = cell.substr(0, colon);
            const std::string letters = cell.substr(colon + 1);
            EXPECT_EQ(name_of(tab.state()), to);

            std::string got;
            for (const TabAction& action : tab.actions()) got += action_letter(action);
            EXPECT_EQ(got, letters) << pending(tab);
            if (got != letters) continue;

            // What the actions carry.
            for (const TabAction& action : tab.actions()) {
                if (const TabAction* start = action.kind == TabAction::StartPoll ? &action : nullptr) {
                    EXPECT_CURSOR(start->cursor, tab.cursor());
                    EXPECT_FALSE(start->offline);
                } else if (const TabAction* pass = action.kind == TabAction::PollInput ? &action : nullptr) {
                    ASSERT_TRUE(poll_event(input).has_value());
                    EXPECT_EQ(name_of(pass->event), std::string(name_of(*poll_event(input))));
                } else if (const TabAction* own = action.kind == TabAction::DeliverOwn ? &action : nullptr) {
                    EXPECT_EQ(own->relay, from == TabState::Leading);
                    EXPECT_CURSOR(own->previous, cursor_before);
                    EXPECT_CURSOR(own->cursor, id("3"));
                } else if (const TabAction* report = action.kind == TabAction::ReportOwn ? &action : nullptr) {
                    EXPECT_EQ(report->relay, from == TabState::Leading);
                } else if (const TabAction* welcome = action.kind == TabAction::PostWelcome ? &action : nullptr) {
                    EXPECT_CURSOR(welcome->cursor, tab.cursor());
                    EXPECT_EQ(name_of(welcome->state), std::string(name_of(tab.shown())));
                } else if (const TabAction* posted = action.kind == TabAction::PostState ? &action : nullptr) {
                    EXPECT_EQ(name_of(posted->to), std::string(name_of(tab.shown())));
                } else if (const TabAction* save = action.kind == TabAction::SaveCursor ? &action : nullptr) {
                    EXPECT_CURSOR(save->cursor, tab.cursor());
                } else if (const TabAction* show = action.kind == TabAction::ShowState ? &action : nullptr) {
                    EXPECT_EQ(name_of(show->to), std::string(name_of(tab.shown())));
                }
            }
            // The cursor moves only with a save (every tab here resumes), or from storage at begin.
            if (letters.find('C') == std::string::npos && from != TabState::Idle) {
                EXPECT_CURSOR(tab.cursor(), cursor_before);
            }
            // Only a settling tab has a deadline: settle after the lock came.
            if (tab.state() == TabState::Settling) {
                EXPECT_EQ(tab.next_deadline(), from == TabState::Settling ? deadline_before : at + kSettle);
            } else {
                EXPECT_FALSE(tab.next_deadline().has_value());
            }
        }
    }
}

TEST(Tab, NamesForStatesAndEvents) {
    EXPECT_STREQ(name_of(TabState::Idle), "idle");
    EXPECT_STREQ(name_of(TabState::Solo), "solo");
    EXPECT_STREQ(name_of(TabState::Following), "following");
    EXPECT_STREQ(name_of(TabState::Settling), "settling");
    EXPECT_STREQ(name_of(TabState::Leading), "leading");
    EXPECT_STREQ(name_of(TabState::Closed), "closed");
    EXPECT_STREQ(name_of(TabEvent::Begin), "begin");
    EXPECT_STREQ(name_of(TabEvent::BeginShared), "begin-shared");
    EXPECT_STREQ(name_of(TabEvent::LockGranted), "lock-granted");
    EXPECT_STREQ(name_of(TabEvent::SettleDue), "settle-due");
    EXPECT_STREQ(name_of(TabEvent::PageHidden), "page-hidden");
    EXPECT_STREQ(name_of(TabEvent::PageShown), "page-shown");
    EXPECT_STREQ(name_of(TabEvent::GoOffline), "go-offline");
    EXPECT_STREQ(name_of(TabEvent::GoOnline), "go-online");
    EXPECT_STREQ(name_of(TabEvent::OwnBatch), "own-batch");
    EXPECT_STREQ(name_of(TabEvent::OwnState), "own-state");
    EXPECT_STREQ(name_of(TabEvent::OwnClosed), "own-closed");
    EXPECT_STREQ(name_of(TabEvent::OwnReport), "own-report");
    EXPECT_STREQ(name_of(TabEvent::PeerHello), "peer-hello");
    EXPECT_STREQ(name_of(TabEvent::PeerBatch), "peer-batch");
    EXPECT_STREQ(name_of(TabEvent::PeerBrokenBatch), "peer-broken-batch");
    EXPECT_STREQ(name_of(TabEvent::LateCopy), "late-copy");
    EXPECT_STREQ(name_of(TabEvent::PeerWelcome), "peer-welcome");
    EXPECT_STREQ(name_of(TabEvent::PeerState), "peer-state");
    EXPECT_STREQ(name_of(TabEvent::PeerReport), "peer-report");
    EXPECT_STREQ(name_of(TabEvent::Close), "close");
}

}  // namespace
}  // namespace comet
