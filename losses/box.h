// Box regression losses. pred and target are float32 (..., 4): encoded deltas
// (dx, dy, dw, dh) for smooth L1 and L1, decoded boxes (x1, y1, x2, y2) with x2 >= x1 and
// y2 >= y1 for GIoU.
#pragma once
#include "losses/loss.h"

namespace focal::losses {

// Smooth L1 (Girshick 2015, "Fast R-CNN", eq. 3, with torch's beta), element-wise:
// 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere, d = pred - target; beta = 0
// is L1. = torch F.smooth_l1_loss(pred, target, beta=..., reduction=...), same defaults.
// RetinaNet uses beta = 1/9 (Detectron), the registry's default.
Tensor smooth_l1_loss(const Tensor& pred, const Tensor& target, float beta = 1.0f,
                      Reduction reduction = Reduction::Mean);

// |pred - target|, element-wise. = torch F.l1_loss.
Tensor l1_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::Mean);

// 1 - GIoU per box pair, (..., 4) -> (...) (Rezatofighi et al. 2019, "Generalized
// Intersection over Union", Algorithm 1): GIoU = IoU - |C \ (A u B)| / |C|, C the smallest
// enclosing box. = torchvision.ops.generalized_box_iou_loss, same eps and defaults.
Tensor giou_loss(const Tensor& pred, const Tensor& target, Reduction reduction = Reduction::None, float eps = 1e-7f);

}  // namespace focal::losses
