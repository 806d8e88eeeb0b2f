// NMS against a brute-force definition, and post-processing of hand-made head outputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "detector/postprocess.h"

using namespace focal;
using namespace focal::detector;

namespace {
float box_iou(const Box& a, const Box& b) { return static_cast<float>(data::iou(a, b)); }
}  // namespace

TEST_CASE("NMS keeps exactly what the brute-force definition keeps") {
    Generator gen(3);
    for (int trial = 0; trial < 50; ++trial) {
        const int n = 5 + trial % 40;
        std::vector<float> u = Tensor::rand({n * 6}, gen).to_vector<float>();
        std::vector<Box> boxes;
        std::vector<float> scores;
        std::vector<int> labels;
        for (int i = 0; i < n; ++i) {
            float x = 40 * u[6 * i], y = 40 * u[6 * i + 1], w = 5 + 20 * u[6 * i + 2], h = 5 + 20 * u[6 * i + 3];
            boxes.push_back({x, y, x + w, y + h});
            scores.push_back(std::round(u[6 * i + 4] * 10) / 10);  // many ties
            labels.push_back(u[6 * i + 5] < 0.5f ? 0 : 1);
        }
        std::vector<int> kept = nms(boxes, scores, labels, 0.5f);
        // Brute force: walk boxes by (score desc, index asc); keep one unless a kept box of
        // its class overlaps it by more than the threshold.
        std::vector<int> order(n);
        for (int i = 0; i < n; ++i) order[i] = i;
        std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return scores[a] > scores[b]; });
        std::vector<int> expected;
        for (int i : order) {
            bool suppressed = false;
            for (int k : expected) suppressed = suppressed || (labels[k] == labels[i] && box_iou(boxes[k], boxes[i]) > 0.5f);
            if (!suppressed) expected.push_back(i);
        }
        CHECK(kept == expected);
        // And the defining properties: kept boxes of a class never overlap > .5, and every
        // dropped box overlaps a kept box of its class with a score at least as high.
        for (size_t a = 0; a < kept.size(); ++a)
            for (size_t b = a + 1; b < kept.size(); ++b)
                if (labels[kept[a]] == labels[kept[b]]) CHECK(box_iou(boxes[kept[a]], boxes[kept[b]]) <= 0.5f);
    }
}

TEST_CASE("postprocess: threshold, decoding, clipping, class-wise NMS, the cap") {
    AnchorConfig config;
    config.strides = {8};
    config.scales = {1.0f};
    config.ratios = {1.0f};
    config.size_per_stride = 2.0f;  // 16 px anchors on a 4 x 4 grid over 32 x 32 px
    LevelSizes sizes{{4, 4}};
    std::vector<Box> anchors = make_anchors(config, sizes);
    REQUIRE(anchors.size() == 16);
    const int64_t k = 2;
    std::vector<float> logits(16 * k, -10.0f), deltas(16 * 4, 0.0f);
    logits[5 * k + 1] = 3.0f;   // anchor 5, class 1: confident
    logits[6 * k + 1] = 2.0f;   // anchor 6, class 1: overlaps anchor 5 (IoU 1/3): kept
    logits[9 * k + 0] = 1.0f;   // anchor 9, class 0
    logits[0 * k + 0] = -2.5f;  // sigmoid .076 > .05: kept, clipped at the image border
    deltas[9 * 4 + 0] = 0.25f;  // anchor 9 shifted right by a quarter of its width
    HeadOutputs out{Tensor::from_vector(logits, {1, 16, k}), Tensor::from_vector(deltas, {1, 16, 4}), sizes};
    std::vector<std::vector<Detection>> dets = postprocess(out, anchors, config, BoxCoder{}, InferenceConfig{}, false, 32, 32);
    REQUIRE(dets.size() == 1);
    REQUIRE(dets[0].size() == 4);
    CHECK(dets[0][0].label == 1);
    CHECK(dets[0][0].score == doctest::Approx(1 / (1 + std::exp(-3.0))));
    CHECK(dets[0][0].box.x1 == doctest::Approx(anchors[5].x1));
    CHECK(dets[0][2].label == 0);
    CHECK(dets[0][2].box.x1 == doctest::Approx(anchors[9].x1 + 4));
    CHECK(dets[0][3].box.x1 == 0.0f);  // anchor 0 reaches -4: clipped
    // NMS at .3 drops anchor 6 (IoU 1/3 with anchor 5, same class); a cap of 1 keeps the best.
    InferenceConfig strict;
    strict.nms_iou = 0.3f;
    CHECK(postprocess(out, anchors, config, BoxCoder{}, strict, false, 32, 32)[0].size() == 3);
    strict.max_detections = 1;
    CHECK(postprocess(out, anchors, config, BoxCoder{}, strict, false, 32, 32)[0].size() == 1);
}
