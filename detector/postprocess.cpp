#include "detector/postprocess.h"

#include <algorithm>
#include <numeric>

#include "engine/parallel.h"

namespace focal::detector {

std::vector<int> nms(const std::vector<Box>& boxes, const std::vector<float>& scores, const std::vector<int>& labels,
                     float iou) {
    std::vector<int> order(boxes.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
    std::vector<int> kept;
    std::vector<uint8_t> removed(boxes.size(), 0);
    for (size_t oi = 0; oi < order.size(); ++oi) {
        const int i = order[oi];
        if (removed[i]) continue;
        kept.push_back(i);
        const Box& a = boxes[i];
        const float area_a = a.area();
        for (size_t oj = oi + 1; oj < order.size(); ++oj) {
            const int j = order[oj];
            if (removed[j] || labels[j] != labels[i]) continue;
            const Box& b = boxes[j];
            const float iw = std::min(a.x2, b.x2) - std::max(a.x1, b.x1);
            const float ih = std::min(a.y2, b.y2) - std::max(a.y1, b.y1);
            if (iw <= 0 || ih <= 0) continue;
            const float inter = iw * ih;
            if (inter / (area_a + b.area() - inter) > iou) removed[j] = 1;
        }
    }
    return kept;
}

std::vector<std::vector<Detection>> postprocess(const HeadOutputs& out, const std::vector<Box>& anchors,
                                                const std::vector<Box>& regions, const InferenceConfig& cfg,
                                                bool softmax, const BoxCoder& coder) {
    Tensor probs;
    {
        NoGradGuard no_grad;
        Tensor logits = out.cls_logits.detached();
        if (!softmax) {
            probs = sigmoid(logits);
        } else {  // softmax over K + 1, then drop the background column
            Tensor shifted = logits - max(logits, {2}, true);
            Tensor e = exp(shifted);
            probs = (e / sum(e, {2}, true)).narrow(2, 0, logits.size(2) - 1);
        }
        probs = probs.to(Device::CPU).contiguous();
    }
    Tensor deltas = out.box_deltas.detached().to(Device::CPU).contiguous();
    const int64_t n = probs.size(0), total = probs.size(1), k = probs.size(2);
    FOCAL_CHECK(total == static_cast<int64_t>(anchors.size()), "[postprocess] ", total, " anchors scored, ",
                anchors.size(), " anchors given");
    FOCAL_CHECK(static_cast<int64_t>(regions.size()) == n, "[postprocess] ", regions.size(),
                " image regions for a batch of ", n);
    int64_t locations = 0;
    for (const auto& [h, w] : out.level_sizes) locations += h * w;
    FOCAL_CHECK(locations > 0 && total % locations == 0, "[postprocess] ", total, " anchors do not divide over ",
                locations, " locations");
    const int64_t per_location = total / locations;
    std::vector<int64_t> level_begin{0};
    for (const auto& [h, w] : out.level_sizes) level_begin.push_back(level_begin.back() + h * w * per_location);
    const float* p = probs.data<float>();
    const float* d = deltas.data<float>();
    std::vector<std::vector<Detection>> result(n);
    parallel_for(n, 1, [&](int64_t begin, int64_t end) {
        for (int64_t img = begin; img < end; ++img) {
            const Box& region = regions[img];
            std::vector<Box> boxes;
            std::vector<float> scores;
            std::vector<int> labels;
            for (size_t level = 0; level + 1 < level_begin.size(); ++level) {
                // (anchor, class) pairs above the threshold, best topk of them.
                std::vector<std::pair<float, int64_t>> candidates;
                for (int64_t a = level_begin[level]; a < level_begin[level + 1]; ++a)
                    for (int64_t c = 0; c < k; ++c) {
                        const float s = p[(img * total + a) * k + c];
                        if (s > cfg.score_threshold) candidates.emplace_back(s, a * k + c);
                    }
                const size_t keep = std::min<size_t>(candidates.size(), cfg.topk_per_level);
                std::partial_sort(candidates.begin(), candidates.begin() + keep, candidates.end(),
                                  [](const auto& x, const auto& y) {
                    return x.first > y.first || (x.first == y.first && x.second < y.second);
                });
                for (size_t q = 0; q < keep; ++q) {
                    const int64_t a = candidates[q].second / k;
                    const Box b = intersect(coder.decode(anchors[a], d + (img * total + a) * 4), region);
                    if (!b.valid()) continue;
                    boxes.push_back(b);
                    scores.push_back(candidates[q].first);
                    labels.push_back(static_cast<int>(candidates[q].second % k));
                }
            }
            std::vector<int> kept = nms(boxes, scores, labels, cfg.nms_iou);
            if (static_cast<int64_t>(kept.size()) > cfg.max_detections) kept.resize(cfg.max_detections);
            for (int i : kept) result[img].push_back({boxes[i], labels[i], scores[i]});
        }
    });
    return result;
}

}  // namespace focal::detector
