// decode_body: one response body in, the messages it carries (and its problems) out.
#include "body.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace comet {
namespace {

const std::string kB = "0/9.AbCdEfGhIjKlMnOpQrStUvWxYz12";
const std::string kMultipartType = "multipart/mixed; boundary=" + kB;

DecodedBody decode(std::string_view content_type, std::string_view body, const Extraction& extraction = {}) {
    DecodedBody out;
    decode_body(content_type, body, extraction, out);
    return out;
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

// One part in Nchan's shape; an empty content type means the part has no headers.
std::string part(std::string_view content_type, std::string_view payload) {
    std::string out = "--" + kB + "\r\n";
    if (!content_type.empty()) out += "Content-Type: " + std::string(content_type) + "\r\n";
    return out + "\r\n" + std::string(payload) + "\r\n";
}
std::string close_delimiter() { return "--" + kB + "--\r\n"; }

TEST(DecodeBody, PlainJsonWithTypeAndData) {
    std::string body = R"({"type":"chat","data":{"text":"hi"}})";
    DecodedBody out = decode("application/json", body);
    EXPECT_TRUE(out.problems.empty());
    ASSERT_EQ(out.messages.size(), 1u);
    const Message& m = out.messages[0];
    EXPECT_EQ(m.flags, kMessageJson | kTypeString);
    EXPECT_EQ(m.type.in(body), R"("chat")");
    EXPECT_EQ(m.data.in(body), R"({"text":"hi"})");
}

TEST(DecodeBody, JsonMediaTypeWithParametersAndOtherSpellings) {
    const char* types[] = {"application/json; charset=utf-8", "APPLICATION/JSON", "text/json",
                           "application/vnd.api+json"};
    std::string body = R"({"type":"t","data":1})";
    for (const char* type : types) {
        SCOPED_TRACE(type);
        DecodedBody out = decode(type, body);
        ASSERT_EQ(out.messages.size(), 1u);
        EXPECT_EQ(out.messages[0].flags, kMessageJson | kTypeString);
        EXPECT_EQ(out.messages[0].data.in(body), "1");
    }
}

TEST(DecodeBody, CustomTypeAndDataAttributes) {
    std::string body = R"({"type":"no","kind":"yes","data":0,"payload":[1]})";
    Extraction extraction;
    extraction.type_attr = "kind";
    extraction.data_attr = "payload";
    DecodedBody out = decode("application/json", body, extraction);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].type.in(body), R"("yes")");
    EXPECT_EQ(out.messages[0].data.in(body), "[1]");
}

TEST(DecodeBody, EmptyDataAttrDeliversTheWholeValue) {
    std::string body = "\r\n {\"type\":\"t\",\"data\":1} \n";
    Extraction extraction;
    extraction.data_attr = "";
    DecodedBody out = decode("application/json", body, extraction);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].flags, kMessageJson | kTypeString);
    EXPECT_EQ(out.messages[0].type.in(body), R"("t")");
    EXPECT_EQ(out.messages[0].data.in(body), R"({"type":"t","data":1})");
}

TEST(DecodeBody, MissingDataMemberDeliversTheWholeValue) {
    // As the original: "if the special data attribute isn't found, the full value is passed".
    std::string body = R"({"type":"t","payload":1})";
    DecodedBody out = decode("application/json", body);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].data.in(body), body);
}

TEST(DecodeBody, FalsyDataIsDeliveredAsIs) {
    std::string body = R"({"type":"t","data":0})";
    DecodedBody out = decode("application/json", body);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].data.in(body), "0");
}

TEST(DecodeBody, DeclaredJsonThatDoesNotParseIsAProblemNotAMessage) {
    std::string body = R"({"type":"t","data":)";
    DecodedBody out = decode("application/json", body);
    EXPECT_TRUE(out.messages.empty());
    ASSERT_EQ(out.problems.size(), 1u);
    EXPECT_EQ(out.problems[0].offset, body.size());
    EXPECT_TRUE(contains(out.problems[0].detail, "Malformed JSON")) << out.problems[0].detail;
    EXPECT_TRUE(contains(out.problems[0].detail, "unexpected end")) << out.problems[0].detail;
    EXPECT_FALSE(contains(out.problems[0].detail, "part")) << out.problems[0].detail;
}

TEST(DecodeBody, DeclaredJsonProblemOffsetPointsAtTheFault) {
    std::string body = R"({"a":1,})";
    DecodedBody out = decode("application/json", body);
    ASSERT_EQ(out.problems.size(), 1u);
    EXPECT_EQ(out.problems[0].offset, 7u);
    EXPECT_TRUE(contains(out.problems[0].detail, "at byte 7")) << out.problems[0].detail;
}

TEST(DecodeBody, DeclaredJsonScalarIsAJsonMessageWithoutType) {
    std::string body = " \"just a string\" ";
    DecodedBody out = decode("application/json", body);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].flags, kMessageJson);
    EXPECT_EQ(out.messages[0].type.length, 0u);
    EXPECT_EQ(out.messages[0].data.in(body), "\"just a string\"");
}

TEST(DecodeBody, UndeclaredJsonLookingValidBodyIsJson) {
    struct Row {
        const char* content_type;
        const char* body;
    };
    const Row rows[] = {
        {"", R"({"type":"t","data":[1]})"},
        {"text/plain", R"({"type":"t","data":[1]})"},
        {"application/x-www-form-urlencoded", R"( {"type":"t","data":[1]} )"},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.content_type);
        std::string body = row.body;
        DecodedBody out = decode(row.content_type, body);
        EXPECT_TRUE(out.problems.empty());
        ASSERT_EQ(out.messages.size(), 1u);
        EXPECT_EQ(out.messages[0].flags, kMessageJson | kTypeString);
        EXPECT_EQ(out.messages[0].type.in(body), R"("t")");
        EXPECT_EQ(out.messages[0].data.in(body), "[1]");
    }

    std::string array = "[1,2]";
    DecodedBody out = decode("", array);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].flags, kMessageJson);
    EXPECT_EQ(out.messages[0].data.in(array), "[1,2]");
}

TEST(DecodeBody, UndeclaredJsonLookingInvalidBodyIsText) {
    const char* bodies[] = {"{not json}", "[1,]", "{\"a\":1} trailing", "[ unfinished"};
    for (const char* text : bodies) {
        SCOPED_TRACE(text);
        std::string body = text;
        DecodedBody out = decode("text/plain", body);
        EXPECT_TRUE(out.problems.empty());
        ASSERT_EQ(out.messages.size(), 1u);
        EXPECT_EQ(out.messages[0].flags, 0u);
        EXPECT_EQ(out.messages[0].data.in(body), body);
    }
}

TEST(DecodeBody, UndeclaredScalarsStayText) {
    // Only objects and arrays are tried as JSON when the type does not say JSON.
    const char* bodies[] = {"42", "true", "\"quoted\"", "null"};
    for (const char* text : bodies) {
        SCOPED_TRACE(text);
        std::string body = text;
        DecodedBody out = decode("text/plain", body);
        ASSERT_EQ(out.messages.size(), 1u);
        EXPECT_EQ(out.messages[0].flags, 0u);
        EXPECT_EQ(out.messages[0].data.in(body), body);
    }
}

TEST(DecodeBody, TextPlainIsText) {
    std::string body = "hello, world\r\nsecond line";
    DecodedBody out = decode("text/plain; charset=utf-8", body);
    EXPECT_TRUE(out.problems.empty());
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].flags, 0u);
    EXPECT_EQ(out.messages[0].type.length, 0u);
    EXPECT_EQ(out.messages[0].data.in(body), body);
}

TEST(DecodeBody, EmptyBodyWithoutJsonTypeIsAnEmptyTextMessage) {
    const char* types[] = {"", "text/plain"};
    for (const char* type : types) {
        SCOPED_TRACE(type);
        DecodedBody out = decode(type, "");
        EXPECT_TRUE(out.problems.empty());
        ASSERT_EQ(out.messages.size(), 1u);
        EXPECT_EQ(out.messages[0].flags, 0u);
        EXPECT_EQ(out.messages[0].data.length, 0u);
    }
}

TEST(DecodeBody, EmptyBodyWithJsonTypeIsAProblem) {
    DecodedBody out = decode("application/json", "");
    EXPECT_TRUE(out.messages.empty());
    ASSERT_EQ(out.problems.size(), 1u);
    EXPECT_EQ(out.problems[0].offset, 0u);
    EXPECT_TRUE(contains(out.problems[0].detail, "empty")) << out.problems[0].detail;
}

TEST(DecodeBody, StripsAUtf8ByteOrderMark) {
    std::string json = "\xef\xbb\xbf{\"type\":\"a\",\"data\":2}";
    DecodedBody out = decode("application/json", json);
    EXPECT_TRUE(out.problems.empty());
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].type.offset, 11u);
    EXPECT_EQ(out.messages[0].type.in(json), R"("a")");
    EXPECT_EQ(out.messages[0].data.in(json), "2");

    // Undeclared: the mark does not hide that the body looks like JSON.
    out = decode("", json);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].flags, kMessageJson | kTypeString);

    std::string text = "\xef\xbb\xbfhello";
    out = decode("text/plain", text);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].data.offset, 3u);
    EXPECT_EQ(out.messages[0].data.in(text), "hello");
}

TEST(DecodeBody, DeclaredJsonProblemOffsetCountsTheByteOrderMark) {
    std::string body = "\xef\xbb\xbf[1,]";
    DecodedBody out = decode("application/json", body);
    ASSERT_EQ(out.problems.size(), 1u);
    EXPECT_EQ(out.problems[0].offset, 6u);
}

TEST(DecodeBody, TypeFlagsFollowTheTypeToken) {
    struct Row {
        const char* token;
        uint32_t flags;
    };
    const Row rows[] = {
        {R"("s")", kMessageJson | kTypeString},
        {R"("")", kMessageJson | kTypeString},
        {"12", kMessageJson | kTypeScalar},
        {"-0.5", kMessageJson | kTypeScalar},
        {"true", kMessageJson | kTypeScalar},
        {"false", kMessageJson},
        {"null", kMessageJson},
        {R"({"a":1})", kMessageJson},
        {"[1]", kMessageJson},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.token);
        std::string body = std::string(R"({"data":"d","type":)") + row.token + "}";
        DecodedBody out = decode("application/json", body);
        ASSERT_EQ(out.messages.size(), 1u);
        const Message& m = out.messages[0];
        EXPECT_EQ(m.flags, row.flags);
        if (m.flags & (kTypeString | kTypeScalar))
            EXPECT_EQ(m.type.in(body), row.token);
        else
            EXPECT_EQ(m.type.length, 0u);
        EXPECT_EQ(m.data.in(body), R"("d")");
    }
}

TEST(DecodeBody, NoTypeMemberMeansNoTypeFlag) {
    std::string body = R"({"data":"d"})";
    DecodedBody out = decode("application/json", body);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].flags, kMessageJson);
}

TEST(DecodeBody, MultipartDeliversEveryPartInOrderByItsOwnType) {
    std::string body = part("application/json", R"({"type":"a","data":1})") + part("text/plain", "plain words") +
                       part("", R"({"type":"b","data":2})") + part("", "no type, just text") +
                       part("text/plain", R"(["looks","like","json"])") + close_delimiter();
    DecodedBody out = decode(kMultipartType, body);
    EXPECT_TRUE(out.problems.empty());
    ASSERT_EQ(out.messages.size(), 5u);
    EXPECT_EQ(out.messages[0].flags, kMessageJson | kTypeString);
    EXPECT_EQ(out.messages[0].type.in(body), R"("a")");
    EXPECT_EQ(out.messages[0].data.in(body), "1");
    EXPECT_EQ(out.messages[1].flags, 0u);
    EXPECT_EQ(out.messages[1].data.in(body), "plain words");
    EXPECT_EQ(out.messages[2].flags, kMessageJson | kTypeString);
    EXPECT_EQ(out.messages[2].type.in(body), R"("b")");
    EXPECT_EQ(out.messages[2].data.in(body), "2");
    EXPECT_EQ(out.messages[3].flags, 0u);
    EXPECT_EQ(out.messages[3].data.in(body), "no type, just text");
    EXPECT_EQ(out.messages[4].flags, kMessageJson);
    EXPECT_EQ(out.messages[4].data.in(body), R"(["looks","like","json"])");
}

TEST(DecodeBody, MultipartMediaTypeInAnyCase) {
    std::string body = part("", "one") + part("", "two") + close_delimiter();
    DecodedBody out = decode("Multipart/Mixed; BOUNDARY=\"" + kB + "\"", body);
    EXPECT_TRUE(out.problems.empty());
    ASSERT_EQ(out.messages.size(), 2u);
    EXPECT_EQ(out.messages[1].data.in(body), "two");
}

TEST(DecodeBody, MalformedJsonPartIsReportedWithItsNumberAndTheOthersDelivered) {
    std::string first = part("application/json", R"({"type":"ok","data":1})");
    std::string second = part("application/json", R"({"type":"broken",)");
    std::string body = first + second + part("text/plain", "after") + close_delimiter();
    DecodedBody out = decode(kMultipartType, body);
    ASSERT_EQ(out.messages.size(), 2u);
    EXPECT_EQ(out.messages[0].type.in(body), R"("ok")");
    EXPECT_EQ(out.messages[1].data.in(body), "after");
    ASSERT_EQ(out.problems.size(), 1u);
    EXPECT_TRUE(contains(out.problems[0].detail, "part 2")) << out.problems[0].detail;
    // The offset is in the whole body, at the end of the broken part's payload.
    size_t payload_end = first.size() + second.size() - 2;
    EXPECT_EQ(out.problems[0].offset, payload_end);
    EXPECT_TRUE(contains(out.problems[0].detail, "at byte " + std::to_string(payload_end))) << out.problems[0].detail;
}

TEST(DecodeBody, BrokenMultipartDeliversCompletePartsAndReportsTheRest) {
    std::string body = part("text/plain", "one") + part("application/json", "[2]") + "--" + kB +
                       "\r\nContent-Type: text/plain\r\n\r\nthree is cut sh";
    DecodedBody out = decode(kMultipartType, body);
    ASSERT_EQ(out.messages.size(), 2u);
    EXPECT_EQ(out.messages[0].data.in(body), "one");
    EXPECT_EQ(out.messages[1].data.in(body), "[2]");
    EXPECT_EQ(out.messages[1].flags, kMessageJson);
    ASSERT_EQ(out.problems.size(), 1u);
    EXPECT_EQ(out.problems[0].offset, body.size());
    EXPECT_TRUE(contains(out.problems[0].detail, "2 complete part(s)")) << out.problems[0].detail;
    EXPECT_TRUE(contains(out.problems[0].detail, "truncated")) << out.problems[0].detail;
}

TEST(DecodeBody, BrokenMultipartWithABadPartReportsBoth) {
    std::string body = part("application/json", "{") + part("", "fine") + "--" + kB + "\r\n\r\ncut";
    DecodedBody out = decode(kMultipartType, body);
    ASSERT_EQ(out.messages.size(), 1u);
    EXPECT_EQ(out.messages[0].data.in(body), "fine");
    ASSERT_EQ(out.problems.size(), 2u);
    EXPECT_TRUE(contains(out.problems[0].detail, "part 1")) << out.problems[0].detail;
    EXPECT_TRUE(contains(out.problems[1].detail, "Broken multipart")) << out.problems[1].detail;
}

TEST(DecodeBody, MultipartWithoutBoundaryDeliversNothingAndSaysWhy) {
    std::string body = part("", "one") + close_delimiter();
    DecodedBody out = decode("multipart/mixed", body);
    EXPECT_TRUE(out.messages.empty());
    ASSERT_EQ(out.problems.size(), 1u);
    EXPECT_TRUE(contains(out.problems[0].detail, "0 complete part(s)")) << out.problems[0].detail;
    EXPECT_TRUE(contains(out.problems[0].detail, "boundary")) << out.problems[0].detail;
}

TEST(DecodeBody, AppendsToWhatIsAlreadyThere) {
    DecodedBody out;
    decode_body("text/plain", "one", Extraction{}, out);
    decode_body("application/json", "", Extraction{}, out);
    decode_body("text/plain", "two", Extraction{}, out);
    EXPECT_EQ(out.messages.size(), 2u);
    EXPECT_EQ(out.problems.size(), 1u);
    out.clear();
    EXPECT_TRUE(out.messages.empty());
    EXPECT_TRUE(out.problems.empty());
}

std::string gathered(std::string_view content_type, std::string_view body, const Extraction& extraction = {}) {
    DecodedBody out = decode(content_type, body, extraction);
    std::string values(gathered_json_size(out.messages), '\0');
    if (!values.empty()) gather_json_values(body, out.messages, values.data());
    return values;
}

TEST(GatherJsonValues, TypeThenDataForEveryJsonMessageAndNothingForText) {
    std::string body = part("application/json", R"({"type":"a","data":{"x":[1,2]}})") + part("text/plain", "words") +
                       part("", R"({"type":7,"data":"seven"})") + part("", R"({"type":true,"data":null})") +
                       part("", R"({"type":false,"data":0})") + part("", R"({"data":"untyped"})") +
                       part("", R"(["a","b"])") + close_delimiter();
    std::string expected = R"(["a",{"x":[1,2]},7,"seven",true,null,null,0,null,"untyped",null,["a","b"]])";
    EXPECT_EQ(gathered(kMultipartType, body), expected);
}

TEST(GatherJsonValues, KeepsTokensAsTheyAreEscapesAndWhitespaceIncluded) {
    std::string body = "{ \"type\" : \"f\\u00e9ed\\n\" , \"data\" : [ 1 , \"\\\"\" ] }";
    EXPECT_EQ(gathered("application/json", body), "[\"f\\u00e9ed\\n\",[ 1 , \"\\\"\" ]]");
}

TEST(GatherJsonValues, WholeMessageWhenThereIsNoDataKey) {
    std::string body = R"({"type":"t","payload":1})";
    Extraction whole;
    whole.data_attr = "";
    EXPECT_EQ(gathered("application/json", body, whole), R"(["t",{"type":"t","payload":1}])");
    EXPECT_EQ(gathered("application/json", body), R"(["t",{"type":"t","payload":1}])");
}

TEST(GatherJsonValues, EmptyWhenNoMessageIsJson) {
    EXPECT_EQ(gathered("text/plain", "just text"), "");
    EXPECT_EQ(gathered(kMultipartType, part("", "one") + part("text/plain", "two") + close_delimiter()), "");
    EXPECT_EQ(gathered("application/json", "{broken"), "");
}

// Every length from 0 to 40 is copied whole (memcpy, or memory.copy in the wasm), for
// the type and the data, at every alignment the parts before them leave.
TEST(GatherJsonValues, EveryLengthIsCopiedWhole) {
    std::string body;
    std::string expected = "[";
    for (int n = 0; n <= 40; ++n) {
        std::string type = "\"" + std::string(n, char('a' + n % 26)) + "\"";
        std::string data = "\"" + std::string(40 - n, char('A' + n % 26)) + "\"";
        body += part("", "{\"type\":" + type + ",\"data\":" + data + "}");
        expected += (n ? "," : "") + type + "," + data;
    }
    body += close_delimiter();
    EXPECT_EQ(gathered(kMultipartType, body), expected + "]");
}

TEST(GatherJsonValues, MessagesAreFiveWordsForJavaScript) {
    std::vector<Message> messages(2);
    messages[1].flags = kMessageJson | kTypeString;
    messages[1].type = Span{10, 3};
    messages[1].data = Span{20, 4};
    const auto* words = reinterpret_cast<const uint32_t*>(messages.data());
    EXPECT_EQ(words[5], kMessageJson | kTypeString);
    EXPECT_EQ(words[6], 10u);
    EXPECT_EQ(words[7], 3u);
    EXPECT_EQ(words[8], 20u);
    EXPECT_EQ(words[9], 4u);
}

// Gathered while the JSON messages' type and data average at most kGatherAtMost bytes: the
// bound itself is in, one byte more is out. Text messages count neither way.
TEST(WorthGathering, SmallMessagesAreGatheredLargeOnesAreNot) {
    auto json = [](uint32_t type, uint32_t data) {
        Message message;
        message.flags = kMessageJson | (type ? uint32_t{kTypeString} : 0u);
        message.type = Span{0, type};
        message.data = Span{0, data};
        return message;
    };
    auto text = [](uint32_t data) {
        Message message;
        message.data = Span{0, data};
        return message;
    };
    const uint32_t at_most = static_cast<uint32_t>(kGatherAtMost);
    EXPECT_TRUE(worth_gathering({json(3, 120), json(3, 120)}));  // the headline's shape
    EXPECT_TRUE(worth_gathering({json(3, at_most - 3), json(0, at_most)}));
    EXPECT_FALSE(worth_gathering({json(3, at_most - 3), json(0, at_most + 1)}));
    EXPECT_FALSE(worth_gathering({json(3, 65536)}));
    // An average: one large message among many small ones is gathered with them.
    std::vector<Message> mixed(99, json(3, 30));
    mixed.push_back(json(3, 20000));
    EXPECT_TRUE(worth_gathering(mixed));
    mixed.push_back(json(3, 40000));
    EXPECT_FALSE(worth_gathering(mixed));
    // Text is not gathered and does not count.
    EXPECT_TRUE(worth_gathering({json(3, 30), text(1 << 20)}));
    EXPECT_FALSE(worth_gathering({text(10), text(10)}));
    EXPECT_FALSE(worth_gathering({}));
}

}  // namespace
}  // namespace comet
