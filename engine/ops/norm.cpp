// Normalisation layers: batch_norm with its analytic gradient, group_norm composed of ops.
#include "engine/autograd.h"
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

namespace {
// Every dim but the channel dim 1: the dims batch_norm's statistics run over.
std::vector<int64_t> stat_dims(int64_t rank) {
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < rank; ++d) dims.push_back(d);
    return dims;
}
}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean,
                  Tensor running_var, bool training, float momentum, float eps) {
    detail::check_f32(x, "batch_norm");
    FOCAL_CHECK(x.dim() >= 2, "[batch_norm] input must be (N, C, ...), got ", shape_str(x.shape()));
    const int64_t channels = x.size(1);
    const Shape per_channel{channels};
    for (const Tensor* t : std::initializer_list<const Tensor*>{&weight, &bias, &running_mean, &running_var})
        if (t->defined())
            FOCAL_CHECK(t->shape() == per_channel, "[batch_norm] expected per-channel tensors of shape (",
                        channels, ",), got ", shape_str(t->shape()));
    const std::vector<int64_t> dims = stat_dims(x.dim());
    Shape bshape(x.dim(), 1);  // (1, C, 1, 1): broadcasts a per-channel vector over x
    bshape[1] = channels;
    const int64_t count = x.numel() / std::max<int64_t>(channels, 1);

    Tensor mean_c, invstd, y;
    {
        NoGradGuard no_grad;
        Tensor xd = x.detached();
        if (training) {
            FOCAL_CHECK(count > 1, "[batch_norm] training needs more than one value per channel, got input ",
                        shape_str(x.shape()));
            mean_c = mean(xd, dims);                               // (C)
            Tensor centered = xd - mean_c.view(bshape);
            Tensor var = mean(centered * centered, dims);          // biased: normalises the batch
            invstd = pow(var + eps, -0.5f);
            if (running_mean.defined() && running_var.defined()) {
                running_mean.mul_(1 - momentum).add_(mean_c, momentum);
                running_var.mul_(1 - momentum).add_(var * (static_cast<float>(count) / (count - 1)), momentum);
            }
        } else {
            FOCAL_CHECK(running_mean.defined() && running_var.defined(),
                        "[batch_norm] eval mode needs running statistics");
            mean_c = running_mean.detached();
            invstd = pow(running_var.detached() + eps, -0.5f);
        }
        // y = (x - mean) * invstd * w + b = x * scale + shift, two passes over x.
        Tensor scale = weight.defined() ? invstd * weight.detached() : invstd;
        Tensor shift = neg(mean_c) * scale;
        if (bias.defined()) shift = shift + bias.detached();
        y = x.detached() * scale.view(bshape) + shift.view(bshape);
    }
    Tensor w = weight.defined() ? weight.detached() : Tensor();
    return record(y, "batch_norm", {x, weight, bias},
                  [x = x.detached(), mean_c, invstd, w, dims, bshape, count, training](Grads& g, const Tensor& dy) {
        Tensor xhat = (x - mean_c.view(bshape)) * invstd.view(bshape);
        Tensor dbias = sum(dy, dims);              // (C)
        Tensor dweight = sum(dy * xhat, dims);     // (C)
        if (g.needs(1)) g[1] += dweight;
        if (g.needs(2)) g[2] += dbias;
        if (!g.needs(0)) return;
        Tensor scale = w.defined() ? invstd * w : invstd;
        if (!training) {  // statistics are constants: a per-channel affine map
            g[0] += dy * scale.view(bshape);
            return;
        }
        // Batch statistics depend on x too:
        // dx = scale * (dy - mean(dy) - xhat * mean(dy * xhat))   (Ioffe & Szegedy 2015, sec. 3)
        const float inv_count = 1.0f / static_cast<float>(count);
        g[0] += (dy - (dbias * inv_count).view(bshape) - xhat * (dweight * inv_count).view(bshape)) *
                scale.view(bshape);
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
