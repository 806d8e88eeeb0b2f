// RetinaNet's training loss (Lin et al. 2017, sec. 4.1): a classification loss over every
// non-ignored anchor plus a box loss over the positives, both divided by max(1, number of
// positive anchors) (or, for the ablation, by the number of non-ignored anchors).
#pragma once
#include <string>
#include <vector>

#include "detector/box_coder.h"
#include "detector/retinanet.h"
#include "detector/targets.h"
#include "losses/loss.h"

namespace focal::detector {

enum class Normalizer { Positives, Anchors };
Normalizer parse_normalizer(const std::string& name);  // "positives" or "anchors"

struct DetectionLoss {
    Tensor total, cls, box;  // scalars; total = cls + box
    float normalizer = 1;
};

DetectionLoss detection_loss(const HeadOutputs& out, const TrainingTargets& targets, const Tensor& anchors,
                             const losses::ClassificationLoss& cls_loss, const losses::BoxLoss& box_loss,
                             const BoxCoder& coder, Normalizer normalizer);
// The same with the divisor given: data-parallel training divides by max(1, the count over
// every rank's images) / ranks (detector/data_parallel.h).
DetectionLoss detection_loss(const HeadOutputs& out, const TrainingTargets& targets, const Tensor& anchors,
                             const losses::ClassificationLoss& cls_loss, const losses::BoxLoss& box_loss,
                             const BoxCoder& coder, float divisor);
// What the losses are divided by before max(1, .): the positive anchors, or for the
// ablation every anchor that is not ignored.
int64_t normalizer_count(const TrainingTargets& targets, Normalizer normalizer);

// Anchors as a float tensor (A, 4), for decoded box losses.
Tensor anchors_tensor(const std::vector<Box>& anchors);

}  // namespace focal::detector
