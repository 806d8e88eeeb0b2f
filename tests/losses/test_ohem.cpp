// OHEM picks every positive and exactly the hardest negatives, ties by anchor index.
#include <doctest/doctest.h>

#include <cmath>

#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;

namespace {

Tensor vec(std::vector<float> v) { return Tensor::from_vector(v, {int64_t(v.size())}); }
std::vector<float> picked(const Tensor& loss, const Tensor& pos, const Tensor& valid, float ratio,
                          int64_t min_neg = 0) {
    return ohem_select(loss, pos, valid, ratio, min_neg).to_vector<float>();
}

}  // namespace

TEST_CASE("ohem: all positives, the highest-loss negatives, ties to the lower index") {
    //                      0    1    2    3    4    5    6    7    8    9
    Tensor loss = vec({0.1f, 0.9f, 0.5f, 0.5f, 0.7f, 0.5f, 2.0f, 0.3f, 0.5f, 0.0f});
    Tensor pos = vec({0, 0, 1, 0, 0, 0, 0, 0, 0, 0});
    Tensor valid = vec({1, 1, 1, 1, 1, 1, 0, 1, 1, 1});  // anchor 6 is ignored, though hardest
    // 1 positive, ratio 3: the negatives 1 (0.9), 4 (0.7), then of the tie at 0.5 (3, 5, 8): 3
    CHECK(picked(loss, pos, valid, 3) == std::vector<float>{0, 1, 1, 1, 1, 0, 0, 0, 0, 0});
    // ratio 4 takes the next of the tie, 5; ratio 5 takes 8
    CHECK(picked(loss, pos, valid, 4) == std::vector<float>{0, 1, 1, 1, 1, 1, 0, 0, 0, 0});
    CHECK(picked(loss, pos, valid, 5) == std::vector<float>{0, 1, 1, 1, 1, 1, 0, 0, 1, 0});
    // more than there are: every valid negative, never the ignored one
    CHECK(picked(loss, pos, valid, 100) == std::vector<float>{1, 1, 1, 1, 1, 1, 0, 1, 1, 1});
    // a fractional ratio rounds down: 1.5 x 1 positive -> 1 negative
    CHECK(picked(loss, pos, valid, 1.5f) == std::vector<float>{0, 1, 1, 0, 0, 0, 0, 0, 0, 0});
}

TEST_CASE("ohem: per image, no positives, min_negatives, nan") {
    Tensor loss = Tensor::from_vector(std::vector<float>{3, 1, 2, 0, /**/ 1, 1, 1, 1}, {2, 4});
    Tensor pos = Tensor::from_vector(std::vector<float>{0, 0, 0, 1, /**/ 0, 0, 0, 0}, {2, 4});
    Tensor valid = Tensor::ones({2, 4});
    // image 0: 1 positive -> 1 negative (anchor 0); image 1: no positive -> none by ratio
    CHECK(ohem_select(loss, pos, valid, 1.0f).to_vector<float>() == std::vector<float>{1, 0, 0, 1, 0, 0, 0, 0});
    // min_negatives keeps 2 per image even without positives: in image 1 a four-way tie -> 4, 5
    CHECK(ohem_select(loss, pos, valid, 1.0f, 2).to_vector<float>() == std::vector<float>{1, 0, 1, 1, 1, 1, 0, 0});
    // the same anchors flattened are one pool: 1 positive -> anchor 0
    CHECK(ohem_select(loss.reshape({8}), pos.reshape({8}), valid.reshape({8}), 1.0f).to_vector<float>() ==
          std::vector<float>{1, 0, 0, 1, 0, 0, 0, 0});
    // a nan loss counts as the hardest (and does not break the sort)
    Tensor with_nan = vec({1, NAN, 2, 0});
    CHECK(picked(with_nan, vec({0, 0, 0, 1}), vec({1, 1, 1, 1}), 2) == std::vector<float>{0, 1, 1, 1});
    CHECK_THROWS_WITH_AS(ohem_select(vec({1, 2}), vec({0, 1}), vec({1}), 3), doctest::Contains("[ohem]"), Error);
    CHECK_THROWS_WITH_AS(ohem_select(vec({1}), vec({0}), vec({1}), -1), doctest::Contains("ratio"), Error);
}

TEST_CASE("ohem loss: BCE over exactly the selected anchors") {
    // logits (1, 6, 2); anchor 0 is positive (class 1); the hardest negatives are 4 then 2
    Tensor x = Tensor::from_vector(std::vector<float>{-1, 2, 0, 0, 1, 1, -3, -3, 4, 0, -2, -2}, {1, 6, 2});
    Tensor labels = Tensor::from_vector(std::vector<int32_t>{1, -1, -1, -1, -1, -1}, {1, 6});
    ClassificationLoss ohem = make_cls_loss("ohem", {{"ratio", 2}});
    Tensor per_elem = binary_cross_entropy_with_logits(x, eq(labels.to(DType::F32).unsqueeze(-1), Tensor::arange(0, 2)),
                                                       -1.0f, Reduction::None);
    std::vector<float> e = per_elem.to_vector<float>();
    const float expected = e[0] + e[1] + e[8] + e[9] + e[4] + e[5];
    CHECK(ohem({x, labels, {}, 1.0f, Reduction::Sum}).item() == doctest::Approx(expected).epsilon(1e-6));
    Tensor xg = x.clone().requires_grad_();
    ohem({xg, labels, {}, 1.0f, Reduction::Sum}).backward();
    std::vector<float> g = xg.grad().to_vector<float>();
    for (int i : {2, 3, 6, 7, 10, 11}) CHECK(g[size_t(i)] == 0.0f);  // not selected: no gradient
    for (int i : {0, 1, 4, 5, 8, 9}) CHECK(g[size_t(i)] != 0.0f);
}
