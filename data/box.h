// Axis-aligned boxes in continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1),
// so a box is [x1, x2) x [y1, y2) and its width is x2 - x1 (no "+1").
// VOC's 1-based inclusive <xmin>..<xmax> maps to x1 = xmin - 1, x2 = xmax (as detectron2 does);
// areas and IoUs then equal the devkit's "+1" formulas exactly.
#pragma once
#include <algorithm>

namespace focal::data {

struct Box {
    float x1 = 0, y1 = 0, x2 = 0, y2 = 0;

    float width() const { return x2 - x1; }
    float height() const { return y2 - y1; }
    float area() const { return std::max(0.0f, x2 - x1) * std::max(0.0f, y2 - y1); }
    bool valid() const { return x2 > x1 && y2 > y1; }
    bool operator==(const Box&) const = default;
};

inline Box intersect(const Box& a, const Box& b) {
    return {std::max(a.x1, b.x1), std::max(a.y1, b.y1), std::min(a.x2, b.x2), std::min(a.y2, b.y2)};
}

// Intersection over union, computed in double; 0 when both boxes are empty.
inline double iou(const Box& a, const Box& b) {
    const double iw = std::max(0.0, double(std::min(a.x2, b.x2)) - std::max(a.x1, b.x1));
    const double ih = std::max(0.0, double(std::min(a.y2, b.y2)) - std::max(a.y1, b.y1));
    const auto area = [](const Box& r) {
        return std::max(0.0, double(r.x2) - r.x1) * std::max(0.0, double(r.y2) - r.y1);
    };
    const double inter = iw * ih, uni = area(a) + area(b) - inter;
    return uni > 0 ? inter / uni : 0.0;
}

// The box clipped to the image [0, w) x [0, h); may come out empty (check valid()).
inline Box clip(const Box& b, float w, float h) {
    return {std::clamp(b.x1, 0.0f, w), std::clamp(b.y1, 0.0f, h), std::clamp(b.x2, 0.0f, w),
            std::clamp(b.y2, 0.0f, h)};
}

}  // namespace focal::data
