// The JSON scanner must accept exactly what JavaScript's JSON.parse accepts, because the shim
// hands the spans it returns straight to JSON.parse; and it must find the type and data members
// the way property access on the parsed object would.
#include "json_scan.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>

namespace comet {
namespace {

using namespace std::string_literals;

JsonScan scan(std::string_view text, std::string_view type_key = "type", std::string_view data_key = "data") {
    return scan_json(text, type_key, data_key);
}

std::string_view json_trim(std::string_view s) {
    auto ws = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
    while (!s.empty() && ws(s.front())) s.remove_prefix(1);
    while (!s.empty() && ws(s.back())) s.remove_suffix(1);
    return s;
}

const char* kind_name(JsonKind kind) {
    switch (kind) {
        case JsonKind::Object: return "object";
        case JsonKind::Array: return "array";
        case JsonKind::String: return "string";
        case JsonKind::Number: return "number";
        case JsonKind::True: return "true";
        case JsonKind::False: return "false";
        case JsonKind::Null: return "null";
    }
    return "?";
}

// ---------------------------------------------------------------------------------------------
// Documents JSON.parse accepts.

struct ValidRow {
    std::string text;
    JsonKind kind;
};

const ValidRow kValid[] = {
    // Scalars at the top level.
    {"0", JsonKind::Number},
    {"-0", JsonKind::Number},
    {"7", JsonKind::Number},
    {"-12", JsonKind::Number},
    {"1234567890", JsonKind::Number},
    {"0.5", JsonKind::Number},
    {"-0.0", JsonKind::Number},
    {"1e5", JsonKind::Number},
    {"1E5", JsonKind::Number},
    {"1e+5", JsonKind::Number},
    {"1e-5", JsonKind::Number},
    {"1.5E-3", JsonKind::Number},
    {"0e0", JsonKind::Number},
    {"-1.25e+300", JsonKind::Number},
    {"1e999", JsonKind::Number},  // Infinity once parsed, but the grammar allows it
    {"true", JsonKind::True},
    {"false", JsonKind::False},
    {"null", JsonKind::Null},
    {R"("")", JsonKind::String},
    {R"("plain")", JsonKind::String},
    // Escapes, including surrogate pairs and lone surrogates (JSON.parse keeps them as is).
    {R"("\"\\\/\b\f\n\r\t")", JsonKind::String},
    {R"("\u0041\u00e9\u20AC")", JsonKind::String},
    {R"("\uD83D\uDE00")", JsonKind::String},
    {R"("\uD800")", JsonKind::String},
    {R"("\uDC00")", JsonKind::String},
    {R"("\uDE00\uD83D")", JsonKind::String},
    {R"("\uD83Dx")", JsonKind::String},
    {R"("\u0000")", JsonKind::String},
    // Raw bytes at or above 0x20 are fine inside strings, including DEL and UTF-8.
    {"\"\x7f\"", JsonKind::String},
    {"\"caf\xc3\xa9 \xf0\x9f\x98\x80\"", JsonKind::String},
    {"\"\xe2\x80\xa8\"", JsonKind::String},  // U+2028 raw
    {"\"'single' quotes inside\"", JsonKind::String},
    // Containers.
    {"[]", JsonKind::Array},
    {"{}", JsonKind::Object},
    {"[1,2,3]", JsonKind::Array},
    {R"([1,"a",true,false,null,[],{}])", JsonKind::Array},
    {R"({"a":1})", JsonKind::Object},
    {R"({"":0})", JsonKind::Object},
    {R"({"a":1,"a":2})", JsonKind::Object},
    {R"({"a":{"b":[1,{"c":null}]},"d":[[[]]]})", JsonKind::Object},
    {R"([[[[]]]])", JsonKind::Array},
    {R"({"\u0061":"\"}"})", JsonKind::Object},
    // Whitespace (space, tab, CR, LF only) around and between tokens.
    {" 1 ", JsonKind::Number},
    {" \t\r\n{}\n ", JsonKind::Object},
    {"[ 1 , 2 ]", JsonKind::Array},
    {"{ \"a\" : 1 , \"b\" :\t[ ] }", JsonKind::Object},
    {"\n\n\"s\"\r\n", JsonKind::String},
    {"[\n]", JsonKind::Array},
    {"{\r\n}", JsonKind::Object},
};

TEST(JsonScan, AcceptsWhatJsonParseAccepts) {
    for (const ValidRow& row : kValid) {
        SCOPED_TRACE("text: " + row.text);
        JsonScan result = scan(row.text);
        EXPECT_TRUE(result.ok()) << describe(result.error) << " at " << result.error_offset;
        EXPECT_EQ(kind_name(result.kind), std::string(kind_name(row.kind)));
        EXPECT_EQ(result.value.in(row.text), json_trim(row.text));
    }
}

// ---------------------------------------------------------------------------------------------
// Documents JSON.parse rejects. The offset is where the problem is; for texts that stop early
// it is the end of the text.

struct InvalidRow {
    std::string text;
    JsonError error;
    uint32_t offset;
};

const InvalidRow kInvalid[] = {
    {"", JsonError::Empty, 0},
    {" \t\r\n ", JsonError::Empty, 5},
    // Only space, tab, CR and LF are JSON whitespace.
    {"\f1", JsonError::UnexpectedCharacter, 0},
    {"\v1", JsonError::UnexpectedCharacter, 0},
    {"\xc2\xa0\x31", JsonError::UnexpectedCharacter, 0},  // no-break space, then 1
    {"\xef\xbb\xbf{}", JsonError::UnexpectedCharacter, 0},
    // Trailing commas and empty slots.
    {"[1,]", JsonError::UnexpectedCharacter, 3},
    {R"({"a":1,})", JsonError::UnexpectedCharacter, 7},
    {"[,1]", JsonError::UnexpectedCharacter, 1},
    {"[1,,2]", JsonError::UnexpectedCharacter, 3},
    {"{,}", JsonError::UnexpectedCharacter, 1},
    // Numbers.
    {"01", JsonError::TrailingData, 1},
    {"-01", JsonError::TrailingData, 2},
    {"[01]", JsonError::UnexpectedCharacter, 2},
    {"1.", JsonError::UnexpectedEnd, 2},
    {"1.e5", JsonError::BadNumber, 2},
    {"[1.]", JsonError::BadNumber, 3},
    {".5", JsonError::UnexpectedCharacter, 0},
    {"+1", JsonError::UnexpectedCharacter, 0},
    {"-", JsonError::UnexpectedEnd, 1},
    {"-a", JsonError::BadNumber, 1},
    {"- 1", JsonError::BadNumber, 1},
    {"1e", JsonError::UnexpectedEnd, 2},
    {"1e+", JsonError::UnexpectedEnd, 3},
    {"1ex", JsonError::BadNumber, 2},
    {"0x10", JsonError::TrailingData, 1},
    {"1_000", JsonError::TrailingData, 1},
    {"NaN", JsonError::UnexpectedCharacter, 0},
    {"Infinity", JsonError::UnexpectedCharacter, 0},
    {"-Infinity", JsonError::BadNumber, 1},
    // Literals.
    {"tru", JsonError::UnexpectedEnd, 3},
    {"True", JsonError::UnexpectedCharacter, 0},
    {"nul", JsonError::UnexpectedEnd, 3},
    {"nulL", JsonError::UnexpectedCharacter, 3},
    {"falsey", JsonError::TrailingData, 5},
    {"undefined", JsonError::UnexpectedCharacter, 0},
    // Strings.
    {R"("abc)", JsonError::UnexpectedEnd, 4},
    {R"(")", JsonError::UnexpectedEnd, 1},
    {R"("\)", JsonError::UnexpectedEnd, 2},
    {"\"a\nb\"", JsonError::BadString, 2},
    {"\"\t\"", JsonError::BadString, 1},
    {"\"\x01\"", JsonError::BadString, 1},
    {"\"\x1f\"", JsonError::BadString, 1},
    {"\"\0\""s, JsonError::BadString, 1},
    {R"("\x41")", JsonError::BadString, 2},
    {R"("\a")", JsonError::BadString, 2},
    {R"("\U0041")", JsonError::BadString, 2},
    {R"("\'")", JsonError::BadString, 2},
    {R"("\u12)", JsonError::UnexpectedEnd, 5},
    {R"("\u)", JsonError::UnexpectedEnd, 3},
    {R"("\u12")", JsonError::BadString, 5},
    {R"("\u12G4")", JsonError::BadString, 5},
    {R"("\u 123")", JsonError::BadString, 3},
    {"'a'", JsonError::UnexpectedCharacter, 0},
    {"{'a':1}", JsonError::UnexpectedCharacter, 1},
    {R"(["a" "b"])", JsonError::UnexpectedCharacter, 5},
    // Objects.
    {"{a:1}", JsonError::UnexpectedCharacter, 1},
    {R"({"a"})", JsonError::UnexpectedCharacter, 4},
    {R"({"a" 1})", JsonError::UnexpectedCharacter, 5},
    {R"({"a":})", JsonError::UnexpectedCharacter, 5},
    {R"({"a":1 "b":2})", JsonError::UnexpectedCharacter, 7},
    {R"({1:2})", JsonError::UnexpectedCharacter, 1},
    {"[1 2]", JsonError::UnexpectedCharacter, 3},
    // Comments are not JSON.
    {"// c\n1", JsonError::UnexpectedCharacter, 0},
    {"/* c */ 1", JsonError::UnexpectedCharacter, 0},
    {"[1 /* c */]", JsonError::UnexpectedCharacter, 3},
    // Trailing garbage and several documents.
    {"{} x", JsonError::TrailingData, 3},
    {"{}{}", JsonError::TrailingData, 2},
    {"[] []", JsonError::TrailingData, 3},
    {"1 2", JsonError::TrailingData, 2},
    {R"("a""b")", JsonError::TrailingData, 3},
    {"{}\n,", JsonError::TrailingData, 3},
    {"{}]", JsonError::TrailingData, 2},
    // Unclosed.
    {"{", JsonError::UnexpectedEnd, 1},
    {"[", JsonError::UnexpectedEnd, 1},
    {"{[", JsonError::UnexpectedCharacter, 1},
    {"[{", JsonError::UnexpectedEnd, 2},
    {"[1,", JsonError::UnexpectedEnd, 3},
    {"[1", JsonError::UnexpectedEnd, 2},
    {R"({"a")", JsonError::UnexpectedEnd, 4},
    {R"({"a":)", JsonError::UnexpectedEnd, 5},
    {R"({"a":1)", JsonError::UnexpectedEnd, 6},
    {R"({"a":[)", JsonError::UnexpectedEnd, 6},
    {"[ \n ", JsonError::UnexpectedEnd, 4},
    // Mismatched brackets.
    {"[}", JsonError::UnexpectedCharacter, 1},
    {"{]", JsonError::UnexpectedCharacter, 1},
    {"[1}", JsonError::UnexpectedCharacter, 2},
    {R"({"a":1])", JsonError::UnexpectedCharacter, 6},
    {"[[]}", JsonError::UnexpectedCharacter, 3},
    {"]", JsonError::UnexpectedCharacter, 0},
    {"}", JsonError::UnexpectedCharacter, 0},
};

TEST(JsonScan, RejectsWhatJsonParseRejectsWithKindAndOffset) {
    for (const InvalidRow& row : kInvalid) {
        SCOPED_TRACE("text: " + row.text);
        JsonScan result = scan(row.text);
        EXPECT_FALSE(result.ok());
        EXPECT_EQ(describe(result.error), std::string(describe(row.error)));
        EXPECT_EQ(result.error_offset, row.offset);
        EXPECT_LE(result.error_offset, row.text.size());
    }
}

// Strings are passed eight bytes at a time when none of them is special: a quote, an escape
// or a control character must be seen at every position of such a block, and bytes of
// UTF-8 (0x80 and up) are plain.
TEST(JsonScan, StringsAreReadRightWhereverTheirSpecialBytesFall) {
    for (size_t length = 1; length <= 40; ++length) {
        for (size_t k = 0; k < length; ++k) {
            SCOPED_TRACE("length " + std::to_string(length) + ", special at " + std::to_string(k));
            std::string plain(length, 'a');

            std::string control = plain;
            control[k] = '\x1f';
            JsonScan bad = scan("\"" + control + "\"");
            EXPECT_EQ(bad.error, JsonError::BadString);
            EXPECT_EQ(bad.error_offset, k + 1);

            std::string utf8 = plain;
            utf8[k] = '\xc3';  // not valid UTF-8 alone, but JSON scanning passes any byte >= 0x20
            EXPECT_TRUE(scan("\"" + utf8 + "\"").ok());

            // A quote at k ends the string there: what follows is trailing data.
            std::string quoted = plain;
            quoted[k] = '"';
            JsonScan ended = scan("\"" + quoted + "\"");
            EXPECT_EQ(ended.error, JsonError::TrailingData);
            EXPECT_EQ(ended.error_offset, k + 2);

            // An escaped quote at k, inside a type value: the value ends at its real quote.
            std::string escaped = plain.substr(0, k) + "\\\"" + plain.substr(k);
            std::string doc = "{\"type\":\"" + escaped + "\",\"data\":[1]}";
            JsonScan found = scan(doc);
            ASSERT_TRUE(found.ok()) << describe(found.error) << " at " << found.error_offset;
            EXPECT_EQ(found.type.in(doc), "\"" + escaped + "\"");
            EXPECT_EQ(found.data.in(doc), "[1]");
        }
    }
}

TEST(JsonScan, EveryErrorHasADescription) {
    const JsonError errors[] = {JsonError::Empty,     JsonError::UnexpectedCharacter, JsonError::UnexpectedEnd,
                                JsonError::BadString, JsonError::BadNumber,           JsonError::TrailingData};
    for (JsonError error : errors) EXPECT_STRNE(describe(error), describe(JsonError::None));
}

// ---------------------------------------------------------------------------------------------
// Nesting depth is unbounded, as it is for JSON.parse: no recursion, no stack overflow.

constexpr size_t kDeep = 100000;

TEST(JsonScan, DeepArrayNestingIsValid) {
    std::string text = std::string(kDeep, '[') + std::string(kDeep, ']');
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok()) << describe(result.error) << " at " << result.error_offset;
    EXPECT_EQ(result.kind, JsonKind::Array);
    EXPECT_EQ(result.value.length, text.size());
}

TEST(JsonScan, DeepObjectNestingIsValidAndTopLevelMembersStillFound) {
    std::string text = R"({"type":"deep","data":)";
    for (size_t i = 0; i < kDeep; ++i) text += R"({"type":)";
    text += "1";
    text += std::string(kDeep + 1, '}');
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok()) << describe(result.error) << " at " << result.error_offset;
    ASSERT_TRUE(result.has_type);
    EXPECT_EQ(result.type.in(text), R"("deep")");
    ASSERT_TRUE(result.has_data);
    EXPECT_EQ(result.data.offset, 22u);
    EXPECT_EQ(result.data.end(), text.size() - 1);
}

TEST(JsonScan, DeepNestingLeftOpenIsUnexpectedEnd) {
    std::string text(kDeep, '[');
    JsonScan result = scan(text);
    EXPECT_EQ(result.error, JsonError::UnexpectedEnd);
    EXPECT_EQ(result.error_offset, text.size());

    text += std::string(kDeep - 1, ']');
    result = scan(text);
    EXPECT_EQ(result.error, JsonError::UnexpectedEnd);
    EXPECT_EQ(result.error_offset, text.size());
}

TEST(JsonScan, DeepNestingWithAMismatchIsRejectedWhereItHappens) {
    std::string text = std::string(kDeep, '[') + "}" + std::string(kDeep - 1, ']');
    JsonScan result = scan(text);
    EXPECT_EQ(result.error, JsonError::UnexpectedCharacter);
    EXPECT_EQ(result.error_offset, kDeep);

    text = std::string(kDeep, '[') + std::string(kDeep, ']') + "]";
    result = scan(text);
    EXPECT_EQ(result.error, JsonError::TrailingData);
    EXPECT_EQ(result.error_offset, 2 * kDeep);
}

// ---------------------------------------------------------------------------------------------
// Finding type and data: what `obj[typeAttr]` and `obj[dataAttr]` would give after JSON.parse.

TEST(JsonScan, FindsTopLevelTypeAndData) {
    std::string text = R"({"type":"chat","data":{"text":"hi"},"other":1})";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.kind, JsonKind::Object);
    ASSERT_TRUE(result.has_type);
    EXPECT_EQ(result.type_kind, JsonKind::String);
    EXPECT_EQ(result.type.in(text), R"("chat")");
    ASSERT_TRUE(result.has_data);
    EXPECT_EQ(result.data.in(text), R"({"text":"hi"})");
}

TEST(JsonScan, NestedTypeAndDataKeysAreIgnored) {
    std::string text = R"({"payload":{"type":"inner","data":1},"list":[{"type":2}],"data":[{"data":3}]})";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(result.has_type);
    ASSERT_TRUE(result.has_data);
    EXPECT_EQ(result.data.in(text), R"([{"data":3}])");

    std::string only_nested = R"({"a":{"type":"x","data":"y"}})";
    result = scan(only_nested);
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(result.has_type);
    EXPECT_FALSE(result.has_data);
}

TEST(JsonScan, NestedKeysAfterATopLevelMemberDoNotDisturbIt) {
    std::string text = R"({"type":"outer","x":{"type":"inner"},"data":{"data":{"data":0}},"y":{"data":1}})";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.type.in(text), R"("outer")");
    EXPECT_EQ(result.data.in(text), R"({"data":{"data":0}})");
}

TEST(JsonScan, LastDuplicateWins) {
    std::string text = R"({"type":"a","data":1,"type":"b","data":[2]})";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.type.in(text), R"("b")");
    EXPECT_EQ(result.data.in(text), "[2]");

    std::string kinds = R"({"type":"a","type":7})";
    result = scan(kinds);
    EXPECT_EQ(result.type_kind, JsonKind::Number);
    EXPECT_EQ(result.type.in(kinds), "7");

    std::string back_to_string = R"({"type":{"x":1},"type":"s"})";
    result = scan(back_to_string);
    EXPECT_EQ(result.type_kind, JsonKind::String);
    EXPECT_EQ(result.type.in(back_to_string), R"("s")");
}

TEST(JsonScan, KeysAreComparedAfterUnescaping) {
    std::string text = R"({"\u0074ype":"t","d\u0061t\u0061":1})";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result.has_type);
    EXPECT_EQ(result.type.in(text), R"("t")");
    ASSERT_TRUE(result.has_data);
    EXPECT_EQ(result.data.in(text), "1");

    std::string unicode = R"({"\u00e9v\u00E9nement":"e","\uD83D\uDE00":"smile","a\/b":"slash"})";
    result = scan(unicode, "\xc3\xa9v\xc3\xa9nement", "\xf0\x9f\x98\x80");
    EXPECT_EQ(result.type.in(unicode), R"("e")");
    EXPECT_EQ(result.data.in(unicode), R"("smile")");
    result = scan(unicode, "none", "a/b");
    EXPECT_FALSE(result.has_type);
    EXPECT_EQ(result.data.in(unicode), R"("slash")");
}

TEST(JsonScan, KeysThatOnlyResembleTheNamesDoNotMatch) {
    std::string text = R"({"Type":1,"types":2,"typ":3,"DATA":4," data":5,"\uD874ype":6})";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(result.has_type);
    EXPECT_FALSE(result.has_data);
}

TEST(JsonScan, FalsyDataIsStillFound) {
    const char* tokens[] = {"0", "-0", R"("")", "false", "null", "[]", "{}"};
    for (const char* token : tokens) {
        SCOPED_TRACE(token);
        std::string text = std::string(R"({"type":"t","data":)") + token + "}";
        JsonScan result = scan(text);
        ASSERT_TRUE(result.ok());
        ASSERT_TRUE(result.has_data);
        EXPECT_EQ(result.data.in(text), token);
        EXPECT_EQ(result.data.offset, 19u);
    }
}

TEST(JsonScan, MissingDataKeyIsNotFound) {
    std::string text = R"({"type":"t","payload":1})";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result.has_type);
    EXPECT_FALSE(result.has_data);
    EXPECT_EQ(result.value.in(text), text);
}

TEST(JsonScan, EmptyDataKeyNeverMatches) {
    std::string text = R"({"":"empty key","type":"t","data":1})";
    JsonScan result = scan(text, "type", "");
    ASSERT_TRUE(result.ok());
    EXPECT_TRUE(result.has_type);
    EXPECT_FALSE(result.has_data);

    // Not even when the type key is empty too and the object has an empty key.
    result = scan(text, "", "");
    ASSERT_TRUE(result.ok());
    EXPECT_FALSE(result.has_data);
}

TEST(JsonScan, TypeKeyEqualToDataKeyGivesBoth) {
    std::string text = R"({"kind":"x","other":1})";
    JsonScan result = scan(text, "kind", "kind");
    ASSERT_TRUE(result.ok());
    ASSERT_TRUE(result.has_type);
    ASSERT_TRUE(result.has_data);
    EXPECT_EQ(result.type.in(text), R"("x")");
    EXPECT_EQ(result.data.in(text), R"("x")");
    EXPECT_EQ(result.type_kind, JsonKind::String);

    std::string duplicated = R"({"kind":"x","kind":{"a":1}})";
    result = scan(duplicated, "kind", "kind");
    EXPECT_EQ(result.type.in(duplicated), R"({"a":1})");
    EXPECT_EQ(result.data.in(duplicated), R"({"a":1})");
    EXPECT_EQ(result.type_kind, JsonKind::Object);
}

TEST(JsonScan, TypeKindFollowsTheToken) {
    struct Row {
        const char* token;
        JsonKind kind;
    };
    const Row rows[] = {
        {R"("s")", JsonKind::String}, {"-1.5e3", JsonKind::Number}, {"true", JsonKind::True},
        {"false", JsonKind::False},   {"null", JsonKind::Null},     {R"({"a":[1]})", JsonKind::Object},
        {"[1,2]", JsonKind::Array},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.token);
        std::string text = std::string(R"({"data":0, "type": )") + row.token + " }";
        JsonScan result = scan(text);
        ASSERT_TRUE(result.ok());
        ASSERT_TRUE(result.has_type);
        EXPECT_EQ(kind_name(result.type_kind), std::string(kind_name(row.kind)));
        EXPECT_EQ(result.type.in(text), row.token);
        EXPECT_EQ(result.kind, JsonKind::Object);
    }
}

TEST(JsonScan, NonObjectDocumentsHaveNoTypeOrData) {
    const char* texts[] = {R"([{"type":"a","data":1}])", R"(["type","data"])", R"("type")", "1", "null", "true"};
    for (const char* text : texts) {
        SCOPED_TRACE(text);
        JsonScan result = scan(text);
        ASSERT_TRUE(result.ok());
        EXPECT_FALSE(result.has_type);
        EXPECT_FALSE(result.has_data);
    }
}

TEST(JsonScan, SpansExcludeSurroundingWhitespace) {
    std::string text = "  \r\n{ \"type\" :  \"a\"  ,\n\t\"data\" :\n[ 1 ]\n}\t\n ";
    JsonScan result = scan(text);
    ASSERT_TRUE(result.ok());
    EXPECT_EQ(result.value.offset, 4u);
    EXPECT_EQ(result.value.in(text), "{ \"type\" :  \"a\"  ,\n\t\"data\" :\n[ 1 ]\n}");
    EXPECT_EQ(result.type.in(text), R"("a")");
    EXPECT_EQ(result.data.in(text), "[ 1 ]");

    std::string scalar = "\n 42 \n";
    result = scan(scalar);
    EXPECT_EQ(result.value.offset, 2u);
    EXPECT_EQ(result.value.in(scalar), "42");
}

// ---------------------------------------------------------------------------------------------

TEST(JsonStringEquals, ComparesDecodedContentsWithAPlainKey) {
    struct Row {
        std::string raw;
        std::string key;
        bool equal;
    };
    const Row rows[] = {
        {"type", "type", true},
        {"", "", true},
        {"typ", "type", false},
        {"types", "type", false},
        {"Type", "type", false},
        {"", "a", false},
        {"a", "", false},
        {R"(\u0074ype)", "type", true},
        {R"(\u0074\u0079\u0070\u0065)", "type", true},
        {R"(\u0054ype)", "type", false},
        {R"(\"q\")", "\"q\"", true},
        {R"(a\\b)", "a\\b", true},
        {R"(a\/b)", "a/b", true},
        {R"(\b\f\n\r\t)", "\b\f\n\r\t", true},
        {R"(\u00e9)", "\xc3\xa9", true},
        {R"(\u00E9)", "\xc3\xa9", true},
        {"\xc3\xa9", "\xc3\xa9", true},
        {R"(\u20ac)", "\xe2\x82\xac", true},
        {R"(\uD83D\uDE00)", "\xf0\x9f\x98\x80", true},
        {R"(\ud83d\ude00)", "\xf0\x9f\x98\x80", true},
        {R"(\u0000)", "\0"s, true},
        {R"(\u0000)", "", false},
        // A lone surrogate never equals well-formed UTF-8, not even its own 3-byte encoding.
        {R"(\uD83D)", "\xed\xa0\xbd", false},
        {R"(\uDE00\uD83D)", "\xed\xb8\x80\xed\xa0\xbd", false},
        {R"(\uD83Dx)", "\xed\xa0\xbdx", false},
        // Malformed escapes never match.
        {R"(\u00)", "\0"s, false},
        {R"(a\)", "a\\", false},
        {R"(\x41)", "A", false},
        {R"(\u0074)", "", false},
        {R"(\u0074ype)", "t", false},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE("raw: " + row.raw + " key: " + row.key);
        EXPECT_EQ(json_string_equals(row.raw, row.key), row.equal);
    }
}

TEST(LooksLikeJson, OnlyObjectsAndArraysAfterJsonWhitespace) {
    struct Row {
        const char* text;
        bool looks;
    };
    const Row rows[] = {
        {"{}", true},        {"[1]", true},
        {"  \n\t{", true},   {"\r\n[", true},
        {"{not json", true}, {"", false},
        {"   ", false},      {"\"x\"", false},
        {"1", false},        {"true", false},
        {"null", false},     {"x{", false},
        {"\f{", false},      {"\xef\xbb\xbf{", false},
        {"<html>", false},
    };
    for (const Row& row : rows) {
        SCOPED_TRACE(row.text);
        EXPECT_EQ(looks_like_json(row.text), row.looks);
    }
}

}  // namespace
}  // namespace comet
