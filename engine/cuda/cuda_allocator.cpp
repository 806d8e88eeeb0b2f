#include "engine/cuda/cuda_allocator.h"

#include <mutex>
#include <new>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/backend.h"
#include "engine/cuda/cuda_context.h"

namespace focal::cuda {
namespace {

struct Pool {
    std::mutex mutex;
    std::unordered_map<size_t, std::vector<void*>> free_lists;  // rounded size -> blocks
    MemoryStats stats;
};

Pool& pool() {
    static Pool* p = new Pool;  // never destroyed: tensors may outlive static destructors
    return *p;
}

size_t round_up(size_t bytes) { return (bytes + 511) / 512 * 512; }

std::string mib(size_t bytes) { return std::to_string(bytes / (1024 * 1024)) + " MiB"; }

[[noreturn]] void out_of_memory(size_t bytes) {
    size_t free = 0, total = 0;
    const bool known = cudaMemGetInfo(&free, &total) == cudaSuccess;
    const std::string op = OpScope::current();
    fail("[cuda] out of memory", op.empty() ? "" : " in " + op, ": asked for ", bytes, " bytes (", mib(bytes),
         "); focal's tensors hold ", mib(memory_stats().in_use),
         known ? "; the device has " + mib(free) + " free of " + mib(total) : std::string(),
         ". Use a smaller batch or image size");
}

}  // namespace

void* cached_allocate(size_t bytes) {
    if (bytes == 0) return nullptr;
    const size_t size = round_up(bytes);
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
    void* ptr = nullptr;
    cudaError_t status = cudaMalloc(&ptr, size);
    if (status == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();  // clear it: running out of memory is not a sticky error
        empty_cache();
        status = cudaMalloc(&ptr, size);
    }
    if (status == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError();
        out_of_memory(bytes);
    }
    if (status != cudaSuccess) fail_status("cudaMalloc", status);
    std::lock_guard lock(p.mutex);
    p.stats.in_use += size;
    p.stats.peak = std::max(p.stats.peak, p.stats.in_use);
    return ptr;
}

void cached_deallocate(void* ptr, size_t bytes) noexcept {
    if (!ptr) return;
    const size_t size = round_up(bytes);
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    p.stats.in_use -= size;
    try {
        p.free_lists[size].push_back(ptr);
        p.stats.cached += size;
    } catch (const std::bad_alloc&) {  // no host memory to cache it in: give it back instead
        (void)cudaFree(ptr);          // a failure here has no caller to report to
    }
}

MemoryStats memory_stats() {
    std::lock_guard lock(pool().mutex);
    return pool().stats;
}

void empty_cache() {
    Pool& p = pool();
    std::lock_guard lock(p.mutex);
    if (p.free_lists.empty()) return;
    FOCAL_CUDA_CHECK(cudaStreamSynchronize(stream()));  // queued kernels may still read cached blocks
    for (auto& [size, blocks] : p.free_lists)
        while (!blocks.empty()) {
            FOCAL_CUDA_CHECK(cudaFree(blocks.back()));
            blocks.pop_back();
            p.stats.cached -= size;
        }
    p.free_lists.clear();
}

}  // namespace focal::cuda
