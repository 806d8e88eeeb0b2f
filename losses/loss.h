// The contract between a detector and its losses: what a classification or box loss takes,
// what it returns, and how ignored anchors and the normaliser enter.
//
// Shapes: N images, A anchors per image, K object classes, M = N * A flattened anchors.
// A classification loss takes logits (N, A, C) or (M, C), where C = K for sigmoid losses and
// C = K + 1 for softmax losses (background is the last column). A box loss takes (..., 4).
#pragma once
#include <functional>
#include <string>

#include "engine/engine.h"

namespace focal::losses {

enum class Reduction { None, Sum, Mean };
const char* reduction_name(Reduction r);             // "none", "sum", "mean"
Reduction parse_reduction(const std::string& name);  // throws on anything else

// Label values in int32 targets besides the classes 0..K-1 (torchvision's Matcher uses the same).
constexpr int32_t kBackground = -1;  // matched to no object: every class target is 0
constexpr int32_t kIgnore = -2;      // between the IoU thresholds: contributes nothing

// Input of a classification loss.
//   logits      float32 (..., C), any leading shape; C = logits_per_anchor(K).
//   targets     either float32 (..., K) in [0, 1] (one-hot, or soft quality targets for
//               qfl/varifocal; an all-zero row is background), or int32 labels (...) with
//               0..K-1 = class, kBackground, kIgnore.
//   valid       optional float32 (...): 1 = the anchor counts, 0 = ignored. Undefined: all count.
//               Ignored anchors (valid 0 or label kIgnore) get zero loss and zero gradient.
//   normalizer  > 0; None and Sum divide by it. RetinaNet passes max(1, #positive anchors):
//               the sum over all anchors, normalised by the number of anchors assigned to a
//               ground-truth box (Lin et al. 2017, sec. 4.1). Mean divides by the count of
//               what it averages instead, and requires normalizer == 1.
//   reduction   None: the per-element loss (logits' shape for sigmoid losses, (...) for
//               softmax ones), zero where ignored, divided by normalizer. Sum: its sum /
//               normalizer. Mean: the sum over valid elements / their number (softmax
//               losses: / the summed class weights of valid anchors, as torch does).
struct ClsLossInput {
    Tensor logits{};
    Tensor targets{};
    Tensor valid{};
    float normalizer = 1.0f;
    Reduction reduction = Reduction::Sum;
};

// Input of a box loss: pred and target float32 (..., 4), either encoded deltas
// (dx, dy, dw, dh) or decoded boxes (x1, y1, x2, y2) as the loss says (BoxLoss::decoded).
// weight: optional float32 (...) per box (e.g. the positive mask), undefined = 1.
// None: per-box loss (...) (the 4 coordinates summed) times weight / normalizer.
// Sum: its sum / normalizer. Mean: sum / summed weight (requires normalizer == 1).
struct BoxLossInput {
    Tensor pred{};
    Tensor target{};
    Tensor weight{};
    float normalizer = 1.0f;
    Reduction reduction = Reduction::Sum;
};

// A configured classification loss (a name plus its parameters, bound in `fn`). Cheap to
// copy; made by the registry (make_cls_loss) or by the helpers in dense.h.
class ClassificationLoss {
public:
    using Fn = std::function<Tensor(const ClsLossInput&)>;
    ClassificationLoss(std::string name, bool softmax, Fn fn)
        : name_(std::move(name)), softmax_(softmax), fn_(std::move(fn)) {}

    const std::string& name() const { return name_; }
    bool softmax() const { return softmax_; }  // true: logits carry a background column
    int64_t logits_per_anchor(int64_t num_classes) const { return softmax_ ? num_classes + 1 : num_classes; }
    Tensor operator()(const ClsLossInput& in) const { return fn_(in); }

private:
    std::string name_;
    bool softmax_;
    Fn fn_;
};

class BoxLoss {
public:
    using Fn = std::function<Tensor(const BoxLossInput&)>;
    BoxLoss(std::string name, bool decoded, Fn fn) : name_(std::move(name)), decoded_(decoded), fn_(std::move(fn)) {}

    const std::string& name() const { return name_; }
    bool decoded() const { return decoded_; }  // true: boxes (x1, y1, x2, y2); false: deltas
    Tensor operator()(const BoxLossInput& in) const { return fn_(in); }

private:
    std::string name_;
    bool decoded_;
    Fn fn_;
};

// Reduces an element-wise loss like torch: None keeps it, Sum adds up, Mean averages (an
// empty tensor sums to 0 and averages to 0, where torch would give nan).
Tensor reduce(const Tensor& loss, Reduction reduction);

}  // namespace focal::losses
