// The one inference path: `eval`, `detect`, validation during training and the experiments
// all run a trained model through predict(), so their detections cannot disagree.
//
//   images (N, 3, S, S), letterboxed  -> forward -> per level: scores > threshold, top k,
//   decode -> clip to the image's own pixels (padding excluded) -> class-wise NMS -> best
//   max_detections -> map back to the original image's pixels (Frame::to_original)
//
// Metrics are then computed in the original image's coordinates, against the ground truth as
// the annotation gives it, as the VOC devkit and pycocotools do.
#pragma once
#include <string>
#include <vector>

#include "data/image.h"
#include "data/transforms.h"
#include "detector/postprocess.h"
#include "detector/retinanet.h"

namespace focal::detector {

// Where one image lies in the network's input: how its original coordinates map to the
// input's (data::Frame) and its original size.
struct Placement {
    data::Frame frame;
    int width = 0, height = 0;
    Box region(int64_t input_width, int64_t input_height) const;  // its pixels in the input
};

// The heads' outputs for a batch of inputs of input_width x input_height -> detections in
// each image's original pixels: postprocess() clipped to each placement's region, then
// mapped back. predict() is forward + this.
std::vector<std::vector<Detection>> detections_in_original(const HeadOutputs& out, const std::vector<Box>& anchors,
                                                           const std::vector<Placement>& placements,
                                                           int64_t input_width, int64_t input_height,
                                                           const InferenceConfig& config, bool softmax,
                                                           const BoxCoder& coder = {});

// Detections for a batch of letterboxed images (N, 3, H, W) on the model's device, one list
// per image, in each image's original pixel coordinates. Runs the model in eval mode and
// restores its mode afterwards.
std::vector<std::vector<Detection>> predict(RetinaNet& model, const Tensor& images,
                                            const std::vector<Placement>& placements,
                                            const InferenceConfig& config = {});

// Detections on one image, in its own pixel coordinates: letterbox, then predict().
std::vector<Detection> detect(RetinaNet& model, const data::Image& image, const InferenceConfig& config = {});

// For each path: the image with its detections drawn, saved as <out_dir>/<stem>.jpg, plus
// <out_dir>/detections.json listing every detection, and, when `coco_results` is not empty,
// that file in COCO's results format (detector/coco_metric.h; image ids from the file stems
// by data::coco_image_ids, category id = label + 1). Returns the pictures written.
std::vector<std::string> detect_files(RetinaNet& model, const std::vector<std::string>& class_names,
                                      const std::vector<std::string>& paths, const std::string& out_dir,
                                      float min_score = 0.3f, const InferenceConfig& config = {},
                                      const std::string& coco_results = "");

}  // namespace focal::detector
