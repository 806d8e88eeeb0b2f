// im2col and col2im on CUDA, each running the shared index maths of engine/kernels/
// window_math.h per element. The grid's x runs over lines (a column line: one tap of one
// channel of one image; a dx plane: one channel of one image) and its y over chunks of the
// line of up to 16 entries per thread, so a thread decodes its line once for all its
// entries and each pixel with 32-bit maths: 64-bit divisions per element (a flat index
// decoded whole) made them the slowest kernels of a training step. col2im is a gather:
// each input pixel sums the column entries that read it, in tap order, so no two threads
// write one address.
#include <climits>

#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"
#include "engine/kernels/window_math.h"

namespace focal::cuda {
namespace {

// cols (C*kh*kw, N*OH*OW), or (N, C*kh*kw, OH*OW) when g.cols_per_image: either way line
// (r, n) = (r * N + n, or n * rows + r) holds OH*OW entries from cols[line * OH*OW].
__global__ void im2col_kernel(Conv2dGeometry g, int64_t lines, int plane, const float* x, float* cols) {
    const int64_t rows = g.channels * g.kernel_h * g.kernel_w, taps = g.kernel_h * g.kernel_w;
    const int out_w = static_cast<int>(g.out_w);
    for (int64_t line = blockIdx.x; line < lines; line += gridDim.x) {
        const int64_t r = g.cols_per_image ? line % rows : line / g.batch;
        const int64_t n = g.cols_per_image ? line / rows : line % g.batch;
        const int64_t c = r / taps, ki = (r % taps) / g.kernel_w, kj = r % g.kernel_w;
        float* out = cols + line * plane;
        for (int l = blockIdx.y * blockDim.x + threadIdx.x; l < plane; l += gridDim.y * blockDim.x) {
            const int oh = l / out_w;
            out[l] = math::im2col_tap(g, x, n, c, ki, kj, oh, l - oh * out_w);
        }
    }
}

// dx (N, C, H, W): plane nc = n * C + c of H*W pixels.
__global__ void col2im_kernel(Conv2dGeometry g, int64_t planes, int plane, const float* cols, float* dx) {
    const int width = static_cast<int>(g.width);
    for (int64_t nc = blockIdx.x; nc < planes; nc += gridDim.x) {
        const int64_t n = nc / g.channels, c = nc % g.channels;
        float* out = dx + nc * plane;
        for (int p = blockIdx.y * blockDim.x + threadIdx.x; p < plane; p += gridDim.y * blockDim.x) {
            const int ih = p / width;
            out[p] = math::col2im_pixel(g, cols, n, c, ih, p - ih * width);
        }
    }
}

// A block per line (x, up to 2^31 - 1) and chunk of 16 * kThreads entries of it (y, up to
// 65535).
dim3 line_grid(int64_t lines, int64_t plane) {
    const int64_t chunk = 16 * kThreads;
    return dim3(static_cast<unsigned>(std::min<int64_t>(lines, INT_MAX)),
                static_cast<unsigned>(std::min<int64_t>((plane + chunk - 1) / chunk, 65535)));
}

int plane_size(int64_t plane) {
    FOCAL_CHECK(plane <= INT_MAX, "[conv2d] a plane of ", plane, " pixels is over the CUDA kernels' 2^31 - 1");
    return static_cast<int>(plane);
}

}  // namespace

void im2col(const Conv2dGeometry& g, const float* x, float* cols) {
    const int64_t lines = g.channels * g.kernel_h * g.kernel_w * g.batch, plane = g.out_plane();
    if (lines == 0 || plane == 0) return;
    im2col_kernel<<<line_grid(lines, plane), kThreads, 0, stream()>>>(g, lines, plane_size(plane), x, cols);
    after_launch("im2col");
}

void col2im(const Conv2dGeometry& g, const float* cols, float* dx) {
    const int64_t planes = g.batch * g.channels, plane = g.height * g.width;
    if (planes == 0 || plane == 0) return;
    col2im_kernel<<<line_grid(planes, plane), kThreads, 0, stream()>>>(g, planes, plane_size(plane), cols, dx);
    after_launch("col2im");
}

}  // namespace focal::cuda
