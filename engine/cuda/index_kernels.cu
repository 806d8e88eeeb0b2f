// Indexing kernels over x viewed as (outer, size, inner). The accumulating ones (index_add,
// scatter_add) give each thread one (outer, inner) line and walk the indices in order, so
// repeated indices add up in the same order on every run, with no atomics.
#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"

namespace focal::cuda {
namespace {

__global__ void index_select_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count, const int32_t* idx,
                                    const float* x, float* y, int* error) {
    FOCAL_GRID_LOOP(t, outer * count * inner) {
        int64_t i = t % inner, j = (t / inner) % count, o = t / (inner * count);
        int32_t k = idx[j];
        if (k < 0 || k >= size) {
            *error = 1;
            continue;
        }
        y[t] = x[(o * size + k) * inner + i];
    }
}

__global__ void index_add_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count, const int32_t* idx,
                                 const float* src, float* out, int* error) {
    FOCAL_GRID_LOOP(t, outer * inner) {
        int64_t i = t % inner, o = t / inner;
        for (int64_t j = 0; j < count; ++j) {
            int32_t k = idx[j];
            if (k < 0 || k >= size) {
                *error = 1;
                continue;
            }
            out[(o * size + k) * inner + i] += src[(o * count + j) * inner + i];
        }
    }
}

__global__ void gather_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count, const int32_t* idx,
                              const float* x, float* y, int* error) {
    FOCAL_GRID_LOOP(t, outer * count * inner) {
        int64_t i = t % inner, o = t / (inner * count);
        int32_t k = idx[t];
        if (k < 0 || k >= size) {
            *error = 1;
            continue;
        }
        y[t] = x[(o * size + k) * inner + i];
    }
}

__global__ void scatter_add_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count, const int32_t* idx,
                                   const float* src, float* out, int* error) {
    FOCAL_GRID_LOOP(t, outer * inner) {
        int64_t i = t % inner, o = t / inner;
        for (int64_t j = 0; j < count; ++j) {
            int64_t at = (o * count + j) * inner + i;
            int32_t k = idx[at];
            if (k < 0 || k >= size) {
                *error = 1;
                continue;
            }
            out[(o * size + k) * inner + i] += src[at];
        }
    }
}

}  // namespace

void index_select(const View& x, int64_t dim, const View& index, const View& out, int* error) {
    DimSplit s = split_at(x.shape, dim);
    const int64_t count = index.numel(), work = s.outer * count * s.inner;
    if (work == 0) return;
    index_select_kernel<<<blocks_for(work), kThreads, 0, stream()>>>(s.outer, s.size, s.inner, count, index.i32(),
                                                                     x.f32(), out.f32(), error);
    after_launch("index_select");
}

void index_add(const View& src, int64_t dim, const View& index, const View& out, int* error) {
    DimSplit s = split_at(out.shape, dim);
    const int64_t count = index.numel(), work = s.outer * s.inner;
    if (work == 0 || count == 0) return;
    index_add_kernel<<<blocks_for(work), kThreads, 0, stream()>>>(s.outer, s.size, s.inner, count, index.i32(),
                                                                  src.f32(), out.f32(), error);
    after_launch("index_add");
}

void gather(const View& x, int64_t dim, const View& index, const View& out, int* error) {
    DimSplit s = split_at(x.shape, dim), t = split_at(index.shape, dim);
    const int64_t work = t.outer * t.size * t.inner;
    if (work == 0) return;
    gather_kernel<<<blocks_for(work), kThreads, 0, stream()>>>(t.outer, s.size, t.inner, t.size, index.i32(), x.f32(),
                                                               out.f32(), error);
    after_launch("gather");
}

void scatter_add(const View& src, int64_t dim, const View& index, const View& out, int* error) {
    DimSplit s = split_at(out.shape, dim), t = split_at(index.shape, dim);
    const int64_t work = t.outer * t.inner;
    if (work == 0 || t.size == 0) return;
    scatter_add_kernel<<<blocks_for(work), kThreads, 0, stream()>>>(t.outer, s.size, t.inner, t.size, index.i32(),
                                                                    src.f32(), out.f32(), error);
    after_launch("scatter_add");
}

}  // namespace focal::cuda
