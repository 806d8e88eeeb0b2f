// The COCO detection metric, by the rules of pycocotools' COCOeval (iouType "bbox"; Lin et al.
// 2014, "Microsoft COCO: Common Objects in Context", and cocodataset.org's detection eval page):
// - per category and image, detections ranked by score (stable), at most 100 kept;
// - at each IoU threshold .50:.05:.95, each detection takes the best-IoU ground truth not yet
//   matched, preferring ground truth that is not ignored; a crowd box can take any number of
//   detections and its IoU is intersection / the detection's area;
// - crowd boxes, and boxes whose area lies outside the range being scored, are ignored: a
//   detection on them is neither true nor false positive; an unmatched detection outside the
//   area range is ignored too;
// - precision is made monotone and sampled at recall 0, .01, ..., 1 (101 points, 0 beyond the
//   last recall reached); AP averages it over thresholds, points and categories that have
//   ground truth; AR averages the final recall over thresholds and categories;
// - area ranges: all, small (< 32^2), medium (32^2 .. 96^2), large (> 96^2), bounds inclusive,
//   on the annotation's "area" (the segment's, for COCO's own files) or else the box's;
// - AP and AR at 1, 10 and 100 detections per image and category.
// A figure with nothing to average is -1, as pycocotools prints it. Images are taken in the
// order added (pycocotools sorts them by id); it matters only for equal scores.
// tests/detector/coco_eval_reference.py re-implements these rules in Python for the golden
// numbers of tests/detector/test_coco_metric.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "detector/voc_metric.h"

namespace focal::detector {

struct CocoTruth {
    Box box;
    int label = 0;
    bool crowd = false;  // an ignore region (COCO iscrowd, VOC difficult)
    double area = -1;    // < 0: the box's
};

struct CocoMetrics {
    double ap = -1, ap50 = -1, ap75 = -1, ap_small = -1, ap_medium = -1, ap_large = -1;
    double ar1 = -1, ar10 = -1, ar100 = -1, ar_small = -1, ar_medium = -1, ar_large = -1;
    std::vector<double> per_class_ap;  // AP .50:.95 of each category; -1 without ground truth
};

class CocoEvaluator {
public:
    explicit CocoEvaluator(int num_classes);
    // One image's ground truth and detections, in the same coordinates. Throws Error on a
    // label outside 0..K-1, a non-finite score or an inverted box.
    void add_image(const std::vector<CocoTruth>& truth, const std::vector<Detection>& detections);
    int images() const { return int(truth_.size()); }
    CocoMetrics compute() const;

private:
    int num_classes_;
    std::vector<std::vector<CocoTruth>> truth_;
    std::vector<std::vector<Detection>> detections_;
};

// One image's detections in COCO's results format, as pycocotools' loadRes reads them:
// [{"image_id", "category_id", "bbox": [x, y, w, h] (data/box.h's to_coco), "score"}, ...],
// the category id of label k being category_ids[k].
nlohmann::json coco_results(std::int64_t image_id, const std::vector<Detection>& detections,
                            const std::vector<std::int64_t>& category_ids);

nlohmann::json coco_metrics_json(const CocoMetrics& metrics, const std::vector<std::string>& class_names);

// "AP .50:.95 0.123 | AP50 ... | AR100 ..." lines in pycocotools' order, for `focal eval`.
std::string format_coco_metrics(const CocoMetrics& metrics);

}  // namespace focal::detector
