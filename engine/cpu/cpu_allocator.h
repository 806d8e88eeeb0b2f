// A caching host allocator: a training step allocates the same sizes every iteration, so
// freed blocks are kept in per-size free lists and handed out again, which avoids the page
// faults of fresh large allocations (glibc maps big blocks anew each time).
#pragma once
#include <cstddef>

#include "engine/block_cache.h"

namespace focal::cpu {

void* cached_allocate(size_t bytes);  // 64-byte aligned; throws focal::Error when out of memory
void cached_deallocate(void* ptr, size_t bytes);

using focal::MemoryStats;
MemoryStats memory_stats();
void empty_cache();  // returns every cached block to the system

}  // namespace focal::cpu
