// NMS against a brute-force definition, and post-processing of hand-made head outputs.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>

#include "data/transforms.h"
#include "detector/inference.h"
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
            for (int k : expected)
                suppressed = suppressed || (labels[k] == labels[i] && box_iou(boxes[k], boxes[i]) > 0.5f);
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
    std::vector<std::vector<Detection>> dets = postprocess(out, anchors, {Box{0, 0, 32, 32}}, InferenceConfig{}, false);
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
    CHECK(postprocess(out, anchors, {Box{0, 0, 32, 32}}, strict, false)[0].size() == 3);
    strict.max_detections = 1;
    CHECK(postprocess(out, anchors, {Box{0, 0, 32, 32}}, strict, false)[0].size() == 1);
}

TEST_CASE("a non-square image: a detection running into the letterbox padding is clipped before it is scored") {
    // A 64 x 32 image letterboxed into 32 x 32: scale 1/2, its pixels at rows 8..24, padding
    // above and below. Its one object is [0, 0, 32, 8] in its own pixels ([0, 8, 16, 12] in
    // the input). One confident anchor decodes to [0, 2, 16, 12], reaching 6 px into the top
    // padding: clipped to the image it is the object exactly; unclipped it would map back to
    // [0, -12, 32, 8], IoU 8 / 20 = 0.4 with the object, a miss.
    data::Sample sample;
    sample.image = data::Image(64, 32, 3);
    sample.source_width = 64, sample.source_height = 32;
    sample.boxes = {Box{0, 0, 32, 8}};
    sample.labels = {0};
    sample.difficult = {0};
    data::letterbox(sample, 32);
    REQUIRE(sample.boxes[0] == Box{0, 8, 16, 12});
    const Placement placement{sample.frame, 64, 32};
    CHECK(placement.region(32, 32) == Box{0, 8, 32, 24});

    const std::vector<Box> anchors{Box{0, 2, 16, 12}};
    const LevelSizes sizes{{1, 1}};
    HeadOutputs out{Tensor::from_vector(std::vector<float>{4.0f}, {1, 1, 1}), Tensor::zeros({1, 1, 4}), sizes};
    const std::vector<std::vector<Detection>> dets =
        detections_in_original(out, anchors, {placement}, 32, 32, InferenceConfig{}, false);
    REQUIRE(dets.size() == 1);
    REQUIRE(dets[0].size() == 1);
    const Box& found = dets[0][0].box;
    CHECK(found.x1 == doctest::Approx(0));
    CHECK(found.y1 == doctest::Approx(0));
    CHECK(found.x2 == doctest::Approx(32));
    CHECK(found.y2 == doctest::Approx(8));
    CHECK(data::iou(found, Box{0, 0, 32, 8}) == doctest::Approx(1.0));

    VocEvaluator clipped(1), unclipped(1);
    clipped.add_image({{Box{0, 0, 32, 8}, 0, false}}, dets[0]);
    unclipped.add_image({{Box{0, 0, 32, 8}, 0, false}}, {{sample.frame.to_original(anchors[0]), 0, dets[0][0].score}});
    CHECK(data::iou(sample.frame.to_original(anchors[0]), Box{0, 0, 32, 8}) == doctest::Approx(0.4));
    CHECK(clipped.compute().map_area == doctest::Approx(1.0));
    CHECK(unclipped.compute().map_area == doctest::Approx(0.0));
}

TEST_CASE("predict: detect() on one image equals the batched path on that image, in its own pixels") {
    RetinaNetConfig mc = retinanet_preset("demo", 3);
    mc.prior_bias = false;  // scores near .5: plenty of detections without training
    Generator gen(7);
    RetinaNet model(mc, gen);
    const auto make_image = [](int w, int h, int seed) {
        data::Image image(w, h, 3);
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x)
                for (int c = 0; c < 3; ++c)
                    image.at(x, y)[c] = static_cast<uint8_t>((x * 7 + y * 13 + c * 50 + seed) % 256);
        return image;
    };
    const std::vector<data::Image> images{make_image(96, 40, 0), make_image(30, 90, 1)};  // padded both ways
    const int size = static_cast<int>(mc.image_size);
    std::vector<float> pixels(2 * 3 * size * size);
    std::vector<Placement> placements;
    for (int i = 0; i < 2; ++i) {
        data::Sample s;
        s.image = images[i];
        s.source_width = images[i].width, s.source_height = images[i].height;
        data::letterbox(s, size);
        data::normalize_to_chw(s.image, pixels.data() + i * 3 * size * size);
        placements.push_back({s.frame, images[i].width, images[i].height});
    }
    const std::vector<std::vector<Detection>> batched =
        predict(model, Tensor::from_vector(pixels, {2, 3, size, size}), placements);
    for (int i = 0; i < 2; ++i) {
        const std::vector<Detection> one = detect(model, images[i]);
        REQUIRE(!one.empty());
        REQUIRE(one.size() == batched[i].size());
        for (size_t j = 0; j < one.size(); ++j) {
            CHECK(one[j].label == batched[i][j].label);
            CHECK(one[j].score == doctest::Approx(batched[i][j].score).epsilon(1e-5));
            CHECK(one[j].box.x1 == doctest::Approx(batched[i][j].box.x1).epsilon(1e-4));
            CHECK(one[j].box.y2 == doctest::Approx(batched[i][j].box.y2).epsilon(1e-4));
            // inside the image, never in the padding
            CHECK(one[j].box.x1 >= 0);
            CHECK(one[j].box.y1 >= 0);
            CHECK(one[j].box.x2 <= images[i].width);
            CHECK(one[j].box.y2 <= images[i].height);
        }
    }
    CHECK(model.is_training());  // the mode is restored
}
