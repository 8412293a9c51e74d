// The wasm build's malloc: a best-fit allocator over memory that a `Grow` function hands out.
//
// Emscripten's emmalloc is 1.8 KB of wasm code (0.6 KB more of the file's gzip than this one)
// for what this product asks of an allocator: a few hundred blocks alive at most, a response's
// body of up to megabytes freed whole. This one keeps the free blocks in one list sorted by address,
// merges neighbours when a block is freed, takes the smallest free block that fits (so a small
// allocation does not cut into the hole a body left when a smaller hole fits it) and, when
// none fits, asks `Grow` for the difference if the last free block ends where the heap ends.
//
// Sans-I/O like the rest of the core: natively, the tests give it an array; in the wasm build
// src/wasm/malloc.cpp gives it the memory after the linker's __heap_base and defines malloc,
// free and calloc with it.
#pragma once

#include <cstddef>

namespace comet {

class Heap {
  public:
    // `bytes` more bytes of memory (a multiple of the alignment), starting at an address
    // aligned to alignof(std::max_align_t), or nullptr when there are none; memory that
    // directly follows the last call's lets their blocks merge.
    using Grow = void* (*)(size_t bytes);

    constexpr explicit Heap(Grow grow) : grow_(grow) {}

    // Aligned to alignof(std::max_align_t); nullptr when Grow has no more memory.
    void* allocate(size_t bytes);
    // nullptr is ignored.
    void release(void* pointer);

    // All memory taken from Grow, and the part of it in free blocks (headers included).
    size_t size() const { return size_; }
    size_t free_bytes() const;

  private:
    struct Block {
        size_t size;  // of the whole block, header included
        Block* next;  // free blocks only: it lies where an allocated block's payload does
    };

    void insert(Block* block);

    Grow grow_;
    Block* free_ = nullptr;  // sorted by address
    char* end_ = nullptr;    // where the memory Grow last gave ends
    size_t size_ = 0;
};

}  // namespace comet
