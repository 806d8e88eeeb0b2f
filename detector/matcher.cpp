#include "detector/matcher.h"

#include "engine/error.h"

namespace focal::detector {

std::vector<int32_t> match_anchors(const std::vector<Box>& anchors, const std::vector<Box>& truth,
                                   const std::vector<uint8_t>& difficult, const MatcherConfig& config) {
    FOCAL_CHECK(config.negative_iou <= config.positive_iou, "[matcher] negative IoU ", config.negative_iou,
                " is above positive IoU ", config.positive_iou);
    FOCAL_CHECK(difficult.empty() || difficult.size() == truth.size(), "[matcher] ", difficult.size(),
                " difficult flags for ", truth.size(), " boxes");
    const size_t count = anchors.size();
    std::vector<int32_t> match(count, kMatchBackground);
    std::vector<float> best_iou(count, 0.0f);        // over non-difficult boxes
    std::vector<float> best_difficult(count, 0.0f);  // over difficult boxes
    std::vector<int32_t> best_box(count, -1);
    std::vector<float> box_best(truth.size(), 0.0f);  // each box's best IoU over anchors
    for (size_t j = 0; j < truth.size(); ++j) {
        const Box& t = truth[j];
        const bool is_difficult = !difficult.empty() && difficult[j];
        const float t_area = t.area();
        for (size_t i = 0; i < count; ++i) {
            const Box& a = anchors[i];
            const float iw = std::min(a.x2, t.x2) - std::max(a.x1, t.x1);
            const float ih = std::min(a.y2, t.y2) - std::max(a.y1, t.y1);
            if (iw <= 0 || ih <= 0) continue;
            const float inter = iw * ih;
            const float iou = inter / (a.area() + t_area - inter);
            if (is_difficult) {
                best_difficult[i] = std::max(best_difficult[i], iou);
                continue;
            }
            if (iou > best_iou[i]) best_iou[i] = iou, best_box[i] = static_cast<int32_t>(j);
            box_best[j] = std::max(box_best[j], iou);
        }
    }
    for (size_t i = 0; i < count; ++i) {
        if (best_iou[i] >= config.positive_iou) match[i] = best_box[i];
        else if (best_iou[i] >= config.negative_iou || best_difficult[i] >= config.negative_iou)
            match[i] = kMatchIgnore;
    }
    if (config.keep_best_anchor) {
        // Each box keeps the anchor(s) that overlap it most, ties included (as torchvision).
        for (size_t i = 0; i < count; ++i) {
            const int32_t j = best_box[i];
            if (j >= 0 && match[i] < 0 && box_best[j] > 0 && best_iou[i] == box_best[j]) match[i] = j;
        }
    }
    return match;
}

}  // namespace focal::detector
