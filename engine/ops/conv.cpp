// conv2d: argument checks, then one algorithm per shape (engine/ops/conv_paths.h).
// Winograd F(4x4, 3x3) or F(2x2, 3x3) serves 3x3 stride-1 dilation-1 convs; everything
// else goes through im2col + one gemm over the whole batch:
//   cols (C*kh*kw, N*OH*OW) = im2col(x)
//   out  (O, N*OH*OW)       = W (O, C*kh*kw) @ cols
//   y    (N, O, OH, OW)     = out permuted (+ bias), in one strided pass
// Backward, with dY laid out as (O, N*OH*OW):
//   dW = dY @ cols^T,  db = sum of dY over (N, OH, OW),  dx = col2im(W^T @ dY).
// cols and out live in reusable workspace slots; cols is recomputed in backward rather
// than kept alive between the passes.
#include "engine/autograd.h"
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/ops/conv_paths.h"
#include "engine/ops/op_helpers.h"
#include "engine/workspace.h"

namespace focal {

using detail::f32;

int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) {
    return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

namespace {

enum Slot { kColumns = detail::kConvSlotA, kGemmOut = detail::kConvSlotB, kPartials = detail::kConvSlotC };

// C = A @ B + beta C for row-major contiguous A (m, k), B (k, n) with optional transposes.
void gemm(Backend& be, int64_t m, int64_t n, int64_t k, const float* a, bool ta, const float* b, bool tb, float* c,
          float beta = 0.0f) {
    be.gemm(1, m, n, k, 1.0f, {a, ta ? m : k, ta, 0}, {b, tb ? k : n, tb, 0}, beta, c, 0);
}

// im2col one image at a time where each image's gemms stay large: an output plane of at
// least 256 pixels, and more pixels than rows of columns (C*kh*kw), or dW's per-image
// products (O, C*kh*kw) over only L pixels cost more than the copies they save. Measured
// on the tiny preset's shapes at 1 and 2 threads (bench/bench_conv).
bool per_image(const Conv2dGeometry& g) {
    return g.out_plane() >= 256 && g.out_plane() > g.channels * g.kernel_h * g.kernel_w;
}

// F(4x4, 3x3) multiplies least but needs larger images to fill its 6x6 tiles; below 4x4
// outputs the transforms cost more than they save. Measured on the tiny preset's shapes
// (bench/bench_conv).
Conv2dAlgorithm pick_winograd(const Conv2dGeometry& g) {
    const int64_t plane = g.out_plane();
    return plane >= 256  ? Conv2dAlgorithm::Winograd4
           : plane >= 16 ? Conv2dAlgorithm::Winograd2
                         : Conv2dAlgorithm::Im2col;
}

WinogradGeometry winograd_geometry(const Conv2dGeometry& conv, int64_t tile) {
    WinogradGeometry g;
    g.conv = conv;
    g.tile = tile;
    g.tiles_h = (conv.out_h + tile - 1) / tile;
    g.tiles_w = (conv.out_w + tile - 1) / tile;
    return g;
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions opt) {
    OpScope scope("conv2d");
    detail::check_f32(x, "conv2d");
    detail::check_f32(weight, "conv2d");
    detail::check_same_device(x, weight, "conv2d");
    FOCAL_CHECK(x.dim() == 4, "[conv2d] input must be (N, C, H, W), got ", shape_str(x.shape()));
    FOCAL_CHECK(weight.dim() == 4, "[conv2d] weight must be (O, C, kh, kw), got ", shape_str(weight.shape()));
    FOCAL_CHECK(x.size(1) == weight.size(1), "[conv2d] input has ", x.size(1), " channels, weight expects ",
                weight.size(1));
    FOCAL_CHECK(opt.stride >= 1 && opt.padding >= 0 && opt.dilation >= 1, "[conv2d] invalid stride ", opt.stride,
                ", padding ", opt.padding, " or dilation ", opt.dilation);
    const int64_t out_channels = weight.size(0);
    if (bias.defined()) {
        FOCAL_CHECK(bias.shape() == Shape{out_channels}, "[conv2d] bias must be (", out_channels, ",), got ",
                    shape_str(bias.shape()));
        detail::check_same_device(x, bias, "conv2d");
    }

    Conv2dGeometry g;
    g.batch = x.size(0), g.channels = x.size(1), g.height = x.size(2), g.width = x.size(3);
    g.kernel_h = weight.size(2), g.kernel_w = weight.size(3);
    g.stride_h = g.stride_w = opt.stride;
    g.pad_h = g.pad_w = opt.padding;
    g.dilation_h = g.dilation_w = opt.dilation;
    g.out_h = conv_out_size(g.height, g.kernel_h, opt.stride, opt.padding, opt.dilation);
    g.out_w = conv_out_size(g.width, g.kernel_w, opt.stride, opt.padding, opt.dilation);
    FOCAL_CHECK(g.out_h > 0 && g.out_w > 0, "[conv2d] input ", shape_str(x.shape()), " is smaller than the kernel ",
                shape_str(weight.shape()));

    Backend& be = detail::backend_of(x);
    Conv2dAlgorithm algorithm = opt.algorithm;
    const bool winograd_fits = g.kernel_h == 3 && g.kernel_w == 3 && opt.stride == 1 && opt.dilation == 1;
    if (algorithm == Conv2dAlgorithm::Auto)
        algorithm = winograd_fits && be.has_winograd() ? pick_winograd(g) : Conv2dAlgorithm::Im2col;
    if (algorithm == Conv2dAlgorithm::Im2col)
        return per_image(g) ? detail::conv2d_im2col_per_image(x, weight, bias, g)
                            : detail::conv2d_im2col(x, weight, bias, g);
    FOCAL_CHECK(winograd_fits, "[conv2d] Winograd needs a 3x3 kernel, stride 1 and dilation 1; got kernel ", g.kernel_h,
                "x", g.kernel_w, ", stride ", opt.stride, ", dilation ", opt.dilation);
    FOCAL_CHECK(be.has_winograd(), "[conv2d] Winograd is not implemented on ", device_name(x.device()));
    return detail::conv2d_winograd(x, weight, bias,
                                   winograd_geometry(g, algorithm == Conv2dAlgorithm::Winograd4 ? 4 : 2));
}

namespace detail {

Tensor conv2d_im2col(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dGeometry& g) {
    const int64_t out_channels = weight.size(0);
    const int64_t ckk = g.channels * g.kernel_h * g.kernel_w, cols_n = g.batch * g.out_plane();
    Backend& be = backend_of(x);
    Tensor xc = x.detached().contiguous();
    Tensor w2d = weight.detached().contiguous().view({out_channels, ckk});
    Tensor y;
    {
        NoGradGuard no_grad;
        Tensor cols = workspace(kColumns, {ckk, cols_n}, x.device());
        be.im2col(g, f32(xc), f32(cols));
        Tensor out = workspace(kGemmOut, {out_channels, g.batch, g.out_plane()}, x.device());
        gemm(be, out_channels, cols_n, ckk, f32(w2d), false, f32(cols), false, f32(out));
        Tensor per_image = out.permute({1, 0, 2});  // (O, N, L) -> (N, O, L), a view
        // Always a fresh tensor: even when the view is already contiguous (N = 1), y must
        // not alias the workspace, which the next conv overwrites.
        y = bias.defined() ? add(per_image, bias.detached().view({1, out_channels, 1})) : per_image.clone();
        y = y.view({g.batch, out_channels, g.out_h, g.out_w});
    }
    return record(y, "conv2d", {x, weight, bias},
                  [xc, w2d, g, ckk, cols_n, out_channels](Grads& grads, const Tensor& dy) {
        Backend& be = backend_of(dy);
        // dY (N, O, OH, OW) -> (O, N*OH*OW), the layout the gemms want.
        Tensor dy2d = workspace(kGemmOut, {out_channels, g.batch, g.out_plane()}, dy.device());
        be.copy(view_of(dy.view({g.batch, out_channels, g.out_plane()}).permute({1, 0, 2})), view_of(dy2d));
        Tensor cols = workspace(kColumns, {ckk, cols_n}, dy.device());
        if (grads.needs(1)) {
            be.im2col(g, f32(xc), f32(cols));
            Tensor dw = Tensor::empty({out_channels, ckk}, DType::F32, dy.device());
            gemm(be, out_channels, ckk, cols_n, f32(dy2d), false, f32(cols), true, f32(dw));  // dY cols^T
            grads[1] += dw.view({out_channels, g.channels, g.kernel_h, g.kernel_w});
        }
        if (grads.needs(2)) grads[2] += sum(dy2d, {1, 2});
        if (grads.needs(0)) {
            gemm(be, ckk, cols_n, out_channels, f32(w2d), true, f32(dy2d), false, f32(cols));  // W^T dY
            Tensor dx = Tensor::empty({g.batch, g.channels, g.height, g.width}, DType::F32, dy.device());
            be.col2im(g, f32(cols), f32(dx));
            grads[0] += dx;
        }
    });
}

// The same products one image at a time, y[n] (O, L) = W (O, C*kh*kw) @ cols[n] (C*kh*kw, L),
// with the columns laid out per image (N, C*kh*kw, L): the gemms write straight into y, with
// no permuted copies, and the backend may run the images' gemms side by side. A 1x1
// stride-1 unpadded conv needs no columns at all: x (N, C, L) is its own column matrix.
// Backward: dW = sum over n of dY[n] cols[n]^T (one partial per image, summed in image
// order, so the result does not depend on the thread count); dx = col2im(W^T dY[n]).
Tensor conv2d_im2col_per_image(const Tensor& x, const Tensor& weight, const Tensor& bias,
                               const Conv2dGeometry& geometry) {
    Conv2dGeometry g = geometry;
    g.cols_per_image = true;
    const int64_t out_channels = weight.size(0), ckk = g.channels * g.kernel_h * g.kernel_w, L = g.out_plane();
    const bool direct =
        g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_h == 0 && g.pad_w == 0;
    Backend& be = backend_of(x);
    Tensor xc = x.detached().contiguous();
    Tensor w2d = weight.detached().contiguous().view({out_channels, ckk});
    Tensor y;
    {
        NoGradGuard no_grad;
        // The bias first, then the gemms add onto it (beta = 1): one pass over y fewer.
        y = bias.defined() ? bias.detached().view({1, out_channels, 1}).expand({g.batch, out_channels, L}).contiguous()
                           : Tensor::empty({g.batch, out_channels, L}, DType::F32, x.device());
        Tensor cols = direct ? xc : workspace(kColumns, {g.batch, ckk, L}, x.device());
        if (!direct) be.im2col(g, f32(xc), f32(cols));
        be.gemm(g.batch, out_channels, L, ckk, 1.0f, {f32(w2d), ckk, false, 0}, {f32(cols), L, false, ckk * L},
                bias.defined() ? 1.0f : 0.0f, f32(y), out_channels * L);
        y = y.view({g.batch, out_channels, g.out_h, g.out_w});
    }
    return record(y, "conv2d", {x, weight, bias},
                  [xc, w2d, g, ckk, L, out_channels, direct](Grads& grads, const Tensor& dy_in) {
        Backend& be = backend_of(dy_in);
        Tensor dy = dy_in.contiguous();
        if (grads.needs(1)) {
            Tensor cols = direct ? xc : workspace(kColumns, {g.batch, ckk, L}, dy.device());
            if (!direct) be.im2col(g, f32(xc), f32(cols));
            Tensor partial = workspace(kPartials, {g.batch, out_channels, ckk}, dy.device());
            be.gemm(g.batch, out_channels, ckk, L, 1.0f, {f32(dy), L, false, out_channels * L},
                    {f32(cols), L, true, ckk * L}, 0.0f, f32(partial), out_channels * ckk);  // dY[n] cols[n]^T
            grads[1] += sum(partial, {0}).view({out_channels, g.channels, g.kernel_h, g.kernel_w});
        }
        if (grads.needs(2)) grads[2] += sum(dy, {0, 2, 3});
        if (grads.needs(0)) {
            Tensor dx = Tensor::empty({g.batch, g.channels, g.height, g.width}, DType::F32, dy.device());
            Tensor dcols = direct ? dx : workspace(kColumns, {g.batch, ckk, L}, dy.device());
            be.gemm(g.batch, ckk, L, out_channels, 1.0f, {f32(w2d), ckk, true, 0},
                    {f32(dy), L, false, out_channels * L}, 0.0f, f32(dcols), ckk * L);  // W^T dY[n]
            if (!direct) be.col2im(g, f32(dcols), f32(dx));
            grads[0] += dx;
        }
    });
}

}  // namespace detail

}  // namespace focal
