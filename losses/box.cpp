// Box regression losses and their registry entries ("smooth_l1", "l1", "giou").
#include "losses/box.h"

#include <cmath>

#include "losses/dense.h"
#include "losses/registry.h"

namespace focal::losses {
namespace {

void check_boxes(const Tensor& pred, const Tensor& target, const char* op) {
    check_float_tensor(pred, op, "pred");
    check_float_tensor(target, op, "target");
    check_same_shape(pred, target, op, "pred", "target");
}

void check_box_shape(const Tensor& boxes, const char* op) {
    FOCAL_CHECK(boxes.dim() >= 1 && boxes.size(-1) == 4, "[", op, "] boxes must be (..., 4), got ",
                shape_str(boxes.shape()));
}

}  // namespace

Tensor smooth_l1_loss(const Tensor& pred, const Tensor& target, float beta, Reduction reduction) {
    check_boxes(pred, target, "smooth_l1");
    check_non_negative(beta, "smooth_l1", "beta");
    if (beta == 0.0f) return l1_loss(pred, target, reduction);  // and no division by beta
    Tensor d = abs(pred - target);
    Tensor loss = where(lt(d, beta), (0.5f / beta) * d * d, d - 0.5f * beta);  // Girshick 2015, eq. 3
    return reduce(loss, reduction);
}

Tensor l1_loss(const Tensor& pred, const Tensor& target, Reduction reduction) {
    check_boxes(pred, target, "l1");
    return reduce(abs(pred - target), reduction);
}

Tensor giou_loss(const Tensor& pred, const Tensor& target, Reduction reduction, float eps) {
    check_boxes(pred, target, "giou");
    check_box_shape(pred, "giou");
    check_non_negative(eps, "giou", "eps");
    auto coord = [](const Tensor& boxes, int64_t i) { return boxes.select(-1, i); };  // (..., 4) -> (...)
    Tensor x1 = coord(pred, 0), y1 = coord(pred, 1), x2 = coord(pred, 2), y2 = coord(pred, 3);
    Tensor gx1 = coord(target, 0), gy1 = coord(target, 1), gx2 = coord(target, 2), gy2 = coord(target, 3);
    Tensor inter = relu(minimum(x2, gx2) - maximum(x1, gx1)) * relu(minimum(y2, gy2) - maximum(y1, gy1));
    Tensor uni = (x2 - x1) * (y2 - y1) + (gx2 - gx1) * (gy2 - gy1) - inter;
    Tensor iou = inter / (uni + eps);
    Tensor hull = (maximum(x2, gx2) - minimum(x1, gx1)) * (maximum(y2, gy2) - minimum(y1, gy1));  // |C|
    Tensor giou = iou - (hull - uni) / (hull + eps);
    return reduce(1.0f - giou, reduction);
}

// ---------------------------------------------------------------- BoxLossInput and registry
namespace {

using PerBoxFn = std::function<Tensor(const Tensor& pred, const Tensor& target)>;  // (..., 4) -> (...)

// Weight, normaliser and reduction of a BoxLossInput (see loss.h) around a per-box loss.
BoxLoss box_loss(const std::string& name, bool decoded, PerBoxFn per_box) {
    return BoxLoss(name, decoded, [name, per_box](const BoxLossInput& in) {
        check_boxes(in.pred, in.target, name.c_str());
        check_box_shape(in.pred, name.c_str());
        FOCAL_CHECK(std::isfinite(in.normalizer) && in.normalizer > 0, "[", name,
                    "] normalizer must be finite and > 0, got ", in.normalizer);
        FOCAL_CHECK(in.reduction != Reduction::Mean || in.normalizer == 1.0f, "[", name,
                    "] reduction mean divides by the summed weight itself; pass normalizer 1 or use reduction sum");
        Tensor loss = per_box(in.pred, in.target);  // (...)
        double total_weight = double(loss.numel());
        if (in.weight.defined()) {
            check_float_tensor(in.weight, name, "weight");
            FOCAL_CHECK(in.weight.shape() == loss.shape() && in.weight.device() == loss.device(), "[", name,
                        "] weight has shape ", shape_str(in.weight.shape()), "; boxes ", shape_str(in.pred.shape()),
                        " need one weight per box, ", shape_str(loss.shape()));
            loss = loss * in.weight.detached();
            if (in.reduction == Reduction::Mean) total_weight = double(sum(in.weight).item());
        }
        switch (in.reduction) {
            case Reduction::None: return in.normalizer == 1.0f ? loss : loss / in.normalizer;
            case Reduction::Sum: return in.normalizer == 1.0f ? sum(loss) : sum(loss) / in.normalizer;
            case Reduction::Mean: return total_weight > 0 ? sum(loss) / float(total_weight) : sum(loss) * 0.0f;
        }
        return loss;
    });
}

}  // namespace

FOCAL_REGISTER_BOX_LOSS({
    .name = "smooth_l1",
    .summary = "smooth L1 on encoded deltas, summed over (dx, dy, dw, dh)",
    .reference = "Girshick 2015 (Fast R-CNN), eq. 3",
    .params = {{"beta", 1.0f / 9.0f, "quadratic below beta, linear above; RetinaNet (Detectron) uses 1/9, torch 1",
                ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float beta = p["beta"];
    return box_loss(p.loss(), false, [beta](const Tensor& pred, const Tensor& target) {
        return sum(smooth_l1_loss(pred, target, beta, Reduction::None), {-1});
    });
    },
});

FOCAL_REGISTER_BOX_LOSS({
    .name = "l1",
    .summary = "L1 on encoded deltas, summed over (dx, dy, dw, dh)",
    .reference = "torch F.l1_loss; RetinaNet in detectron2 (smooth_l1_beta = 0)",
    .params = {},
    .make =
        [](const LossParams& p) {
    return box_loss(p.loss(), false, [](const Tensor& pred, const Tensor& target) {
        return sum(l1_loss(pred, target, Reduction::None), {-1});
    });
    },
});

FOCAL_REGISTER_BOX_LOSS({
    .name = "giou",
    .summary = "1 - generalized IoU on decoded boxes (x1, y1, x2, y2)",
    .reference = "Rezatofighi et al. 2019, Algorithm 1",
    .params = {{"eps", 1e-7f, "added to the union and hull areas, as torchvision", ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float eps = p["eps"];
    return box_loss(p.loss(), true, [eps](const Tensor& pred, const Tensor& target) {
        return giou_loss(pred, target, Reduction::None, eps);
    });
    },
});

}  // namespace focal::losses
