// Eight bytes at a time: the scanners' hot loops (string contents in the JSON scanner, line
// breaks in the multipart splitter) test a 64-bit word for the bytes they stop at instead of
// one byte per round. In the wasm that is a 64-bit load and a few operations, which counts in
// V8's baseline tier, where a backlog's one on_response call runs.
#pragma once

#include <cstdint>
#include <cstring>

namespace comet {

constexpr uint64_t kEveryByte = 0x0101010101010101ull;
constexpr uint64_t kHighBits = 0x8080808080808080ull;

inline uint64_t load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}

// The classic zero-byte tests: the bytes of `v` equal to `c` (below `c`, for c <= 0x80) each
// flagged in its high bit. A borrow may also flag a byte above (after) one rightly flagged,
// never one below, so the lowest flag is always right: counting trailing zeros finds the first
// such byte (wasm, like the native tests' x86-64, is little-endian: the lowest byte is the
// first in memory), and a word without flags has none.
inline uint64_t bytes_equal_to(uint64_t v, unsigned char c) {
    uint64_t x = v ^ (kEveryByte * c);
    return (x - kEveryByte) & ~x & kHighBits;
}
inline uint64_t bytes_below(uint64_t v, unsigned char c) { return (v - kEveryByte * c) & ~v & kHighBits; }

}  // namespace comet
