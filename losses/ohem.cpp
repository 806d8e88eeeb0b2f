// OHEM: selection of the hard negatives (on the host, no gradient) and the "ohem" loss.
#include "losses/ohem.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "losses/dense.h"
#include "losses/registry.h"
#include "losses/sigmoid_focal.h"

namespace focal::losses {

Tensor ohem_select(const Tensor& anchor_loss, const Tensor& positive, const Tensor& valid, float ratio,
                   int64_t min_negatives) {
    check_float_tensor(anchor_loss, "ohem", "anchor_loss");
    check_float_tensor(positive, "ohem", "positive");
    check_float_tensor(valid, "ohem", "valid");
    check_same_shape(anchor_loss, positive, "ohem", "anchor_loss", "positive");
    check_same_shape(anchor_loss, valid, "ohem", "anchor_loss", "valid");
    FOCAL_CHECK(anchor_loss.dim() == 1 || anchor_loss.dim() == 2,
                "[ohem] expects per-anchor values (A,) or (N, A), got ", shape_str(anchor_loss.shape()));
    check_non_negative(ratio, "ohem", "ratio");
    FOCAL_CHECK(min_negatives >= 0, "[ohem] min_negatives must be >= 0, got ", min_negatives);

    const std::vector<float> loss = anchor_loss.to_vector<float>(), pos = positive.to_vector<float>(),
                             ok = valid.to_vector<float>();
    const int64_t A = anchor_loss.size(-1), rows = A > 0 ? anchor_loss.numel() / A : 0;
    std::vector<float> keep(loss.size(), 0.0f);
    std::vector<int64_t> negatives;
    for (int64_t r = 0; r < rows; ++r) {
        const int64_t base = r * A;
        int64_t num_pos = 0;
        negatives.clear();
        for (int64_t a = base; a < base + A; ++a) {
            if (ok[a] == 0.0f) continue;
            if (pos[a] != 0.0f) keep[a] = 1.0f, ++num_pos;
            else negatives.push_back(a);
        }
        const int64_t wanted = std::max<int64_t>(int64_t(std::floor(double(ratio) * double(num_pos))), min_negatives);
        const int64_t count = std::min<int64_t>(wanted, int64_t(negatives.size()));
        auto key = [&](int64_t a) { return std::isnan(loss[a]) ? INFINITY : loss[a]; };
        // highest loss first; ties by anchor index, so the pick is the same on every platform
        std::partial_sort(negatives.begin(), negatives.begin() + count, negatives.end(),
                          [&](int64_t a, int64_t b) { return key(a) != key(b) ? key(a) > key(b) : a < b; });
        for (int64_t i = 0; i < count; ++i) keep[negatives[i]] = 1.0f;
    }
    return Tensor::from_vector(keep, anchor_loss.shape(), anchor_loss.device());
}

FOCAL_REGISTER_CLS_LOSS({
    .name = "ohem",
    .summary = "BCE over all positives and the hardest negatives (ratio:1), per image",
    .reference = "Shrivastava et al. 2016; SSD's ratio form, Liu et al. 2016, sec. 2.2",
    .params = {{"ratio", 3.0f, "negatives kept per positive", ParamRule::NonNegative},
               {"min_negatives", 0.0f, "negatives kept even in an image without positives", ParamRule::Count}},
    .make =
        [](const LossParams& p) {
    const float ratio = p["ratio"], min_neg = p["min_negatives"];
    return ClassificationLoss(p.loss(), false, [ratio, min_neg, name = p.loss()](const ClsLossInput& in) {
        SigmoidTargets t = sigmoid_targets(in, name);
        Tensor bce = binary_cross_entropy_with_logits(in.logits, t.targets, -1.0f, Reduction::None);  // (..., K)
        Tensor anchor_loss = sum(bce, {-1});                                                          // (...)
        // (N, A) selects per image; any other leading shape is one pool of anchors
        const Shape shape = anchor_loss.dim() == 2 ? anchor_loss.shape() : Shape{anchor_loss.numel()};
        Tensor kept = ohem_select(anchor_loss.detached().reshape(shape), positive_mask(t.targets).reshape(shape),
                                  gt(t.valid, 0.0f).reshape(shape), ratio, int64_t(min_neg));
        return reduce_sigmoid(bce, t.valid * kept.reshape(t.valid.shape()), in);
    });
    },
});

}  // namespace focal::losses
