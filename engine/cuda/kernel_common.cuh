// Helpers of the CUDA kernel files: launch sizes, the grid-stride loop, the strided
// geometry of element-wise launches, and the fixed-order tree reduction of a thread group.
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <array>

#include "engine/backend.h"
#include "engine/cpu/strided_loop.h"
#include "engine/cuda/cuda_context.h"
#include "engine/error.h"

namespace focal::cuda {

constexpr int kMaxDims = 8;
constexpr int kThreads = 256;  // threads per block, a power of two (group_reduce needs it)

inline int blocks_for(int64_t n) { return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535)); }

#define FOCAL_GRID_LOOP(i, n) \
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

// Shape and per-operand strides of a coalesced element-wise launch, passed by value.
template <int N>
struct Geometry {
    int rank = 0;
    int64_t numel = 1;
    int64_t shape[kMaxDims];
    int64_t strides[N][kMaxDims];

    __device__ void offsets(int64_t linear, int64_t (&out)[N]) const {
        for (int k = 0; k < N; ++k) out[k] = 0;
        for (int d = rank - 1; d >= 0; --d) {
            int64_t i = linear % shape[d];
            linear /= shape[d];
            for (int k = 0; k < N; ++k) out[k] += i * strides[k][d];
        }
    }
};

template <int N>
Geometry<N> geometry(const Shape& shape, std::array<const View*, N> views) {
    std::array<const Strides*, N> strides;
    for (int k = 0; k < N; ++k) strides[k] = &views[k]->strides;
    cpu::StridedLayout<N> layout = cpu::coalesce<N>(shape, strides);
    FOCAL_CHECK(layout.shape.size() <= kMaxDims, "[cuda] tensors of more than ", kMaxDims,
                " non-mergeable dims are not supported");
    Geometry<N> g;
    g.rank = static_cast<int>(layout.shape.size());
    g.numel = numel(shape);
    for (int d = 0; d < g.rank; ++d) {
        g.shape[d] = layout.shape[d];
        for (int k = 0; k < N; ++k) g.strides[k][d] = layout.strides[k][d];
    }
    return g;
}

// Merges v across each aligned group of GROUP threads of the block (GROUP a power of two
// dividing blockDim.x) in a fixed tree: lane i takes lane i + s for s = GROUP/2, ..., 1.
// The same bits on every run. Every thread of the block must call it, and every lane gets
// its group's result.
template <int GROUP, class T, class Merge>
__device__ T group_reduce(T v, T* shared, Merge merge) {
    const int lane = threadIdx.x % GROUP;
    shared[threadIdx.x] = v;
    __syncthreads();
    for (int s = GROUP / 2; s > 0; s >>= 1) {
        if (lane < s) shared[threadIdx.x] = merge(shared[threadIdx.x], shared[threadIdx.x + s]);
        __syncthreads();
    }
    const T out = shared[threadIdx.x - lane];
    __syncthreads();  // shared is free for the caller's next round
    return out;
}

}  // namespace focal::cuda
