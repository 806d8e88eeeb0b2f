// The sigmoid focal loss (Lin et al. 2017, "Focal Loss for Dense Object Detection") and its
// baseline, binary cross-entropy. Logits and targets have the same shape (..., K); targets
// are in [0, 1] (one-hot, or soft). Element-wise, like torch, before the reduction.
#pragma once
#include "losses/loss.h"

namespace focal::losses {

// BCE with logits, eq. 1-2: CE = -t log p - (1 - t) log(1 - p) = t softplus(-x) + (1 - t) softplus(x).
// alpha >= 0: alpha-balanced CE, eq. 3 (times alpha_t = alpha t + (1 - alpha)(1 - t)); < 0: off.
// = torch F.binary_cross_entropy_with_logits(x, t, weight=alpha_t, reduction=...).
Tensor binary_cross_entropy_with_logits(const Tensor& logits, const Tensor& targets, float alpha = -1.0f,
                                        Reduction reduction = Reduction::Mean);

// FL = -alpha_t (1 - p_t)^gamma log(p_t), eq. 5, composed from engine ops (autograd gives
// the gradient). = torchvision.ops.sigmoid_focal_loss, same defaults; alpha < 0 turns
// alpha_t off; gamma >= 0. Exact at logits of +-100; finite, gradients included, for
// |logits| <= 1e37 (beyond, autograd's product ce * gamma q^(gamma-1) overflows before it
// meets dq/dx = 0). The readable reference of the fused op below, which is finite for all.
Tensor sigmoid_focal_loss(const Tensor& logits, const Tensor& targets, float alpha = 0.25f, float gamma = 2.0f,
                          Reduction reduction = Reduction::None);

// The same loss as one fused op: one pass over the logits computes FL and its analytic
// gradient (appendix, eq. 10) with the per-element math of losses/focal_math.h, on the CPU
// or in a CUDA kernel. Mean divides by numel, like torch. Finite for every finite logit.
//   weight   optional float32, the logits' shape or their shape without the last dim
//            (per anchor, e.g. the valid mask); multiplies the element-wise loss.
//   requires targets and weight that need no gradient (they are labels, not parameters).
Tensor sigmoid_focal_loss_fused(const Tensor& logits, const Tensor& targets, float alpha = 0.25f, float gamma = 2.0f,
                                Reduction reduction = Reduction::None, const Tensor& weight = {});

}  // namespace focal::losses
