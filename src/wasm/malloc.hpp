// The wasm build's allocator (-sMALLOC=none): malloc, free and calloc are comet::Heap's, over
// sbrk (src/wasm/malloc.cpp). The bindings read its sizes for the page's leak checks.
#pragma once

#include "heap.hpp"

namespace comet {
extern Heap malloc_heap;
}  // namespace comet
