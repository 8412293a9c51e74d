#include "malloc.hpp"

#include <emscripten/heap.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

// Where the linker ends the static data and the stack: the heap begins there.
extern "C" char __heap_base;

namespace {

// sbrk, which -sMALLOC=none does not link: the heap grows from __heap_base, and the wasm
// memory with it (emscripten_resize_heap grows it ahead by a fifth and renews the JS views).
char* heap_end = &__heap_base;

void* more_memory(size_t bytes) {
    // Aligned for the first block; every size asked for after it keeps the alignment.
    uintptr_t start = (reinterpret_cast<uintptr_t>(heap_end) + alignof(std::max_align_t) - 1) &
                      ~uintptr_t{alignof(std::max_align_t) - 1};
    uintptr_t end = start + bytes;
    if (end < start) return nullptr;
    if (end > __builtin_wasm_memory_size(0) * 65536 && !emscripten_resize_heap(end)) return nullptr;
    heap_end = reinterpret_cast<char*>(end);
    return reinterpret_cast<void*>(start);
}

}  // namespace

namespace comet {
// Constant-initialized (Heap's constructor is constexpr): no start-up code.
Heap malloc_heap(more_memory);
}  // namespace comet

extern "C" {

void* malloc(size_t bytes) { return comet::malloc_heap.allocate(bytes); }

void free(void* pointer) { comet::malloc_heap.release(pointer); }

void* calloc(size_t count, size_t size) {
    if (size && count > SIZE_MAX / size) return nullptr;
    void* memory = malloc(count * size);
    if (memory) std::memset(memory, 0, count * size);
    return memory;
}

}  // extern "C"
