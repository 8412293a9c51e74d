// The multipart/mixed splitter, fed Nchan's exact shape and every malformed variant.
#include "multipart.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace comet {
namespace {

// 32 characters with '/' and '.', the shape of Nchan's multipart boundaries.
const std::string kB = "0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12";

struct Split {
    MultipartResult result;
    std::vector<std::string> bodies;
    std::vector<std::string> types;
};

Split split(std::string_view body, std::string_view boundary) {
    Split out;
    std::vector<Part> parts;
    out.result = split_multipart(body, boundary, parts);
    for (const Part& part : parts) {
        EXPECT_LE(part.body.end(), body.size());
        EXPECT_LE(part.content_type.end(), body.size());
        out.bodies.emplace_back(part.body.in(body));
        out.types.emplace_back(part.content_type.in(body));
    }
    return out;
}

using Strings = std::vector<std::string>;

std::string error_name(MultipartError error) { return describe(error); }

TEST(SplitMultipart, SplitsNchansExactShape) {
    std::string body = "--" + kB + "\r\nContent-Type: text/plain\r\n\r\np1\r\n--" + kB +
                       "\r\nContent-Type: application/json\r\n\r\n{\"a\":1}\r\n--" + kB + "--\r\n";
    Split s = split(body, kB);
    ASSERT_TRUE(s.result.ok()) << describe(s.result.error);
    EXPECT_EQ(s.bodies, (Strings{"p1", "{\"a\":1}"}));
    EXPECT_EQ(s.types, (Strings{"text/plain", "application/json"}));
}

TEST(SplitMultipart, PartsWithoutHeadersHaveNoContentType) {
    std::string body =
        "--B\r\n\r\nbody\r\n--B\r\nContent-Type: text/plain\r\n\r\nsecond\r\n--B\r\n\r\nthird\r\n--B--\r\n";
    std::vector<Part> parts;
    MultipartResult result = split_multipart(body, "B", parts);
    ASSERT_TRUE(result.ok());
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[0].body.in(body), "body");
    EXPECT_EQ(parts[0].content_type.length, 0u);
    EXPECT_EQ(parts[1].content_type.in(body), "text/plain");
    EXPECT_EQ(parts[1].body.in(body), "second");
    EXPECT_EQ(parts[2].content_type.length, 0u);
    EXPECT_EQ(parts[2].body.in(body), "third");
}

TEST(SplitMultipart, EmptyPartBodies) {
    std::string body = "--B\r\n\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\n\r\n--B\r\n\r\nlast\r\n--B--\r\n";
    Split s = split(body, "B");
    ASSERT_TRUE(s.result.ok());
    EXPECT_EQ(s.bodies, (Strings{"", "", "last"}));
    EXPECT_EQ(s.types, (Strings{"", "text/plain", ""}));
}

TEST(SplitMultipart, BodiesMayContainTheBoundaryAwayFromALineStart) {
    std::string body = "--B\r\n\r\nx--B y --B-- z\r\n--B\r\n\r\n --B\r\n--B--\r\n";
    Split s = split(body, "B");
    ASSERT_TRUE(s.result.ok()) << describe(s.result.error);
    EXPECT_EQ(s.bodies, (Strings{"x--B y --B-- z", " --B"}));
}

// A delimiter counts only whole and at a line's start. Every part here is made of its own
// bytes ('\n', '-', '\r' and the boundary's) in near-misses of it ("\n-", "\n--", the
// boundary cut short, the boundary away from a line start), at every boundary length from 1
// to 70, 20 random bodies each (a fixed seed): the split must give back exactly the parts.
// Runs of 13 bytes with none of those in them put line breaks and delimiters at every offset
// of the splitter's eight-byte steps, and UTF-8 ("\xc3\xa9", e acute) puts bytes with the high
// bit set before a boundary that is not at a line start.
TEST(SplitMultipart, FindsEveryDelimiterAmongNearMissesOfIt) {
    const std::string alphabet = "0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12-0123456789abcdefghijklmnopqrstuvwxyzABCD";
    uint32_t seed = 12345;
    auto next = [&seed](uint32_t n) {
        seed = seed * 1103515245u + 12345u;
        return (seed >> 8) % n;
    };
    for (size_t length = 1; length <= 70; ++length) {
        const std::string boundary = alphabet.substr(0, length);
        const std::string delimiter = "\n--" + boundary;
        const std::string pieces[] = {"\n",
                                      "-",
                                      "\r",
                                      "\n-",
                                      "\n--",
                                      "--",
                                      boundary,
                                      boundary.substr(0, length / 2),
                                      "\n--" + boundary.substr(0, length - 1),
                                      boundary.substr(length / 2),
                                      "#%&()*+,:;<=>",
                                      "\xc3\xa9"};
        for (int round = 0; round < 20; ++round) {
            Strings parts;
            std::string body = "preamble";
            for (int p = 0, count = 1 + static_cast<int>(next(5)); p < count; ++p) {
                std::string part;
                std::string framed;
                do {
                    part.clear();
                    for (uint32_t n = next(12); n > 0; --n) part += pieces[next(std::size(pieces))];
                    // It may not hold the delimiter itself: only its own closing one may follow the line
                    // break that ends the part.
                    framed = "\n" + part + "\r\n--" + boundary;
                } while (framed.find(delimiter) != framed.size() - delimiter.size());
                parts.push_back(part);
                body += "\r\n--" + boundary + "\r\n\r\n" + part;
            }
            body += "\r\n--" + boundary + "--\r\n";
            Split s = split(body, boundary);
            ASSERT_TRUE(s.result.ok()) << "boundary length " << length << ": " << describe(s.result.error);
            EXPECT_EQ(s.bodies, parts) << "boundary length " << length;
        }
    }
}

TEST(SplitMultipart, BodiesMayContainLineBreaksAndBlankLines) {
    std::string body =
        "--B\r\nContent-Type: text/plain\r\n\r\na\r\nb\r\n\r\nc\r\n\r\n--B\r\n\r\n\r\nlead\n--\n-B\r\n--B--";
    Split s = split(body, "B");
    ASSERT_TRUE(s.result.ok()) << describe(s.result.error);
    EXPECT_EQ(s.bodies, (Strings{"a\r\nb\r\n\r\nc\r\n", "\r\nlead\n--\n-B"}));
}

TEST(SplitMultipart, IgnoresPreambleAndEpilogue) {
    std::string body =
        "This is a preamble with --B inside.\r\n--B\r\n\r\np1\r\n--B--\r\n"
        "epilogue\r\n--B\r\n\r\nnot a part\r\n--B--\r\n";
    Split s = split(body, "B");
    ASSERT_TRUE(s.result.ok());
    EXPECT_EQ(s.bodies, (Strings{"p1"}));
}

TEST(SplitMultipart, CloseDelimiterNeedsNoTrailingLineBreak) {
    Split s = split("--B\r\n\r\np1\r\n--B--", "B");
    ASSERT_TRUE(s.result.ok());
    EXPECT_EQ(s.bodies, (Strings{"p1"}));
}

TEST(SplitMultipart, ToleratesBareLf) {
    std::string body = "--B\n\np1\n--B\nContent-Type: text/plain\n\np2\n--B\nContent-Type: a/b\r\n\nmixed\r\n--B--\n";
    Split s = split(body, "B");
    ASSERT_TRUE(s.result.ok()) << describe(s.result.error);
    EXPECT_EQ(s.bodies, (Strings{"p1", "p2", "mixed"}));
    EXPECT_EQ(s.types, (Strings{"", "text/plain", "a/b"}));
}

TEST(SplitMultipart, ToleratesTransportPaddingAfterTheDelimiter) {
    Split s = split("--B \t\r\n\r\np1\r\n--B  \r\n\r\np2\r\n--B--\r\n", "B");
    ASSERT_TRUE(s.result.ok());
    EXPECT_EQ(s.bodies, (Strings{"p1", "p2"}));
}

TEST(SplitMultipart, FindsContentTypeAmongOtherPartHeaders) {
    std::string body = "--B\r\nContent-ID: 1\r\ncontent-type:  application/json \r\nX-Other: y\r\n\r\n[]\r\n--B--\r\n";
    Split s = split(body, "B");
    ASSERT_TRUE(s.result.ok());
    EXPECT_EQ(s.bodies, (Strings{"[]"}));
    EXPECT_EQ(s.types, (Strings{"application/json"}));

    s = split("--B\r\nContent-ID: 1\r\n\r\nno type\r\n--B--\r\n", "B");
    EXPECT_EQ(s.bodies, (Strings{"no type"}));
    EXPECT_EQ(s.types, (Strings{""}));
}

TEST(SplitMultipart, BoundariesWithSlashAndDotAreLiteral) {
    // A boundary is compared byte for byte; '.' and '/' are not patterns.
    std::string body = "--a.b/c\r\n\r\nreal\r\n--aXb/c\r\nstill real\r\n--a.b/c--\r\n";
    Split s = split(body, "a.b/c");
    ASSERT_TRUE(s.result.ok());
    EXPECT_EQ(s.bodies, (Strings{"real\r\n--aXb/c\r\nstill real"}));
}

TEST(SplitMultipart, AppendsToThePartsItIsGiven) {
    std::vector<Part> parts(1);
    std::string body = "--B\r\n\r\np1\r\n--B\r\n\r\np2\r\n--B--\r\n";
    ASSERT_TRUE(split_multipart(body, "B", parts).ok());
    ASSERT_EQ(parts.size(), 3u);
    EXPECT_EQ(parts[1].body.in(body), "p1");
    EXPECT_EQ(parts[2].body.in(body), "p2");
}

TEST(SplitMultipart, AcceptsBoundariesUpToSeventyCharacters) {
    std::string b70(70, 'x');
    Split s = split("--" + b70 + "\r\n\r\np\r\n--" + b70 + "--\r\n", b70);
    ASSERT_TRUE(s.result.ok());
    EXPECT_EQ(s.bodies, (Strings{"p"}));
}

// Every malformed body: the error, where it is reported, and the complete parts before it.
struct ErrorRow {
    const char* name;
    std::string body;
    std::string boundary;
    MultipartError error;
    size_t offset;
    Strings parts;
};

TEST(SplitMultipart, ReportsEveryMalformedShape) {
    const std::string b71(71, 'x');
    const std::string good = "--B\r\n\r\np1\r\n";  // one part whose close is the next delimiter
    const ErrorRow rows[] = {
        {"empty boundary", "--\r\n\r\np\r\n----\r\n", "", MultipartError::NoBoundary, 0, {}},
        {"boundary over 70", "--" + b71 + "\r\n\r\np\r\n--" + b71 + "--", b71, MultipartError::NoBoundary, 0, {}},
        {"empty body", "", "B", MultipartError::NoFirstDelimiter, 0, {}},
        {"plain text", "hello", "B", MultipartError::NoFirstDelimiter, 0, {}},
        {"single dash", "-B\r\n\r\np\r\n", "B", MultipartError::NoFirstDelimiter, 0, {}},
        {"other boundary", "--A\r\n\r\np\r\n--A--\r\n", "B", MultipartError::NoFirstDelimiter, 0, {}},
        {"not at line start", "x --B\r\n\r\np", "B", MultipartError::NoFirstDelimiter, 0, {}},
        {"longer boundary", "--Bx\r\n\r\np\r\n--B--", "B", MultipartError::BadDelimiterLine, 0, {}},
        {"garbage after padding", "--B x\r\n\r\np\r\n--B--", "B", MultipartError::BadDelimiterLine, 0, {}},
        {"single dash close", "--B-\r\n", "B", MultipartError::BadDelimiterLine, 0, {}},
        {"CR without LF", "--B\rp\r\n--B--", "B", MultipartError::BadDelimiterLine, 0, {}},
        {"bad second delimiter",
         good + "--Bz\r\n\r\np2\r\n--B--\r\n",
         "B",
         MultipartError::BadDelimiterLine,
         11,
         {"p1"}},
        {"headers never end", "--B\r\nContent-Type: text/plain\r\n", "B", MultipartError::UnterminatedHeaders, 5, {}},
        {"headers cut", "--B\r\nContent-Ty", "B", MultipartError::UnterminatedHeaders, 5, {}},
        // The blank line after a part's headers must come before the next delimiter; otherwise
        // the next part would be swallowed into this one.
        {"headers run into the next delimiter",
         "--B\r\nContent-Type: a\r\n--B\r\n\r\nx\r\n--B--\r\n",
         "B",
         MultipartError::UnterminatedHeaders,
         5,
         {}},
        // Not even the blank line: the next delimiter line follows at once. It closes this
        // part, whose headers then never ended; it is not taken for a header line.
        {"a delimiter line right after the delimiter line",
         "--B\r\n--B\r\n\r\nx\r\n--B--\r\n",
         "B",
         MultipartError::UnterminatedHeaders,
         5,
         {}},
        {"second part's headers never end",
         good + "--B\r\nContent-Type: a/b",
         "B",
         MultipartError::UnterminatedHeaders,
         16,
         {"p1"}},
        {"cut in first part", "--B\r\n\r\np1", "B", MultipartError::MissingClose, 9, {}},
        {"cut after first part's line break", "--B\r\n\r\np1\r\n", "B", MultipartError::MissingClose, 11, {}},
        {"cut in second part", good + "--B\r\n\r\np2 is cu", "B", MultipartError::MissingClose, 26, {"p1"}},
        {"cut in third part",
         good + "--B\r\n\r\np2\r\n--B\r\nContent-Type: text/plain\r\n\r\np3",
         "B",
         MultipartError::MissingClose,
         57,
         {"p1", "p2"}},
        {"cut before the boundary", good + "--", "B", MultipartError::MissingClose, 13, {}},
        // A body that stops inside a delimiter line is truncated too, not malformed.
        {"cut after the boundary", good + "--B", "B", MultipartError::MissingClose, 14, {"p1"}},
        {"cut inside the close", good + "--B-", "B", MultipartError::MissingClose, 15, {"p1"}},
        {"cut inside the line break", good + "--B\r", "B", MultipartError::MissingClose, 15, {"p1"}},
        {"cut inside the padding", good + "--B  ", "B", MultipartError::MissingClose, 16, {"p1"}},
    };
    for (const ErrorRow& row : rows) {
        SCOPED_TRACE(row.name);
        Split s = split(row.body, row.boundary);
        EXPECT_FALSE(s.result.ok());
        EXPECT_EQ(error_name(s.result.error), error_name(row.error));
        EXPECT_EQ(s.result.error_offset, row.offset);
        EXPECT_LE(s.result.error_offset, row.body.size());
        EXPECT_EQ(s.bodies, row.parts);
    }
}

TEST(SplitMultipart, EveryErrorHasADescription) {
    const MultipartError errors[] = {MultipartError::NoBoundary, MultipartError::NoFirstDelimiter,
                                     MultipartError::BadDelimiterLine, MultipartError::UnterminatedHeaders,
                                     MultipartError::MissingClose};
    for (MultipartError error : errors) EXPECT_STRNE(describe(error), describe(MultipartError::None));
}

}  // namespace
}  // namespace comet
