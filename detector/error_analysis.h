// What a detector's false positives are, and how much AP each kind costs: the diagnosis of
// Hoiem, Chodpathumwan and Dai, "Diagnosing Error in Object Detectors" (ECCV 2012), in the
// cumulative form of COCO's analyze() (the PR plots C50 -> Loc -> Oth -> BG -> FN).
//
// Matching is the VOC devkit's at IoU > .5 (detector/voc_metric.h). Each false positive of
// class k is then, in this order:
//   localisation  a class-k object under it at IoU >= .1 (a poor box, or a duplicate);
//   confusion     an object of another class under it at IoU >= .1 (the wrong class);
//   background    nothing under it at IoU >= .1 (clutter, distractors: the hard negatives).
// Removing a kind from the ranked lists (as if those detections were never made) and
// recomputing AP50 tells what that kind costs; with every false positive removed, AP is
// the area under a precision-1 curve, i.e. the recall the detector reaches at all.
#pragma once
#include <vector>

#include "detector/voc_metric.h"

namespace focal::detector {

enum class FalsePositiveKind { Localization, Confusion, Background };

struct ErrorBreakdown {
    // Mean over classes with positives of VOC area AP@.5 ...
    double ap50 = 0;                  // ... as the detector is (equals VocMetrics::map_area)
    double without_localization = 0;  // ... with the localisation errors removed
    double without_confusion = 0;     // ... and also the confusions
    double without_background = 0;    // ... and also the background errors: the recall ceiling
    // False positives ranked among each class's first n detections (n = its positives),
    // summed over classes: the ones that sit where AP is decided.
    int top_localization = 0, top_confusion = 0, top_background = 0;
    int positives = 0;  // non-difficult ground truths, all classes
};

// The breakdown of everything added to `evaluator` (its images' truth and detections).
ErrorBreakdown analyse_errors(const VocEvaluator& evaluator);

// The kind of a false positive of class `label` at `box` among an image's ground truths.
FalsePositiveKind false_positive_kind(const Box& box, int label, const std::vector<GroundTruth>& truth);

}  // namespace focal::detector
