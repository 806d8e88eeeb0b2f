// Box losses: known values, gradients, GIoU's geometry.
#include <doctest/doctest.h>

#include "engine/gradcheck.h"
#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;
using focal::testing::gradcheck;
using In = std::vector<Tensor>;

namespace {
Tensor boxes(std::vector<float> v) { return Tensor::from_vector(v, {int64_t(v.size() / 4), 4}); }
}  // namespace

TEST_CASE("smooth L1: quadratic below beta, linear above (Girshick 2015, eq. 3)") {
    Tensor p = Tensor::from_vector(std::vector<float>{0.05f, -0.5f, 2.0f, 0.0f}, {4}), t = Tensor::zeros({4});
    std::vector<float> v = smooth_l1_loss(p, t, 1.0f / 9.0f, Reduction::None).to_vector<float>();
    CHECK(v[0] == doctest::Approx(0.5 * 0.05 * 0.05 * 9));
    CHECK(v[1] == doctest::Approx(0.5 - 0.5 / 9));
    CHECK(v[2] == doctest::Approx(2.0 - 0.5 / 9));
    CHECK(v[3] == 0.0f);
    CHECK(smooth_l1_loss(p, t, 0.0f, Reduction::None).to_vector<float>() ==
          l1_loss(p, t, Reduction::None).to_vector<float>());
    Generator gen(14);
    Tensor a = Tensor::randn({5, 4}, gen), b = Tensor::randn({5, 4}, gen);
    CHECK(gradcheck("smooth_l1", [&](const In& in) { return smooth_l1_loss(in[0], b, 0.3f); }, {a}));
    CHECK(gradcheck("l1", [&](const In& in) { return l1_loss(in[0], b, Reduction::Sum); }, {a}));
}

TEST_CASE("GIoU: identical, nested, disjoint (Rezatofighi et al. 2019)") {
    Tensor a = boxes({0, 0, 2, 2, 0, 0, 4, 4, 0, 0, 1, 1});
    Tensor b = boxes({0, 0, 2, 2, 1, 1, 3, 3, 3, 3, 4, 4});
    std::vector<float> v = giou_loss(a, b).to_vector<float>();
    CHECK(v[0] == doctest::Approx(0.0).epsilon(1e-6));                  // identical: GIoU 1
    CHECK(v[1] == doctest::Approx(1.0 - 4.0 / 16.0));                   // nested: IoU 1/4, hull = union
    CHECK(v[2] == doctest::Approx(1.0 - (0.0 - (16.0 - 2.0) / 16.0)));  // disjoint: IoU 0, penalised by the hull
    Generator gen(15);
    Tensor xy = Tensor::rand({6, 2}, gen) * 10.0f, wh = Tensor::rand({6, 2}, gen) * 5.0f + 1.0f;
    Tensor xy2 = Tensor::rand({6, 2}, gen) * 10.0f, wh2 = Tensor::rand({6, 2}, gen) * 5.0f + 1.0f;
    Tensor p = cat({xy, xy + wh}, 1), t = cat({xy2, xy2 + wh2}, 1);
    CHECK(gradcheck("giou", [&](const In& in) { return giou_loss(in[0], t, Reduction::Sum); }, {p}));
    CHECK_THROWS_WITH_AS(giou_loss(Tensor::zeros({2, 3}), Tensor::zeros({2, 3})),
                         "[giou] boxes must be (..., 4), got (2, 3)", Error);
}
