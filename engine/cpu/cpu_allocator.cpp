#include "engine/cpu/cpu_allocator.h"

#include <cstdlib>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "engine/error.h"

namespace focal::cpu {
namespace {

constexpr size_t kAlignment = 64;
constexpr size_t kMaxCached = size_t{4} << 30;  // beyond this, freed blocks go back at once

struct Pool {
    std::mutex mutex;
    std::unordered_map<size_t, std::vector<void*>> free_lists;  // rounded size -> blocks
    MemoryStats stats;
};

Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: tensors may outlive static destructors
    return *p;
}

size_t round_up(size_t bytes) { return (std::max<size_t>(bytes, 1) + 511) / 512 * 512; }

}  // namespace

void* cached_allocate(size_t bytes) {
    size_t size = round_up(bytes);
    Pool& p = pool();
    {
        std::lock_guard lock(p.mutex);
        auto it = p.free_lists.find(size);
        if (it != p.free_lists.end() && !it->second.empty()) {
            void* ptr = it->second.back();
            it->second.pop_back();
            p.stats.cached -= size;
            p.stats.in_use += size;
            p.stats.peak = std::max(p.stats.peak, p.stats.in_use);
            return ptr;
        }
    }
    void* ptr = std::aligned_alloc(kAlignment, size);
    if (!ptr) {
        empty_cache();
        ptr = std::aligned_alloc(kAlignment, size);
    }
    FOCAL_CHECK(ptr != nullptr, "[cpu] out of memory allocating ", bytes, " bytes");
    std::lock_guard lock(p.mutex);
    p.stats.in_use += size;
    p.stats.peak = std::max(p.stats.peak, p.stats.in_use);
    return ptr;
}

void cached_deallocate(void* ptr, size_t bytes) {
    if (!ptr) return;
    size_t size = round_up(bytes);
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    p.stats.in_use -= size;
    if (p.stats.cached + size > kMaxCached) {
        std::free(ptr);
        return;
    }
    p.free_lists[size].push_back(ptr);
    p.stats.cached += size;
}

MemoryStats memory_stats() {
    std::lock_guard lock(pool().mutex);
    return pool().stats;
}

void empty_cache() {
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    for (auto& [size, blocks] : p.free_lists)
        for (void* ptr : blocks) std::free(ptr);
    p.free_lists.clear();
    p.stats.cached = 0;
}

}  // namespace focal::cpu
