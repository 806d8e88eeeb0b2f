// Anchor-to-ground-truth matching (Lin et al. 2017, sec. 4): an anchor whose best IoU with a
// ground-truth box is >= positive_iou is assigned to it; < negative_iou is background; in
// between it is ignored. Optionally each box also keeps its best anchor(s) even below
// positive_iou, so that no object goes unassigned. Difficult boxes can only make anchors
// ignored: they are neither trained as objects nor as background.
#pragma once
#include <cstdint>
#include <vector>

#include "data/box.h"

namespace focal::detector {

using data::Box;

constexpr int32_t kMatchBackground = -1;  // same values as losses::kBackground / kIgnore
constexpr int32_t kMatchIgnore = -2;

struct MatcherConfig {
    float positive_iou = 0.5f;
    float negative_iou = 0.4f;
    bool keep_best_anchor = true;  // "allow low-quality matches"
};

// For each anchor, the index of its ground truth (>= 0), kMatchBackground or kMatchIgnore.
// IoUs are computed box by box against all anchors (A x 1 at a time), never as a full
// A x G matrix.
std::vector<int32_t> match_anchors(const std::vector<Box>& anchors, const std::vector<Box>& truth,
                                   const std::vector<uint8_t>& difficult, const MatcherConfig& config);

}  // namespace focal::detector
