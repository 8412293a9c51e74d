#include "backoff.hpp"

#include <algorithm>

#include "http_text.hpp"

namespace comet {

Backoff::Backoff(Millis first, Millis cap, uint64_t seed)
    : first_(first < 1 ? 1 : first), cap_(cap < first_ ? first_ : cap), state_(seed) {}

uint64_t Backoff::next_random() {
    // splitmix64: small, fast, good enough to spread retries.
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

Millis Backoff::uniform(Millis low, Millis high) {
    if (high <= low) return low;
    uint64_t span = static_cast<uint64_t>(high - low) + 1;
    return low + static_cast<Millis>(next_random() % span);
}

Millis Backoff::ceiling(uint32_t failures) const {
    Millis value = first_;
    for (uint32_t i = 1; i < failures && value < cap_; ++i) value *= 2;
    return std::min(value, cap_);
}

Millis Backoff::delay(uint32_t failures) {
    Millis high = ceiling(failures);
    return uniform(std::max<Millis>(1, high / 10), high);
}

Millis Backoff::slow_delay() { return uniform(cap_ / 2, cap_); }

namespace {

bool all_digits(std::string_view s) {
    if (s.empty()) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    return true;
}

int number(std::string_view s) {
    int value = 0;
    for (char c : s) value = value * 10 + (c - '0');
    return value;
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

}  // namespace

std::optional<int64_t> parse_http_date(std::string_view value) {
    // "Sun, 06 Nov 1994 08:49:37 GMT": fixed width, 29 characters.
    value = trim(value);
    if (value.size() != 29 || value[3] != ',' || value[4] != ' ' || value[7] != ' ' || value[11] != ' ' ||
        value[16] != ' ' || value[19] != ':' || value[22] != ':' || value.substr(25) != " GMT")
        return std::nullopt;
    static const char* const kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    std::string_view day = value.substr(5, 2), month = value.substr(8, 3), year = value.substr(12, 4);
    std::string_view hour = value.substr(17, 2), minute = value.substr(20, 2), second = value.substr(23, 2);
    if (!all_digits(day) || !all_digits(year) || !all_digits(hour) || !all_digits(minute) || !all_digits(second))
        return std::nullopt;
    unsigned m = 0;
    for (unsigned i = 0; i < 12; ++i)
        if (month == kMonths[i]) m = i + 1;
    int d = number(day), h = number(hour), mi = number(minute), s = number(second);
    if (m == 0 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
    return days_from_civil(number(year), m, static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + s;
}

std::optional<Millis> parse_retry_after(std::string_view value, std::string_view date_header) {
    value = trim(value);
    if (all_digits(value)) {
        if (value.size() > 9) return Millis{999999999} * 1000;  // absurdly far: the caller caps it
        return static_cast<Millis>(number(value)) * 1000;
    }
    std::optional<int64_t> at = parse_http_date(value);
    std::optional<int64_t> now = parse_http_date(date_header);
    if (!at || !now) return std::nullopt;
    return std::max<Millis>(0, (*at - *now) * 1000);
}

}  // namespace comet
