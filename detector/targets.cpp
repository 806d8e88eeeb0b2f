#include "detector/targets.h"

namespace focal::detector {

TrainingTargets build_targets(const std::vector<Box>& anchors, const data::Batch& batch, const MatcherConfig& matcher,
                              const BoxCoder& coder) {
    const int64_t n = batch.n, a = static_cast<int64_t>(anchors.size());
    std::vector<int32_t> labels(n * a);
    std::vector<float> deltas(n * a * 4, 0.0f), boxes(n * a * 4, 0.0f), positive(n * a, 0.0f);
    TrainingTargets out;
    for (int64_t i = 0; i < n; ++i) {
        const std::vector<Box>& truth = batch.boxes[i];
        std::vector<int32_t> match = match_anchors(anchors, truth, batch.difficult[i], matcher);
        for (int64_t k = 0; k < a; ++k) {
            const int64_t at = i * a + k;
            const int32_t m = match[k];
            if (m < 0) {
                labels[at] = m;  // kMatchBackground or kMatchIgnore
                out.num_ignored += m == kMatchIgnore;
                continue;
            }
            labels[at] = batch.labels[i][m];
            positive[at] = 1.0f;
            ++out.num_positives;
            const std::array<float, 4> d = coder.encode(anchors[k], truth[m]);
            const Box& t = truth[m];
            for (int c = 0; c < 4; ++c) deltas[at * 4 + c] = d[c];
            boxes[at * 4 + 0] = t.x1, boxes[at * 4 + 1] = t.y1, boxes[at * 4 + 2] = t.x2, boxes[at * 4 + 3] = t.y2;
        }
    }
    out.labels = Tensor::from_vector(labels, {n, a});
    out.box_deltas = Tensor::from_vector(deltas, {n, a, 4});
    out.matched_boxes = Tensor::from_vector(boxes, {n, a, 4});
    out.positive = Tensor::from_vector(positive, {n, a});
    return out;
}

}  // namespace focal::detector
