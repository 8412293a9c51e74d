#include "tab.hpp"

#include <algorithm>

#include "http_text.hpp"
#include "transitions.hpp"

namespace comet {

const char* name_of(TabState state) {
    switch (state) {
        case TabState::Idle: return "idle";
        case TabState::Solo: return "solo";
        case TabState::Following: return "following";
        case TabState::Settling: return "settling";
        case TabState::Leading: return "leading";
        case TabState::Closed: return "closed";
    }
    return "?";
}

const char* name_of(TabEvent event) {
    switch (event) {
        case TabEvent::Begin: return "begin";
        case TabEvent::BeginShared: return "begin-shared";
        case TabEvent::LockGranted: return "lock-granted";
        case TabEvent::SettleDue: return "settle-due";
        case TabEvent::PageHidden: return "page-hidden";
        case TabEvent::PageShown: return "page-shown";
        case TabEvent::GoOffline: return "go-offline";
        case TabEvent::GoOnline: return "go-online";
        case TabEvent::OwnBatch: return "own-batch";
        case TabEvent::OwnState: return "own-state";
        case TabEvent::OwnClosed: return "own-closed";
        case TabEvent::OwnReport: return "own-report";
        case TabEvent::PeerHello: return "peer-hello";
        case TabEvent::PeerBatch: return "peer-batch";
        case TabEvent::PeerBrokenBatch: return "peer-broken-batch";
        case TabEvent::LateCopy: return "late-copy";
        case TabEvent::PeerWelcome: return "peer-welcome";
        case TabEvent::PeerState: return "peer-state";
        case TabEvent::PeerReport: return "peer-report";
        case TabEvent::Close: return "close";
    }
    return "?";
}

const char* name_of(TabAction::Kind kind) {
    static const char* const kNames[] = {
        "StartPoll",    "StopPoll",      "PollInput",  "RequestLock", "ReleaseLock", "LeaveTabs",
        "PostHello",    "PostWelcome",   "PostState",  "DeliverOwn",  "ReportOwn",   "DeliverRelayed",
        "DropLateCopy", "ReportRelayed", "SaveCursor", "ShowState",   "Note"};
    return kind <= TabAction::Note ? kNames[kind] : "?";
}

namespace {

// What a transition does; each is one fixed recipe that does not look at the event.
enum class Effect : uint8_t {
    Nothing,
    PollAlone,        // take the saved cursor, start the poll
    Follow,           // take the saved cursor, say hello, ask for the lock
    Settle,           // the lock is ours: poll once the settle delay is over
    Lead,             // start the poll, from where this tab stands
    ResignUnstarted,  // into the back/forward cache before polling: give the lock up, ask again
    Resign,           // ... while polling: stop the poll too
    SuspendPoll,      // pagehide: nothing open while the page sits in the back/forward cache
    ResumePoll,       // pageshow: poll again (and tell the poll if the browser is offline)
    PollOffline,      // the browser went offline: the poll stops trying
    PollOnline,       // ... and is back: the poll tries at once
    Welcome,          // a tab joined: tell it where the stream stands
    DeliverAlone,     // this tab's batch: deliver it, move the cursor
    DeliverAndRelay,  // ... and first post it to the other tabs
    ShowPoll,         // this tab's poll changed state: the page sees it
    ShowAndRelay,     // ... and so do the other tabs (when it differs from what they see)
    ReportAlone,      // this tab's poll reported an error
    ReportAndRelay,   // ... and the other tabs report it too
    Take,             // another tab's batch: deliver it, move to its cursor
    TakeKeepCursor,   // ... deliver it, but its cursor is not whole: keep this tab's own
    Drop,             // a late copy: this tab has those messages
    Adopt,            // the leader's welcome: its cursor if this tab has none, its state
    Mirror,           // the leader's state
    ReportTheirs,     // the leader's error
    Stop,             // closed: stop the poll
    Leave,            // closed: stop the poll, let the next tab lead
};

using Row = Transition<TabState, TabEvent, Effect>;

// Everything that moves the state lives here. Anything absent is refused.
constexpr Row kTransitions[] = {
    {TabState::Idle, TabEvent::Begin, TabState::Solo, Effect::PollAlone},
    {TabState::Idle, TabEvent::BeginShared, TabState::Following, Effect::Follow},

    // Solo: the poll is this tab's alone.
    {TabState::Solo, TabEvent::OwnBatch, TabState::Solo, Effect::DeliverAlone},
    {TabState::Solo, TabEvent::OwnState, TabState::Solo, Effect::ShowPoll},
    {TabState::Solo, TabEvent::OwnReport, TabState::Solo, Effect::ReportAlone},
    {TabState::Solo, TabEvent::PageHidden, TabState::Solo, Effect::SuspendPoll},
    {TabState::Solo, TabEvent::PageShown, TabState::Solo, Effect::ResumePoll},
    {TabState::Solo, TabEvent::GoOffline, TabState::Solo, Effect::PollOffline},
    {TabState::Solo, TabEvent::GoOnline, TabState::Solo, Effect::PollOnline},

    // Shared: follow until the lock comes, settle, lead; back to following on pagehide.
    {TabState::Following, TabEvent::LockGranted, TabState::Settling, Effect::Settle},
    {TabState::Settling, TabEvent::SettleDue, TabState::Leading, Effect::Lead},
    {TabState::Settling, TabEvent::PageHidden, TabState::Following, Effect::ResignUnstarted},
    {TabState::Leading, TabEvent::PageHidden, TabState::Following, Effect::Resign},
    {TabState::Leading, TabEvent::PageShown, TabState::Leading, Effect::ResumePoll},
    {TabState::Leading, TabEvent::GoOffline, TabState::Leading, Effect::PollOffline},
    {TabState::Leading, TabEvent::GoOnline, TabState::Leading, Effect::PollOnline},
    {TabState::Leading, TabEvent::OwnBatch, TabState::Leading, Effect::DeliverAndRelay},
    {TabState::Leading, TabEvent::OwnState, TabState::Leading, Effect::ShowAndRelay},
    {TabState::Leading, TabEvent::OwnReport, TabState::Leading, Effect::ReportAndRelay},
    // The lock holder answers newcomers, even while it settles.
    {TabState::Settling, TabEvent::PeerHello, TabState::Settling, Effect::Welcome},
    {TabState::Leading, TabEvent::PeerHello, TabState::Leading, Effect::Welcome},

    // What the leader posts reaches every tab that does not poll itself, including one that
    // settles: it takes the old leader's last words before it polls.
    {TabState::Following, TabEvent::PeerBatch, TabState::Following, Effect::Take},
    {TabState::Settling, TabEvent::PeerBatch, TabState::Settling, Effect::Take},
    {TabState::Following, TabEvent::PeerBrokenBatch, TabState::Following, Effect::TakeKeepCursor},
    {TabState::Settling, TabEvent::PeerBrokenBatch, TabState::Settling, Effect::TakeKeepCursor},
    {TabState::Following, TabEvent::LateCopy, TabState::Following, Effect::Drop},
    {TabState::Settling, TabEvent::LateCopy, TabState::Settling, Effect::Drop},
    {TabState::Following, TabEvent::PeerWelcome, TabState::Following, Effect::Adopt},
    {TabState::Settling, TabEvent::PeerWelcome, TabState::Settling, Effect::Adopt},
    {TabState::Following, TabEvent::PeerState, TabState::Following, Effect::Mirror},
    {TabState::Settling, TabEvent::PeerState, TabState::Settling, Effect::Mirror},
    {TabState::Following, TabEvent::PeerReport, TabState::Following, Effect::ReportTheirs},
    {TabState::Settling, TabEvent::PeerReport, TabState::Settling, Effect::ReportTheirs},

    {TabState::Idle, TabEvent::Close, TabState::Closed, Effect::Stop},
    {TabState::Solo, TabEvent::Close, TabState::Closed, Effect::Stop},
    {TabState::Following, TabEvent::Close, TabState::Closed, Effect::Leave},
    {TabState::Settling, TabEvent::Close, TabState::Closed, Effect::Leave},
    {TabState::Leading, TabEvent::Close, TabState::Closed, Effect::Leave},
    {TabState::Closed, TabEvent::Close, TabState::Closed, Effect::Nothing},  // close() twice is harmless
};

}  // namespace

Tab::Tab(TabConfig config) : config_(config) {}

std::optional<Millis> Tab::next_deadline() const {
    if (state_ == TabState::Settling) return settle_at_;
    return std::nullopt;
}

std::optional<TabAction> Tab::take_action() {
    if (actions_.empty()) return std::nullopt;
    std::optional<TabAction> next(std::move(actions_.front()));
    actions_.erase(actions_.begin());
    // As the Poller's queue: nothing kept at the high-water mark between inputs.
    if (actions_.empty()) std::vector<TabAction>().swap(actions_);
    return next;
}

bool Tab::begin(Millis now, const std::optional<Cursor>& saved, bool online) {
    if (state_ != TabState::Idle) return false;
    online_ = online;
    in_saved_ = config_.resume ? saved : std::nullopt;
    return apply(now, config_.shared ? TabEvent::BeginShared : TabEvent::Begin);
}

bool Tab::lock_granted(Millis now) { return apply(now, TabEvent::LockGranted); }

bool Tab::on_timer(Millis now) {
    if (state_ == TabState::Settling && now >= settle_at_) return apply(now, TabEvent::SettleDue);
    return false;
}

bool Tab::page_hidden(Millis now) { return apply(now, TabEvent::PageHidden); }

bool Tab::page_shown(Millis now, bool online) {
    online_ = online;
    return apply(now, TabEvent::PageShown);
}

bool Tab::go_offline(Millis now) {
    online_ = false;
    return apply(now, TabEvent::GoOffline);
}

bool Tab::go_online(Millis now) {
    online_ = true;
    return apply(now, TabEvent::GoOnline);
}

bool Tab::close() {
    actions_.clear();
    return apply(0, TabEvent::Close);
}

bool Tab::own_batch(Millis now, const Cursor& cursor) { return apply_with(now, TabEvent::OwnBatch, cursor); }

bool Tab::own_state(Millis now, State from, State to) {
    in_from_ = from;
    in_to_ = to;
    return apply(now, to == State::Closed ? TabEvent::OwnClosed : TabEvent::OwnState);
}

bool Tab::own_report(Millis now) { return apply(now, TabEvent::OwnReport); }

bool Tab::peer_hello(Millis now) { return apply(now, TabEvent::PeerHello); }

bool Tab::peer_batch(Millis now, const Cursor& previous, const Cursor& cursor) {
    bool passed = previous != cursor_ && std::find(history_.begin(), history_.end(), previous) != history_.end();
    TabEvent event = passed                ? TabEvent::LateCopy
                     : well_formed(cursor) ? TabEvent::PeerBatch
                                           : TabEvent::PeerBrokenBatch;
    return apply_with(now, event, cursor);
}

bool Tab::peer_welcome(Millis now, const Cursor& cursor, State state) {
    in_to_ = state;
    return apply_with(now, TabEvent::PeerWelcome, cursor);
}

bool Tab::peer_state(Millis now, State to) {
    // A leader's poll only closes because it stops leading; the others' connections go on.
    if (to == State::Closed) return false;
    in_to_ = to;
    return apply(now, TabEvent::PeerState);
}

bool Tab::peer_report(Millis now) { return apply(now, TabEvent::PeerReport); }

// The cursor is the caller's, and is only looked at while the event is applied: the tab keeps
// no copy of an input (a cursor's Last-Modified is a heap string, per connection).
bool Tab::apply_with(Millis now, TabEvent event, const Cursor& cursor) {
    in_cursor_ = &cursor;
    bool applied = apply(now, event);
    in_cursor_ = nullptr;
    return applied;
}

bool Tab::apply(Millis now, TabEvent event) {
    const Row* t = find_transition(kTransitions, state_, event);
    if (!t) return false;
    state_ = t->to;
    switch (t->effect) {
        case Effect::Nothing: break;
        case Effect::PollAlone:
            adopt_saved();
            start_poll();
            break;
        case Effect::Follow:
            adopt_saved();
            emit(TabAction::PostHello);
            follow();
            break;
        case Effect::Settle:
            settle_at_ = now + config_.settle;
            note(false, "this tab polls for all tabs (shared)");
            break;
        case Effect::Lead: start_poll(); break;
        case Effect::ResignUnstarted:
            emit(TabAction::ReleaseLock);
            follow();
            break;
        case Effect::Resign:
            emit(TabAction::StopPoll);
            emit(TabAction::ReleaseLock);
            follow();
            break;
        case Effect::SuspendPoll: emit(TabAction::PollInput).event = Event::Suspend; break;
        case Effect::ResumePoll:
            emit(TabAction::PollInput).event = Event::Resume;
            if (!online_) emit(TabAction::PollInput).event = Event::GoOffline;
            break;
        case Effect::PollOffline: emit(TabAction::PollInput).event = Event::GoOffline; break;
        case Effect::PollOnline: emit(TabAction::PollInput).event = Event::GoOnline; break;
        case Effect::Welcome: {
            TabAction& welcome = emit(TabAction::PostWelcome);
            welcome.cursor = cursor_;
            welcome.state = shown_;
            break;
        }
        case Effect::DeliverAlone: deliver_own(false); break;
        case Effect::DeliverAndRelay: deliver_own(true); break;
        case Effect::ShowPoll: show(in_from_, in_to_); break;
        case Effect::ShowAndRelay:
            if (in_to_ != shown_) {
                show(shown_, in_to_);
                emit(TabAction::PostState).to = in_to_;
            }
            break;
        case Effect::ReportAlone: emit(TabAction::ReportOwn).relay = false; break;
        case Effect::ReportAndRelay: emit(TabAction::ReportOwn).relay = true; break;
        case Effect::Take:
            emit(TabAction::DeliverRelayed);
            move_cursor(*in_cursor_);
            break;
        case Effect::TakeKeepCursor:
            emit(TabAction::DeliverRelayed);
            note(true, "a batch from another tab came with a cursor that is not whole; this tab keeps its own");
            break;
        case Effect::Drop: emit(TabAction::DropLateCopy); break;
        case Effect::Adopt:
            if (cursor_.empty() && well_formed(*in_cursor_)) move_cursor(*in_cursor_);
            if (in_to_ != State::Closed && in_to_ != shown_) show(shown_, in_to_);
            break;
        case Effect::Mirror:
            if (in_to_ != shown_) show(shown_, in_to_);
            break;
        case Effect::ReportTheirs: emit(TabAction::ReportRelayed); break;
        case Effect::Stop: emit(TabAction::StopPoll); break;
        case Effect::Leave:
            emit(TabAction::StopPoll);
            emit(TabAction::LeaveTabs);
            break;
    }
    return true;
}

// A saved cursor that is not a whole id would send the server somewhere else in the stream:
// better to start as a new subscriber.
void Tab::adopt_saved() {
    if (!in_saved_) return;
    if (well_formed(*in_saved_)) {
        cursor_ = *in_saved_;
        note(false, concat({"resuming after If-None-Match ", cursor_.etag}));
    } else {
        note(true, "the saved cursor is not a whole message id; starting anew");
    }
    in_saved_.reset();
}

TabAction& Tab::emit(TabAction::Kind kind) {
    actions_.emplace_back();
    actions_.back().kind = kind;
    return actions_.back();
}

void Tab::note(bool warning, std::string text) {
    TabAction& line = emit(TabAction::Note);
    line.warning = warning;
    line.text = std::move(text);
}

void Tab::start_poll() {
    TabAction& start = emit(TabAction::StartPoll);
    start.cursor = cursor_;
    start.offline = !online_;
}

void Tab::follow() {
    emit(TabAction::RequestLock);
    note(false, "following the tab that polls (shared)");
}

void Tab::deliver_own(bool relay) {
    TabAction& own = emit(TabAction::DeliverOwn);
    own.relay = relay;
    own.previous = cursor_;
    own.cursor = *in_cursor_;
    move_cursor(*in_cursor_);
}

// The cursor after what this tab has delivered: remembered as passed, saved for a reload.
// Only shared tabs remember the cursors they passed (late copies only come from other tabs),
// the last `history` of them in a ring. No empty cursor is remembered: a batch from it comes
// from a leader that polls as a new subscriber, and is never a copy of one this tab has.
void Tab::move_cursor(const Cursor& cursor) {
    if (cursor == cursor_) return;
    if (config_.shared && !cursor_.empty() && config_.history > 0) {
        if (history_.size() < config_.history) {
            history_.push_back(cursor_);
        } else {
            history_[history_next_] = cursor_;
        }
        history_next_ = (history_next_ + 1) % config_.history;
    }
    cursor_ = cursor;
    if (config_.resume) emit(TabAction::SaveCursor).cursor = cursor_;
}

void Tab::show(State from, State to) {
    shown_ = to;
    TabAction& change = emit(TabAction::ShowState);
    change.from = from;
    change.to = to;
}

}  // namespace comet
