// conv2d by Winograd's minimal filtering, F(m x m, 3 x 3) (Lavin & Gray 2016, eq. 8):
//   Y_t = A^T [ U ⊙ V_t ] A,  U = G w G^T,  V_t = B^T d_t B
// summed over input channels. With a = m + 2 and T = N * tiles_h * tiles_w tiles (rounded up
// to 16 in the buffers, extra columns zero), the sum
// over channels becomes a*a independent gemms in the transform domain:
//   U (a*a, O, C) = filter transform of W (O, C, 3, 3)
//   V (a*a, C, T) = input transform of x (N, C, H, W)
//   M (a*a, O, T) = U[p] @ V[p]                     for p < a*a
//   y (N, O, OH, OW) = output transform of M (+ bias)
// which costs a*a / m*m multiplies per output instead of 9 (4 for m = 2, 2.25 for m = 4).
// Backward is the exact adjoint of that chain, so the gradient is the gradient of what
// forward computed:
//   dM (a*a, O, T) = A dy_t A^T
//   dU = dM[p] @ V[p]^T, dW = G^T dU G;   dV = U[p]^T @ dM[p], dx = sum over tiles of B dV_t B^T
// V, M and U live in workspace slots and are recomputed in backward, never kept alive.
#include "engine/autograd.h"
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/ops/conv_paths.h"
#include "engine/ops/op_helpers.h"
#include "engine/workspace.h"

namespace focal::detail {

namespace {

// C[p] = op(A[p]) @ op(B[p]) for p < batch, all row-major and contiguous per p.
void batched_gemm(Backend& be, int64_t batch, int64_t m, int64_t n, int64_t k, const float* a, bool ta, const float* b,
                  bool tb, float* c) {
    be.gemm(batch, m, n, k, 1.0f, {a, ta ? m : k, ta, m * k}, {b, tb ? k : n, tb, k * n}, 0.0f, c, m * n);
}

}  // namespace

Tensor conv2d_winograd(const Tensor& x, const Tensor& weight, const Tensor& bias, const WinogradGeometry& g) {
    const Conv2dGeometry& c = g.conv;
    const int64_t out_channels = weight.size(0), positions = g.alpha() * g.alpha(), tiles = g.tile_stride();
    const Shape u_shape{positions, out_channels, c.channels}, v_shape{positions, c.channels, tiles},
        m_shape{positions, out_channels, tiles};
    Backend& be = backend_of(x);
    Tensor xc = x.detached().contiguous(), wc = weight.detached().contiguous();
    Tensor y = Tensor::empty({c.batch, out_channels, c.out_h, c.out_w}, DType::F32, x.device());
    {
        NoGradGuard no_grad;
        Tensor bc = bias.defined() ? bias.detached().contiguous() : Tensor();
        Tensor u = workspace(kConvSlotC, u_shape, x.device());
        be.winograd_filter(g, out_channels, f32(wc), f32(u));
        Tensor v = workspace(kConvSlotA, v_shape, x.device());
        be.winograd_input(g, f32(xc), f32(v));
        Tensor m = workspace(kConvSlotB, m_shape, x.device());
        batched_gemm(be, positions, out_channels, tiles, c.channels, f32(u), false, f32(v), false, f32(m));
        be.winograd_output(g, out_channels, f32(m), bc.defined() ? f32(bc) : nullptr, f32(y));
    }
    return record(y, "conv2d", {x, weight, bias},
                  [xc, wc, g, out_channels, u_shape, v_shape, m_shape](Grads& grads, const Tensor& dy_in) {
        const Conv2dGeometry& c = g.conv;
        const int64_t positions = g.alpha() * g.alpha(), tiles = g.tile_stride();
        Backend& be = backend_of(dy_in);
        Tensor dy = dy_in.contiguous();
        if (grads.needs(2)) grads[2] += sum(dy, {0, 2, 3});
        Tensor dm = workspace(kConvSlotB, m_shape, dy.device());
        be.winograd_output_backward(g, out_channels, f32(dy), f32(dm));
        Tensor v = workspace(kConvSlotA, v_shape, dy.device());
        if (grads.needs(1)) {
            be.winograd_input(g, f32(xc), f32(v));
            Tensor du = workspace(kConvSlotD, u_shape, dy.device());
            batched_gemm(be, positions, out_channels, c.channels, tiles, f32(dm), false, f32(v), true, f32(du));
            Tensor dw = Tensor::empty(wc.shape(), DType::F32, dy.device());
            be.winograd_filter_backward(g, out_channels, f32(du), f32(dw));
            grads[1] += dw;
        }
        if (grads.needs(0)) {
            Tensor u = workspace(kConvSlotC, u_shape, dy.device());
            be.winograd_filter(g, out_channels, f32(wc), f32(u));
            // dV reuses V's slot: V is not needed once dU is known.
            batched_gemm(be, positions, c.channels, tiles, out_channels, f32(u), true, f32(dm), false, f32(v));
            Tensor dx = Tensor::empty(xc.shape(), DType::F32, dy.device());
            be.winograd_input_backward(g, f32(v), f32(dx));
            grads[0] += dx;
        }
    });
}

}  // namespace focal::detail
