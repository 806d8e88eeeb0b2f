// Quality Focal Loss, Li et al. 2020, "Generalized Focal Loss", sec. 3.
#include <cfloat>

#include "losses/dense.h"
#include "losses/focal_variants.h"
#include "losses/registry.h"

namespace focal::losses {

Tensor quality_focal_loss(const Tensor& logits, const Tensor& targets, float beta, Reduction reduction) {
    check_float_tensor(logits, "qfl", "logits");
    check_float_tensor(targets, "qfl", "targets");
    check_same_shape(logits, targets, "qfl", "logits", "targets");
    check_non_negative(beta, "qfl", "beta");
    const Tensor& x = logits;
    const Tensor& t = targets;
    Tensor ce = t * softplus(-x) + (1.0f - t) * softplus(x);  // -(1-t) log(1-s) - t log s
    // |t - s| = |t (1 - s) - (1 - t) s|: exact for t in {0, 1} where t - s would cancel;
    // clamped so that pow's gradient stays finite for beta < 1 when s reaches t
    Tensor distance = abs(t * sigmoid(-x) - (1.0f - t) * sigmoid(x));
    return reduce(ce * pow(clamp(distance, FLT_MIN, 1.0f), beta), reduction);
}

FOCAL_REGISTER_CLS_LOSS({
    .name = "qfl",
    .summary = "Quality Focal Loss: BCE against a soft IoU target, scaled by |t - sigmoid(x)|^beta",
    .reference = "Li et al. 2020 (Generalized Focal Loss), QFL",
    .params = {{"beta", 2.0f, "focusing parameter >= 0 (the paper's best: 2)", ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float beta = p["beta"];
    return sigmoid_loss(p.loss(), [beta](const Tensor& x, const Tensor& t) { return quality_focal_loss(x, t, beta); });
    },
});

}  // namespace focal::losses
