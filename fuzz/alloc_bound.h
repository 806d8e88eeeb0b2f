// The allocation bound of a parser, checked on every input: the sanitizer's malloc and free
// hooks count the bytes live while one parse runs, and a guard traps when their peak exceeds
// what docs/testing.md ("Allocation bounds") promises for an input of that size:
//
//   focal::fuzz::AllocationBound bound(size, 64);   // at most 64 x size + 1 MiB, peak
//   parse(...);                                     // checked when `bound` goes out of scope
//
// The check runs on the error path too (the guard's destructor), since a parse that allocates
// gigabytes and then throws is as much a finding as one that succeeds.
#pragma once
#include <sanitizer/allocator_interface.h>

#include <atomic>
#include <cstddef>
#include <cstdio>

namespace focal::fuzz {

// Signed: blocks allocated before the hooks were installed may be freed after.
inline std::atomic<long long> live_bytes{0}, peak_bytes{0};

inline void on_malloc(const volatile void*, std::size_t size) {
    const long long now = live_bytes.fetch_add((long long)size, std::memory_order_relaxed) + (long long)size;
    long long peak = peak_bytes.load(std::memory_order_relaxed);
    while (now > peak && !peak_bytes.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {}
}

inline void on_free(const volatile void* p) {
    if (p) live_bytes.fetch_sub((long long)__sanitizer_get_allocated_size(p), std::memory_order_relaxed);
}

inline const bool hooks_installed = __sanitizer_install_malloc_and_free_hooks(&on_malloc, &on_free) != 0;

class AllocationBound {
public:
    // Peak live bytes above the level at construction <= per_byte * input_size + fixed.
    AllocationBound(std::size_t input_size, std::size_t per_byte, std::size_t fixed = std::size_t(1) << 20)
        : limit_(per_byte * input_size + fixed), base_(live_bytes.load(std::memory_order_relaxed)) {
        peak_bytes.store(base_, std::memory_order_relaxed);
    }
    void raise(std::size_t extra) { limit_ += extra; }  // e.g. the pixels a valid header declares
    ~AllocationBound() {
        const long long used = peak_bytes.load(std::memory_order_relaxed) - base_;
        if (hooks_installed && used > (long long)limit_) {
            std::fprintf(stderr, "==focal== allocation bound broken: %lld bytes at peak, bound %zu\n", used, limit_);
            __builtin_trap();
        }
    }
    AllocationBound(const AllocationBound&) = delete;
    AllocationBound& operator=(const AllocationBound&) = delete;

private:
    std::size_t limit_;
    long long base_;
};

}  // namespace focal::fuzz
