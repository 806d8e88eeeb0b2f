#include "detector/anchors.h"

#include <cmath>

#include "engine/error.h"

namespace focal::detector {

std::vector<Box> make_anchors(const AnchorConfig& config, const LevelSizes& sizes) {
    FOCAL_CHECK(sizes.size() == config.strides.size(), "[anchors] ", sizes.size(), " feature maps for ",
                config.strides.size(), " anchor strides");
    // The per-location templates of each level, centred on 0.
    std::vector<Box> anchors;
    for (size_t level = 0; level < sizes.size(); ++level) {
        const float stride = static_cast<float>(config.strides[level]);
        const float base = config.size_per_stride * stride;
        std::vector<Box> templates;
        for (float ratio : config.ratios)
            for (float scale : config.scales) {
                const float w = base * scale / std::sqrt(ratio), h = base * scale * std::sqrt(ratio);
                templates.push_back({-w / 2, -h / 2, w / 2, h / 2});
            }
        const auto [height, width] = sizes[level];
        for (int64_t y = 0; y < height; ++y)
            for (int64_t x = 0; x < width; ++x) {
                const float cx = (static_cast<float>(x) + 0.5f) * stride, cy = (static_cast<float>(y) + 0.5f) * stride;
                for (const Box& t : templates) anchors.push_back({t.x1 + cx, t.y1 + cy, t.x2 + cx, t.y2 + cy});
            }
    }
    return anchors;
}

LevelSizes level_sizes(const AnchorConfig& config, int64_t height, int64_t width) {
    LevelSizes sizes;
    for (int64_t stride : config.strides) {
        // Each stride-2 conv maps n to ceil(n / 2); repeated, that is ceil(n / stride).
        int64_t h = height, w = width;
        for (int64_t s = stride; s > 1; s /= 2) h = (h + 1) / 2, w = (w + 1) / 2;
        sizes.push_back({h, w});
    }
    return sizes;
}

}  // namespace focal::detector
