// What a response must show before it counts (integrity.hpp): framing that proves it arrived
// whole, and a whole message id. The header blocks are what Chromium and Firefox hand a page
// for a real Nchan response cut at a given byte (see the sweep at the end): the lines that had
// arrived, the last one possibly cut short, and an empty body.
#include "integrity.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace comet {
namespace {

const char kDate[] = "Tue, 01 Dec 2026 21:46:12 GMT";

// ---------------------------------------------------------------------------------------------
// Content-Length

TEST(ContentLength, ParsesDigitsAndListsOfTheSameValue) {
    struct Row {
        const char* value;
        bool ok;
        uint64_t expected;
    };
    const Row rows[] = {
        {"0", true, 0},         {"21", true, 21},
        {"  21 ", true, 21},    {"21, 21", true, 21},
        {"21,21,21", true, 21}, {"9999999999999999999", true, 9999999999999999999ull},
        {"", false, 0},         {" ", false, 0},
        {"21, 22", false, 0},   {"21,", false, 0},
        {"-1", false, 0},       {"+1", false, 0},
        {"1.0", false, 0},      {"0x10", false, 0},
        {"12 3", false, 0},     {"99999999999999999999", false, 0},  // does not fit: never a match
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.value);
        uint64_t out = 12345;
        EXPECT_EQ(parse_content_length(row.value, out), row.ok);
        if (row.ok) {
            EXPECT_EQ(out, row.expected);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Framing

// A header block, the body bytes that arrived with it, and what check_framing() makes of them.
struct FramingRow {
    const char* headers;
    uint64_t body;
    Framing expected;
};

template <size_t N>
void expect_framing(const FramingRow (&rows)[N]) {
    for (const FramingRow& row : rows) {
        SCOPED_TRACE(std::string(row.headers) + " with " + std::to_string(row.body) + " bytes");
        EXPECT_EQ(check_framing(row.headers, row.body).framing, row.expected);
    }
}

TEST(Framing, ContentLengthMustMatchTheBytesThatArrived) {
    const FramingRow rows[] = {
        {"Content-Length: 21\r\n", 21, Framing::Whole},
        {"content-length: 21\r\n", 21, Framing::Whole},
        {"Content-Length: 0\r\n", 0, Framing::Whole},
        {"Content-Length: 21\r\n", 0, Framing::LengthMismatch},
        {"Content-Length: 21\r\n", 20, Framing::LengthMismatch},
        {"Content-Length: 21\r\n", 22, Framing::LengthMismatch},
        {"Content-Length: 2\r\n", 0, Framing::LengthMismatch},  // "21" cut to "2" in the header block
        {"Content-Length: 21, 21\r\n", 21, Framing::Whole},
        {"Content-Length: 21, 20\r\n", 21, Framing::Unverifiable},
        {"Content-Length: \r\n", 0, Framing::Unverifiable},  // cut right after the name
        {"Content-Length: abc\r\n", 3, Framing::Unverifiable},
        {"Content-Length: 5\r\nContent-Encoding: identity\r\n", 5, Framing::Whole},
    };
    expect_framing(rows);
    EXPECT_EQ(check_framing("Content-Length: 21\r\n", 3).declared, 21u);
}

TEST(Framing, ChunkedOrCompressedCountsOnceABodyByteArrived) {
    // The browser fails a chunked or announced body cut short; a header block cut short gives
    // an empty body with whatever headers had arrived, "Transfer-Encoding: chunked" included.
    const FramingRow rows[] = {
        {"Transfer-Encoding: chunked\r\n", 21, Framing::Whole},
        {"Transfer-Encoding: gzip, chunked\r\n", 3, Framing::Whole},
        {"transfer-encoding: CHUNKED\r\n", 1, Framing::Whole},
        {"Transfer-Encoding: chunked\r\n", 0, Framing::Unverifiable},
        {"Transfer-Encoding: chun\r\n", 0, Framing::Unverifiable},
        {"Transfer-Encoding: chunked, gzip\r\n", 9, Framing::Unverifiable},  // not chunked last
        {"Content-Length: 30\r\nContent-Encoding: gzip\r\n", 140, Framing::Whole},
        {"Content-Length: 30\r\nContent-Encoding: gzip\r\n", 0, Framing::Unverifiable},
        {"Content-Encoding: br\r\nTransfer-Encoding: chunked\r\n", 12, Framing::Whole},
        {"Content-Encoding: gzip\r\n", 12, Framing::Unverifiable},  // nothing framed it
    };
    expect_framing(rows);
}

TEST(Framing, NothingToFrameItIsUnverifiable) {
    EXPECT_EQ(check_framing("", 0).framing, Framing::Unverifiable);
    EXPECT_EQ(check_framing("", 10).framing, Framing::Unverifiable);  // a body until the connection closed
    EXPECT_EQ(check_framing("Content-Type: application/json\r\n", 10).framing, Framing::Unverifiable);
}

// ---------------------------------------------------------------------------------------------
// The message id

TEST(CursorRead, BothHeadersWellFormedIsValid) {
    Cursor cursor;
    std::string headers = std::string("Last-Modified: ") + kDate + "\r\nEtag: 12\r\n";
    EXPECT_EQ(read_cursor(headers, cursor), CursorCheck::Valid);
    EXPECT_EQ(cursor.last_modified, kDate);
    EXPECT_EQ(cursor.etag, "12");
    EXPECT_TRUE(well_formed(cursor));
}

TEST(CursorRead, NeitherHeaderIsAbsentAndLeavesTheCursorAlone) {
    Cursor cursor{kDate, "3"};
    EXPECT_EQ(read_cursor("Content-Type: text/plain\r\n", cursor), CursorCheck::Absent);
    EXPECT_EQ(cursor.etag, "3");
}

TEST(CursorRead, HalfAnIdOrAMalformedOneIsBrokenAndLeavesTheCursorAlone) {
    const std::string date = std::string("Last-Modified: ") + kDate + "\r\n";
    const std::string rows[] = {
        date,                                                             // cut before Etag
        "Etag: 12\r\n",                                                   // no date
        date + "Etag: \r\n",                                              // cut right after the name
        date + "Etag:\r\n",                                               //
        "Last-Modified: Tue, 01 Dec 2026 21:46:1\r\nEtag: 12\r\n",        // a date cut short
        "Last-Modified: \r\nEtag: 12\r\n",                                //
        "Last-Modified: yesterday\r\nEtag: 12\r\n",                       // not an HTTP date
        "Last-Modified: Tue, 01 Dec 2026 21:46:12 GMT x\r\nEtag: 1\r\n",  // trailing junk
    };
    for (const std::string& headers : rows) {
        SCOPED_TRACE(headers);
        Cursor cursor{kDate, "3"};
        EXPECT_EQ(read_cursor(headers, cursor), CursorCheck::Broken);
        EXPECT_EQ(cursor.last_modified, kDate);
        EXPECT_EQ(cursor.etag, "3");
    }
}

TEST(CursorRead, WellFormedNeedsADateAndATag) {
    EXPECT_TRUE(well_formed(Cursor{kDate, "0"}));
    EXPECT_TRUE(well_formed(Cursor{kDate, "W/\"x\""}));
    EXPECT_FALSE(well_formed(Cursor{}));
    EXPECT_FALSE(well_formed(Cursor{kDate, ""}));
    EXPECT_FALSE(well_formed(Cursor{"", "1"}));
    EXPECT_FALSE(well_formed(Cursor{"Tue, 01 Dec 2026", "1"}));
    EXPECT_TRUE(Cursor{}.empty());
    EXPECT_FALSE((Cursor{"", "1"}).empty());
}

// ---------------------------------------------------------------------------------------------
// A real Nchan response, cut at every byte as a browser hands it over.

// What Nchan 1.3.6 sent for one message (captured with a raw socket; header order as sent).
const char kNchanResponse[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx/1.22.1\r\n"
    "Date: Tue, 01 Dec 2026 21:46:12 GMT\r\n"
    "Content-Type: application/json\r\n"
    "Content-Length: 21\r\n"
    "Last-Modified: Tue, 01 Dec 2026 21:46:12 GMT\r\n"
    "Connection: keep-alive\r\n"
    "Etag: 12\r\n"
    "Vary: If-None-Match, If-Modified-Since\r\n"
    "\r\n"
    "{\"type\":\"t\",\"data\":1}";

// The header lines a browser reports for the first `cut` bytes of the header block (after the
// status line): every line that had begun, the last one as far as it got. Chromium and
// Firefox both hand these over with status 200 and an empty body.
std::string headers_cut_at(std::string_view block, size_t cut) {
    std::string_view arrived = block.substr(0, cut);
    std::string out(arrived);
    if (!out.empty() && out.back() != '\n') out += "\r\n";
    return out;
}

struct Split {
    std::string_view status_line;  // with its CRLF
    std::string_view block;        // the header lines, each with its CRLF
    std::string_view body;
};

Split split(std::string_view response) {
    size_t status_end = response.find("\r\n") + 2;
    size_t block_end = response.find("\r\n\r\n") + 2;
    return Split{response.substr(0, status_end), response.substr(status_end, block_end - status_end),
                 response.substr(block_end + 2)};
}

TEST(NchanResponseCutShort, NoCutInsideTheHeaderBlockIsFramedWhole) {
    Split whole = split(kNchanResponse);
    for (size_t cut = 0; cut <= whole.block.size(); ++cut) {
        std::string headers = headers_cut_at(whole.block, cut);
        SCOPED_TRACE("cut after " + std::to_string(whole.status_line.size() + cut) + " bytes:\n" + headers);
        // Content-Length 21 with 0 bytes, or no usable Content-Length at all: never whole,
        // also where the id looks whole ("Etag: 1" where the server sent "12").
        EXPECT_NE(check_framing(headers, 0).framing, Framing::Whole);
    }
    // The whole block with the whole body counts, with its id.
    EXPECT_EQ(check_framing(whole.block, whole.body.size()).framing, Framing::Whole);
    Cursor cursor;
    EXPECT_EQ(read_cursor(whole.block, cursor), CursorCheck::Valid);
    EXPECT_EQ(cursor.etag, "12");
}

TEST(NchanResponseCutShort, ABodyCutShortNeverMatchesItsContentLength) {
    Split whole = split(kNchanResponse);
    for (size_t bytes = 0; bytes < whole.body.size(); ++bytes) {
        SCOPED_TRACE(bytes);
        EXPECT_EQ(check_framing(whole.block, bytes).framing, Framing::LengthMismatch);
    }
}

}  // namespace
}  // namespace comet
