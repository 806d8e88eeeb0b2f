// Scoring a model on a dataset split: detections from the one inference path (inference.h),
// in each image's original coordinates, against the annotation's own boxes, with the VOC
// metric (voc_metric.h), the COCO metric (coco_metric.h) and the error diagnosis
// (error_analysis.h).
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "detector/coco_metric.h"
#include "detector/error_analysis.h"
#include "detector/inference.h"
#include "detector/voc_metric.h"

namespace focal::detector {

struct EvalOptions {
    std::string data;    // a dataset in any format (data::Dataset::open)
    std::string format;  // "" = from the layout
    std::string split = "test";
    int year = 0;
    int batch = 8;
    int workers = 2;
    int64_t max_images = 0;  // > 0: only the split's first N images
    InferenceConfig inference;
    std::string run_dir;       // not empty: write metrics.json there
    std::string coco_results;  // not empty: write the detections there in COCO's results format
    int epoch = -1;            // >= 0: recorded in metrics.json
};

struct EvalResult {
    VocMetrics metrics;
    CocoMetrics coco;       // COCO AP and AR (detector/coco_metric.h)
    ErrorBreakdown errors;  // what the false positives cost (detector/error_analysis.h)
    int images = 0;
    double seconds = 0;
};

// `class_names` are the model's, in its label order; the dataset's objects are resolved
// against them, whatever the dataset's own class list says.
EvalResult evaluate(RetinaNet& model, const std::vector<std::string>& class_names, const EvalOptions& options);

nlohmann::json metrics_json(const VocMetrics& metrics, const std::vector<std::string>& class_names);

}  // namespace focal::detector
