// libFuzzer target for scan_json.
//
// The whole input is the JSON text. It is scanned with the default keys ("type", "data") and
// with a second pair picked by its first byte, so prepending a whitespace byte changes the keys.
// Besides span invariants, every input is checked against a small, independent reference
// validator below (recursive descent, written from RFC 8259 and the JSON.parse rules): the
// two must agree on validity, and on the top-level type/data members they find.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "json_scan.hpp"

namespace {

// ---------------------------------------------------------------------------------------------
// Reference validator. Deliberately written differently from the scanner: recursion instead
// of an explicit stack, keys fully decoded to UTF-8 and compared as strings.

struct RefMember {
    bool found = false;
    comet::JsonKind kind = comet::JsonKind::Null;
    size_t begin = 0;
    size_t end = 0;
};

class Reference {
  public:
    static constexpr int kMaxDepth = 200;

    Reference(std::string_view text, std::string_view type_key, std::string_view data_key)
        : s_(text), type_key_(type_key), data_key_(data_key) {}

    // Returns true when the text is one JSON value surrounded by JSON whitespace.
    bool parse() {
        ws();
        if (!value(0, nullptr)) return false;
        ws();
        return i_ == s_.size();
    }
    bool too_deep() const { return too_deep_; }
    comet::JsonKind kind() const { return kind_; }
    const RefMember& type() const { return type_; }
    const RefMember& data() const { return data_; }

  private:
    bool more() const { return i_ < s_.size(); }
    unsigned char cur() const { return static_cast<unsigned char>(s_[i_]); }
    void ws() {
        while (more() && (cur() == 0x20 || cur() == 0x09 || cur() == 0x0A || cur() == 0x0D)) ++i_;
    }
    bool eat(char c) {
        if (more() && s_[i_] == c) {
            ++i_;
            return true;
        }
        return false;
    }
    static int hex(unsigned char c) {
        if ('0' <= c && c <= '9') return c - '0';
        if ('a' <= c && c <= 'f') return 10 + c - 'a';
        if ('A' <= c && c <= 'F') return 10 + c - 'A';
        return -1;
    }
    bool hex4(uint32_t& out) {
        out = 0;
        for (int k = 0; k < 4; ++k) {
            if (!more() || hex(cur()) < 0) return false;
            out = out * 16 + static_cast<uint32_t>(hex(cur()));
            ++i_;
        }
        return true;
    }
    static void put_utf8(std::string& out, uint32_t cp) {
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else if (cp < 0x800) {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            out += static_cast<char>(0xE0 | (cp >> 12));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            out += static_cast<char>(0xF0 | (cp >> 18));
            out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
            out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    // A string token. `decoded` (optional) receives its UTF-8 value; `lone` is set when it has
    // an unpaired surrogate (such a JS string equals no well-formed UTF-8 key).
    bool string(std::string* decoded, bool* lone) {
        if (!eat('"')) return false;
        uint32_t pending_high = 0;
        auto flush_high = [&] {
            if (pending_high) {
                if (lone) *lone = true;
                pending_high = 0;
            }
        };
        for (;;) {
            if (!more()) return false;
            unsigned char c = cur();
            if (c == '"') {
                ++i_;
                flush_high();
                return true;
            }
            if (c < 0x20) return false;
            if (c != '\\') {
                flush_high();
                if (decoded) *decoded += static_cast<char>(c);
                ++i_;
                continue;
            }
            ++i_;
            if (!more()) return false;
            char e = s_[i_++];
            char simple = 0;
            switch (e) {
                case '"': simple = '"'; break;
                case '\\': simple = '\\'; break;
                case '/': simple = '/'; break;
                case 'b': simple = '\b'; break;
                case 'f': simple = '\f'; break;
                case 'n': simple = '\n'; break;
                case 'r': simple = '\r'; break;
                case 't': simple = '\t'; break;
                case 'u': {
                    uint32_t cp;
                    if (!hex4(cp)) return false;
                    if (cp >= 0xDC00 && cp <= 0xDFFF && pending_high) {
                        if (decoded) put_utf8(*decoded, 0x10000 + ((pending_high - 0xD800) << 10) + (cp - 0xDC00));
                        pending_high = 0;
                    } else {
                        flush_high();
                        if (cp >= 0xD800 && cp <= 0xDBFF) {
                            pending_high = cp;
                        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                            if (lone) *lone = true;
                        } else if (decoded) {
                            put_utf8(*decoded, cp);
                        }
                    }
                    continue;
                }
                default: return false;
            }
            flush_high();
            if (decoded) *decoded += simple;
        }
    }

    bool digits() {
        if (!more() || cur() < '0' || cur() > '9') return false;
        while (more() && cur() >= '0' && cur() <= '9') ++i_;
        return true;
    }

    bool number() {
        eat('-');
        if (eat('0')) {
            // no further integer digits: "01" ends the number after "0"
        } else if (!digits()) {
            return false;
        }
        if (eat('.') && !digits()) return false;
        if (more() && (cur() == 'e' || cur() == 'E')) {
            ++i_;
            if (!eat('+')) eat('-');
            if (!digits()) return false;
        }
        return true;
    }

    bool word(std::string_view w) {
        if (s_.substr(i_, w.size()) != w) return false;
        i_ += w.size();
        return true;
    }

    // `depth` is the nesting depth of this value (0: the document).
    bool value(int depth, comet::JsonKind* kind_out) {
        if (depth >= kMaxDepth) {
            too_deep_ = true;
            return false;
        }
        if (!more()) return false;
        comet::JsonKind k;
        bool ok;
        switch (cur()) {
            case '{':
                k = comet::JsonKind::Object;
                ok = object(depth);
                break;
            case '[':
                k = comet::JsonKind::Array;
                ok = array(depth);
                break;
            case '"':
                k = comet::JsonKind::String;
                ok = string(nullptr, nullptr);
                break;
            case 't':
                k = comet::JsonKind::True;
                ok = word("true");
                break;
            case 'f':
                k = comet::JsonKind::False;
                ok = word("false");
                break;
            case 'n':
                k = comet::JsonKind::Null;
                ok = word("null");
                break;
            default:
                k = comet::JsonKind::Number;
                ok = number();
                break;
        }
        if (depth == 0) kind_ = k;
        if (kind_out) *kind_out = k;
        return ok;
    }

    bool array(int depth) {
        eat('[');
        ws();
        if (eat(']')) return true;
        for (;;) {
            ws();
            if (!value(depth + 1, nullptr)) return false;
            ws();
            if (eat(']')) return true;
            if (!eat(',')) return false;
        }
    }

    bool object(int depth) {
        eat('{');
        ws();
        if (eat('}')) return true;
        for (;;) {
            ws();
            std::string key;
            bool lone = false;
            if (!string(&key, &lone)) return false;
            ws();
            if (!eat(':')) return false;
            ws();
            size_t begin = i_;
            comet::JsonKind k;
            if (!value(depth + 1, &k)) return false;
            if (depth == 0 && !lone) {
                RefMember m{true, k, begin, i_};
                // A member named like the type key is the type (and the data too when the
                // keys are equal); otherwise it may be the data. An empty data key never
                // matches.
                if (key == type_key_) {
                    type_ = m;
                    if (!data_key_.empty() && data_key_ == type_key_) data_ = m;
                } else if (!data_key_.empty() && key == data_key_) {
                    data_ = m;
                }
            }
            ws();
            if (eat('}')) return true;
            if (!eat(',')) return false;
        }
    }

    std::string_view s_;
    size_t i_ = 0;
    std::string_view type_key_;
    std::string_view data_key_;
    bool too_deep_ = false;
    comet::JsonKind kind_ = comet::JsonKind::Null;
    RefMember type_;
    RefMember data_;
};

// ---------------------------------------------------------------------------------------------

struct Keys {
    std::string_view type;
    std::string_view data;
};

// Every input is scanned with the default keys, and again with the keys its first byte picks
// (byte % 8). The table is laid out so that the bytes an object can start with reach five
// different choices: ' ' 0, '\t' 1, '\n' 2, '{' 3, '\r' 5.
const Keys kDefaultKeys = {"type", "data"};
const Keys kKeys[8] = {
    {"type", ""},           // dataAttr: null, no data key
    {"type", "type"},       // equal keys: one member is both
    {"\xC3\xA9", "d\"/q"},  // U+00E9 (matches "\u00e9" too), a quote and a slash
    {"data", "type"},       // swapped
    {"event", "payload"},
    {"\xF0\x9F\x98\x80", "a\\b"},  // U+1F600 (a surrogate pair when escaped), a backslash
    {"", "data"},                  // empty type key: matches the key ""
    {"t", "t"},
};

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

void check(std::string_view text, const Keys& keys) {
    const size_t size = text.size();

    comet::JsonScan scan = comet::scan_json(text, keys.type, keys.data);
    CHECK(scan.error_offset <= size);
    CHECK(within(scan.value, size));
    CHECK(within(scan.type, size));
    CHECK(within(scan.data, size));

    if (scan.ok()) {
        CHECK(scan.error == comet::JsonError::None);
        std::string_view value = scan.value.in(text);
        CHECK(!value.empty());
        CHECK(!is_ws(value.front()) && !is_ws(value.back()));
        // Only whitespace around the value.
        for (size_t i = 0; i < scan.value.offset; ++i) CHECK(is_ws(text[i]));
        for (size_t i = scan.value.end(); i < size; ++i) CHECK(is_ws(text[i]));
        // The kind follows the first byte.
        switch (value.front()) {
            case '{': CHECK(scan.kind == comet::JsonKind::Object); break;
            case '[': CHECK(scan.kind == comet::JsonKind::Array); break;
            case '"': CHECK(scan.kind == comet::JsonKind::String); break;
            case 't': CHECK(scan.kind == comet::JsonKind::True); break;
            case 'f': CHECK(scan.kind == comet::JsonKind::False); break;
            case 'n': CHECK(scan.kind == comet::JsonKind::Null); break;
            default: CHECK(scan.kind == comet::JsonKind::Number); break;
        }
        if (scan.has_type || scan.has_data) CHECK(scan.kind == comet::JsonKind::Object);
        if (scan.has_type) {
            CHECK(scan.type.offset >= scan.value.offset && scan.type.end() <= scan.value.end());
            CHECK(scan.type.length > 0);
            // The member's value is a JSON text on its own, of the kind reported.
            comet::JsonScan alone = comet::scan_json(scan.type.in(text), "type", "data");
            CHECK(alone.ok() && alone.kind == scan.type_kind && alone.value == (comet::Span{0, scan.type.length}));
        }
        if (scan.has_data) {
            CHECK(scan.data.offset >= scan.value.offset && scan.data.end() <= scan.value.end());
            CHECK(scan.data.length > 0);
            comet::JsonScan alone = comet::scan_json(scan.data.in(text), "type", "data");
            CHECK(alone.ok() && alone.value == (comet::Span{0, scan.data.length}));
        }
        if (keys.data.empty()) CHECK(!scan.has_data);  // an empty data key never matches

        // Appending whitespace keeps it valid with the same spans; appending 'x' does not.
        std::string padded(text);
        padded += " \t\r\n";
        comet::JsonScan again = comet::scan_json(padded, keys.type, keys.data);
        CHECK(again.ok());
        CHECK(again.value == scan.value && again.kind == scan.kind);
        CHECK(again.has_type == scan.has_type && again.has_data == scan.has_data);
        if (scan.has_type) CHECK(again.type == scan.type && again.type_kind == scan.type_kind);
        if (scan.has_data) CHECK(again.data == scan.data);
        std::string junk(text);
        junk += 'x';
        comet::JsonScan bad = comet::scan_json(junk, keys.type, keys.data);
        CHECK(!bad.ok());
        CHECK(bad.error_offset <= junk.size());
        // Leading whitespace shifts everything by its length.
        std::string led = "\n " + std::string(text);
        comet::JsonScan shifted = comet::scan_json(led, keys.type, keys.data);
        CHECK(shifted.ok() && shifted.value.offset == scan.value.offset + 2 &&
              shifted.value.length == scan.value.length);
    } else {
        CHECK(scan.error != comet::JsonError::None);
        bool all_ws = true;
        for (char c : text) all_ws = all_ws && is_ws(c);
        CHECK((scan.error == comet::JsonError::Empty) == all_ws);
        // Whitespace never completes a value: an invalid text stays invalid with more of it.
        std::string padded(text);
        padded += ' ';
        CHECK(!comet::scan_json(padded, keys.type, keys.data).ok());
    }

    // Differential check against the reference.
    Reference ref(text, keys.type, keys.data);
    bool ref_ok = ref.parse();
    if (!ref.too_deep()) {
        if (ref_ok != scan.ok()) {
            std::fprintf(stderr, "validity disagreement: scanner %s (%s at %u), reference %s\n",
                         scan.ok() ? "accepts" : "rejects", comet::describe(scan.error), scan.error_offset,
                         ref_ok ? "accepts" : "rejects");
            std::abort();
        }
        if (ref_ok) {
            CHECK(ref.kind() == scan.kind);
            bool is_object = scan.kind == comet::JsonKind::Object;
            CHECK(scan.has_type == (is_object && ref.type().found));
            CHECK(scan.has_data == (is_object && ref.data().found));
            if (scan.has_type) {
                CHECK(scan.type.offset == ref.type().begin && scan.type.end() == ref.type().end);
                CHECK(scan.type_kind == ref.type().kind);
            }
            if (scan.has_data) CHECK(scan.data.offset == ref.data().begin && scan.data.end() == ref.data().end);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size > (1u << 20)) return 0;
    std::string_view text(reinterpret_cast<const char*>(data), size);
    check(text, kDefaultKeys);
    if (size > 0) check(text, kKeys[data[0] % 8]);
    return 0;
}
