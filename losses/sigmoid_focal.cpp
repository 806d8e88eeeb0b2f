// BCE with logits and the sigmoid focal loss composed from engine ops, and their registry
// entries (the registered "focal" runs the fused op of sigmoid_focal_fused.cpp).
#include "losses/sigmoid_focal.h"

#include <cfloat>

#include "losses/dense.h"
#include "losses/registry.h"

namespace focal::losses {
namespace {

void check_logits_targets(const Tensor& logits, const Tensor& targets, const char* op) {
    check_float_tensor(logits, op, "logits");
    check_float_tensor(targets, op, "targets");
    check_same_shape(logits, targets, op, "logits", "targets");
}

// alpha_t = alpha t + (1 - alpha)(1 - t): Lin et al. 2017, eq. 3
Tensor alpha_t(const Tensor& targets, float alpha) { return alpha * targets + (1.0f - alpha) * (1.0f - targets); }

// -log p_t, eq. 1-2: softplus(-x) = -log sigmoid(x) and softplus(x) = -log(1 - sigmoid(x)),
// exact at x = +-100 where log(sigmoid(x)) would take log(0).
Tensor bce_elementwise(const Tensor& x, const Tensor& t) { return t * softplus(-x) + (1.0f - t) * softplus(x); }

}  // namespace

Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, float alpha, Reduction reduction) {
    check_logits_targets(logits, targets, "binary_cross_entropy_with_logits");
    check_alpha(alpha, "binary_cross_entropy_with_logits");
    Tensor loss = bce_elementwise(logits, targets);
    if (alpha >= 0) loss = loss * alpha_t(targets, alpha);
    return reduce(loss, reduction);
}

Tensor sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, float alpha, float gamma, Reduction reduction) {
    check_logits_targets(logits, targets, "sigmoid_focal_loss");
    check_alpha(alpha, "sigmoid_focal_loss");
    check_non_negative(gamma, "sigmoid_focal_loss", "gamma");
    const Tensor& x = logits;
    const Tensor& t = targets;
    Tensor ce = bce_elementwise(x, t);                     // -log p_t
    Tensor q = t * sigmoid(-x) + (1.0f - t) * sigmoid(x);  // 1 - p_t, without the cancellation of 1 - p_t
    // (1 - p_t)^gamma, eq. 4. The clamp keeps pow's gradient gamma q^(gamma - 1) finite for
    // gamma < 1 (q = 0 once |x| > 103); below FLT_MIN the loss and its gradient are < 1e-38.
    Tensor loss = ce * pow(clamp(q, FLT_MIN, 1.0f), gamma);
    if (alpha >= 0) loss = loss * alpha_t(t, alpha);  // eq. 5
    return reduce(loss, reduction);
}

// ---------------------------------------------------------------- registry entries

FOCAL_REGISTER_CLS_LOSS({
    .name = "focal",
    .summary = "sigmoid focal loss, fused forward+backward (RetinaNet's loss)",
    .reference = "Lin et al. 2017, eq. 5; gradient: appendix B, eq. 10",
    .params = {{"alpha", 0.25f, "weight of positives in [0, 1]; < 0 turns alpha-balancing off", ParamRule::Alpha},
               {"gamma", 2.0f, "focusing parameter >= 0; 0 gives (alpha-balanced) BCE", ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float alpha = p["alpha"], gamma = p["gamma"];
    return ClassificationLoss(p.loss(), false, [alpha, gamma, name = p.loss()](const ClsLossInput& in) {
        SigmoidTargets t = sigmoid_targets(in, name);
        if (in.reduction == Reduction::Mean)
            return reduce_sigmoid(sigmoid_focal_loss_fused(in.logits, t.targets, alpha, gamma, Reduction::None),
                                  t.valid, in);
        Tensor loss = sigmoid_focal_loss_fused(in.logits, t.targets, alpha, gamma, in.reduction, t.valid);
        return in.normalizer == 1.0f ? loss : loss / in.normalizer;
    });
    },
});

FOCAL_REGISTER_CLS_LOSS({
    .name = "focal_composed",
    .summary = "sigmoid focal loss composed from engine ops (the fused op's reference)",
    .reference = "Lin et al. 2017, eq. 5",
    .params = {{"alpha", 0.25f, "weight of positives in [0, 1]; < 0 turns alpha-balancing off", ParamRule::Alpha},
               {"gamma", 2.0f, "focusing parameter >= 0", ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float alpha = p["alpha"], gamma = p["gamma"];
    return sigmoid_loss(p.loss(), [alpha, gamma](const Tensor& x, const Tensor& t) {
        return sigmoid_focal_loss(x, t, alpha, gamma);
    });
    },
});

FOCAL_REGISTER_CLS_LOSS({
    .name = "bce",
    .summary = "binary cross-entropy with logits, optionally alpha-balanced",
    .reference = "Lin et al. 2017, eq. 1-3",
    .params = {{"alpha", -1.0f, "weight of positives in [0, 1]; < 0: plain BCE", ParamRule::Alpha}},
    .make =
        [](const LossParams& p) {
    const float alpha = p["alpha"];
    return sigmoid_loss(p.loss(), [alpha](const Tensor& x, const Tensor& t) {
        return binary_cross_entropy_with_logits(x, t, alpha, Reduction::None);
    });
    },
});

}  // namespace focal::losses
