// im2col / col2im and pooling on the CPU. Parallel loops split work so that no two threads
// write the same output element, which keeps every result independent of the thread count.
// The index maths and the per-window bodies are the ones CUDA runs (engine/kernels/
// window_math.h); im2col and col2im keep their row-at-a-time loops, which copy whole runs.
#include "engine/cpu/conv_kernels.h"

#include <cstring>

#include "engine/kernels/window_math.h"
#include "engine/parallel.h"

namespace focal::cpu {

using math::cols_offset;
using math::valid_columns;
using math::ValidRange;
using math::window_input;

// cols row r = (c, ki, kj) holds, for every image n and output pixel (oh, ow), the input
// pixel x[n, c, oh*s - p + ki*d, ow*s - p + kj*d], or 0 outside the image.
void im2col(const Conv2dGeometry& g, const float* x, float* cols) {
    const int64_t kk = g.kernel_h * g.kernel_w, rows = g.channels * kk;
    const int64_t plane = g.height * g.width;
    parallel_for(rows, 1, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const int64_t c = r / kk, ki = (r % kk) / g.kernel_w, kj = r % g.kernel_w;
            const int64_t shift = kj * g.dilation_w - g.pad_w;
            const ValidRange v = valid_columns(g.out_w, g.stride_w, shift, g.width);
            for (int64_t n = 0; n < g.batch; ++n) {
                const float* src = x + (n * g.channels + c) * plane;
                float* out = cols + cols_offset(g, r, n);
                for (int64_t oh = 0; oh < g.out_h; ++oh) {
                    const int64_t ih = window_input(oh, ki, g.stride_h, g.pad_h, g.dilation_h);
                    float* dst = out + oh * g.out_w;
                    if (ih < 0 || ih >= g.height) {
                        std::memset(dst, 0, g.out_w * sizeof(float));
                        continue;
                    }
                    const float* line = src + ih * g.width;
                    for (int64_t ow = 0; ow < v.lo; ++ow) dst[ow] = 0.0f;
                    if (g.stride_w == 1) {
                        if (v.hi > v.lo) std::memcpy(dst + v.lo, line + v.lo + shift, (v.hi - v.lo) * sizeof(float));
                    } else if (g.stride_w == 2) {  // a constant stride, so the loop vectorises
                        for (int64_t ow = v.lo; ow < v.hi; ++ow) dst[ow] = line[ow * 2 + shift];
                    } else {
                        for (int64_t ow = v.lo; ow < v.hi; ++ow) dst[ow] = line[ow * g.stride_w + shift];
                    }
                    for (int64_t ow = v.hi; ow < g.out_w; ++ow) dst[ow] = 0.0f;
                }
            }
        }
    });
}

// The adjoint of im2col: each column entry is added back to the pixel it was copied from.
// Parallel over (n, c) planes: all rows (c, ., .) of image n write only to plane (n, c).
void col2im(const Conv2dGeometry& g, const float* cols, float* dx) {
    const int64_t kk = g.kernel_h * g.kernel_w;
    const int64_t plane = g.height * g.width;
    parallel_for(g.batch * g.channels, 1, [&](int64_t begin, int64_t end) {
        for (int64_t nc = begin; nc < end; ++nc) {
            const int64_t n = nc / g.channels, c = nc % g.channels;
            float* dst = dx + nc * plane;
            std::memset(dst, 0, plane * sizeof(float));  // here, not in a pass of its own: the plane stays in cache
            for (int64_t k = 0; k < kk; ++k) {
                const int64_t ki = k / g.kernel_w, kj = k % g.kernel_w;
                const int64_t shift = kj * g.dilation_w - g.pad_w;
                const ValidRange v = valid_columns(g.out_w, g.stride_w, shift, g.width);
                const float* in = cols + cols_offset(g, c * kk + k, n);
                for (int64_t oh = 0; oh < g.out_h; ++oh) {
                    const int64_t ih = window_input(oh, ki, g.stride_h, g.pad_h, g.dilation_h);
                    if (ih < 0 || ih >= g.height) continue;
                    const float* src = in + oh * g.out_w;
                    float* line = dst + ih * g.width;
                    if (g.stride_w == 2)
                        for (int64_t ow = v.lo; ow < v.hi; ++ow) line[ow * 2 + shift] += src[ow];
                    else
                        for (int64_t ow = v.lo; ow < v.hi; ++ow) line[ow * g.stride_w + shift] += src[ow];
                }
            }
        }
    });
}

// Pooling windows, one (n, c) plane per task.
template <class Body>
void for_each_window(const Conv2dGeometry& g, Body&& body) {
    parallel_for(g.batch * g.channels, 1, [&](int64_t begin, int64_t end) {
        for (int64_t nc = begin; nc < end; ++nc)
            for (int64_t oh = 0; oh < g.out_h; ++oh)
                for (int64_t ow = 0; ow < g.out_w; ++ow) body(nc, oh, ow);
    });
}

void max_pool2d(const Conv2dGeometry& g, const float* x, float* y, int32_t* argmax) {
    const int64_t plane = g.height * g.width, out_plane = g.out_plane();
    for_each_window(g, [&](int64_t nc, int64_t oh, int64_t ow) {
        const int64_t o = nc * out_plane + oh * g.out_w + ow;
        y[o] = math::max_pool_window(g, x + nc * plane, oh, ow, &argmax[o]);
    });
}

void max_pool2d_backward(const Conv2dGeometry& g, const float* dy, const int32_t* argmax, float* dx) {
    const int64_t plane = g.height * g.width, out_plane = g.out_plane();
    parallel_for(g.batch * g.channels, 1, [&](int64_t begin, int64_t end) {
        for (int64_t nc = begin; nc < end; ++nc)
            for (int64_t o = 0; o < out_plane; ++o) {
                const int32_t at = argmax[nc * out_plane + o];
                if (at >= 0) dx[nc * plane + at] += dy[nc * out_plane + o];
            }
    });
}

void avg_pool2d(const Conv2dGeometry& g, const float* x, float* y) {
    const int64_t plane = g.height * g.width, out_plane = g.out_plane();
    for_each_window(g, [&](int64_t nc, int64_t oh, int64_t ow) {
        y[nc * out_plane + oh * g.out_w + ow] = math::avg_pool_window(g, x + nc * plane, oh, ow);
    });
}

void avg_pool2d_backward(const Conv2dGeometry& g, const float* dy, float* dx) {
    const int64_t plane = g.height * g.width, out_plane = g.out_plane();
    const float scale = 1.0f / static_cast<float>(g.kernel_h * g.kernel_w);
    for_each_window(g, [&](int64_t nc, int64_t oh, int64_t ow) {  // windows of one plane: one thread
        const float share = dy[nc * out_plane + oh * g.out_w + ow] * scale;
        float* dst = dx + nc * plane;
        for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
            const int64_t ih = window_input(oh, ki, g.stride_h, g.pad_h, g.dilation_h);
            if (ih < 0 || ih >= g.height) continue;
            for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
                const int64_t iw = window_input(ow, kj, g.stride_w, g.pad_w, g.dilation_w);
                if (iw >= 0 && iw < g.width) dst[ih * g.width + iw] += share;
            }
        }
    });
}

}  // namespace focal::cpu
