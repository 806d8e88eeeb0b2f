// Inference (Lin et al. 2017, sec. 4.1): per level, keep anchors whose class score exceeds
// a threshold, at most the top `topk_per_level` of them, decode their boxes, then merge the
// levels with class-wise non-maximum suppression and keep the best `max_detections`.
#pragma once
#include <vector>

#include "detector/box_coder.h"
#include "detector/retinanet.h"
#include "detector/voc_metric.h"

namespace focal::detector {

struct InferenceConfig {
    float score_threshold = 0.05f;
    int64_t topk_per_level = 1000;
    float nms_iou = 0.5f;
    int64_t max_detections = 100;
};

// Greedy NMS: indices of the kept boxes, best score first. A box is dropped when its IoU
// with a kept box of the same class is > iou (ties in score keep the lower index first).
std::vector<int> nms(const std::vector<Box>& boxes, const std::vector<float>& scores, const std::vector<int>& labels,
                     float iou);

// Detections per image, in input pixels, clipped to [0, width] x [0, height].
std::vector<std::vector<Detection>> postprocess(const HeadOutputs& out, const std::vector<Box>& anchors,
                                                const AnchorConfig& anchor_config, const BoxCoder& coder,
                                                const InferenceConfig& config, bool softmax, int64_t width,
                                                int64_t height);

}  // namespace focal::detector
