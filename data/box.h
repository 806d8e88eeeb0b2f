// Axis-aligned boxes in continuous pixel coordinates: pixel (i, j) covers [i, i+1) x [j, j+1),
// so a box is [x1, x2) x [y1, y2) and its width is x2 - x1 (no "+1").
//
// The three dataset formats' conventions, and the one place they are converted (the
// functions at the end of this file; tests/data/test_box_conventions.cpp checks them):
//   Pascal VOC  <xmin> <ymin> <xmax> <ymax>: 1-based, inclusive pixel indices.
//               x1 = xmin - 1, x2 = xmax (as detectron2 does); areas and IoUs then equal the
//               devkit's "+1" formulas exactly. A 0-based export's xmin of 0 lands on x1 = 0.
//   COCO        "bbox": [x, y, w, h]: continuous, 0-based top-left corner and size.
//               x1 = x, x2 = x + w: the same frame as ours, nothing shifts.
//   YOLO        class cx cy w h: centre and size as fractions of the image's width and height.
//               x1 = (cx - w/2) W, x2 = (cx + w/2) W.
#pragma once
#include <algorithm>
#include <array>
#include <cmath>

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
    return {std::clamp(b.x1, 0.0f, w), std::clamp(b.y1, 0.0f, h), std::clamp(b.x2, 0.0f, w), std::clamp(b.y2, 0.0f, h)};
}

// --- Format conventions (see the top of this file) -------------------------------------------

// VOC <xmin> <ymin> <xmax> <ymax> -> box. An xmin in [0, 1) (a 0-based export) maps to 0.
inline Box from_voc(double xmin, double ymin, double xmax, double ymax) {
    const auto start = [](double v) { return v >= 0 && v < 1 ? 0.0 : v - 1; };
    return {float(start(xmin)), float(start(ymin)), float(xmax), float(ymax)};
}
// Box -> VOC {xmin, ymin, xmax, ymax}.
inline std::array<double, 4> to_voc(const Box& b) {
    return {double(b.x1) + 1, double(b.y1) + 1, double(b.x2), double(b.y2)};
}

// COCO [x, y, w, h] -> box; the sum in double, so x + w rounds once.
inline Box from_coco(double x, double y, double w, double h) {
    return {float(x), float(y), float(x + w), float(y + h)};
}
// Box -> COCO {x, y, w, h}.
inline std::array<double, 4> to_coco(const Box& b) {
    return {double(b.x1), double(b.y1), double(b.x2) - double(b.x1), double(b.y2) - double(b.y1)};
}

// YOLO's normalised text loses the last digits of a whole-pixel corner; a corner within
// this many pixels of a whole number is put back on it (tools write 6 to 8 digits, which
// leave at most ~1e-3 px on a 16384 px side).
constexpr double kYoloSnapPixels = 2e-3;

// YOLO (cx, cy, w, h) normalised, in a width x height image -> box, corners near a whole
// pixel snapped to it (kYoloSnapPixels).
inline Box from_yolo(double cx, double cy, double w, double h, int width, int height) {
    const auto snap = [](double v) {
        const double r = std::round(v);
        return std::fabs(v - r) <= kYoloSnapPixels ? r : v;
    };
    return {float(snap((cx - w / 2) * width)), float(snap((cy - h / 2) * height)), float(snap((cx + w / 2) * width)),
            float(snap((cy + h / 2) * height))};
}
// Box -> YOLO {cx, cy, w, h}, normalised by the image's width and height.
inline std::array<double, 4> to_yolo(const Box& b, int width, int height) {
    const double x1 = b.x1, y1 = b.y1, x2 = b.x2, y2 = b.y2;
    return {(x1 + x2) / 2 / width, (y1 + y2) / 2 / height, (x2 - x1) / width, (y2 - y1) / height};
}

}  // namespace focal::data
