// The retry arithmetic: exponential backoff with full jitter, the slow path, and the two
// Retry-After forms. Expected values are written out, never computed by the code under test.
#include "backoff.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

namespace comet {
namespace {

// ---------------------------------------------------------------------------------------------
// Ceilings.

TEST(Backoff, CeilingsDoubleFromFirstAndStopAtTheCap) {
    Backoff backoff(1000, 30000, 1);
    const Millis expected[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    for (uint32_t failures = 1; failures <= 8; ++failures) {
        EXPECT_EQ(backoff.ceiling(failures), expected[failures - 1]) << failures << " failures";
    }
    EXPECT_EQ(backoff.ceiling(100), 30000);
    EXPECT_EQ(backoff.ceiling(UINT32_MAX), 30000);  // no overflow, no endless loop
}

TEST(Backoff, ACapOnTheDoublingSequenceIsReachedExactly) {
    Backoff backoff(3, 96, 1);
    const Millis expected[] = {3, 6, 12, 24, 48, 96, 96};
    for (uint32_t failures = 1; failures <= 7; ++failures) {
        EXPECT_EQ(backoff.ceiling(failures), expected[failures - 1]) << failures << " failures";
    }
}

TEST(Backoff, ACapEqualToFirstNeverGrows) {
    Backoff backoff(500, 500, 1);
    for (uint32_t failures : {1u, 2u, 10u, 1000u}) EXPECT_EQ(backoff.ceiling(failures), 500);
}

TEST(Backoff, LargeValuesDoNotOverflow) {
    // The shim allows up to 2^31 - 1 ms for both.
    const Millis max = 2147483647;
    Backoff backoff(max, max, 1);
    EXPECT_EQ(backoff.ceiling(64), max);
    Backoff from_one(1, max, 1);
    EXPECT_EQ(from_one.ceiling(31), Millis{1} << 30);
    EXPECT_EQ(from_one.ceiling(32), max);
    EXPECT_EQ(from_one.ceiling(UINT32_MAX), max);
    for (int i = 0; i < 100; ++i) {
        Millis delay = from_one.delay(UINT32_MAX);
        EXPECT_GE(delay, max / 10);
        EXPECT_LE(delay, max);
    }
}

// ---------------------------------------------------------------------------------------------
// Full jitter.

TEST(Backoff, DelaysStayWithinATenthOfTheCeilingAndTheCeiling) {
    Backoff backoff(1000, 30000, 7);
    for (uint32_t failures = 1; failures <= 8; ++failures) {
        SCOPED_TRACE(failures);
        const Millis high = backoff.ceiling(failures);
        const Millis low = std::max<Millis>(1, high / 10);
        for (int i = 0; i < 1000; ++i) {
            Millis delay = backoff.delay(failures);
            ASSERT_GE(delay, low);
            ASSERT_LE(delay, high);
        }
    }
}

TEST(Backoff, DelaysAreActuallySpread) {
    for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{0xDEADBEEF}, UINT64_MAX}) {
        SCOPED_TRACE(seed);
        Backoff backoff(1000, 30000, seed);
        Millis lowest = INT64_MAX;
        Millis highest = 0;
        int deciles[10] = {};
        for (int i = 0; i < 1000; ++i) {
            Millis delay = backoff.delay(10);  // range [3000, 30000]
            lowest = std::min(lowest, delay);
            highest = std::max(highest, delay);
            ++deciles[std::min<Millis>(9, (delay - 3000) * 10 / 27001)];
        }
        // Full jitter: the samples reach near both ends of the range...
        EXPECT_LT(lowest, 4000);
        EXPECT_GT(highest, 29000);
        EXPECT_GT(highest - lowest, 20000);
        // ... and fill it (an even spread puts ~100 in each tenth).
        for (int d = 0; d < 10; ++d) EXPECT_GT(deciles[d], 50) << "decile " << d;
    }
}

TEST(Backoff, TheFloorIsNeverBelowOneMillisecond) {
    // A ceiling under 10 would give a floor of 0: a hot loop. The floor is 1.
    Backoff one(1, 1, 3);
    for (int i = 0; i < 100; ++i) EXPECT_EQ(one.delay(1), 1);
    Backoff small(5, 5, 3);
    Millis lowest = 5;
    Millis highest = 0;
    for (int i = 0; i < 1000; ++i) {
        Millis delay = small.delay(1);
        ASSERT_GE(delay, 1);
        ASSERT_LE(delay, 5);
        lowest = std::min(lowest, delay);
        highest = std::max(highest, delay);
    }
    EXPECT_EQ(lowest, 1);
    EXPECT_EQ(highest, 5);
}

TEST(Backoff, SlowDelaysStayWithinHalfTheCapAndTheCap) {
    Backoff backoff(1000, 30000, 11);
    Millis lowest = INT64_MAX;
    Millis highest = 0;
    for (int i = 0; i < 1000; ++i) {
        Millis delay = backoff.slow_delay();
        ASSERT_GE(delay, 15000);
        ASSERT_LE(delay, 30000);
        lowest = std::min(lowest, delay);
        highest = std::max(highest, delay);
    }
    EXPECT_LT(lowest, 16000);
    EXPECT_GT(highest, 29000);
}

// ---------------------------------------------------------------------------------------------
// Seeds.

std::vector<Millis> sequence(uint64_t seed) {
    Backoff backoff(1000, 60000, seed);
    std::vector<Millis> out;
    for (uint32_t failures = 1; failures <= 10; ++failures) {
        out.push_back(backoff.delay(failures));
        out.push_back(backoff.slow_delay());
    }
    return out;
}

TEST(Backoff, TheSameSeedGivesTheSameSequence) {
    for (uint64_t seed : {uint64_t{0}, uint64_t{1}, uint64_t{42}, UINT64_MAX}) {
        EXPECT_EQ(sequence(seed), sequence(seed)) << "seed " << seed;
    }
}

TEST(Backoff, DifferentSeedsGiveDifferentSequences) {
    const uint64_t seeds[] = {0, 1, 2, 42, uint64_t{1} << 32, UINT64_MAX};
    for (uint64_t a : seeds) {
        for (uint64_t b : seeds) {
            if (a == b) continue;
            EXPECT_NE(sequence(a), sequence(b)) << "seeds " << a << " and " << b;
        }
    }
}

TEST(Backoff, CeilingDrawsNoRandomness) {
    // ceiling() is const: asking it between draws leaves the sequence as it was.
    Backoff plain(1000, 60000, 5);
    Backoff asked(1000, 60000, 5);
    for (uint32_t failures = 1; failures <= 10; ++failures) {
        (void)asked.ceiling(failures);
        EXPECT_EQ(plain.delay(failures), asked.delay(failures));
    }
}

// ---------------------------------------------------------------------------------------------
// The constructor clamps what makes no sense.

TEST(Backoff, AFirstStepBelowOneBecomesOne) {
    for (Millis first : {Millis{0}, Millis{-1}, Millis{-5000}, INT64_MIN}) {
        SCOPED_TRACE(first);
        Backoff backoff(first, 100, 1);
        EXPECT_EQ(backoff.ceiling(1), 1);
        EXPECT_EQ(backoff.ceiling(2), 2);
        EXPECT_EQ(backoff.ceiling(8), 100);
        EXPECT_EQ(backoff.delay(1), 1);
    }
}

TEST(Backoff, ACapBelowTheFirstStepBecomesTheFirstStep) {
    Backoff backoff(1000, 10, 1);
    EXPECT_EQ(backoff.ceiling(1), 1000);
    EXPECT_EQ(backoff.ceiling(5), 1000);
    for (int i = 0; i < 200; ++i) {
        Millis delay = backoff.delay(3);
        ASSERT_GE(delay, 100);
        ASSERT_LE(delay, 1000);
        Millis slow = backoff.slow_delay();
        ASSERT_GE(slow, 500);
        ASSERT_LE(slow, 1000);
    }
}

TEST(Backoff, BothBelowOneBecomeOne) {
    Backoff backoff(0, -3, 1);
    EXPECT_EQ(backoff.ceiling(1), 1);
    EXPECT_EQ(backoff.ceiling(10), 1);
    EXPECT_EQ(backoff.delay(10), 1);
}

// ---------------------------------------------------------------------------------------------
// parse_http_date: IMF-fixdate only.

struct DateRow {
    const char* text;
    int64_t seconds;
};

const DateRow kValidDates[] = {
    {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},  // RFC 9110's own example
    {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
    {"Thu, 29 Feb 2024 12:34:56 GMT", 1709210096},  // leap day
    {"Wed, 28 Feb 2024 23:59:59 GMT", 1709164799},
    {"Fri, 01 Mar 2024 00:00:00 GMT", 1709251200},
    {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},  // divisible by 400: a leap year
    {"Sat, 01 Jan 2000 00:00:00 GMT", 946684800},
    {"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648},  // past 32 bits
    {"Wed, 31 Dec 2025 23:59:59 GMT", 1767225599},
    {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
    {"  Sun, 06 Nov 1994 08:49:37 GMT\t", 784111777},  // surrounding whitespace is trimmed
};

TEST(ParseHttpDate, ValidImfFixdates) {
    for (const DateRow& row : kValidDates) {
        SCOPED_TRACE(row.text);
        std::optional<int64_t> seconds = parse_http_date(row.text);
        ASSERT_TRUE(seconds.has_value());
        EXPECT_EQ(*seconds, row.seconds);
    }
}

TEST(ParseHttpDate, MalformedDatesAreEmpty) {
    const char* const malformed[] = {
        "",
        "   ",
        // Wrong length.
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTT",
        "Sun, 06 Nov 1994 08:49:37",
        "Sun, 06 Nov 1994 8:49:37 GMT",
        // Months.
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 06 NOV 1994 08:49:37 GMT",
        // Time zone.
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 gmt",
        "Sun, 06 Nov 1994 08:49:37 GMX",
        "Sun, 06 Nov 1994 08:49:37 EST",
        "Sun, 06 Nov 1994 08:49:37xGMT",
        "Sun, 06 Nov 1994 08:49:37 +000",
        // Out of range.
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 32 Nov 1994 08:49:37 GMT",
        // Letters and signs where digits belong.
        "Sun, 0a Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 19x4 08:49:37 GMT",
        "Sun, 06 Nov 1994 O8:49:37 GMT",
        "Sun, 06 Nov 1994 08:4x:37 GMT",
        "Sun, 06 Nov 1994 08:49:3x GMT",
        "Sun, 06 Nov -994 08:49:37 GMT",
        "Sun, +6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:-7 GMT",
        // Separators.
        "Sun  06 Nov 1994 08:49:37 GMT",
        "Sun, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08.49.37 GMT",
        "Sun, 06 Nov 1994T08:49:37 GMT",
        // The obsolete formats are not supported: Retry-After falls back to the backoff.
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        // Not a date at all.
        "120",
        "1994-11-06T08:49:37Z",
    };
    for (const char* text : malformed) {
        EXPECT_FALSE(parse_http_date(text).has_value()) << "\"" << text << "\"";
    }
}

// ---------------------------------------------------------------------------------------------
// parse_retry_after.

const char kNow[] = "Wed, 01 Jan 2025 00:00:00 GMT";

struct RetryAfterRow {
    const char* value;
    const char* date_header;
    std::optional<Millis> expected;
};

const RetryAfterRow kRetryAfterRows[] = {
    // delta-seconds
    {"0", "", 0},
    {"1", "", 1000},
    {"120", "", 120000},
    {" 5 ", "", 5000},
    {"\t7\t", "", 7000},
    {"007", "", 7000},
    {"120", kNow, 120000},  // the Date header plays no part
    {"120", "garbage", 120000},
    {"999999999", "", Millis{999999999} * 1000},
    // Huge: clamped to 999999999 s rather than overflowing; the caller caps it further.
    {"1000000000", "", Millis{999999999} * 1000},
    {"99999999999999999999999999999", "", Millis{999999999} * 1000},
    // An HTTP date, measured against the response's Date header.
    {"Wed, 01 Jan 2025 00:02:00 GMT", kNow, 120000},
    {"Wed, 01 Jan 2025 00:00:01 GMT", kNow, 1000},
    {"Wed, 01 Jan 2025 00:00:00 GMT", kNow, 0},
    {"Thu, 02 Jan 2025 00:00:00 GMT", kNow, 86400000},
    {"Fri, 01 Mar 2024 00:00:00 GMT", "Wed, 28 Feb 2024 00:00:00 GMT", 2 * 86400000},  // across a leap day
    {" Wed, 01 Jan 2025 00:02:00 GMT ", " Wed, 01 Jan 2025 00:00:00 GMT ", 120000},
    // A date in the past: at once, never negative.
    {"Tue, 31 Dec 2024 23:59:59 GMT", kNow, 0},
    {"Thu, 01 Jan 1970 00:00:00 GMT", kNow, 0},
    // A date with no Date header, or a bad one, to measure it by.
    {"Wed, 01 Jan 2025 00:02:00 GMT", "", std::nullopt},
    {"Wed, 01 Jan 2025 00:02:00 GMT", "yesterday", std::nullopt},
    {"Wed, 01 Jan 2025 00:02:00 GMT", "Wed, 01 Jan 2025 00:00:00 UTC", std::nullopt},
    // Garbage.
    {"", "", std::nullopt},
    {"   ", kNow, std::nullopt},
    {"soon", kNow, std::nullopt},
    {"-1", kNow, std::nullopt},
    {"+5", "", std::nullopt},
    {"1.5", "", std::nullopt},
    {"5 s", "", std::nullopt},
    {"0x10", "", std::nullopt},
    {"1 2", "", std::nullopt},
    {"Wed, 01 Jan 2025 00:02:00 UTC", kNow, std::nullopt},
};

TEST(ParseRetryAfter, Rows) {
    for (const RetryAfterRow& row : kRetryAfterRows) {
        SCOPED_TRACE(std::string("\"") + row.value + "\" with Date \"" + row.date_header + "\"");
        std::optional<Millis> got = parse_retry_after(row.value, row.date_header);
        EXPECT_EQ(got, row.expected);
    }
}

TEST(ParseRetryAfter, NeverNegative) {
    // Every second of a day before the Date header: all 0.
    for (int hour = 0; hour < 24; ++hour) {
        char value[40];
        std::snprintf(value, sizeof value, "Tue, 31 Dec 2024 %02d:30:15 GMT", hour);
        EXPECT_EQ(parse_retry_after(value, kNow), Millis{0}) << value;
    }
}

}  // namespace
}  // namespace comet
