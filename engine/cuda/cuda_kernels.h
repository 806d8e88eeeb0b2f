// The CUDA kernel launchers behind CudaBackend, one file per family. Each queues its
// kernels on stream() and calls after_launch; the contracts are Backend's (engine/backend.h).
// Every kernel is deterministic: each output element is written by one thread, or by one
// thread group in a fixed tree, never with float atomics.
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace focal::cuda {

// elementwise_kernels.cu
void copy(const View& src, const View& dst);
void fill(const View& dst, float value);
void unary(UnaryOp op, UnaryParams p, const View& x, const View& out);
void binary(BinaryOp op, const View& a, const View& b, const View& out);
void where(const View& mask, const View& a, const View& b, const View& out);

// reduce_kernels.cu
void reduce(ReduceOp op, const View& x, const View& out);
void argmax(const View& x, const View& out);

// index_kernels.cu: a bad index sets *error (device memory) and is skipped.
void index_select(const View& x, int64_t dim, const View& index, const View& out, int* error);
void index_add(const View& src, int64_t dim, const View& index, const View& out, int* error);
void gather(const View& x, int64_t dim, const View& index, const View& out, int* error);
void scatter_add(const View& src, int64_t dim, const View& index, const View& out, int* error);

// conv_kernels.cu
void im2col(const Conv2dGeometry& g, const float* x, float* cols);
void col2im(const Conv2dGeometry& g, const float* cols, float* dx);

// pool_kernels.cu
void max_pool2d(const Conv2dGeometry& g, const float* x, float* y, int32_t* argmax);
void max_pool2d_backward(const Conv2dGeometry& g, const float* dy, const int32_t* argmax, float* dx);
void avg_pool2d(const Conv2dGeometry& g, const float* x, float* y);
void avg_pool2d_backward(const Conv2dGeometry& g, const float* dy, float* dx);

// channel_kernels.cu
void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var);
void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l, float* sum_a,
                  float* sum_ab);
void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r, int64_t n,
                    int64_t c, int64_t l, float* out);

}  // namespace focal::cuda
