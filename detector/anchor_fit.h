// Anchors fitted to a dataset: how well the anchors of an input size can match the dataset's
// boxes, and which anchor size matches them best. A box an anchor never covers with IoU >=
// the matcher's positive threshold is trained only through its one "best anchor" match
// (detector/matcher.h), however poor; YOLOv5's autoanchor calls the share of boxes that do
// have such an anchor the best possible recall. `focal inspect --anchors` prints this.
//
//   AnchorCoverage c = anchor_coverage(boxes, preset.anchors, 256, 0.5f);  // c.recall ...
#pragma once
#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "detector/anchors.h"

namespace focal::detector {

// The non-difficult boxes of a dataset as the loader's letterbox places them in an
// image_size x image_size input (data/transforms.h). Images of unknown size (0 x 0) are
// left out and counted in `unsized_images`.
struct LetterboxedBoxes {
    std::vector<Box> boxes;
    int unsized_images = 0;
};
LetterboxedBoxes letterboxed_boxes(const data::Dataset& dataset, int64_t image_size);

struct AnchorCoverage {
    float size_per_stride = 0;  // the anchor base size / stride this was measured with
    int64_t boxes = 0;
    double recall = 0;             // share of boxes with an anchor of IoU >= positive_iou
    double mean_best_iou = 0;      // mean over boxes of their best anchor's IoU
    double positives_per_box = 0;  // mean number of anchors with IoU >= positive_iou
};

// Every box against every anchor of an image_size x image_size input.
AnchorCoverage anchor_coverage(const std::vector<Box>& boxes, const AnchorConfig& anchors, int64_t image_size,
                               float positive_iou);

// anchor_coverage for each candidate size_per_stride (the rest of `anchors` kept), in order.
std::vector<AnchorCoverage> anchor_size_sweep(const std::vector<Box>& boxes, const AnchorConfig& anchors,
                                              int64_t image_size, float positive_iou,
                                              const std::vector<float>& sizes_per_stride);

// The candidate with the highest recall; among candidates within 0.005 of it, the highest
// mean best IoU. Throws on an empty list.
const AnchorCoverage& best_anchor_size(const std::vector<AnchorCoverage>& sweep);

}  // namespace focal::detector
