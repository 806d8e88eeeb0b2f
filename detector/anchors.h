// Anchors (Lin et al. 2017, sec. 4): at every location of every pyramid level, boxes of
// `scales` x `ratios` around a base size proportional to the level's stride.
#pragma once
#include <array>
#include <cstdint>
#include <vector>

#include "data/box.h"

namespace focal::detector {

using data::Box;

struct AnchorConfig {
    std::vector<int64_t> strides{8, 16, 32, 64, 128};           // P3..P7
    float size_per_stride = 4.0f;                               // base size = 4 x stride (32..512 px)
    std::vector<float> scales{1.0f, 1.25992105f, 1.58740105f};  // 2^0, 2^(1/3), 2^(2/3)
    std::vector<float> ratios{0.5f, 1.0f, 2.0f};                // height / width
    int64_t per_location() const { return int64_t(scales.size() * ratios.size()); }
};

using LevelSizes = std::vector<std::array<int64_t, 2>>;  // (H, W) of each level's feature map

// All anchors in input pixels, in the order the heads' outputs are flattened: level by
// level, locations row-major, then the per-location anchors (ratio-major, then scale).
// Each centred on its location's cell, ((x + 0.5) * stride, (y + 0.5) * stride).
std::vector<Box> make_anchors(const AnchorConfig& config, const LevelSizes& sizes);

// Feature map sizes of levels with these strides for an input of height x width, as the
// backbone's stride-2 convs (kernel 3, padding 1) produce them: ceil(size / stride).
LevelSizes level_sizes(const AnchorConfig& config, int64_t height, int64_t width);

}  // namespace focal::detector
