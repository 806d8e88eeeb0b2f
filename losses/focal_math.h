// Per-element math of the fused sigmoid focal loss, shared by the CPU loop
// (sigmoid_focal_fused.cpp) and the CUDA kernel (sigmoid_focal_fused.cu): the CPU tests
// check exactly the code the GPU runs. Plain functions of floats, no std::.
#pragma once
#include "engine/kernels/elementwise_math.h"

namespace focal::math {

struct LossGrad {
    float loss;  // FL(x, t)
    float grad;  // dFL/dx
};

// Sigmoid focal loss of one logit x against a target t in [0, 1] (Lin et al. 2017, eq. 5,
// written for soft targets as torchvision does):
//   p = sigmoid(x),  p_t = p t + (1 - p)(1 - t),  q = 1 - p_t,
//   ce = -t log p - (1 - t) log(1 - p),  alpha_t = alpha t + (1 - alpha)(1 - t),
//   FL = alpha_t q^gamma ce                                      (alpha < 0: alpha_t = 1)
// and its derivative (appendix, eq. 10, generalised to soft t):
//   dFL/dx = alpha_t q^gamma (gamma (1 - 2t) r ce + p - t),  r = p (1 - p) / q
// For t in {0, 1}, r = p_t, the form of eq. 10. Writing q^gamma r instead of
// gamma q^(gamma - 1) dq/dx keeps the gradient finite for gamma < 1 as p_t -> 1.
FOCAL_HD LossGrad sigmoid_focal(float x, float t, float alpha, float gamma) {
    // sigmoid(+-x) and softplus(+-x) as elementwise_math.h computes them (the same bits),
    // sharing one exp and one log1p: e = e^-|x| is in (0, 1], nothing overflows
    const float e = expf(-fabsf(x)), log1p_e = log1pf(e);
    const float big = 1.0f / (1.0f + e), small = e / (1.0f + e);
    const float p = x >= 0 ? big : small;       // sigmoid(x)
    const float p_neg = -x >= 0 ? big : small;  // sigmoid(-x) = 1 - p, not by subtraction
    // -log p = softplus(-x) and -log(1 - p) = softplus(x): no log(0)
    const float ce = t * (fmaxf(-x, 0.0f) + log1p_e) + (1.0f - t) * (fmaxf(x, 0.0f) + log1p_e);
    const float q = t * p_neg + (1.0f - t) * p;  // 1 - p_t without cancellation
    const float mod = gamma == 0.0f ? 1.0f : gamma == 2.0f ? q * q : powf(q, gamma);
    const float a = alpha >= 0.0f ? alpha * t + (1.0f - alpha) * (1.0f - t) : 1.0f;
    float r;  // p (1 - p) / q
    if (t == 1.0f) r = p;
    else if (t == 0.0f) r = p_neg;
    else r = q > 0.0f ? p * p_neg / q : 0.0f;
    const float p_minus_t = (1.0f - t) * p - t * p_neg;  // p - t, exact for t in {0, 1}
    return {a * mod * ce, a * mod * (gamma * (1.0f - 2.0f * t) * r * ce + p_minus_t)};
}

}  // namespace focal::math
