// Asymmetric loss, ASL (Ridnik et al. 2021, "Asymmetric Loss For Multi-Label Classification"):
// a focal loss with separate focusing for positives and negatives, and a probability margin
// that discards very easy negatives. Added in this one file (plus its test,
// tests/losses/test_asymmetric.cpp) as the walkthrough of docs/learn/06-adding-a-loss.md does.
#include <cfloat>

#include "losses/dense.h"
#include "losses/registry.h"

namespace focal::losses {
namespace {

// With p = sigmoid(x) and the shifted p_m = max(p - m, 0), element-wise over (..., K):
//   ASL = -t (1 - p)^gamma_pos log(p) - (1 - t) p_m^gamma_neg log(1 - p_m)
Tensor asymmetric_loss(const Tensor& x, const Tensor& t, float gamma_pos, float gamma_neg, float margin) {
    // positives: (1 - p)^gamma_pos = exp(gamma_pos log sigmoid(-x)), finite gradient everywhere;
    // -log p = softplus(-x), no log(0)
    Tensor positive = exp(gamma_pos * log_sigmoid(-x)) * softplus(-x);
    // negatives: 1 - p_m = min(sigmoid(-x) + m, 1); with m = 0 it is sigmoid(-x), whose log
    // is log_sigmoid(-x) (log(sigmoid(-x)) would be log(0) for x > 103)
    Tensor log_one_minus = margin > 0 ? log(clamp(sigmoid(-x) + margin, 0.0f, 1.0f)) : log_sigmoid(-x);
    // p_m^gamma_neg, clamped above 0 so that pow's gradient stays finite for gamma_neg < 1
    Tensor shifted = pow(clamp(sigmoid(x) - margin, FLT_MIN, 1.0f), gamma_neg);
    Tensor negative = -shifted * log_one_minus;
    return t * positive + (1.0f - t) * negative;
}

}  // namespace

FOCAL_REGISTER_CLS_LOSS({
    .name = "asl",
    .summary = "asymmetric loss: focal with gamma_pos != gamma_neg and a margin on negatives",
    .reference = "Ridnik et al. 2021, Asymmetric Loss For Multi-Label Classification",
    .params = {{"gamma_pos", 0.0f, "focusing of positives >= 0", ParamRule::NonNegative},
               {"gamma_neg", 4.0f, "focusing of negatives >= 0", ParamRule::NonNegative},
               {"margin", 0.05f, "probability margin m in [0, 1): negatives with p < m cost nothing",
                ParamRule::Fraction}},
    .make =
        [](const LossParams& p) {
    const float gamma_pos = p["gamma_pos"], gamma_neg = p["gamma_neg"], margin = p["margin"];
    return sigmoid_loss(p.loss(), [=](const Tensor& x, const Tensor& t) {
        return asymmetric_loss(x, t, gamma_pos, gamma_neg, margin);
    });
    },
});

}  // namespace focal::losses
