// Varifocal loss, Zhang et al. 2021, "VarifocalNet", eq. 2.
#include "losses/dense.h"
#include "losses/focal_variants.h"
#include "losses/registry.h"

namespace focal::losses {

Tensor varifocal_loss(const Tensor& logits, const Tensor& targets, float alpha, float gamma, Reduction reduction) {
    check_float_tensor(logits, "varifocal", "logits");
    check_float_tensor(targets, "varifocal", "targets");
    check_same_shape(logits, targets, "varifocal", "logits", "targets");
    check_non_negative(alpha, "varifocal", "alpha");
    check_non_negative(gamma, "varifocal", "gamma");
    const Tensor& x = logits;
    const Tensor& q = targets;
    Tensor ce = q * softplus(-x) + (1.0f - q) * softplus(x);  // -(q log p + (1 - q) log(1 - p))
    // positives weigh by their target q; negatives by alpha p^gamma, as exp(gamma log p):
    // finite gradient for any gamma, even where p underflows to 0
    Tensor negative_weight = alpha * exp(gamma * log_sigmoid(x));
    return reduce(ce * where(gt(q, 0.0f), q.detached(), negative_weight), reduction);
}

FOCAL_REGISTER_CLS_LOSS({
    .name = "varifocal",
    .summary = "Varifocal loss: IoU-weighted BCE on positives, alpha p^gamma-weighted on negatives",
    .reference = "Zhang et al. 2021 (VarifocalNet), eq. 2",
    .params = {{"alpha", 0.75f, "weight of negatives >= 0", ParamRule::NonNegative},
               {"gamma", 2.0f, "focusing parameter >= 0", ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float alpha = p["alpha"], gamma = p["gamma"];
    return sigmoid_loss(p.loss(), [=](const Tensor& x, const Tensor& t) { return varifocal_loss(x, t, alpha, gamma); });
    },
});

}  // namespace focal::losses
