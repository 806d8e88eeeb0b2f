// Softmax losses: one distribution over C classes per row (..., C), int32 labels (...).
// For a detector, C = K + 1 with background as the last class (SSD, Faster R-CNN heads).
#pragma once
#include <vector>

#include "losses/dense.h"

namespace focal::losses {

// As torch's F.cross_entropy: labels equal to ignore_index contribute nothing; class_weight
// (empty, or C values) scales each row by the weight of its label, and Mean divides by the
// summed weight of the rows kept (an all-ignored batch gives 0, where torch gives nan).
struct SoftmaxOptions {
    int32_t ignore_index = kIgnoreIndex;
    std::vector<float> class_weight;
};

// log softmax over the last dim, stable: x - max - log(sum(exp(x - max))).
Tensor log_softmax(const Tensor& logits);

// CE = -w_y log softmax(x)_y (Bishop 2006, eq. 4.108). = torch F.cross_entropy(x, y,
// weight, ignore_index=..., reduction=...) with the class dim last.
Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels, const SoftmaxOptions& options = {},
                             Reduction reduction = Reduction::Mean);

// Softmax focal loss, FL = -w_y (1 - p_y)^gamma log p_y: the multi-class form that Lin et al.
// 2017 (sec. 3) mention beside the binary one. gamma = 0 gives the CE above.
Tensor softmax_focal_loss(const Tensor& logits, const Tensor& labels, float gamma = 2.0f,
                          const SoftmaxOptions& options = {}, Reduction reduction = Reduction::Mean);

}  // namespace focal::losses
