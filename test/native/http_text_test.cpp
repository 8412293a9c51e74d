// Header blocks as the browser hands them over, and Content-Type values as Nchan sends them.
#include "http_text.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace comet {
namespace {

// 32 characters with '/' and '.', the shape of Nchan's multipart boundaries.
constexpr std::string_view kNchanBoundary = "0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12";
static_assert(kNchanBoundary.size() == 32);

const char kCrlfBlock[] =
    "Content-Type: text/plain\r\n"
    "Last-Modified: Tue, 01 Jan 2030 10:20:30 GMT\r\n"
    "Etag: 5\r\n"
    "Vary: If-None-Match, If-Modified-Since\r\n";

TEST(FindHeader, MatchesNamesCaseInsensitively) {
    const char* names[] = {"etag", "ETAG", "Etag", "eTaG"};
    for (const char* name : names) {
        SCOPED_TRACE(name);
        bool found = false;
        EXPECT_EQ(find_header(kCrlfBlock, name, &found), "5");
        EXPECT_TRUE(found);
    }
}

TEST(FindHeader, ValuesKeepColonsAndInnerSpaces) {
    EXPECT_EQ(find_header(kCrlfBlock, "last-modified"), "Tue, 01 Jan 2030 10:20:30 GMT");
    EXPECT_EQ(find_header(kCrlfBlock, "vary"), "If-None-Match, If-Modified-Since");
}

TEST(FindHeader, ReadsCrlfAndLfBlocksAndALastLineWithoutBreak) {
    EXPECT_EQ(find_header("A: 1\r\nB: 2\r\n", "b"), "2");
    EXPECT_EQ(find_header("A: 1\nB: 2\n", "b"), "2");
    EXPECT_EQ(find_header("A: 1\nB: 2", "b"), "2");
    EXPECT_EQ(find_header("A: 1\r\nB: 2", "b"), "2");
    EXPECT_EQ(find_header("A: 1\nB: 2\r\nC: 3\n", "c"), "3");
}

TEST(FindHeader, TrimsSpacesTabsAndCarriageReturns) {
    const char* block = "X-A:   spaced value \t\r\nX-B:\tv\r\nX-C:tight\r\n";
    EXPECT_EQ(find_header(block, "x-a"), "spaced value");
    EXPECT_EQ(find_header(block, "x-b"), "v");
    EXPECT_EQ(find_header(block, "x-c"), "tight");
}

TEST(FindHeader, TellsAMissingHeaderFromAnEmptyValue) {
    const char* block = "X-Empty:\r\nX-Blank:   \r\nX-Set: 1\r\n";
    bool found = false;
    EXPECT_EQ(find_header(block, "x-empty", &found), "");
    EXPECT_TRUE(found);
    found = false;
    EXPECT_EQ(find_header(block, "x-blank", &found), "");
    EXPECT_TRUE(found);
    // `found` is reset when the header is absent.
    EXPECT_EQ(find_header(block, "x-missing", &found), "");
    EXPECT_FALSE(found);
    found = true;
    EXPECT_EQ(find_header("", "x-set", &found), "");
    EXPECT_FALSE(found);
}

TEST(FindHeader, ReturnsTheFirstOccurrence) {
    EXPECT_EQ(find_header("Etag: 1\r\nEtag: 2\r\n", "etag"), "1");
    EXPECT_EQ(find_header("etag: first\nETAG: second\n", "Etag"), "first");
}

TEST(FindHeader, MatchesWholeNamesOnly) {
    EXPECT_EQ(find_header("Etag-X: 1\r\nXEtag: 2\r\nEtag: 3\r\n", "etag"), "3");
    EXPECT_EQ(find_header("Content-Type-Options: x\r\n", "content-type"), "");
    EXPECT_EQ(find_header("Etag: 1\r\n", "eta"), "");
}

TEST(FindHeader, SkipsLinesWithoutAColon) {
    bool found = false;
    EXPECT_EQ(find_header("garbage\r\n\r\nEtag: 4\r\n", "etag", &found), "4");
    EXPECT_TRUE(found);
    EXPECT_EQ(find_header("etag\r\n", "etag", &found), "");
    EXPECT_FALSE(found);
}

TEST(FindHeader, ReturnsAViewIntoTheBlock) {
    std::string_view block = kCrlfBlock;
    std::string_view value = find_header(block, "etag");
    EXPECT_GE(value.data(), block.data());
    EXPECT_LE(value.data() + value.size(), block.data() + block.size());
}

TEST(ParseContentType, SplitsMediaTypeAndBoundary) {
    struct Row {
        std::string value;
        std::string media_type;
        std::string boundary;
    };
    const std::string nchan(kNchanBoundary);
    const Row rows[] = {
        {"multipart/mixed; boundary=abc", "multipart/mixed", "abc"},
        {"multipart/mixed;boundary=abc", "multipart/mixed", "abc"},
        {"multipart/mixed; boundary=" + nchan, "multipart/mixed", nchan},
        {"multipart/mixed; boundary=\"" + nchan + "\"", "multipart/mixed", nchan},
        {"multipart/mixed; boundary=\"with space\"", "multipart/mixed", "with space"},
        {"multipart/mixed; boundary=\"a;b\"; charset=utf-8", "multipart/mixed", "a;b"},
        {"multipart/mixed; boundary=\"a=b\"", "multipart/mixed", "a=b"},
        {"multipart/mixed; charset=utf-8; boundary=xyz", "multipart/mixed", "xyz"},
        {"multipart/mixed; boundary=xyz; charset=utf-8", "multipart/mixed", "xyz"},
        {"multipart/mixed; a=\"1;2\"; boundary=xyz", "multipart/mixed", "xyz"},
        {"multipart/mixed; foo; boundary=xyz", "multipart/mixed", "xyz"},
        {"multipart/mixed; boundary = xyz ", "multipart/mixed", "xyz"},
        {"multipart/mixed; xboundary=1; boundary=2", "multipart/mixed", "2"},
        {"multipart/mixed; boundary=first; boundary=second", "multipart/mixed", "first"},
        {"Multipart/Mixed; BOUNDARY=xyz", "Multipart/Mixed", "xyz"},
        {"multipart/mixed; Boundary=xyz", "multipart/mixed", "xyz"},
        {"multipart/mixed; boundary=", "multipart/mixed", ""},
        {"multipart/mixed", "multipart/mixed", ""},
        {"application/json", "application/json", ""},
        {"application/json; charset=utf-8", "application/json", ""},
        {"  text/plain  ; charset=utf-8", "text/plain", ""},
        {"text/plain;", "text/plain", ""},
        {"", "", ""},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.value);
        ContentType parsed = parse_content_type(row.value);
        EXPECT_EQ(parsed.media_type, row.media_type);
        EXPECT_EQ(parsed.boundary, row.boundary);
    }
}

TEST(ParseContentType, AnUnterminatedQuoteRunsToTheEnd) {
    EXPECT_EQ(parse_content_type("multipart/mixed; boundary=\"abc").boundary, "abc");
}

TEST(IsJsonMediaType, JsonAndPlusJsonSubtypesOnly) {
    struct Row {
        const char* media_type;
        bool json;
    };
    const Row rows[] = {
        {"application/json", true},
        {"APPLICATION/JSON", true},
        {"Application/Json", true},
        {"text/json", true},
        {"application/x-json", true},
        {"application/vnd.api+json", true},
        {"application/ld+json", true},
        {"application/problem+JSON", true},
        {"text/plain", false},
        {"application/jsonp", false},
        {"application/json5", false},
        {"application/javascript", false},
        {"application/x-www-form-urlencoded", false},
        {"json", false},
        {"+json", false},
        {"", false},
        {"multipart/mixed", false},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.media_type);
        EXPECT_EQ(is_json_media_type(row.media_type), row.json);
    }
}

TEST(IsMultipartMixed, ExactlyMultipartMixedInAnyCase) {
    EXPECT_TRUE(is_multipart_mixed("multipart/mixed"));
    EXPECT_TRUE(is_multipart_mixed("Multipart/Mixed"));
    EXPECT_TRUE(is_multipart_mixed("MULTIPART/MIXED"));
    EXPECT_FALSE(is_multipart_mixed("multipart/alternative"));
    EXPECT_FALSE(is_multipart_mixed("multipart/mixed; boundary=x"));  // callers pass the media type only
    EXPECT_FALSE(is_multipart_mixed("multipart/mixedx"));
    EXPECT_FALSE(is_multipart_mixed(""));
}

TEST(Iequals, IgnoresAsciiCaseOnly) {
    EXPECT_TRUE(iequals("Content-Type", "content-type"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("etag", "etags"));
    EXPECT_FALSE(iequals("\xc3\xa9", "\xc3\x89"));  // é vs É: not ASCII
    EXPECT_FALSE(iequals("a-b", "a_b"));
}

TEST(Decimal, WritesWhatToStringWrites) {
    const int64_t values[] = {0,   1,       9,        10,        99,        100,       -1,
                              -10, 1234567, -7654321, INT64_MAX, INT64_MIN, 1LL << 32, (1LL << 53) + 1};
    for (int64_t value : values) EXPECT_EQ(std::string(decimal(value)), std::to_string(value));
    EXPECT_EQ(concat({"(", decimal(16u << 20), " bytes)"}), "(16777216 bytes)");
}

}  // namespace
}  // namespace comet
