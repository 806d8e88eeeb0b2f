// Pascal VOC detection metric: per-class AP at IoU 0.5 with the VOC2007 11-point and the
// VOC2010+ all-point (area) interpolation, following the official devkit (voc_eval.py):
// - detections of a class are ranked by score over the whole set (ties keep input order);
// - each takes the ground truth of its image with the highest IoU; IoU > 0.5 (strictly) with
//   a 'difficult' one makes it neither true nor false positive; with a box already taken
//   (even if another box would fit) it is a false positive: a second detection of an object;
// - recall counts only non-difficult ground truth.
// Boxes are in continuous pixel coordinates (data/box.h), where IoU equals the devkit's
// "+1" formula on the 1-based VOC coordinates.
// A class with no non-difficult ground truth has no AP (NaN) and is left out of the means.
// Also a COCO-style AP averaged over IoU .50:.05:.95 (pycocotools' matching: best unmatched
// ground truth; difficult as ignore regions; 101-point interpolation; no area ranges and no
// per-image cap), as an extra figure.
#pragma once
#include <string>
#include <vector>

#include "data/box.h"

namespace focal::detector {

using data::Box;

struct GroundTruth {
    Box box;
    int label = 0;
    bool difficult = false;
};

struct Detection {
    Box box;
    int label = 0;
    float score = 0;
};

struct ClassAP {
    int positives = 0;  // non-difficult ground truths
    int detections = 0;
    double ap_11point = 0, ap_area = 0, ap_coco = 0;  // NaN when positives == 0
};

struct VocMetrics {
    std::vector<ClassAP> per_class;
    double map_11point = 0, map_area = 0, map_coco = 0;  // means over classes with positives
    int classes_counted = 0;
};

class VocEvaluator {
public:
    explicit VocEvaluator(int num_classes);

    // One image: its ground truth and detections, in the same coordinates. Throws Error on a
    // label outside 0..K-1, a non-finite score or an inverted box.
    void add_image(const std::vector<GroundTruth>& truth, const std::vector<Detection>& detections);
    int images() const { return int(truth_.size()); }
    int num_classes() const { return num_classes_; }
    const std::vector<std::vector<GroundTruth>>& truth() const { return truth_; }          // per image
    const std::vector<std::vector<Detection>>& detections() const { return detections_; }  // per image

    VocMetrics compute() const;

private:
    int num_classes_;
    std::vector<std::vector<GroundTruth>> truth_;     // per image
    std::vector<std::vector<Detection>> detections_;  // per image
};

// The devkit's matching of class k: its detections over all images, best first (ties keep
// image order, then input order), each a true positive, a false positive (no class-k object
// at IoU > .5, or one already taken) or ignored (on a 'difficult' object).
enum class MatchResult { TruePositive, FalsePositive, Ignored };
struct RankedMatch {
    int image = 0;
    Box box;
    MatchResult result = MatchResult::FalsePositive;
};
std::vector<RankedMatch> voc_match_class(const std::vector<std::vector<GroundTruth>>& truth,
                                         const std::vector<std::vector<Detection>>& detections, int k);

// Cumulative recall and precision down a ranked list of outcomes (tp[i], fp[i] in {0, 1};
// a detection that is neither, on a 'difficult' object, is left out by the caller), as the
// devkit computes them; appends to recall and precision.
void precision_recall_curve(const std::vector<int>& tp, const std::vector<int>& fp, int positives,
                            std::vector<double>& recall, std::vector<double>& precision);
// The interpolations, on cumulative recall and precision of a ranked list (exposed for tests).
// 11-point: mean over t = 0, .1, ..., 1 (computed as i * 0.1, like numpy.arange in the
// devkit) of the best precision at recall >= t.
double ap_11point(const std::vector<double>& recall, const std::vector<double>& precision);
// Area under the precision envelope, summed where recall changes (VOC2010+).
double ap_area(const std::vector<double>& recall, const std::vector<double>& precision);
// COCO: the envelope sampled at recall 0, .01, ..., 1.
double ap_101point(const std::vector<double>& recall, const std::vector<double>& precision);

// A per-class table and the means, naming the metric, for `focal eval`.
std::string format_voc_metrics(const VocMetrics& metrics, const std::vector<std::string>& class_names);

}  // namespace focal::detector
