#include "engine/cuda/cuda_allocator.h"

#include <new>
#include <string>

#include "engine/backend.h"
#include "engine/cuda/cuda_context.h"

namespace focal::cuda {
namespace {

BlockCache& cache() {
    static BlockCache* c = new BlockCache;  // never destroyed: tensors may outlive static destructors
    return *c;
}

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
    const size_t size = BlockCache::round_up(bytes);
    if (void* ptr = cache().take(size)) return ptr;
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
    cache().add_new(size);
    return ptr;
}

void cached_deallocate(void* ptr, size_t bytes) noexcept {
    if (!ptr) return;
    // Over the cap (there is none on the device) or no host memory to note it in: give it
    // back instead; a failure of cudaFree here has no caller to report to.
    if (!cache().give_back(ptr, BlockCache::round_up(bytes))) (void)cudaFree(ptr);
}

MemoryStats memory_stats() { return cache().stats(); }

void empty_cache() {
    if (cache().empty()) return;
    FOCAL_CUDA_CHECK(cudaStreamSynchronize(stream()));  // queued kernels may still read cached blocks
    for (void* ptr : cache().drain()) FOCAL_CUDA_CHECK(cudaFree(ptr));
}

}  // namespace focal::cuda
