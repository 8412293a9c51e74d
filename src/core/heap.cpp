#include "heap.hpp"

#include <cstdint>

namespace comet {

namespace {

constexpr size_t kAlign = alignof(std::max_align_t);
// `bytes` rounded up to a multiple of the alignment.
constexpr size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
// A block's size sits in front of its payload, in a header that keeps the payload aligned.
constexpr size_t kHeader = aligned(sizeof(size_t));
// The smallest block: a header and room for a free block's link.
constexpr size_t kMinBlock = aligned(kHeader + sizeof(void*));

}  // namespace

void* Heap::allocate(size_t bytes) {
    if (bytes > SIZE_MAX / 2) return nullptr;
    size_t need = aligned(bytes + kHeader);
    if (need < kMinBlock) need = kMinBlock;
    // At most twice more memory: first what the free block at the end lacks, then (if Grow's
    // memory did not follow on, so the two did not merge) the whole block.
    for (int round = 0; round < 3; ++round) {
        Block** best = nullptr;
        Block* last = nullptr;
        for (Block** link = &free_; *link; link = &(*link)->next) {
            last = *link;
            if (last->size >= need && (!best || last->size < (*best)->size)) best = link;
        }
        if (best) {
            Block* block = *best;
            if (block->size - need >= kMinBlock) {
                // The front stays free where it is in the list; the back is handed out.
                block->size -= need;
                block = reinterpret_cast<Block*>(reinterpret_cast<char*>(block) + block->size);
                block->size = need;
            } else {
                *best = block->next;
            }
            return reinterpret_cast<char*>(block) + kHeader;
        }
        if (round == 2) break;
        size_t more = need;
        if (round == 0 && last && reinterpret_cast<char*>(last) + last->size == end_) more -= last->size;
        char* memory = static_cast<char*>(grow_(more));
        if (!memory) return nullptr;
        end_ = memory + more;
        size_ += more;
        Block* block = reinterpret_cast<Block*>(memory);
        block->size = more;
        insert(block);
    }
    return nullptr;
}

void Heap::release(void* pointer) {
    if (pointer) insert(reinterpret_cast<Block*>(static_cast<char*>(pointer) - kHeader));
}

// Into the list by address, merged with the free block just before it and the one just after.
void Heap::insert(Block* block) {
    Block* before = nullptr;
    Block** link = &free_;
    while (*link && *link < block) {
        before = *link;
        link = &before->next;
    }
    Block* after = *link;
    if (after && reinterpret_cast<char*>(block) + block->size == reinterpret_cast<char*>(after)) {
        block->size += after->size;
        after = after->next;
    }
    if (before && reinterpret_cast<char*>(before) + before->size == reinterpret_cast<char*>(block)) {
        before->size += block->size;
        before->next = after;
        return;
    }
    block->next = after;
    *link = block;
}

size_t Heap::free_bytes() const {
    size_t total = 0;
    for (Block* block = free_; block; block = block->next) total += block->size;
    return total;
}

}  // namespace comet
