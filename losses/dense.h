// Building blocks for dense-detection losses: checking a ClsLossInput, turning its targets
// into what a sigmoid or a softmax head needs, and applying valid / reduction / normaliser.
// A new element-wise loss needs only sigmoid_loss(name, fn) (see docs/learn/06-adding-a-loss.md).
#pragma once
#include <string>
#include <vector>

#include "losses/loss.h"

namespace focal::losses {

// PyTorch's default ignore_index for cross-entropy.
constexpr int32_t kIgnoreIndex = -100;

// Targets of a sigmoid head, logits (..., K).
struct SigmoidTargets {
    Tensor targets;  // float32 (..., K): labels become one-hot rows, kBackground a zero row
    Tensor valid;    // float32 (...): in.valid (or 1), times 0 where the label is kIgnore
};
// Checks shapes, dtypes, devices, label range, target range and the normaliser; every
// message starts with "[<loss>]".
SigmoidTargets sigmoid_targets(const ClsLossInput& in, const std::string& loss);

// Targets of a softmax head, logits (..., K + 1) with background last.
struct SoftmaxTargets {
    Tensor labels;  // int32 (...): 0..K-1 class, K background, kIgnoreIndex where ignored
    Tensor valid;   // float32 (...): in.valid (or 1)
};
// Float targets (..., K) become labels by argmax (an all-zero row is background).
SoftmaxTargets softmax_targets(const ClsLossInput& in, const std::string& loss);

// 1 where an anchor has some positive target: float32 (...).
Tensor positive_mask(const Tensor& targets);

// Applies valid, the reduction and the normaliser (see ClsLossInput) to the element-wise
// loss (..., K) of a sigmoid head.
Tensor reduce_sigmoid(const Tensor& elementwise, const Tensor& valid, const ClsLossInput& in);

// Same for a per-anchor loss (...) whose Mean divides by `mean_denominator` (the summed
// class weights of the valid anchors).
Tensor reduce_per_anchor(const Tensor& per_anchor, const Tensor& valid, const ClsLossInput& in,
                         double mean_denominator);

// A classification loss from an element-wise function of (logits, targets), both (..., K):
// targets are resolved and checked, ignored anchors masked, the result reduced.
using ElementwiseFn = std::function<Tensor(const Tensor& logits, const Tensor& targets)>;
ClassificationLoss sigmoid_loss(std::string name, ElementwiseFn fn);

// Shared argument checks, "[<op>] ..." messages.
void check_float_tensor(const Tensor& t, const std::string& op, const char* what);
void check_same_shape(const Tensor& a, const Tensor& b, const std::string& op, const char* a_name, const char* b_name);
void check_alpha(float alpha, const std::string& op);  // alpha in [0, 1], or < 0 for "off"
void check_non_negative(float value, const std::string& op, const char* name);

}  // namespace focal::losses
