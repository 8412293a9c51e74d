// What one connection does around its poll, without I/O and without a clock: whether this tab
// polls at all, from which cursor, what it tells the other tabs, which batch from another tab
// it delivers, which cursor it saves for a reload, and which state the page sees.
//
// Theory of operation. A connection either polls alone (Solo) or shares one poll among the
// tabs of an origin that connect to the same URLs with the same options (`shared`). A shared
// connection follows until the browser grants it the tab lock (Web Locks); the lock's holder
// leads: after a short settle delay (the old leader's last batch is still on its way over the
// BroadcastChannel) it polls for every tab and relays each batch, state change and error. When
// the leader closes, dies or goes into the back/forward cache, the browser grants the lock to
// the next tab, which polls from the cursor after the last batch it delivered.
//
// The cursor here is the tab's standing: the id after the last batch this tab delivered. A
// relayed batch carries the cursor before it and after it. One that starts where this tab
// stands is delivered; one that starts at a cursor this tab has already moved past is a late
// copy (the old leader's last batch, arriving after the new leader fetched the same messages)
// and is dropped; one from anywhere else is delivered (this tab missed something, e.g. while
// frozen, and cannot get it back). Only whole ids (integrity.hpp) are ever taken: from storage
// (`resume`), from another tab, or from the poll.
//
// The caller -- the adapter in src/wasm/ -- feeds inputs with the current time and takes the
// actions one at a time, as with the Poller: start or stop the poll, pass the page's life on
// to it, ask for or give up the lock, post to the other tabs, deliver a batch (its own, or the
// relayed one it is handling), save the cursor, show a state, write a debug line. It asks
// next_deadline() and calls on_timer(now) once that time has come. Every transition lives in
// the table in tab.cpp; an input that the table does not allow in the current state is
// refused: it returns false, changes nothing and produces no action. close() drops whatever
// is still queued.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "backoff.hpp"
#include "integrity.hpp"
#include "poller.hpp"

namespace comet {

struct TabConfig {
    bool shared = false;  // share one poll among tabs (the option, and the browser can)
    bool resume = false;  // save the cursor after every batch, for the next page load
    Millis settle = 100;  // a new leader first takes what the old one sent just before it went
    size_t history = 64;  // cursors a tab remembers having moved past, to know late copies by
};

enum class TabState : uint8_t {
    Idle,       // created, not begun
    Solo,       // polls for itself
    Following,  // shared: another tab polls; this one waits for the lock
    Settling,   // shared: holds the lock, waits `settle` before it polls
    Leading,    // shared: polls for every tab
    Closed,     // terminal
};
const char* name_of(TabState state);

enum class TabEvent : uint8_t {
    Begin,            // connect() without sharing
    BeginShared,      // connect() with sharing
    LockGranted,      // the browser gave this tab the lock
    SettleDue,        // the settle delay is over
    PageHidden,       // pagehide: the page may go into the back/forward cache
    PageShown,        // pageshow from the back/forward cache
    GoOffline,        // the browser says it is offline
    GoOnline,         // ... and back
    OwnBatch,         // this tab's poll delivered messages, or moved the cursor without any
    OwnState,         // this tab's poll changed state
    OwnClosed,        // this tab's poll closed: only ever because this machine stopped it; never allowed
    OwnReport,        // this tab's poll reported an error
    PeerHello,        // another tab joined
    PeerBatch,        // another tab's batch, starting where this tab stands or somewhere new
    PeerBrokenBatch,  // ... whose cursor after it is not a whole id
    LateCopy,         // ... starting at a cursor this tab has moved past
    PeerWelcome,      // the leader's answer to hello: its cursor and state
    PeerState,        // the leader's poll changed state
    PeerReport,       // the leader's poll reported an error
    Close,
};
const char* name_of(TabEvent event);

// What the Tab decided. One struct for every kind rather than a std::variant of seventeen types:
// in the wasm, a variant's machinery alone costs about 3 KB. Each kind uses the fields its line
// names; the others keep their defaults. The poll is a Poller run by the adapter.
struct TabAction {
    enum Kind : uint8_t {
        StartPoll,       // cursor to start from (empty: as a new subscriber); offline: tell it at once
        StopPoll,        //
        PollInput,       // event (Suspend, Resume, GoOffline, GoOnline) for the running poll
        RequestLock,     // ask for the tab lock (granted later, through lock_granted)
        ReleaseLock,     // give the lock up: the next tab leads
        LeaveTabs,       // closed: give the lock up or stop asking for it, close the channel
        PostHello,       // to the other tabs
        PostWelcome,     // cursor, state: to the other tabs
        PostState,       // to: to the other tabs
        DeliverOwn,      // the batch this tab's poll delivered; relay: first post it to the other
                         // tabs with previous and cursor
        ReportOwn,       // the error this tab's poll reported; relay: the other tabs report it too
        DeliverRelayed,  // deliver the other tab's batch being handled
        DropLateCopy,    // ... or leave it: this tab has those messages
        ReportRelayed,   // report the other tab's error being handled
        SaveCursor,      // cursor: keep it for the next page load
        ShowState,       // from, to: the state the page sees (connection.state, comet.state, comet.open)
        Note,            // warning, text: a line for the debug log
    };
    Kind kind = StopPoll;
    Cursor previous;
    Cursor cursor;
    bool offline = false;
    bool relay = false;
    bool warning = false;
    State state = State::Idle;
    State from = State::Idle;
    State to = State::Idle;
    Event event = Event::Start;
    std::string text;
};
const char* name_of(TabAction::Kind kind);

class Tab {
  public:
    explicit Tab(TabConfig config);

    // connect(): `saved` is the cursor found in storage for `resume` (nullopt: none), `online`
    // what the browser says.
    bool begin(Millis now, const std::optional<Cursor>& saved, bool online);
    bool lock_granted(Millis now);
    bool on_timer(Millis now);
    bool page_hidden(Millis now);
    bool page_shown(Millis now, bool online);
    // These two, and page_shown(), record what the browser says about the network in every
    // state, refused or not; the table decides what the poll hears.
    bool go_offline(Millis now);
    bool go_online(Millis now);
    // Drops every action still queued, then closes.
    bool close();

    // What this tab's poll did: a batch (or a cursor moved without one), a state change, an
    // error report.
    bool own_batch(Millis now, const Cursor& cursor);
    bool own_state(Millis now, State from, State to);
    bool own_report(Millis now);

    // What another tab posted.
    bool peer_hello(Millis now);
    bool peer_batch(Millis now, const Cursor& previous, const Cursor& cursor);
    bool peer_welcome(Millis now, const Cursor& cursor, State state);
    bool peer_state(Millis now, State to);
    bool peer_report(Millis now);

    TabState state() const { return state_; }
    std::optional<Millis> next_deadline() const;
    // The state the page sees, and the cursor after the last batch this tab delivered.
    State shown() const { return shown_; }
    const Cursor& cursor() const { return cursor_; }

    std::vector<TabAction>& actions() { return actions_; }
    std::optional<TabAction> take_action();

  private:
    bool apply(Millis now, TabEvent event);
    bool apply_with(Millis now, TabEvent event, const Cursor& cursor);
    TabAction& emit(TabAction::Kind kind);
    void note(bool warning, std::string text);
    void adopt_saved();
    void start_poll();
    void follow();
    void deliver_own(bool relay);
    void move_cursor(const Cursor& cursor);
    void show(State from, State to);

    TabConfig config_;
    TabState state_ = TabState::Idle;
    State shown_ = State::Connecting;
    bool online_ = true;
    Millis settle_at_ = 0;
    Cursor cursor_;
    std::vector<Cursor> history_;  // the cursors this tab has moved past: a ring of config_.history
    size_t history_next_ = 0;      // where the next one goes
    // The input being applied, for the effects that carry it on.
    std::optional<Cursor> in_saved_;
    const Cursor* in_cursor_ = nullptr;  // apply_with's, while it applies
    State in_from_ = State::Idle;
    State in_to_ = State::Idle;
    std::vector<TabAction> actions_;
};

}  // namespace comet
