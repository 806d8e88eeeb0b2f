// Normalisation layers: batch_norm on fused per-channel kernels with its analytic gradient
// (synchronised over ranks under dist::BatchNormSync), group_norm composed of ops.
#include "engine/autograd.h"
#include "engine/dist/collective.h"
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

using detail::f32;

namespace {
// Synchronised batch norm: the per-rank (count, mean, biased variance) of each channel
// merged into those of the global batch (Chan et al. 1979, pairwise update, in double):
//   N = sum n_r,  mean = sum n_r m_r / N,  var = sum n_r (v_r + (m_r - mean)^2) / N.
// mean_c and var are overwritten; returns N.
int64_t merge_channel_stats(dist::Collective& world, int64_t count, Tensor& mean_c, Tensor& var) {
    const std::vector<float> m = mean_c.to_vector<float>(), v = var.to_vector<float>();
    const size_t channels = m.size(), row = 1 + 2 * channels;
    std::vector<double> mine(row);
    mine[0] = static_cast<double>(count);
    for (size_t c = 0; c < channels; ++c) mine[1 + c] = m[c], mine[1 + channels + c] = v[c];
    const std::vector<double> all = world.all_gather(mine);  // size() rows of (n, means, variances)
    double total = 0;
    for (int r = 0; r < world.size(); ++r) total += all[r * row];
    std::vector<float> mean_out(channels), var_out(channels);
    for (size_t c = 0; c < channels; ++c) {
        double mean = 0, m2 = 0;
        for (int r = 0; r < world.size(); ++r) mean += all[r * row] * all[r * row + 1 + c];
        mean /= total;
        for (int r = 0; r < world.size(); ++r) {
            const double d = all[r * row + 1 + c] - mean;
            m2 += all[r * row] * (all[r * row + 1 + channels + c] + d * d);
        }
        mean_out[c] = static_cast<float>(mean), var_out[c] = static_cast<float>(m2 / total);
    }
    const Shape shape{static_cast<int64_t>(channels)};
    mean_c = Tensor::from_vector(mean_out, shape, mean_c.device());
    var = Tensor::from_vector(var_out, shape, var.device());
    return static_cast<int64_t>(total);
}
}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean, Tensor running_var,
                  bool training, float momentum, float eps) {
    OpScope scope("batch_norm");
    detail::check_f32(x, "batch_norm");
    FOCAL_CHECK(x.dim() >= 2, "[batch_norm] input must be (N, C, ...), got ", shape_str(x.shape()));
    const int64_t n = x.size(0), channels = x.size(1), plane = x.numel() / std::max<int64_t>(n * channels, 1);
    const Shape per_channel{channels};
    for (const Tensor* t : std::initializer_list<const Tensor*>{&weight, &bias, &running_mean, &running_var})
        if (t->defined()) {
            FOCAL_CHECK(t->shape() == per_channel, "[batch_norm] expected per-channel tensors of shape (", channels,
                        ",), got ", shape_str(t->shape()));
            detail::check_same_device(x, *t, "batch_norm");  // the kernels read them as raw pointers
        }
    dist::Collective* sync = training ? dist::BatchNormSync::current() : nullptr;  // null: this rank's batch
    int64_t count = n * plane;  // values per channel (over all ranks when synchronised)
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
            if (sync) count = merge_channel_stats(*sync, count, mean_c, var);
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
                  [xc, mean_c, invstd, scale, n, channels, plane, count, training, sync](Grads& g, const Tensor& dy) {
        Backend& be = detail::backend_of(dy);
        Tensor dyc = dy.contiguous();
        const Shape per_channel{channels};
        Tensor sum_dy = Tensor::empty(per_channel, DType::F32, dy.device());
        Tensor sum_dy_centered = Tensor::empty(per_channel, DType::F32, dy.device());  // sum of dy * (x - mean)
        be.channel_sums(f32(dyc), f32(xc), f32(mean_c), n, channels, plane, f32(sum_dy), f32(sum_dy_centered));
        Tensor sum_dy_xhat = invstd * sum_dy_centered;  // sum of dy * xhat, xhat = (x - mean) invstd
        if (g.needs(1)) g[1] += sum_dy_xhat;            // dL/dw
        if (g.needs(2)) g[2] += sum_dy;                 // dL/db
        if (!g.needs(0)) return;
        if (sync) {  // dx depends on the sums over the global batch; dw and db above stay this rank's
            Tensor both = cat({sum_dy, sum_dy_centered}, 0);  // mean_c is already the global mean
            sync->all_reduce_sum(both);
            sum_dy = both.narrow(0, 0, channels);
            sum_dy_xhat = invstd * both.narrow(0, channels, channels);
        }
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
    FOCAL_CHECK(groups >= 1 && channels % groups == 0, "[group_norm] ", channels, " channels do not split into ",
                groups, " groups");
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
