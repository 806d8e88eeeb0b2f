// The bookkeeping of a caching allocator, shared by the CPU (engine/cpu/cpu_allocator.cpp)
// and CUDA (engine/cuda/cuda_allocator.cpp) allocators, which differ only in how they get
// and free raw memory. A training step allocates the same sizes every iteration, so a freed
// block is kept under its rounded size and handed out again for the next request of that
// size (PyTorch's caching allocators work the same way). Thread-safe.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <unordered_map>
#include <vector>

namespace focal {

struct MemoryStats {
    size_t in_use = 0;  // bytes handed out and not yet returned
    size_t peak = 0;    // high-water mark of in_use
    size_t cached = 0;  // bytes held in free lists
};

class BlockCache {
public:
    // Beyond max_cached bytes in the free lists, give_back refuses and the block is freed.
    explicit BlockCache(size_t max_cached = SIZE_MAX) : max_cached_(max_cached) {}

    static size_t round_up(size_t bytes) { return (std::max<size_t>(bytes, 1) + 511) / 512 * 512; }

    // A cached block of exactly `size` (rounded) bytes, now counted in use; nullptr if none.
    void* take(size_t size) {
        std::lock_guard lock(mutex_);
        auto it = free_lists_.find(size);
        if (it == free_lists_.end() || it->second.empty()) return nullptr;
        void* ptr = it->second.back();
        it->second.pop_back();
        stats_.cached -= size;
        count_in_use(size);
        return ptr;
    }
    // A block of `size` bytes just obtained from the system, now in use.
    void add_new(size_t size) {
        std::lock_guard lock(mutex_);
        count_in_use(size);
    }
    // A block returned by its user: cached, or false when the cache is full (or no host
    // memory is left to note it in), and then the caller frees it.
    bool give_back(void* ptr, size_t size) noexcept {
        std::lock_guard lock(mutex_);
        stats_.in_use -= size;
        if (stats_.cached + size > max_cached_) return false;
        try {
            free_lists_[size].push_back(ptr);
        } catch (const std::bad_alloc&) {
            return false;
        }
        stats_.cached += size;
        return true;
    }
    // Every cached block, removed from the cache, for the caller to free.
    std::vector<void*> drain() {
        std::lock_guard lock(mutex_);
        std::vector<void*> blocks;
        for (auto& [size, list] : free_lists_) blocks.insert(blocks.end(), list.begin(), list.end());
        free_lists_.clear();
        stats_.cached = 0;
        return blocks;
    }
    bool empty() {
        std::lock_guard lock(mutex_);
        return stats_.cached == 0;
    }
    MemoryStats stats() {
        std::lock_guard lock(mutex_);
        return stats_;
    }

private:
    void count_in_use(size_t size) {
        stats_.in_use += size;
        stats_.peak = std::max(stats_.peak, stats_.in_use);
    }

    const size_t max_cached_;
    std::mutex mutex_;
    std::unordered_map<size_t, std::vector<void*>> free_lists_;  // rounded size -> blocks
    MemoryStats stats_;
};

}  // namespace focal
