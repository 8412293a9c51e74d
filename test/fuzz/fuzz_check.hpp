// What every fuzz target shares: CHECK() that aborts with the failed condition (so libFuzzer
// records the input), and the span bounds test.
#pragma once

#include <cstdio>
#include <cstdlib>

#include "span.hpp"

[[noreturn]] inline void fuzz_violated(const char* what) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
}

#define CHECK(cond)                         \
    do {                                    \
        if (!(cond)) fuzz_violated(#cond);  \
    } while (0)

inline bool within(comet::Span span, size_t size) {
    return span.offset <= size && span.length <= size - span.offset;
}
