// The detector's contract (losses/loss.h): shapes, labels, masks and normalisers, and the
// messages a user gets when they are wrong.
#include <doctest/doctest.h>

#include <cmath>

#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;

namespace {
Tensor labels_of(std::vector<int32_t> v, Shape shape) { return Tensor::from_vector(v, shape); }
}  // namespace

TEST_CASE("dense: (N, A, K) and flattened (M, K) give the same loss; None keeps the shape") {
    Generator gen(41);
    Tensor x = Tensor::randn({2, 4, 3}, gen);
    Tensor labels = labels_of({0, -1, -2, 2, -1, 1, -1, -1}, {2, 4});
    for (const char* name : {"focal", "focal_composed", "bce", "qfl", "varifocal"}) {
        CAPTURE(name);
        ClassificationLoss loss = make_cls_loss(name);
        const float nested = loss({x, labels, {}, 2.0f, Reduction::Sum}).item();
        const float flat = loss({x.reshape({8, 3}), labels.reshape({8}), {}, 2.0f, Reduction::Sum}).item();
        CHECK(nested == doctest::Approx(flat).epsilon(1e-6));
        Tensor none = loss({x, labels, {}, 1.0f, Reduction::None});
        CHECK(none.shape() == Shape{2, 4, 3});
        for (int k = 0; k < 3; ++k) CHECK(none.to_vector<float>()[size_t(2 * 3 + k)] == 0.0f);  // anchor 2: kIgnore
        // Mean averages over the valid elements: 7 anchors x 3 classes
        CHECK(loss({x, labels, {}, 1.0f, Reduction::Mean}).item() ==
              doctest::Approx(sum(none).item() / 21.0f).epsilon(1e-6));
    }
}

TEST_CASE("dense: an image without objects still has a classification loss, and no box loss") {
    Tensor x = Tensor::full({1, 5, 2}, -1.0f);
    Tensor labels = labels_of({-1, -1, -1, -1, -1}, {1, 5});
    CHECK(make_cls_loss("focal")({x, labels, {}, 1.0f, Reduction::Sum}).item() > 0.0f);
    Tensor no_boxes = Tensor::zeros({1, 5, 4});
    CHECK(make_box_loss("smooth_l1")({no_boxes + 1.0f, no_boxes, Tensor::zeros({1, 5}), 1.0f, Reduction::Sum}).item() ==
          0.0f);
}

TEST_CASE("dense: bad input is named") {
    Tensor x = Tensor::zeros({2, 3, 4});
    ClassificationLoss focal = make_cls_loss("focal");
    CHECK_THROWS_WITH_AS(
        focal({x, labels_of({0, 1, 4, -1, -1, -1}, {2, 3})}),
        "[focal] label 4 at anchor 2 is out of range for 4 classes (expected 0..3, -1 background or -2 ignore)", Error);
    CHECK_THROWS_WITH_AS(focal({x, labels_of({0, 1, -3, -1, -1, -1}, {2, 3})}),
                         doctest::Contains("label -3 at anchor 2"), Error);
    CHECK_THROWS_WITH_AS(focal({x, labels_of({0, 1}, {2})}), doctest::Contains("int32 labels have shape (2,)"), Error);
    CHECK_THROWS_WITH_AS(focal({x, Tensor::zeros({2, 3, 5})}),
                         doctest::Contains("float targets have shape (2, 3, 5) but logits (2, 3, 4)"), Error);
    Tensor bad = Tensor::zeros({2, 3, 4});
    bad.data<float>()[5] = 1.5f;
    CHECK_THROWS_WITH_AS(focal({x, bad}), "[focal] target 1.5 at element 5 is outside [0, 1]", Error);
    bad.data<float>()[5] = NAN;
    CHECK_THROWS_WITH_AS(focal({x, bad}), doctest::Contains("at element 5 is outside [0, 1]"), Error);
    Tensor labels = labels_of({0, 1, 2, -1, -1, -1}, {2, 3});
    CHECK_THROWS_WITH_AS(focal({x, labels, Tensor::ones({6}), 1.0f}), doctest::Contains("valid has shape (6,)"), Error);
    CHECK_THROWS_WITH_AS(focal({x, labels, {}, 0.0f}), doctest::Contains("normalizer must be finite and > 0, got 0"),
                         Error);
    CHECK_THROWS_WITH_AS(focal({x, labels, {}, NAN}), doctest::Contains("normalizer must be finite"), Error);
    CHECK_THROWS_WITH_AS(focal({x, labels, {}, 3.0f, Reduction::Mean}), doctest::Contains("pass normalizer 1 (got 3)"),
                         Error);
    CHECK_THROWS_WITH_AS(focal({Tensor::zeros({2, 3, 4}, DType::I32), labels}),
                         "[focal] logits must be float32, got int32", Error);
    CHECK_THROWS_WITH_AS(focal({x, {}}), "[focal] targets are undefined", Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("ce")({Tensor::zeros({2, 1}), labels_of({0, 0}, {2})}),
                         doctest::Contains("need a last dim of at least 2 classes"), Error);
    CHECK_THROWS_WITH_AS(make_box_loss("l1")({Tensor::zeros({3, 4}), Tensor::zeros({3, 4}), Tensor::ones({4})}),
                         doctest::Contains("[l1] weight has shape (4,); boxes (3, 4) need one weight per box, (3,)"),
                         Error);
}
