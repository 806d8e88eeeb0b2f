// A caching device allocator, like the CPU's (engine/cpu/cpu_allocator.h): a training step
// asks for the same sizes every iteration, and cudaMalloc / cudaFree are slow and
// synchronise the device, so freed blocks wait in per-size free lists to be handed out
// again. Blocks are used on the backend's one stream only, so a block freed while queued
// kernels still read it is safe to reuse: the next user's kernels queue behind them.
#pragma once
#include <cstddef>

#include "engine/block_cache.h"

namespace focal::cuda {

// nullptr for 0 bytes. Out of memory, it empties the cache and tries again, then throws a
// focal::Error naming the op (OpScope) and the bytes asked for.
void* cached_allocate(size_t bytes);
void cached_deallocate(void* ptr, size_t bytes) noexcept;  // back to the cache; no CUDA call

using focal::MemoryStats;
MemoryStats memory_stats();
void empty_cache();  // waits for the device, then cudaFree's every cached block

// A scratch buffer for one backend call, back in the cache when it goes out of scope.
class DeviceBuffer {
public:
    explicit DeviceBuffer(size_t bytes) : bytes_(bytes), ptr_(cached_allocate(bytes)) {}
    ~DeviceBuffer() { cached_deallocate(ptr_, bytes_); }
    DeviceBuffer(const DeviceBuffer&) = delete;
    DeviceBuffer& operator=(const DeviceBuffer&) = delete;
    template <class T>
    T* as() const {
        return static_cast<T*>(ptr_);
    }

private:
    size_t bytes_;
    void* ptr_;
};

}  // namespace focal::cuda
