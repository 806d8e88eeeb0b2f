// Normalisation layers: batch_norm on fused per-channel kernels with its analytic gradient,
// group_norm composed of ops.
#include "engine/autograd.h"
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

using detail::f32;

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, float momentum, float eps) {
    OpScope scope("batch_norm");
    detail::check_f32(x, "batch_norm");
    FOCAL_CHECK(x.dim() >= 2, "[batch_norm] input must be (N, C, ...), got ", shape_str(x.shape()));
    const int64_t n = x.size(0), channels = x.size(1), plane = x.numel() / std::max<int64_t>(n * channels, 1);
    const Shape per_channel{channels};
    for (const Tensor* t : std::initializer_list<const Tensor*>{&weight, &bias, &running_mean, &running_var})
        if (t->defined())
            FOCAL_CHECK(t->shape() == per_channel, "[batch_norm] expected per-channel tensors of shape (",
                        channels, ",), got ", shape_str(t->shape()));
    const int64_t count = n * plane;  // values per channel
    Backend& be = detail::backend_of(x);
    Tensor xc = x.detached().contiguous();  // viewed as (N, C, L)

    // Per-channel (C) vectors: small, computed with ops under no-grad.
    Tensor mean_c, invstd, scale, shift;
    {
        NoGradGuard no_grad;
        if (training) {
            FOCAL_CHECK(count > 1, "[batch_norm] training needs more than one value per channel, got input ",
                        shape_str(x.shape()));
            mean_c = Tensor::empty(per_channel, DType::F32, x.device());
            Tensor var = Tensor::empty(per_channel, DType::F32, x.device());  // biased: normalises the batch
            be.channel_stats(f32(xc), n, channels, plane, f32(mean_c), f32(var));
            invstd = pow(var + eps, -0.5f);
            if (running_mean.defined() && running_var.defined()) {  // PyTorch: unbiased variance
                running_mean.mul_(1 - momentum).add_(mean_c, momentum);
                running_var.mul_(1 - momentum).add_(var * (static_cast<float>(count) / (count - 1)), momentum);
            }
        } else {
            FOCAL_CHECK(running_mean.defined() && running_var.defined(),
                        "[batch_norm] eval mode needs running statistics");
            mean_c = running_mean.detached().contiguous();
            invstd = pow(running_var.detached() + eps, -0.5f);
        }
        // y = (x - mean) * invstd * w + b = x * scale + shift: one pass over x.
        scale = weight.defined() ? invstd * weight.detached() : invstd;
        shift = neg(mean_c) * scale;
        if (bias.defined()) shift = shift + bias.detached();
    }
    Tensor y = Tensor::empty(x.shape(), DType::F32, x.device());
    be.channel_affine(f32(xc), f32(scale), nullptr, nullptr, f32(shift), n, channels, plane, f32(y));

    return record(y, "batch_norm", {x, weight, bias},
                  [xc, mean_c, invstd, scale, n, channels, plane, count, training](Grads& g, const Tensor& dy) {
        Backend& be = detail::backend_of(dy);
        Tensor dyc = dy.contiguous();
        const Shape per_channel{channels};
        Tensor sum_dy = Tensor::empty(per_channel, DType::F32, dy.device());
        Tensor sum_dy_x = Tensor::empty(per_channel, DType::F32, dy.device());
        be.channel_sums(f32(dyc), f32(xc), n, channels, plane, f32(sum_dy), f32(sum_dy_x));
        Tensor sum_dy_xhat = invstd * (sum_dy_x - mean_c * sum_dy);  // sum of dy * xhat, xhat = (x - mean) invstd
        if (g.needs(1)) g[1] += sum_dy_xhat;  // dL/dw
        if (g.needs(2)) g[2] += sum_dy;       // dL/db
        if (!g.needs(0)) return;
        // Eval: statistics are constants, dx = dy * scale. Training: they depend on x too,
        // dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))   (Ioffe & Szegedy 2015, sec. 3),
        // expanded to dx = dy * p + x * q + r per channel, one pass.
        Tensor q = training ? neg(scale * invstd * sum_dy_xhat) / static_cast<float>(count)
                            : Tensor::zeros(per_channel, DType::F32, dy.device());
        Tensor r = training ? neg(scale * sum_dy) / static_cast<float>(count) - q * mean_c : q;
        Tensor dx = Tensor::empty(dy.shape(), DType::F32, dy.device());
        be.channel_affine(f32(dyc), f32(scale), f32(xc), f32(q), f32(r), n, channels, plane, f32(dx));
        g[0] += dx;
    });
}

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, float eps) {
    detail::check_f32(x, "group_norm");
    FOCAL_CHECK(x.dim() >= 2, "[group_norm] input must be (N, C, ...), got ", shape_str(x.shape()));
    const int64_t n = x.size(0), channels = x.size(1);
    FOCAL_CHECK(groups >= 1 && channels % groups == 0, "[group_norm] ", channels,
                " channels do not split into ", groups, " groups");
    // (N, C, ...) -> (N, G, C/G * ...): statistics per (image, group).
    Tensor grouped = x.reshape({n, groups, -1});
    Tensor centered = grouped - mean(grouped, {2}, true);
    Tensor var = mean(centered * centered, {2}, true);
    Tensor y = (centered * pow(var + eps, -0.5f)).reshape(x.shape());
    Shape bshape(x.dim(), 1);
    bshape[1] = channels;
    if (weight.defined()) y = y * weight.view(bshape);
    if (bias.defined()) y = y + bias.view(bshape);
    return y;
}

}  // namespace focal
