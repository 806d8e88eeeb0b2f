// Poly-1 focal loss, Leng et al. 2022, "PolyLoss".
#include <cfloat>
#include <cmath>

#include "losses/dense.h"
#include "losses/focal_variants.h"
#include "losses/registry.h"
#include "losses/sigmoid_focal.h"

namespace focal::losses {
namespace {

void check_params(float epsilon, float alpha, float gamma) {
    FOCAL_CHECK(std::isfinite(epsilon) && epsilon >= -1.0f, "[poly_focal] epsilon must be >= -1, got ", epsilon);
    check_alpha(alpha, "poly_focal");
    check_non_negative(gamma, "poly_focal", "gamma");
}

}  // namespace

Tensor poly1_focal_loss(const Tensor& logits, const Tensor& targets, float epsilon, float alpha, float gamma,
                        Reduction reduction) {
    check_params(epsilon, alpha, gamma);
    Tensor focal = sigmoid_focal_loss(logits, targets, alpha, gamma);  // checks shapes, alpha, gamma
    const Tensor& x = logits;
    const Tensor& t = targets;
    Tensor q = t * sigmoid(-x) + (1.0f - t) * sigmoid(x);  // 1 - p_t without cancellation
    return reduce(focal + epsilon * pow(clamp(q, FLT_MIN, 1.0f), gamma + 1.0f), reduction);
}

FOCAL_REGISTER_CLS_LOSS({
    .name = "poly_focal",
    .summary = "Poly-1 focal loss: FL + epsilon (1 - p_t)^(gamma + 1)",
    .reference = "Leng et al. 2022 (PolyLoss), Poly-1 focal",
    .params = {{"epsilon", 1.0f, "weight of the first polynomial term, >= -1"},
               {"alpha", 0.25f, "weight of positives in [0, 1]; < 0: off", ParamRule::Alpha},
               {"gamma", 2.0f, "focusing parameter >= 0", ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float epsilon = p["epsilon"], alpha = p["alpha"], gamma = p["gamma"];
    check_params(epsilon, alpha, gamma);  // epsilon >= -1, a rule of its own
    return sigmoid_loss(p.loss(), [=](const Tensor& x, const Tensor& t) {
        return poly1_focal_loss(x, t, epsilon, alpha, gamma);
    });
    },
});

}  // namespace focal::losses
