// conv2d through im2col + one gemm over the whole batch:
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
#include "engine/ops/op_helpers.h"
#include "engine/workspace.h"

namespace focal {

int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation) {
    return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

namespace {

enum Slot { kColumns = 0, kGemmOut = 1 };

float* f32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }

// C = A @ B for row-major contiguous A (m, k), B (k, n) with optional transposes.
void gemm(Backend& be, int64_t m, int64_t n, int64_t k, const float* a, bool ta, const float* b,
          bool tb, float* c) {
    be.gemm(1, m, n, k, 1.0f, {a, ta ? m : k, ta, 0}, {b, tb ? k : n, tb, 0}, 0.0f, c, 0);
}

}  // namespace

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, Conv2dOptions opt) {
    detail::check_f32(x, "conv2d");
    detail::check_f32(weight, "conv2d");
    detail::check_same_device(x, weight, "conv2d");
    FOCAL_CHECK(x.dim() == 4, "[conv2d] input must be (N, C, H, W), got ", shape_str(x.shape()));
    FOCAL_CHECK(weight.dim() == 4, "[conv2d] weight must be (O, C, kh, kw), got ", shape_str(weight.shape()));
    FOCAL_CHECK(x.size(1) == weight.size(1), "[conv2d] input has ", x.size(1), " channels, weight expects ",
                weight.size(1));
    FOCAL_CHECK(opt.stride >= 1 && opt.padding >= 0 && opt.dilation >= 1, "[conv2d] invalid stride ",
                opt.stride, ", padding ", opt.padding, " or dilation ", opt.dilation);
    const int64_t out_channels = weight.size(0);
    if (bias.defined())
        FOCAL_CHECK(bias.shape() == Shape{out_channels}, "[conv2d] bias must be (", out_channels, ",), got ",
                    shape_str(bias.shape()));

    Conv2dGeometry g;
    g.batch = x.size(0), g.channels = x.size(1), g.height = x.size(2), g.width = x.size(3);
    g.kernel_h = weight.size(2), g.kernel_w = weight.size(3);
    g.stride_h = g.stride_w = opt.stride;
    g.pad_h = g.pad_w = opt.padding;
    g.dilation_h = g.dilation_w = opt.dilation;
    g.out_h = conv_out_size(g.height, g.kernel_h, opt.stride, opt.padding, opt.dilation);
    g.out_w = conv_out_size(g.width, g.kernel_w, opt.stride, opt.padding, opt.dilation);
    FOCAL_CHECK(g.out_h > 0 && g.out_w > 0, "[conv2d] input ", shape_str(x.shape()),
                " is smaller than the kernel ", shape_str(weight.shape()));

    const int64_t ckk = g.channels * g.kernel_h * g.kernel_w, cols_n = g.batch * g.out_plane();
    Backend& be = detail::backend_of(x);
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
        y = bias.defined() ? add(per_image, bias.detached().view({1, out_channels, 1}))
                           : per_image.clone();
        y = y.view({g.batch, out_channels, g.out_h, g.out_w});
    }
    return record(y, "conv2d", {x, weight, bias}, [xc, w2d, g, ckk, cols_n, out_channels](Grads& grads, const Tensor& dy) {
        Backend& be = detail::backend_of(dy);
        // dY (N, O, OH, OW) -> (O, N*OH*OW), the layout the gemms want.
        Tensor dy2d = workspace(kGemmOut, {out_channels, g.batch, g.out_plane()}, dy.device());
        be.copy(detail::view_of(dy.view({g.batch, out_channels, g.out_plane()}).permute({1, 0, 2})),
                detail::view_of(dy2d));
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
            Tensor dx = Tensor::zeros({g.batch, g.channels, g.height, g.width}, DType::F32, dy.device());
            be.col2im(g, f32(cols), f32(dx));
            grads[0] += dx;
        }
    });
}

}  // namespace focal
