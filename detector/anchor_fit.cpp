// Anchors fitted to a dataset (anchor_fit.h).
#include "detector/anchor_fit.h"

#include <algorithm>
#include <cmath>

#include "engine/error.h"

namespace focal::detector {

LetterboxedBoxes letterboxed_boxes(const data::Dataset& dataset, int64_t image_size) {
    check(image_size > 0, "[anchor fit] image size must be positive, got ", image_size);
    LetterboxedBoxes out;
    for (std::size_t i = 0; i < dataset.size(); ++i) {
        const data::Annotation& a = dataset.annotation(i);
        if (a.width <= 0 || a.height <= 0) {
            ++out.unsized_images;
            continue;
        }
        // The same arithmetic as data::letterbox: the longer side to image_size, rounded, centred.
        const double scale = double(image_size) / std::max(a.width, a.height);
        const int64_t nw = std::clamp<int64_t>(std::lround(a.width * scale), 1, image_size);
        const int64_t nh = std::clamp<int64_t>(std::lround(a.height * scale), 1, image_size);
        const float sx = float(nw) / a.width, sy = float(nh) / a.height;
        const float pad_x = float((image_size - nw) / 2), pad_y = float((image_size - nh) / 2);
        for (const data::Object& o : a.objects)
            if (!o.difficult)
                out.boxes.push_back(
                    {o.box.x1 * sx + pad_x, o.box.y1 * sy + pad_y, o.box.x2 * sx + pad_x, o.box.y2 * sy + pad_y});
    }
    return out;
}

AnchorCoverage anchor_coverage(const std::vector<Box>& boxes, const AnchorConfig& anchors, int64_t image_size,
                               float positive_iou) {
    const std::vector<Box> all = make_anchors(anchors, level_sizes(anchors, image_size, image_size));
    AnchorCoverage c;
    c.size_per_stride = anchors.size_per_stride;
    c.boxes = int64_t(boxes.size());
    int64_t covered = 0, positives = 0;
    double best_sum = 0;
    for (const Box& box : boxes) {
        double best = 0;
        for (const Box& anchor : all) {
            const double overlap = data::iou(box, anchor);
            best = std::max(best, overlap);
            positives += overlap >= positive_iou;
        }
        covered += best >= positive_iou;
        best_sum += best;
    }
    if (c.boxes > 0) {
        c.recall = double(covered) / double(c.boxes);
        c.mean_best_iou = best_sum / double(c.boxes);
        c.positives_per_box = double(positives) / double(c.boxes);
    }
    return c;
}

std::vector<AnchorCoverage> anchor_size_sweep(const std::vector<Box>& boxes, const AnchorConfig& anchors,
                                              int64_t image_size, float positive_iou,
                                              const std::vector<float>& sizes_per_stride) {
    std::vector<AnchorCoverage> sweep;
    for (float size : sizes_per_stride) {
        check(size > 0, "[anchor fit] anchor size per stride must be positive, got ", size);
        AnchorConfig candidate = anchors;
        candidate.size_per_stride = size;
        sweep.push_back(anchor_coverage(boxes, candidate, image_size, positive_iou));
    }
    return sweep;
}

const AnchorCoverage& best_anchor_size(const std::vector<AnchorCoverage>& sweep) {
    check(!sweep.empty(), "[anchor fit] no candidate anchor sizes");
    double top_recall = 0;
    for (const AnchorCoverage& c : sweep) top_recall = std::max(top_recall, c.recall);
    const AnchorCoverage* best = nullptr;
    for (const AnchorCoverage& c : sweep)
        if (c.recall >= top_recall - 0.005 && (!best || c.mean_best_iou > best->mean_best_iou)) best = &c;
    return *best;
}

}  // namespace focal::detector
