// Training targets of a batch: for every anchor of every image, its class label (or
// background, or ignored) and, for positives, the box deltas to regress.
#pragma once
#include <vector>

#include "data/loader.h"
#include "detector/box_coder.h"
#include "detector/matcher.h"

namespace focal::detector {

struct TrainingTargets {
    Tensor labels;         // int32 (N, A): class 0..K-1, kMatchBackground or kMatchIgnore
    Tensor box_deltas;     // float (N, A, 4): encoded ground truth (0 where not positive)
    Tensor matched_boxes;  // float (N, A, 4): the ground-truth box itself (for decoded box losses)
    Tensor positive;       // float (N, A): 1 for positive anchors
    int64_t num_positives = 0;
    int64_t num_ignored = 0;
};

TrainingTargets build_targets(const std::vector<Box>& anchors, const data::Batch& batch, const MatcherConfig& matcher,
                              const BoxCoder& coder);

}  // namespace focal::detector
