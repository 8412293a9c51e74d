// A byte range inside a caller-owned buffer. The parsers hand these out instead of copies:
// the response body is the only buffer, and everything downstream points into it.
#pragma once

#include <cstdint>
#include <string_view>

namespace comet {

struct Span {
    uint32_t offset = 0;
    uint32_t length = 0;

    constexpr uint32_t end() const { return offset + length; }
    std::string_view in(std::string_view buffer) const { return buffer.substr(offset, length); }
    friend constexpr bool operator==(Span a, Span b) { return a.offset == b.offset && a.length == b.length; }
};

inline Span span_of(std::string_view whole, std::string_view part) {
    return Span{static_cast<uint32_t>(part.data() - whole.data()), static_cast<uint32_t>(part.size())};
}

}  // namespace comet
