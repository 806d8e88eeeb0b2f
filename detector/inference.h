// Running a trained model on image files: letterbox, forward, post-process, and map the
// detections back to the original image's pixels.
#pragma once
#include <string>
#include <vector>

#include "data/image.h"
#include "detector/postprocess.h"
#include "detector/retinanet.h"

namespace focal::detector {

// Detections on `image`, in its own pixel coordinates.
std::vector<Detection> detect(RetinaNet& model, const data::Image& image, const InferenceConfig& config = {});

// For each path: the image with its detections drawn, saved as <out_dir>/<stem>.jpg, plus
// <out_dir>/detections.json listing every detection. Returns the pictures written.
std::vector<std::string> detect_files(RetinaNet& model, const std::vector<std::string>& class_names,
                                      const std::vector<std::string>& paths, const std::string& out_dir,
                                      float min_score = 0.3f, const InferenceConfig& config = {});

}  // namespace focal::detector
