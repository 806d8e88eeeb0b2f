// Index maths of im2col / col2im and of the pools, shared by the CPU and CUDA backends.
// Each function computes one output element from its inputs, in a fixed order, so a GPU
// thread per element gives the same bits on every run. The backward kernels are gathers:
// each input pixel sums the entries that read it, which needs no atomics. The CPU backend
// runs the loop-shaped parts itself (faster on a CPU) and these bodies where they are
// per-element anyway; tests/engine/test_shared_kernels.cpp checks that both agree exactly.
//
// Geometry (Backend::im2col): output pixel (oh, ow) of a window reads, for kernel tap
// (ki, kj), the input pixel
//   ih = oh * stride_h - pad_h + ki * dilation_h,   iw = ow * stride_w - pad_w + kj * dilation_w.
#pragma once
#include <math.h>
#include <stdint.h>

#include "engine/backend.h"
#include "engine/kernels/host_device.h"

namespace focal::math {

// The input coordinate that output coordinate `out` reads at kernel tap `k`.
FOCAL_HD int64_t window_input(int64_t out, int64_t k, int64_t stride, int64_t pad, int64_t dilation) {
    return out * stride - pad + k * dilation;
}

// The inverse: the output coordinate whose tap `k` reads input coordinate `in`, or -1 when
// none does (the tap falls between strides, or outside [0, out_size)).
// Stride 1, the common case, needs no division (64-bit division is slow on a GPU).
FOCAL_HD int64_t window_output(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dilation, int64_t out_size) {
    const int64_t t = in + pad - k * dilation;
    if (t < 0) return -1;
    if (stride == 1) return t < out_size ? t : -1;
    if (t % stride != 0) return -1;
    const int64_t out = t / stride;
    return out < out_size ? out : -1;
}

// Output columns ow whose input column ow * stride + shift lies inside [0, width): [lo, hi).
// Outside it the window hangs over the padding. (The CPU loops use this per row.)
struct ValidRange {
    int64_t lo, hi;
};
FOCAL_HD ValidRange valid_columns(int64_t out_w, int64_t stride, int64_t shift, int64_t width) {
    int64_t lo = shift >= 0 ? 0 : (-shift + stride - 1) / stride;
    int64_t hi = width - shift <= 0 ? 0 : (width - shift + stride - 1) / stride;
    lo = lo < out_w ? lo : out_w;
    hi = hi < lo ? lo : (hi > out_w ? out_w : hi);
    return {lo, hi};
}

// ---------------------------------------------------------------- im2col / col2im

// Where row r = (c, ki, kj) of image n starts in the columns: (C*kh*kw, N*OH*OW) by
// default, (N, C*kh*kw, OH*OW) when g.cols_per_image.
FOCAL_HD int64_t cols_offset(const Conv2dGeometry& g, int64_t r, int64_t n) {
    const int64_t rows = g.channels * g.kernel_h * g.kernel_w, plane = g.out_h * g.out_w;
    return g.cols_per_image ? (n * rows + r) * plane : (r * g.batch + n) * plane;
}

// What tap (ki, kj) of channel c reads for output pixel (oh, ow) of image n: x[n, c, ih, iw],
// or 0 where the window leaves x (N, C, H, W).
FOCAL_HD float im2col_tap(const Conv2dGeometry& g, const float* x, int64_t n, int64_t c, int64_t ki, int64_t kj,
                          int64_t oh, int64_t ow) {
    const int64_t ih = window_input(oh, ki, g.stride_h, g.pad_h, g.dilation_h);
    const int64_t iw = window_input(ow, kj, g.stride_w, g.pad_w, g.dilation_w);
    if (ih < 0 || ih >= g.height || iw < 0 || iw >= g.width) return 0.0f;
    return x[((n * g.channels + c) * g.height + ih) * g.width + iw];
}

// The column entry (r, n, oh, ow), row r = (c, ki, kj).
FOCAL_HD float im2col_entry(const Conv2dGeometry& g, const float* x, int64_t r, int64_t n, int64_t oh, int64_t ow) {
    const int64_t kk = g.kernel_h * g.kernel_w;
    return im2col_tap(g, x, n, r / kk, (r % kk) / g.kernel_w, r % g.kernel_w, oh, ow);
}

// The column entry at flat position t of the columns buffer, in either layout: the flat
// form that tests/engine/test_shared_kernels.cpp sweeps (the CUDA kernel decodes a line
// once and its pixels, then calls im2col_tap).
FOCAL_HD float im2col_at(const Conv2dGeometry& g, const float* x, int64_t t) {
    const int64_t plane = g.out_h * g.out_w, rows = g.channels * g.kernel_h * g.kernel_w;
    const int64_t l = t % plane, line = t / plane;  // line = r * N + n, or n * rows + r
    const int64_t r = g.cols_per_image ? line % rows : line / g.batch;
    const int64_t n = g.cols_per_image ? line / rows : line % g.batch;
    return im2col_entry(g, x, r, n, l / g.out_w, l % g.out_w);
}

// dx[n, c, ih, iw]: the sum of the column entries that im2col copied from this pixel, taps
// (ki, kj) in increasing order, starting from 0 (the order of the CPU's col2im, which adds
// tap by tap; each tap reads a pixel at most once).
FOCAL_HD float col2im_pixel(const Conv2dGeometry& g, const float* cols, int64_t n, int64_t c, int64_t ih, int64_t iw) {
    float total = 0.0f;
    for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        const int64_t oh = window_output(ih, ki, g.stride_h, g.pad_h, g.dilation_h, g.out_h);
        if (oh < 0) continue;
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
            const int64_t ow = window_output(iw, kj, g.stride_w, g.pad_w, g.dilation_w, g.out_w);
            if (ow < 0) continue;
            const int64_t r = (c * g.kernel_h + ki) * g.kernel_w + kj;
            total += cols[cols_offset(g, r, n) + oh * g.out_w + ow];
        }
    }
    return total;
}

// col2im's value at flat position p of dx (N, C, H, W).
FOCAL_HD float col2im_at(const Conv2dGeometry& g, const float* cols, int64_t p) {
    const int64_t iw = p % g.width, ih = (p / g.width) % g.height, nc = p / (g.width * g.height);
    return col2im_pixel(g, cols, nc / g.channels, nc % g.channels, ih, iw);
}

// ---------------------------------------------------------------- pooling

// The maximum of window (oh, ow) of one (H, W) plane and, in *at, its flat index in the
// plane. Padding never wins; a NaN propagates (PyTorch's rule); ties keep the first tap.
FOCAL_HD float max_pool_window(const Conv2dGeometry& g, const float* plane, int64_t oh, int64_t ow, int32_t* at) {
    float best = -INFINITY;
    int32_t best_at = -1;
    for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        const int64_t ih = window_input(oh, ki, g.stride_h, g.pad_h, g.dilation_h);
        if (ih < 0 || ih >= g.height) continue;
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
            const int64_t iw = window_input(ow, kj, g.stride_w, g.pad_w, g.dilation_w);
            if (iw < 0 || iw >= g.width) continue;
            const float v = plane[ih * g.width + iw];
            if (v > best || best_at < 0 || v != v) {
                best = v;
                best_at = static_cast<int32_t>(ih * g.width + iw);
            }
        }
    }
    *at = best_at;
    return best;
}

// The mean of window (oh, ow), padding counted as zeros (PyTorch's count_include_pad).
FOCAL_HD float avg_pool_window(const Conv2dGeometry& g, const float* plane, int64_t oh, int64_t ow) {
    float total = 0.0f;
    for (int64_t ki = 0; ki < g.kernel_h; ++ki) {
        const int64_t ih = window_input(oh, ki, g.stride_h, g.pad_h, g.dilation_h);
        if (ih < 0 || ih >= g.height) continue;
        for (int64_t kj = 0; kj < g.kernel_w; ++kj) {
            const int64_t iw = window_input(ow, kj, g.stride_w, g.pad_w, g.dilation_w);
            if (iw >= 0 && iw < g.width) total += plane[ih * g.width + iw];
        }
    }
    return mul_rn(total, 1.0f / static_cast<float>(g.kernel_h * g.kernel_w));
}

// The backward gathers below visit the windows that contain pixel (ih, iw) in increasing
// (oh, ow), the order in which the CPU's scatter loops add into that pixel. A later tap
// ki means an earlier window oh, so the taps run backwards.
template <class Visit>
FOCAL_HD void for_each_window_holding(const Conv2dGeometry& g, int64_t ih, int64_t iw, Visit&& visit) {
    for (int64_t ki = g.kernel_h - 1; ki >= 0; --ki) {
        const int64_t oh = window_output(ih, ki, g.stride_h, g.pad_h, g.dilation_h, g.out_h);
        if (oh < 0) continue;
        for (int64_t kj = g.kernel_w - 1; kj >= 0; --kj) {
            const int64_t ow = window_output(iw, kj, g.stride_w, g.pad_w, g.dilation_w, g.out_w);
            if (ow >= 0) visit(oh * g.out_w + ow);
        }
    }
}

// dx[ih, iw] of one plane, starting from `start`: dy of every window whose maximum it was.
FOCAL_HD float max_pool_grad_pixel(const Conv2dGeometry& g, const float* dy_plane, const int32_t* argmax_plane,
                                   int64_t ih, int64_t iw, float start) {
    const int32_t self = static_cast<int32_t>(ih * g.width + iw);
    float total = start;
    for_each_window_holding(g, ih, iw, [&](int64_t window) {
        if (argmax_plane[window] == self) total += dy_plane[window];
    });
    return total;
}

// dx[ih, iw] of one plane, starting from `start`: dy / (kh * kw) of every window holding it.
FOCAL_HD float avg_pool_grad_pixel(const Conv2dGeometry& g, const float* dy_plane, int64_t ih, int64_t iw,
                                   float start) {
    const float scale = 1.0f / static_cast<float>(g.kernel_h * g.kernel_w);
    float total = start;
    for_each_window_holding(g, ih, iw, [&](int64_t window) { total += mul_rn(dy_plane[window], scale); });
    return total;
}

}  // namespace focal::math
