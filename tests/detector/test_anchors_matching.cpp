// Anchors, box coding and matching on hand-made cases.
#include <doctest/doctest.h>

#include <cmath>

#include "detector/anchors.h"
#include "detector/box_coder.h"
#include "detector/matcher.h"

using namespace focal;
using namespace focal::detector;

TEST_CASE("anchors: count, order, centres and sizes") {
    AnchorConfig config;  // tiny: strides 8..128, base 4 x stride, 3 scales x 3 ratios
    LevelSizes sizes = level_sizes(config, 256, 256);
    REQUIRE(sizes.size() == 5);
    CHECK(sizes[0] == std::array<int64_t, 2>{32, 32});
    CHECK(sizes[4] == std::array<int64_t, 2>{2, 2});
    std::vector<Box> anchors = make_anchors(config, sizes);
    CHECK(anchors.size() == 12276u);  // 9 x (1024 + 256 + 64 + 16 + 4), as docs/design.md says
    // First anchor: level P3, location (0, 0), ratio 0.5 (wide), scale 1: 32/sqrt(.5) x 32*sqrt(.5).
    const Box& a = anchors[0];
    CHECK((a.x1 + a.x2) / 2 == doctest::Approx(4.0));
    CHECK(a.width() == doctest::Approx(32 / std::sqrt(0.5)));
    CHECK(a.height() == doctest::Approx(32 * std::sqrt(0.5)));
    // Anchor 4: ratio 1, scale 2^(1/3): a square of 32 * 1.26.
    CHECK(anchors[4].width() == doctest::Approx(32 * 1.2599).epsilon(1e-3));
    CHECK(anchors[4].height() == doctest::Approx(anchors[4].width()));
    // Anchor 9 is location (0, 1): shifted one stride right.
    CHECK((anchors[9].x1 + anchors[9].x2) / 2 == doctest::Approx(12.0));
    // The first anchor of P7 (stride 128) is centred at (64, 64) with base 512.
    const Box& p7 = anchors[9 * (1024 + 256 + 64 + 16) + 4];
    CHECK((p7.x1 + p7.x2) / 2 == doctest::Approx(64.0));
    CHECK(p7.width() == doctest::Approx(512 * 1.2599).epsilon(1e-3));
    CHECK(level_sizes(config, 100, 60)[0] == std::array<int64_t, 2>{13, 8});  // ceil(100/8), ceil(60/8)
    CHECK_THROWS_WITH_AS(make_anchors(config, {{4, 4}}), doctest::Contains("1 feature maps for 5"), Error);
}

TEST_CASE("box coder: encode/decode round trip, tensor decode, clamp") {
    BoxCoder coder;
    Box anchor{10, 20, 50, 40}, target{12, 18, 70, 44};
    std::array<float, 4> d = coder.encode(anchor, target);
    CHECK(d[0] == doctest::Approx((41.0 - 30.0) / 40.0));  // centre x 41 vs 30, width 40
    CHECK(d[2] == doctest::Approx(std::log(58.0 / 40.0)));
    Box back = coder.decode(anchor, d.data());
    CHECK(back.x1 == doctest::Approx(target.x1));
    CHECK(back.y2 == doctest::Approx(target.y2));
    // Tensor decoding matches the host one, on a batch of two images.
    Tensor anchors = Tensor::from_vector(std::vector<float>{10, 20, 50, 40, 0, 0, 8, 8}, {2, 4});
    Tensor deltas = Tensor::from_vector(std::vector<float>{d[0], d[1], d[2], d[3], 0.1f, -0.2f, 0.3f, 0.0f, 0, 0, 0, 0,
                                                           0, 0, 100.0f, 0},
                                        {2, 2, 4});
    std::vector<float> boxes = coder.decode(anchors, deltas).to_vector<float>();
    CHECK(boxes[0] == doctest::Approx(target.x1));
    CHECK(boxes[3] == doctest::Approx(target.y2));
    Box second = coder.decode(Box{0, 0, 8, 8}, std::array<float, 4>{0.1f, -0.2f, 0.3f, 0.0f}.data());
    CHECK(boxes[4] == doctest::Approx(second.x1));
    CHECK(boxes[6] == doctest::Approx(second.x2));
    // dw = 100 is clamped at log(1000/16): the box is at most 62.5 x the anchor, finite.
    CHECK(boxes[14] - boxes[12] == doctest::Approx(8 * 1000.0 / 16).epsilon(1e-4));
    Tensor leaf = deltas.clone().requires_grad_();
    sum(coder.decode(anchors, leaf)).backward();
    for (float g : leaf.grad().to_vector<float>()) CHECK(std::isfinite(g));
}

TEST_CASE("matcher: positives, background, ignored, best anchor kept, difficult ignored") {
    std::vector<Box> anchors{{0, 0, 10, 10}, {0, 0, 10, 12}, {5, 5, 15, 15}, {50, 50, 60, 60}, {100, 100, 140, 140}};
    std::vector<Box> truth{{0, 0, 10, 10}, {100, 100, 110, 110}};
    MatcherConfig config;  // .5 / .4, keep best anchor
    std::vector<int32_t> m = match_anchors(anchors, truth, {}, config);
    CHECK(m[0] == 0);                 // IoU 1
    CHECK(m[1] == 0);                 // IoU 100/120 = .83
    CHECK(m[2] == kMatchBackground);  // IoU 25/175 = .14
    CHECK(m[3] == kMatchBackground);
    CHECK(m[4] == 1);  // IoU 100/1600 = .06, but the best anchor box 1 has
    config.keep_best_anchor = false;
    CHECK(match_anchors(anchors, truth, {}, config)[4] == kMatchBackground);
    // Between the thresholds: ignored.
    std::vector<Box> mid{{0, 0, 10, 10}};
    CHECK(match_anchors({{0, 0, 10, 22}}, mid, {}, config)[0] == kMatchIgnore);  // IoU 100/220 = .45
    // A difficult box never makes a positive, only an ignored anchor.
    std::vector<int32_t> d = match_anchors(anchors, truth, {1, 0}, MatcherConfig{});
    CHECK(d[0] == kMatchIgnore);
    CHECK(d[1] == kMatchIgnore);
    CHECK(d[4] == 1);
    // No ground truth: every anchor is background.
    for (int32_t v : match_anchors(anchors, {}, {}, MatcherConfig{})) CHECK(v == kMatchBackground);
}
