#include "engine/cpu/cpu_allocator.h"

#include <cstdlib>

#include "engine/error.h"

namespace focal::cpu {
namespace {

constexpr size_t kAlignment = 64;

BlockCache& cache() {
    // Beyond 4 GiB cached, freed blocks go back at once. Never destroyed: tensors may outlive
    // static destructors.
    static BlockCache* c = new BlockCache(size_t{4} << 30);
    return *c;
}

}  // namespace

void* cached_allocate(size_t bytes) {
    const size_t size = BlockCache::round_up(bytes);
    if (void* ptr = cache().take(size)) return ptr;
    void* ptr = std::aligned_alloc(kAlignment, size);
    if (!ptr) {
        empty_cache();
        ptr = std::aligned_alloc(kAlignment, size);
    }
    FOCAL_CHECK(ptr != nullptr, "[cpu] out of memory allocating ", bytes, " bytes");
    cache().add_new(size);
    return ptr;
}

void cached_deallocate(void* ptr, size_t bytes) {
    if (!ptr) return;
    if (!cache().give_back(ptr, BlockCache::round_up(bytes))) std::free(ptr);
}

MemoryStats memory_stats() { return cache().stats(); }

void empty_cache() {
    for (void* ptr : cache().drain()) std::free(ptr);
}

}  // namespace focal::cpu
