// im2col and col2im on CUDA: one thread per element of the output buffer, each running the
// shared index maths (engine/kernels/window_math.h). col2im is a gather: each input pixel
// sums the column entries that read it, in tap order, so no two threads write one address.
#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"
#include "engine/kernels/window_math.h"

namespace focal::cuda {
namespace {

// cols (C*kh*kw, N*OH*OW), or (N, C*kh*kw, OH*OW) when g.cols_per_image; t runs over it.
__global__ void im2col_kernel(Conv2dGeometry g, int64_t total, const float* x, float* cols) {
    FOCAL_GRID_LOOP(t, total) cols[t] = math::im2col_at(g, x, t);
}

// dx (N, C, H, W); p runs over it.
__global__ void col2im_kernel(Conv2dGeometry g, int64_t total, const float* cols, float* dx) {
    FOCAL_GRID_LOOP(p, total) dx[p] = math::col2im_at(g, cols, p);
}

}  // namespace

void im2col(const Conv2dGeometry& g, const float* x, float* cols) {
    const int64_t total = g.channels * g.kernel_h * g.kernel_w * g.batch * g.out_plane();
    if (total == 0) return;
    im2col_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(g, total, x, cols);
    after_launch("im2col");
}

void col2im(const Conv2dGeometry& g, const float* cols, float* dx) {
    const int64_t total = g.batch * g.channels * g.height * g.width;
    if (total == 0) return;
    col2im_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(g, total, cols, dx);
    after_launch("col2im");
}

}  // namespace focal::cuda
