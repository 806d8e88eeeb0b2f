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

// Detections per image, in input pixels. `regions[i]` is where image i's own pixels lie in
// the input (a letterbox's padding excluded): every decoded box is clipped to it before NMS,
// as torchvision clips to the image, so a box that runs into the padding cannot keep the
// extra width. `anchors` are make_anchors' for out.level_sizes; `softmax` heads have K + 1
// logits per anchor, background last.
std::vector<std::vector<Detection>> postprocess(const HeadOutputs& out, const std::vector<Box>& anchors,
                                                const std::vector<Box>& regions, const InferenceConfig& config,
                                                bool softmax, const BoxCoder& coder = {});

}  // namespace focal::detector
