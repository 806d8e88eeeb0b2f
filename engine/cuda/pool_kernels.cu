// Max and average pooling on CUDA: one thread per output window forward, one thread per
// input pixel backward (a gather over the windows that hold the pixel, in the CPU's order;
// no atomics). The bodies are shared with the CPU (engine/kernels/window_math.h).
#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"
#include "engine/kernels/window_math.h"

namespace focal::cuda {
namespace {

// y, argmax (N, C, OH, OW); o runs over them.
__global__ void max_pool_kernel(Conv2dGeometry g, int64_t total, const float* x, float* y, int32_t* argmax) {
    const int64_t plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    FOCAL_GRID_LOOP(o, total) {
        const int64_t nc = o / out_plane, l = o % out_plane;
        y[o] = math::max_pool_window(g, x + nc * plane, l / g.out_w, l % g.out_w, &argmax[o]);
    }
}

__global__ void avg_pool_kernel(Conv2dGeometry g, int64_t total, const float* x, float* y) {
    const int64_t plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    FOCAL_GRID_LOOP(o, total) {
        const int64_t nc = o / out_plane, l = o % out_plane;
        y[o] = math::avg_pool_window(g, x + nc * plane, l / g.out_w, l % g.out_w);
    }
}

// dx (N, C, H, W), accumulated into; p runs over it.
__global__ void max_pool_backward_kernel(Conv2dGeometry g, int64_t total, const float* dy, const int32_t* argmax,
                                         float* dx) {
    const int64_t plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    FOCAL_GRID_LOOP(p, total) {
        const int64_t nc = p / plane, q = p % plane;
        dx[p] =
            math::max_pool_grad_pixel(g, dy + nc * out_plane, argmax + nc * out_plane, q / g.width, q % g.width, dx[p]);
    }
}

__global__ void avg_pool_backward_kernel(Conv2dGeometry g, int64_t total, const float* dy, float* dx) {
    const int64_t plane = g.height * g.width, out_plane = g.out_h * g.out_w;
    FOCAL_GRID_LOOP(p, total) {
        const int64_t nc = p / plane, q = p % plane;
        dx[p] = math::avg_pool_grad_pixel(g, dy + nc * out_plane, q / g.width, q % g.width, dx[p]);
    }
}

int64_t outputs(const Conv2dGeometry& g) { return g.batch * g.channels * g.out_plane(); }
int64_t inputs(const Conv2dGeometry& g) { return g.batch * g.channels * g.height * g.width; }

}  // namespace

void max_pool2d(const Conv2dGeometry& g, const float* x, float* y, int32_t* argmax) {
    if (outputs(g) == 0) return;
    max_pool_kernel<<<blocks_for(outputs(g)), kThreads, 0, stream()>>>(g, outputs(g), x, y, argmax);
    after_launch("max_pool2d");
}

void max_pool2d_backward(const Conv2dGeometry& g, const float* dy, const int32_t* argmax, float* dx) {
    if (inputs(g) == 0) return;
    max_pool_backward_kernel<<<blocks_for(inputs(g)), kThreads, 0, stream()>>>(g, inputs(g), dy, argmax, dx);
    after_launch("max_pool2d_backward");
}

void avg_pool2d(const Conv2dGeometry& g, const float* x, float* y) {
    if (outputs(g) == 0) return;
    avg_pool_kernel<<<blocks_for(outputs(g)), kThreads, 0, stream()>>>(g, outputs(g), x, y);
    after_launch("avg_pool2d");
}

void avg_pool2d_backward(const Conv2dGeometry& g, const float* dy, float* dx) {
    if (inputs(g) == 0) return;
    avg_pool_backward_kernel<<<blocks_for(inputs(g)), kThreads, 0, stream()>>>(g, inputs(g), dy, dx);
    after_launch("avg_pool2d_backward");
}

}  // namespace focal::cuda
