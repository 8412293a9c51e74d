// A state machine's transitions as data, as the Poller and the Tab keep them: each row says
// that `event` in state `from` moves to `to` and does `effect`. A pair without a row is
// refused.
#pragma once

#include <cstddef>

namespace comet {

template <class State, class Event, class Effect>
struct Transition {
    State from;
    Event event;
    State to;
    Effect effect;
};

// The row for `event` in state `from`, or null.
template <class State, class Event, class Effect, size_t N>
const Transition<State, Event, Effect>* find_transition(const Transition<State, Event, Effect> (&table)[N], State from,
                                                        Event event) {
    for (const auto& t : table)
        if (t.from == from && t.event == event) return &t;
    return nullptr;
}

}  // namespace comet
