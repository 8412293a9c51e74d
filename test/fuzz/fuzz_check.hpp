// What every fuzz target shares: CHECK() that aborts with the failed condition (so libFuzzer
// records the input), and the span bounds test.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <utility>

#include "span.hpp"

[[noreturn]] inline void fuzz_violated(const char* what) {
    std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
    std::abort();
}

#define CHECK(cond)                        \
    do {                                   \
        if (!(cond)) fuzz_violated(#cond); \
    } while (0)

inline bool within(comet::Span span, size_t size) { return span.offset <= size && span.length <= size - span.offset; }

// Splits a fuzz input into its first line (without a trailing CR) and the rest; empty when
// there is no line break or the input is over 1 MiB.
inline std::optional<std::pair<std::string_view, std::string_view>> first_line_and_rest(const uint8_t* data,
                                                                                        size_t size) {
    if (size > (1u << 20)) return std::nullopt;
    std::string_view input(reinterpret_cast<const char*>(data), size);
    size_t eol = input.find('\n');
    if (eol == std::string_view::npos) return std::nullopt;
    std::string_view line = input.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    return std::make_pair(line, input.substr(eol + 1));
}
