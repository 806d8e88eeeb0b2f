// The asymmetric loss ("asl"): the shared checks, and what makes it ASL.
#include <doctest/doctest.h>

#include "loss_checks.h"

using namespace focal;
using namespace focal::losses;

TEST_CASE("asl: passes the shared checks") {
    focal::testing::check_cls_loss("asl");
    focal::testing::check_cls_loss("asl", {{"margin", 0.0f}, {"gamma_neg", 0.5f}});
}

TEST_CASE("asl: with no margin and one gamma it is the focal loss (alpha off)") {
    Generator gen(31);
    Tensor x = Tensor::randn({4, 5, 3}, gen) * 3.0f;
    Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, -1, 2,  -1, 1,  -1, -1, 0, -1, -1,
                                                             1, 2,  -1, -1, -1, 0,  -1, 2, -1, -1},
                                        {4, 5});
    const float asl = make_cls_loss("asl", {{"gamma_pos", 2}, {"gamma_neg", 2}, {"margin", 0}})({x, labels}).item();
    const float fl = make_cls_loss("focal", {{"gamma", 2}, {"alpha", -1}})({x, labels}).item();
    CHECK(asl == doctest::Approx(fl).epsilon(1e-5));
}

TEST_CASE("asl: negatives below the margin cost nothing") {
    // p = sigmoid(-4) = 0.018 < m = 0.05: an easy negative, discarded; p = sigmoid(0) = 0.5 is not
    Tensor x = Tensor::from_vector(std::vector<float>{-4.0f, 0.0f}, {2, 1});
    Tensor none = make_cls_loss("asl")({x, Tensor::zeros({2, 1}), {}, 1.0f, Reduction::None});
    CHECK(none.to_vector<float>()[0] == doctest::Approx(0.0).epsilon(1e-12));
    CHECK(none.to_vector<float>()[1] > 0.0f);
}
