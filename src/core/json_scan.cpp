#include "json_scan.hpp"

#include <cstdint>
#include <cstring>
#include <vector>

#include "bytes.hpp"

namespace comet {

const char* describe(JsonError error) {
    switch (error) {
        case JsonError::None: return "no error";
        case JsonError::Empty: return "empty JSON text";
        case JsonError::UnexpectedCharacter: return "unexpected character";
        case JsonError::UnexpectedEnd: return "unexpected end of JSON text";
        case JsonError::BadString: return "bad string (control character or invalid escape)";
        case JsonError::BadNumber: return "bad number";
        case JsonError::TrailingData: return "unexpected data after the JSON value";
    }
    return "unknown error";
}

namespace {

// The character a one-letter JSON escape stands for (\" \\ \/ \b \f \n \r \t), or 0 for any other.
char simple_escape(char e) {
    static constexpr char kLetters[] = "\"\\/bfnrt";
    static constexpr char kMeanings[] = "\"\\/\b\f\n\r\t";
    const void* at = std::memchr(kLetters, e, sizeof kLetters - 1);
    return at ? kMeanings[static_cast<const char*>(at) - kLetters] : 0;
}

bool is_ws(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
bool is_digit(unsigned char c) { return c >= '0' && c <= '9'; }

int hex_value(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

enum class Container : uint8_t { Array, Object };

// The containers open at the current position, innermost last, each with the offset where it
// began. Messages nest a few levels deep, so the first kInline levels live inside the scanner
// and a scan allocates nothing; deeper documents (any depth, as JSON.parse allows) spill to
// the heap.
class OpenContainers {
  public:
    struct Entry {
        Container kind;
        uint32_t start;
    };
    void push(Entry entry) {
        if (size_ < kInline) {
            inline_[size_] = entry;
        } else {
            spill_.push_back(entry);
        }
        ++size_;
    }
    void pop() {
        --size_;
        if (size_ >= kInline) spill_.pop_back();
    }
    const Entry& top() const { return size_ > kInline ? spill_.back() : inline_[size_ - 1]; }
    const Entry& bottom() const { return inline_[0]; }
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }

  private:
    static constexpr size_t kInline = 16;
    Entry inline_[kInline];
    std::vector<Entry> spill_;
    size_t size_ = 0;
};

class Scanner {
  public:
    Scanner(std::string_view text, std::string_view type_key, std::string_view data_key)
        : text_(text), pos_(0), type_key_(type_key), data_key_(data_key) {}

    JsonScan run();

  private:
    enum class Member : uint8_t { Other, Type, Data };

    void skip_ws() {
        while (pos_ < text_.size() && is_ws(static_cast<unsigned char>(text_[pos_]))) ++pos_;
    }
    bool at_end() const { return pos_ >= text_.size(); }
    unsigned char peek() const { return static_cast<unsigned char>(text_[pos_]); }

    bool fail(JsonError error) {
        if (result_.error == JsonError::None) {
            result_.error = error;
            result_.error_offset = static_cast<uint32_t>(pos_ < text_.size() ? pos_ : text_.size());
        }
        return false;
    }
    // On entry pos_ is at the opening quote; on success pos_ is past the closing quote.
    bool scan_string();
    bool scan_number();
    bool scan_literal(std::string_view word);
    // Scans one scalar or opens a container. Returns false on error.
    bool begin_value(bool& opened_container);
    void value_finished(uint32_t start);

    std::string_view text_;
    size_t pos_;
    std::string_view type_key_;
    std::string_view data_key_;
    OpenContainers open_;
    JsonScan result_;
    // Bookkeeping for the member of the top-level object being scanned.
    Member member_ = Member::Other;
    JsonKind member_kind_ = JsonKind::Null;
};

// Whether none of the eight bytes at `p` ends or escapes a string or is a control character:
// no '"', no '\\', nothing below 0x20 (bytes.hpp). Most of a message's bytes are string
// contents, and the scanner then passes them eight at a time. A false alarm (a flag after a
// rightful one) only sends those bytes to the byte-by-byte path.
bool plain_string_bytes(const char* p) {
    uint64_t v = load8(p);
    return !(bytes_equal_to(v, '"') | bytes_equal_to(v, '\\') | bytes_below(v, 0x20));
}

bool Scanner::scan_string() {
    ++pos_;  // opening quote
    const char* text = text_.data();
    const size_t size = text_.size();
    while (pos_ < size) {
        while (size - pos_ >= 8 && plain_string_bytes(text + pos_)) pos_ += 8;
        if (pos_ >= size) break;
        unsigned char c = peek();
        if (c == '"') {
            ++pos_;
            return true;
        }
        if (c < 0x20) return fail(JsonError::BadString);
        if (c == '\\') {
            ++pos_;
            if (at_end()) return fail(JsonError::UnexpectedEnd);
            unsigned char e = peek();
            if (e == 'u') {
                for (int i = 1; i <= 4; ++i) {
                    if (pos_ + i >= text_.size()) {
                        pos_ = text_.size();
                        return fail(JsonError::UnexpectedEnd);
                    }
                    if (hex_value(static_cast<unsigned char>(text_[pos_ + i])) < 0) {
                        pos_ += i;
                        return fail(JsonError::BadString);
                    }
                }
                pos_ += 5;
                continue;
            }
            if (!simple_escape(e)) return fail(JsonError::BadString);
            ++pos_;
            continue;
        }
        ++pos_;
    }
    return fail(JsonError::UnexpectedEnd);
}

bool Scanner::scan_number() {
    if (peek() == '-') {
        ++pos_;
        if (at_end()) return fail(JsonError::UnexpectedEnd);
    }
    if (!is_digit(peek())) return fail(JsonError::BadNumber);
    if (peek() == '0') {
        ++pos_;
    } else {
        while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (!at_end() && peek() == '.') {
        ++pos_;
        if (at_end()) return fail(JsonError::UnexpectedEnd);
        if (!is_digit(peek())) return fail(JsonError::BadNumber);
        while (!at_end() && is_digit(peek())) ++pos_;
    }
    if (!at_end() && (peek() == 'e' || peek() == 'E')) {
        ++pos_;
        if (!at_end() && (peek() == '+' || peek() == '-')) ++pos_;
        if (at_end()) return fail(JsonError::UnexpectedEnd);
        if (!is_digit(peek())) return fail(JsonError::BadNumber);
        while (!at_end() && is_digit(peek())) ++pos_;
    }
    return true;
}

bool Scanner::scan_literal(std::string_view word) {
    for (char expected : word) {
        if (at_end()) return fail(JsonError::UnexpectedEnd);
        if (text_[pos_] != expected) return fail(JsonError::UnexpectedCharacter);
        ++pos_;
    }
    return true;
}

bool Scanner::begin_value(bool& opened_container) {
    opened_container = false;
    if (at_end()) return fail(JsonError::UnexpectedEnd);
    JsonKind kind;
    bool ok;
    switch (peek()) {
        case '{':
            open_.push({Container::Object, static_cast<uint32_t>(pos_)});
            ++pos_;
            opened_container = true;
            kind = JsonKind::Object;
            ok = true;
            break;
        case '[':
            open_.push({Container::Array, static_cast<uint32_t>(pos_)});
            ++pos_;
            opened_container = true;
            kind = JsonKind::Array;
            ok = true;
            break;
        case '"':
            kind = JsonKind::String;
            ok = scan_string();
            break;
        case 't':
            kind = JsonKind::True;
            ok = scan_literal("true");
            break;
        case 'f':
            kind = JsonKind::False;
            ok = scan_literal("false");
            break;
        case 'n':
            kind = JsonKind::Null;
            ok = scan_literal("null");
            break;
        default:
            if (peek() == '-' || is_digit(peek())) {
                kind = JsonKind::Number;
                ok = scan_number();
            } else {
                return fail(JsonError::UnexpectedCharacter);
            }
    }
    // Depth 0 is the document; depth 1 (after a top-level '{' was opened) is a member.
    size_t depth_of_value = open_.size() - (opened_container ? 1 : 0);
    if (depth_of_value == 0) result_.kind = kind;
    if (depth_of_value == 1) member_kind_ = kind;
    return ok;
}

void Scanner::value_finished(uint32_t start) {
    // Called when a value that began at `start` has been completely scanned and the stack is
    // back at the depth where it began.
    if (open_.size() == 1 && open_.bottom().kind == Container::Object && member_ != Member::Other) {
        Span span{start, static_cast<uint32_t>(pos_ - start)};
        if (member_ == Member::Type) {
            result_.has_type = true;
            result_.type = span;
            result_.type_kind = member_kind_;
            // typeAttr == dataAttr: the original read both from the same member.
            if (!data_key_.empty() && type_key_ == data_key_) {
                result_.has_data = true;
                result_.data = span;
            }
        } else {
            result_.has_data = true;
            result_.data = span;
        }
    }
}

JsonScan Scanner::run() {
    skip_ws();
    if (at_end()) {
        fail(JsonError::Empty);
        return result_;
    }
    uint32_t doc_start = static_cast<uint32_t>(pos_);
    bool opened = false;
    if (!begin_value(opened)) return result_;

    // Invariant at the top of the loop: either a container was just opened (expecting its
    // first element or its close), or a value was just completed.
    bool just_opened = opened;
    for (;;) {
        if (!just_opened) {
            // A value is complete at the current depth.
            if (open_.empty()) break;
        }
        skip_ws();
        if (at_end()) {
            fail(JsonError::UnexpectedEnd);
            return result_;
        }
        Container top = open_.top().kind;
        unsigned char c = peek();
        bool closes = (top == Container::Array && c == ']') || (top == Container::Object && c == '}');
        if (closes) {
            ++pos_;
            uint32_t start = open_.top().start;
            open_.pop();
            value_finished(start);
            just_opened = false;
            continue;
        }
        if (!just_opened) {
            if (c != ',') {
                fail(JsonError::UnexpectedCharacter);
                return result_;
            }
            ++pos_;
            skip_ws();
            if (at_end()) {
                fail(JsonError::UnexpectedEnd);
                return result_;
            }
        }
        if (top == Container::Object) {
            if (peek() != '"') {
                fail(JsonError::UnexpectedCharacter);
                return result_;
            }
            size_t key_start = pos_ + 1;
            if (!scan_string()) return result_;
            if (open_.size() == 1) {
                std::string_view raw = text_.substr(key_start, pos_ - 1 - key_start);
                // Both keys are checked: when they are equal, type wins, as the original
                // read them independently and the same member serves both.
                if (json_string_equals(raw, type_key_)) {
                    member_ = Member::Type;
                } else if (!data_key_.empty() && json_string_equals(raw, data_key_)) {
                    member_ = Member::Data;
                } else {
                    member_ = Member::Other;
                }
            }
            skip_ws();
            if (at_end()) {
                fail(JsonError::UnexpectedEnd);
                return result_;
            }
            if (peek() != ':') {
                fail(JsonError::UnexpectedCharacter);
                return result_;
            }
            ++pos_;
            skip_ws();
        }
        uint32_t value_start = static_cast<uint32_t>(pos_);
        size_t depth_before = open_.size();
        if (!begin_value(opened)) return result_;
        if (opened) {
            just_opened = true;
        } else {
            just_opened = false;
            if (open_.size() == depth_before) value_finished(value_start);
        }
    }
    skip_ws();
    if (!at_end()) {
        fail(JsonError::TrailingData);
        return result_;
    }
    result_.value = Span{doc_start, 0};
    // Trim trailing whitespace from the document span.
    size_t end = text_.size();
    while (end > doc_start && is_ws(static_cast<unsigned char>(text_[end - 1]))) --end;
    result_.value.length = static_cast<uint32_t>(end - doc_start);
    if (result_.kind != JsonKind::Object) {
        result_.has_type = false;
        result_.has_data = false;
    }
    return result_;
}

// Appends the UTF-8 encoding of a code point.
size_t encode_utf8(uint32_t cp, char out[4]) {
    if (cp < 0x80) {
        out[0] = static_cast<char>(cp);
        return 1;
    }
    if (cp < 0x800) {
        out[0] = static_cast<char>(0xC0 | (cp >> 6));
        out[1] = static_cast<char>(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = static_cast<char>(0xE0 | (cp >> 12));
        out[1] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out[2] = static_cast<char>(0x80 | (cp & 0x3F));
        return 3;
    }
    out[0] = static_cast<char>(0xF0 | (cp >> 18));
    out[1] = static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out[2] = static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out[3] = static_cast<char>(0x80 | (cp & 0x3F));
    return 4;
}

uint32_t read_hex4(std::string_view s, size_t at) {
    uint32_t v = 0;
    for (size_t i = 0; i < 4; ++i) v = v * 16 + static_cast<uint32_t>(hex_value(static_cast<unsigned char>(s[at + i])));
    return v;
}

}  // namespace

bool json_string_equals(std::string_view raw, std::string_view key) {
    size_t i = 0;  // in raw
    size_t k = 0;  // in key
    while (i < raw.size()) {
        char buf[4];
        size_t n;
        if (raw[i] != '\\') {
            if (k >= key.size() || raw[i] != key[k]) return false;
            ++i;
            ++k;
            continue;
        }
        if (i + 1 >= raw.size()) return false;
        char e = raw[i + 1];
        if (char simple = simple_escape(e)) {
            buf[0] = simple;
            n = 1;
            i += 2;
        } else if (e == 'u') {
            if (i + 6 > raw.size()) return false;
            uint32_t cp = read_hex4(raw, i + 2);
            i += 6;
            if (cp >= 0xD800 && cp <= 0xDBFF && i + 6 <= raw.size() && raw[i] == '\\' && raw[i + 1] == 'u') {
                uint32_t low = read_hex4(raw, i + 2);
                if (low >= 0xDC00 && low <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
                    i += 6;
                }
            }
            // A lone surrogate cannot equal any well-formed UTF-8 key.
            if (cp >= 0xD800 && cp <= 0xDFFF) return false;
            n = encode_utf8(cp, buf);
        } else {
            return false;
        }
        if (key.size() - k < n || key.compare(k, n, buf, n) != 0) return false;
        k += n;
    }
    return k == key.size();
}

bool looks_like_json(std::string_view text) {
    for (char c : text) {
        if (is_ws(static_cast<unsigned char>(c))) continue;
        return c == '{' || c == '[';
    }
    return false;
}

JsonScan scan_json(std::string_view text, std::string_view type_key, std::string_view data_key) {
    return Scanner(text, type_key, data_key).run();
}

}  // namespace comet
