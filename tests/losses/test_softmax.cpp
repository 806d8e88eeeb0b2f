// Softmax cross-entropy and softmax focal loss: properties, ignore index, gradients, errors.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/gradcheck.h"
#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;
using focal::testing::gradcheck;
using In = std::vector<Tensor>;

namespace {
Tensor labels_of(std::vector<int32_t> v) { return Tensor::from_vector(v, {int64_t(v.size())}); }
}  // namespace

TEST_CASE("softmax: gamma 0 is CE exactly; focal <= CE; exact at extreme logits") {
    Generator gen(12);
    Tensor x = Tensor::randn({6, 4}, gen) * 3.0f;
    Tensor y = labels_of({0, 3, kIgnoreIndex, 1, 2, 2});
    CHECK(softmax_focal_loss(x, y, 0.0f, {}, Reduction::None).to_vector<float>() ==
          softmax_cross_entropy(x, y, {}, Reduction::None).to_vector<float>());
    std::vector<float> ce = softmax_cross_entropy(x, y, {}, Reduction::None).to_vector<float>();
    std::vector<float> fl = softmax_focal_loss(x, y, 2.0f, {}, Reduction::None).to_vector<float>();
    for (size_t i = 0; i < ce.size(); ++i) CHECK(fl[i] <= ce[i]);
    CHECK(ce[2] == 0.0f);  // ignored
    // logits of +-100: the wrong class costs 200, the right one e^-200 (0 in float32), no nan
    Tensor ex = Tensor::from_vector(std::vector<float>{100, -100, -100, 100}, {2, 2}).requires_grad_();
    Tensor l = softmax_focal_loss(ex, labels_of({1, 1}), 0.5f, {}, Reduction::None);
    CHECK(l.to_vector<float>() == std::vector<float>{200.0f, 0.0f});
    sum(l).backward();
    for (float g : ex.grad().to_vector<float>()) CHECK(std::isfinite(g));
}

TEST_CASE("softmax: ignore_index and class weights reduce like torch") {
    Tensor x = Tensor::from_vector(std::vector<float>{1, 2, 0, 0, 0, 3, 2, 1, 0}, {3, 3});
    Tensor y = labels_of({1, 2, -1});
    SoftmaxOptions opt{-1, {0.5f, 2.0f, 1.0f}};
    std::vector<float> none = softmax_cross_entropy(x, y, opt, Reduction::None).to_vector<float>();
    const float ce0 = std::log(std::exp(1.f) + std::exp(2.f) + 1.f) - 2.f, ce1 = std::log(2.f + std::exp(3.f)) - 3.f;
    CHECK(none[0] == doctest::Approx(2.0f * ce0));
    CHECK(none[1] == doctest::Approx(1.0f * ce1));
    CHECK(none[2] == 0.0f);
    CHECK(softmax_cross_entropy(x, y, opt).item() == doctest::Approx((2 * ce0 + ce1) / 3.0));  // / summed weight
    // everything ignored: 0, not nan
    CHECK(softmax_cross_entropy(x, labels_of({-1, -1, -1}), opt).item() == 0.0f);
}

TEST_CASE("gradcheck: softmax CE and focal") {
    Generator gen(13);
    Tensor x = Tensor::randn({5, 4}, gen) * 2.0f;
    Tensor y = labels_of({0, 3, kIgnoreIndex, 1, 2});
    SoftmaxOptions weighted{kIgnoreIndex, {1.0f, 0.5f, 2.0f, 1.5f}};
    CHECK(gradcheck("ce", [&](const In& in) { return softmax_cross_entropy(in[0], y); }, {x}));
    CHECK(gradcheck("ce weighted none",
                    [&](const In& in) { return softmax_cross_entropy(in[0], y, weighted, Reduction::None); }, {x}));
    for (float gamma : {0.5f, 2.0f})
        CHECK(gradcheck("softmax focal", [&](const In& in) { return softmax_focal_loss(in[0], y, gamma, weighted); },
                        {x}));
    CHECK(gradcheck("log_softmax", [&](const In& in) { return log_softmax(in[0]); }, {x}));
}

TEST_CASE("softmax: bad labels are named") {
    Tensor x = Tensor::zeros({2, 3});
    CHECK_THROWS_WITH_AS(
        softmax_cross_entropy(x, labels_of({0, 3})),
        "[softmax_cross_entropy] label 3 at row 1 is out of range for 3 classes (ignore_index is -100)", Error);
    CHECK_THROWS_WITH_AS(softmax_cross_entropy(x, labels_of({0})), doctest::Contains("labels have shape (1,)"), Error);
    CHECK_THROWS_WITH_AS(softmax_cross_entropy(x, Tensor::zeros({2})), doctest::Contains("labels must be int32"),
                         Error);
    CHECK_THROWS_WITH_AS(softmax_focal_loss(x, labels_of({0, 1}), 2.0f, {kIgnoreIndex, {1, 2}}),
                         doctest::Contains("class_weight has 2 values for 3 classes"), Error);
}

TEST_CASE("softmax head: background is the last column, -1 maps to it, one-hot rows too") {
    // K = 2 objects + background: logits (3, 3)
    Tensor x = Tensor::from_vector(std::vector<float>{2, 0, 1, 0, 3, 0, 1, 1, 4}, {3, 3});
    Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, kIgnore, kBackground}, {3});
    ClassificationLoss ce = make_cls_loss("ce");
    const float expected = softmax_cross_entropy(x, labels_of({0, kIgnoreIndex, 2}), {}, Reduction::Sum).item();
    CHECK(ce({x, labels, {}, 1.0f, Reduction::Sum}).item() == doctest::Approx(expected));
    Tensor one_hot = Tensor::from_vector(std::vector<float>{1, 0, 0, 1, 0, 0}, {3, 2});
    Tensor valid = Tensor::from_vector(std::vector<float>{1, 0, 1}, {3});
    CHECK(ce({x, one_hot, valid, 1.0f, Reduction::Sum}).item() == doctest::Approx(expected));
    CHECK_THROWS_WITH_AS(ce({x, Tensor::zeros({3, 3}), {}, 1.0f, Reduction::Sum}),
                         doctest::Contains("need one-hot targets (3, 2) or int32 labels"), Error);
}
