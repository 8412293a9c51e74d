// The wasm build's allocator, over arrays: every block aligned and apart from every other,
// freed blocks merged and used again, the heap grown only by what the free block at its end
// lacks, and no memory a failure has to give back.
#include "heap.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace comet {
namespace {

// Grow: memory from one array, each call's directly after the last (as sbrk's) unless `gap`
// says how many bytes to leave unused before it, until a limit.
struct Arena {
    alignas(std::max_align_t) static inline unsigned char memory[1 << 22];
    static inline size_t used = 0;
    static inline size_t limit = sizeof(memory);
    static inline size_t gap = 0;
    static inline std::vector<size_t> calls;
    static void reset(size_t new_limit = sizeof(memory), size_t new_gap = 0) {
        used = 0;
        limit = new_limit;
        gap = new_gap;
        calls.clear();
    }
    static void* grow(size_t bytes) {
        calls.push_back(bytes);
        if (gap + bytes > limit - used) return nullptr;
        void* start = memory + used + gap;
        used += gap + bytes;
        return start;
    }
};

bool aligned(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer) % alignof(std::max_align_t) == 0; }

TEST(Heap, BlocksAreAlignedAndDoNotOverlap) {
    Arena::reset();
    Heap heap(Arena::grow);
    std::vector<std::pair<unsigned char*, size_t>> blocks;
    for (size_t bytes : {0, 1, 7, 8, 9, 15, 16, 17, 100, 4096, 3}) {
        auto* block = static_cast<unsigned char*>(heap.allocate(bytes));
        ASSERT_NE(block, nullptr) << bytes;
        EXPECT_TRUE(aligned(block)) << bytes;
        blocks.emplace_back(block, std::max<size_t>(bytes, 1));
    }
    std::sort(blocks.begin(), blocks.end());
    for (size_t i = 1; i < blocks.size(); ++i) {
        EXPECT_LE(blocks[i - 1].first + blocks[i - 1].second, blocks[i].first) << "block " << i;
    }
}

TEST(Heap, AFreedBlockIsHandedOutAgainWithoutGrowing) {
    Arena::reset();
    Heap heap(Arena::grow);
    void* first = heap.allocate(200);
    void* keep = heap.allocate(10);
    size_t size = heap.size();
    heap.release(first);
    EXPECT_GT(heap.free_bytes(), 200u);
    EXPECT_EQ(heap.allocate(200), first);
    EXPECT_EQ(heap.size(), size);
    EXPECT_EQ(heap.free_bytes(), 0u);
    EXPECT_NE(keep, first);
}

TEST(Heap, NeighboursMergeWhateverOrderTheyAreFreedIn) {
    const int orders[][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    for (const auto& order : orders) {
        Arena::reset();
        Heap heap(Arena::grow);
        void* blocks[3] = {heap.allocate(100), heap.allocate(300), heap.allocate(50)};
        size_t size = heap.size();
        EXPECT_EQ(heap.free_bytes(), 0u);
        for (int i : order) heap.release(blocks[i]);
        EXPECT_EQ(heap.free_bytes(), size) << order[0] << order[1] << order[2];
        // One block as large as all three, without new memory: they merged into one.
        void* whole = heap.allocate(size - 32);
        EXPECT_NE(whole, nullptr);
        EXPECT_EQ(heap.size(), size) << order[0] << order[1] << order[2];
    }
}

TEST(Heap, GrowsOnlyByWhatTheFreeBlockAtTheEndLacks) {
    Arena::reset();
    Heap heap(Arena::grow);
    void* small = heap.allocate(1000);
    heap.release(small);
    size_t size = heap.size();
    void* large = heap.allocate(3000);
    EXPECT_EQ(large, small);  // the free block grew where it was
    EXPECT_EQ(heap.size(), size + 2000);
    EXPECT_EQ(Arena::calls.back(), 2000u);
    EXPECT_EQ(heap.free_bytes(), 0u);
}

TEST(Heap, TakesTheSmallestFreeBlockThatFits) {
    Arena::reset();
    Heap heap(Arena::grow);
    void* large = heap.allocate(1024);
    void* fence1 = heap.allocate(8);
    void* small = heap.allocate(64);
    void* fence2 = heap.allocate(8);
    heap.release(large);
    heap.release(small);
    // The hole of 64 fits 48: the one of 1024 stays whole for the next body.
    EXPECT_EQ(heap.allocate(48), small);
    EXPECT_EQ(heap.allocate(1024), large);
    EXPECT_NE(fence1, fence2);
}

TEST(Heap, NoMoreMemoryIsANullAndTheHeapGoesOn) {
    Arena::reset(4096);
    Heap heap(Arena::grow);
    void* block = heap.allocate(1000);
    ASSERT_NE(block, nullptr);
    EXPECT_EQ(heap.allocate(10000), nullptr);
    EXPECT_EQ(heap.allocate(SIZE_MAX), nullptr);
    EXPECT_EQ(heap.allocate(SIZE_MAX - 8), nullptr);
    for (size_t bytes : Arena::calls) EXPECT_LT(bytes, 20000u) << "no size that wrapped around";
    heap.release(block);
    EXPECT_NE(heap.allocate(2000), nullptr);
}

TEST(Heap, MemoryThatDoesNotFollowOnIsUsedAsItIs) {
    Arena::reset(sizeof(Arena::memory), 64);  // never following on
    Heap heap(Arena::grow);
    void* first = heap.allocate(1000);
    heap.release(first);
    void* second = heap.allocate(3000);  // the free 1000 cannot grow: a block of its own
    ASSERT_NE(second, nullptr);
    EXPECT_NE(second, first);
    std::memset(second, 0xab, 3000);
    EXPECT_EQ(heap.allocate(1000), first);
}

TEST(Heap, RandomWorkKeepsEveryBlocksContents) {
    Arena::reset();
    Heap heap(Arena::grow);
    std::mt19937 random(15);
    struct Live {
        unsigned char* block;
        size_t bytes;
        unsigned char mark;
    };
    std::vector<Live> live;
    size_t peak = 0;
    for (int step = 0; step < 20000; ++step) {
        if (live.empty() || (live.size() < 300 && random() % 2 == 0)) {
            // Mostly small, sometimes a body of up to 64 KB.
            size_t bytes = random() % 10 == 0 ? random() % 65536 : random() % 200;
            auto* block = static_cast<unsigned char*>(heap.allocate(bytes));
            ASSERT_NE(block, nullptr) << "step " << step;
            ASSERT_TRUE(aligned(block));
            unsigned char mark = static_cast<unsigned char>(step);
            std::memset(block, mark, bytes);
            live.push_back({block, bytes, mark});
        } else {
            size_t index = random() % live.size();
            Live gone = live[index];
            for (size_t i = 0; i < gone.bytes; ++i) ASSERT_EQ(gone.block[i], gone.mark) << "step " << step;
            heap.release(gone.block);
            live[index] = live.back();
            live.pop_back();
        }
        size_t in_use = 0;
        for (const Live& block : live) in_use += block.bytes;
        peak = std::max(peak, in_use);
    }
    for (const Live& block : live) {
        for (size_t i = 0; i < block.bytes; ++i) ASSERT_EQ(block.block[i], block.mark);
        heap.release(block.block);
    }
    EXPECT_EQ(heap.free_bytes(), heap.size());  // all of it merged back
    // 1.10 with this seed: holes left between live blocks stay few.
    EXPECT_LT(heap.size(), peak / 2 * 3) << "peak in use " << peak;
}

TEST(Heap, ReleasingNullDoesNothing) {
    Arena::reset();
    Heap heap(Arena::grow);
    heap.release(nullptr);
    EXPECT_EQ(heap.size(), 0u);
    EXPECT_EQ(heap.free_bytes(), 0u);
}

}  // namespace
}  // namespace comet
