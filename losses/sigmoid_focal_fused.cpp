// The fused sigmoid focal loss: forward and analytic gradient in one pass over the logits.
// The per-element math (losses/focal_math.h) is shared with the CUDA kernel.
//
// Composed from engine ops, FL costs about 15 element-wise kernels forward and 25 backward,
// each reading and writing a tensor of the logits' size; fused, it is one read of logits
// and targets and one write of the gradient (bench/bench_focal.cpp measures the difference).
#include <vector>

#include "losses/dense.h"
#include "losses/focal_kernel.h"
#include "losses/focal_math.h"
#include "losses/sigmoid_focal.h"

namespace focal::losses {
namespace {

constexpr const char* kOp = "sigmoid_focal_loss_fused";
constexpr int64_t kBlock = 1 << 14;  // elements per partial sum: fixed, so sums do not depend on threads

// loss[i] (when loss is not null), grad[i] (when grad is not null), and per-block sums.
void focal_cpu(const detail::FocalKernelArgs& a, std::vector<double>* block_sums) {
    const int64_t blocks = (a.n + kBlock - 1) / kBlock;
    if (block_sums) block_sums->assign(size_t(blocks), 0.0);
    parallel_for(blocks, 1, [&](int64_t b0, int64_t b1) {
        for (int64_t b = b0; b < b1; ++b) {
            double total = 0;
            const int64_t end = std::min(a.n, (b + 1) * kBlock);
            for (int64_t i = b * kBlock; i < end;) {
                // one run of elements that share a weight: a row of K for per-anchor weights
                const int64_t run_end = a.weight_div == 1 ? end : std::min(end, (i / a.weight_div + 1) * a.weight_div);
                const float row_weight = a.weight && a.weight_div != 1 ? a.weight[i / a.weight_div] : 1.0f;
                for (; i < run_end; ++i) {
                    const math::LossGrad lg = math::sigmoid_focal(a.x[i], a.t[i], a.alpha, a.gamma);
                    const float w = a.weight && a.weight_div == 1 ? a.weight[i] : row_weight;
                    if (a.loss) a.loss[i] = w * lg.loss;
                    total += w * lg.loss;
                    if (a.grad) a.grad[i] = a.grad_scale * w * lg.grad;
                }
            }
            if (block_sums) (*block_sums)[size_t(b)] = total;
        }
    });
}

}  // namespace

Tensor sigmoid_focal_loss_fused(const Tensor& logits, const Tensor& targets, float alpha, float gamma,
                                Reduction reduction, const Tensor& weight) {
    check_float_tensor(logits, kOp, "logits");
    check_float_tensor(targets, kOp, "targets");
    check_same_shape(logits, targets, kOp, "logits", "targets");
    check_alpha(alpha, kOp);
    check_non_negative(gamma, kOp, "gamma");
    FOCAL_CHECK(logits.dim() >= 1, "[", kOp, "] logits must have at least one dim, got a scalar");
    FOCAL_CHECK(!targets.requires_grad(), "[", kOp, "] targets require grad; the fused op treats them as ",
                "labels (use sigmoid_focal_loss to differentiate through targets)");
    int64_t weight_div = 1;
    if (weight.defined()) {
        check_float_tensor(weight, kOp, "weight");
        const Shape per_anchor(logits.shape().begin(), logits.shape().end() - 1);
        FOCAL_CHECK(weight.shape() == logits.shape() || weight.shape() == per_anchor, "[", kOp, "] weight has shape ",
                    shape_str(weight.shape()), "; expected the logits' shape ", shape_str(logits.shape()),
                    " or one per anchor, ", shape_str(per_anchor));
        FOCAL_CHECK(weight.device() == logits.device(), "[", kOp, "] weight is on ", device_name(weight.device()),
                    " but logits on ", device_name(logits.device()));
        FOCAL_CHECK(!weight.requires_grad(), "[", kOp, "] weight requires grad; it must be a constant mask");
        if (weight.shape() != logits.shape()) weight_div = logits.size(-1);
    }

    const Tensor x = logits.detached().contiguous(), t = targets.detached().contiguous();
    const Tensor w = weight.defined() ? weight.detached().contiguous() : Tensor();
    const int64_t n = x.numel();
    const Device device = logits.device();
    const bool want_grad = grad_enabled() && logits.requires_grad();
    Tensor grad = want_grad ? Tensor::empty(logits.shape(), DType::F32, device) : Tensor();
    auto in = [](const Tensor& v) { return v.defined() ? static_cast<const float*>(v.raw_data()) : nullptr; };
    auto out = [](const Tensor& v) { return v.defined() ? static_cast<float*>(v.raw_data()) : nullptr; };
    detail::FocalKernelArgs args{in(x),   in(t),
                                 in(w),   weight_div,
                                 n,       alpha,
                                 gamma,   reduction == Reduction::Mean && n > 0 ? 1.0f / float(n) : 1.0f,
                                 nullptr, out(grad)};

    Tensor y;
    if (reduction == Reduction::None || device == Device::CUDA) {
        Tensor elementwise = Tensor::empty(logits.shape(), DType::F32, device);
        args.loss = out(elementwise);  // the kernel writes the element-wise loss; reduce sums it
        if (device == Device::CUDA) detail::sigmoid_focal_cuda(args);
        else focal_cpu(args, nullptr);
        y = reduce(elementwise, reduction);
    } else {
        std::vector<double> block_sums;
        focal_cpu(args, &block_sums);
        double total = 0;
        for (double s : block_sums) total += s;  // in block order: the same for any thread count
        if (reduction == Reduction::Mean && n > 0) total /= double(n);
        y = Tensor::scalar(float(total));
    }
    if (!want_grad) return y;
    return record(y, kOp, {logits}, [grad = grad, reduction](Grads& g, const Tensor& dy) {
        // grad holds dFL/dx (over n for mean): the chain rule is one multiply by dy
        g[0] += reduction == Reduction::None ? dy * grad : grad * dy;
    });
}

}  // namespace focal::losses
