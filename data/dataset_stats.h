// What a dataset holds, for `focal inspect`: counts per class, box sizes, and annotations that
// are legal but suspicious (duplicates, slivers).
#pragma once
#include <array>
#include <string>
#include <vector>

#include "data/dataset.h"

namespace focal::data {

struct DatasetStats {
    int images = 0, objects = 0, difficult = 0, truncated = 0;
    int empty_images = 0, max_objects_per_image = 0;
    std::vector<int> per_class, per_class_difficult;  // all objects; the difficult among them
    // Box size as sqrt(area) in pixels of the original image, COCO's buckets (< 32, < 96, more).
    int small = 0, medium = 0, large = 0;
    std::array<float, 5> size_quantiles{};        // min, 25 %, median, 75 %, max of sqrt(area)
    std::array<float, 5> aspect_quantiles{};      // the same for width / height
    std::array<int, 2> min_image{}, max_image{};  // (width, height) of the smallest / largest
    std::vector<std::string> problems;            // suspicious annotations, one line each
};

// Flags boxes under 2 px a side and pairs of same-class boxes with IoU > 0.95 in one image.
DatasetStats summarize(const Dataset& dataset);

}  // namespace focal::data
