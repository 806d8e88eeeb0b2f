// Finite-difference gradient checks for the neural-network ops.
#include <doctest/doctest.h>

#include "gradcheck.h"

using namespace focal;
using focal::testing::gradcheck;
using In = std::vector<Tensor>;

namespace {
Generator gen(21);
Tensor randn(const Shape& s) { return Tensor::randn(s, gen); }
// Distinct values at least 0.1 apart, in shuffled order: no max is ever within eps of a tie.
Tensor spread(const Shape& s) {
    std::vector<float> v(numel(s));
    for (size_t i = 0; i < v.size(); ++i) v[i] = 0.1f * static_cast<float>((i * 7919) % v.size());
    return Tensor::from_vector(v, s);
}
}  // namespace

TEST_CASE("gradcheck: conv2d") {
    // This one runs Winograd F(2x2, 3x3), whose transforms round a little differently at
    // x and x +- eps; conv2d is linear in each input, so a large step costs no accuracy.
    CHECK(gradcheck(
        "3x3 pad 1 + bias",
        [](const In& in) {
        return conv2d(in[0], in[1], in[2], {1, 1, 1});
        },
        {randn({2, 3, 5, 5}), randn({4, 3, 3, 3}), randn({4})}, {5e-2, 1e-3, 1e-2}));
    CHECK(gradcheck(
        "3x3 stride 2 no bias",
        [](const In& in) {
        return conv2d(in[0], in[1], {}, {2, 1, 1});
        },
        {randn({2, 2, 7, 6}), randn({3, 2, 3, 3})}));
    CHECK(gradcheck(
        "dilation 2",
        [](const In& in) {
        return conv2d(in[0], in[1], {}, {1, 2, 2});
        },
        {randn({1, 2, 6, 6}), randn({2, 2, 3, 3})}));
    CHECK(gradcheck("1x1 lateral", [](const In& in) { return conv2d(in[0], in[1], in[2]); },
                    {randn({2, 4, 3, 3}), randn({2, 4, 1, 1}), randn({2})}));
    CHECK(gradcheck(
        "non-square kernel on permuted input",
        [](const In& in) {
        return conv2d(in[0].permute({0, 1, 3, 2}), in[1], {}, {1, 1, 1});
        },
        {randn({1, 2, 5, 4}), randn({3, 2, 3, 2})}));
}

TEST_CASE("gradcheck: pooling and upsampling") {
    CHECK(gradcheck("max_pool2d 2", [](const In& in) { return max_pool2d(in[0], 2); }, {spread({2, 2, 4, 6})}));
    CHECK(gradcheck("max_pool2d 3 s2 p1", [](const In& in) { return max_pool2d(in[0], 3, 2, 1); },
                    {spread({1, 2, 5, 5})}));
    CHECK(gradcheck("avg_pool2d 3 s2 p1", [](const In& in) { return avg_pool2d(in[0], 3, 2, 1); },
                    {randn({1, 2, 5, 5})}));
    CHECK(gradcheck("global_avg_pool2d", [](const In& in) { return global_avg_pool2d(in[0]); }, {randn({2, 3, 3, 4})}));
    CHECK(
        gradcheck("upsample_nearest2x", [](const In& in) { return upsample_nearest2x(in[0]); }, {randn({2, 2, 3, 2})}));
}

TEST_CASE("gradcheck: normalisation") {
    CHECK(gradcheck(
        "batch_norm train",
        [](const In& in) { return batch_norm(in[0], in[1], in[2], Tensor::zeros({3}), Tensor::ones({3}), true); },
        {randn({4, 3, 2, 2}), randn({3}), randn({3})}));
    CHECK(gradcheck("batch_norm train, no affine, 2-D",
                    [](const In& in) { return batch_norm(in[0], {}, {}, {}, {}, true); }, {randn({5, 3})}));
    Tensor rm = randn({3}), rv = abs(randn({3})) + 0.5f;
    CHECK(gradcheck("batch_norm eval",
                    [rm, rv](const In& in) { return batch_norm(in[0], in[1], in[2], rm, rv, false); },
                    {randn({2, 3, 2, 2}), randn({3}), randn({3})}));
    CHECK(gradcheck("group_norm", [](const In& in) { return group_norm(in[0], 2, in[1], in[2]); },
                    {randn({2, 4, 2, 3}), randn({4}), randn({4})}));
}

TEST_CASE("gradcheck: linear") {
    CHECK(gradcheck("linear", [](const In& in) { return linear(in[0], in[1], in[2]); },
                    {randn({3, 4}), randn({5, 4}), randn({5})}));
    CHECK(gradcheck("linear 3-D input", [](const In& in) { return linear(in[0], in[1]); },
                    {randn({2, 3, 4}), randn({2, 4})}));
}

TEST_CASE("gradcheck: dropout with a fixed mask") {
    CHECK(gradcheck(
        "dropout",
        [](const In& in) {
        Generator g(5);  // the same mask at every evaluation
        return dropout(in[0], 0.3f, true, g);
        },
        {randn({4, 5})}));
}
