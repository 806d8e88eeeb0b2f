// FL*, the focal loss's alternative form from Lin et al. 2017, appendix A.
#include <cmath>

#include "losses/dense.h"
#include "losses/focal_variants.h"
#include "losses/registry.h"

namespace focal::losses {
namespace {

void check_params(float gamma, float beta, float alpha) {
    FOCAL_CHECK(std::isfinite(gamma) && gamma > 0, "[fl_star] gamma must be > 0 (FL* divides by it), got ", gamma);
    FOCAL_CHECK(std::isfinite(beta), "[fl_star] beta must be finite, got ", beta);
    check_alpha(alpha, "fl_star");
}

}  // namespace

Tensor fl_star_loss(const Tensor& logits, const Tensor& targets, float gamma, float beta, float alpha,
                    Reduction reduction) {
    check_float_tensor(logits, "fl_star", "logits");
    check_float_tensor(targets, "fl_star", "targets");
    check_same_shape(logits, targets, "fl_star", "logits", "targets");
    check_params(gamma, beta, alpha);
    Tensor y = 2.0f * targets - 1.0f;                                // {0, 1} -> {-1, 1}
    Tensor loss = softplus(-(gamma * (y * logits) + beta)) / gamma;  // -log sigmoid(z) = softplus(-z)
    if (alpha >= 0) loss = loss * (alpha * targets + (1.0f - alpha) * (1.0f - targets));
    return reduce(loss, reduction);
}

FOCAL_REGISTER_CLS_LOSS({
    .name = "fl_star",
    .summary = "FL*: -log sigmoid(gamma y x + beta) / gamma, the focal loss's appendix variant",
    .reference = "Lin et al. 2017, appendix A",
    .params = {{"gamma", 2.0f, "> 0: sharpens the sigmoid (FL* divides by it)", ParamRule::Positive},
               {"beta", 1.0f, "shift of the sigmoid"},
               {"alpha", -1.0f, "weight of positives in [0, 1]; < 0: off", ParamRule::Alpha}},
    .make =
        [](const LossParams& p) {
    const float gamma = p["gamma"], beta = p["beta"], alpha = p["alpha"];
    return sigmoid_loss(p.loss(),
                        [=](const Tensor& x, const Tensor& t) { return fl_star_loss(x, t, gamma, beta, alpha); });
    },
});

}  // namespace focal::losses
