// Relatives of the sigmoid focal loss. Each is element-wise over logits and targets of the
// same shape (..., K), targets in [0, 1], composed from engine ops (autograd gives the
// gradient), and registered by name in its own file.
#pragma once
#include "losses/loss.h"

namespace focal::losses {

// FL* (Lin et al. 2017, appendix A): with y = 2t - 1 in {-1, 1}, x_t = y x,
// p*_t = sigmoid(gamma x_t + beta) and FL* = -log(p*_t) / gamma = softplus(-(gamma x_t + beta)) / gamma.
// gamma > 0; alpha >= 0 weighs it by alpha_t as eq. 5 does (< 0: off).          fl_star.cpp
Tensor fl_star_loss(const Tensor& logits, const Tensor& targets, float gamma = 2.0f, float beta = 1.0f,
                    float alpha = -1.0f, Reduction reduction = Reduction::None);

// Quality Focal Loss (Li et al. 2020, "Generalized Focal Loss", sec. 3): a soft target
// t = IoU quality, QFL = -|t - sigma(x)|^beta ((1 - t) log(1 - sigma(x)) + t log sigma(x)).
// beta >= 0. = mmdet's quality_focal_loss on per-element targets.              quality_focal.cpp
Tensor quality_focal_loss(const Tensor& logits, const Tensor& targets, float beta = 2.0f,
                          Reduction reduction = Reduction::None);

// Varifocal loss (Zhang et al. 2021, "VarifocalNet", eq. 2): with p = sigmoid(x) and IoU
// target q, VFL = -q (q log p + (1 - q) log(1 - p)) where q > 0, and -alpha p^gamma log(1 - p)
// where q = 0. = mmdet's varifocal_loss with iou_weighted=True.                 varifocal.cpp
Tensor varifocal_loss(const Tensor& logits, const Tensor& targets, float alpha = 0.75f, float gamma = 2.0f,
                      Reduction reduction = Reduction::None);

// Poly-1 focal loss (Leng et al. 2022, "PolyLoss", the Poly-1 form of FL): FL + epsilon (1 - p_t)^(gamma + 1),
// FL the sigmoid focal loss (alpha-balanced when alpha >= 0; the epsilon term is not, as in
// the paper's reference code). epsilon >= -1 (the paper's range).               poly_focal.cpp
Tensor poly1_focal_loss(const Tensor& logits, const Tensor& targets, float epsilon = 1.0f, float alpha = 0.25f,
                        float gamma = 2.0f, Reduction reduction = Reduction::None);

}  // namespace focal::losses
