// How long to wait before the next try: exponential backoff with full jitter, a slow path
// for failures that retrying soon cannot heal, and the server's own Retry-After.
//
// Pure arithmetic over a seeded generator: no clock, no global randomness, so a test with a
// fixed seed sees the same delays every run.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace comet {

using Millis = int64_t;

class Backoff {
  public:
    Backoff(Millis first, Millis cap, uint64_t seed);

    // The delay before try number `failures` + 1 after `failures` failures in a row (1 for
    // the first failure): random in [ceiling / 10, ceiling] where ceiling is
    // min(cap, first * 2^(failures - 1)). The floor keeps a run of bad luck from becoming a
    // hot loop; the spread keeps many clients from retrying in step.
    Millis delay(uint32_t failures);
    // For failures that will not heal soon (400, 403, 404, 410): random in [cap / 2, cap].
    Millis slow_delay();
    // The largest delay() can return for `failures`.
    Millis ceiling(uint32_t failures) const;
    // The smallest delay() can return: a tenth of the first step, at least 1 ms.
    Millis floor() const { return ceiling(1) / 10 < 1 ? 1 : ceiling(1) / 10; }

  private:
    uint64_t next_random();
    Millis uniform(Millis low, Millis high);

    Millis first_;
    Millis cap_;
    uint64_t state_;
};

// Retry-After as a delay in ms: delta-seconds, or an HTTP date measured against the
// response's own Date header (the only clock the core may read). Empty when absent,
// malformed, or a date without a Date header to measure it by. Never negative.
std::optional<Millis> parse_retry_after(std::string_view value, std::string_view date_header);

// An IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") as seconds since the epoch.
std::optional<int64_t> parse_http_date(std::string_view value);

}  // namespace comet
