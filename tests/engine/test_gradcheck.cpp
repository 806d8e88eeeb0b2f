// Finite-difference gradient checks for every differentiable op, on broadcast shapes and on
// non-contiguous inputs (a transposed, permuted or sliced view built inside the function).
#include <doctest/doctest.h>

#include "gradcheck.h"

using namespace focal;
using focal::testing::gradcheck;
using In = std::vector<Tensor>;

namespace {
Generator gen(7);
Tensor randn(const Shape& s) { return Tensor::randn(s, gen); }
// Values at least 0.2 away from 0, so kinks (abs, relu) are not straddled by eps.
Tensor away_from_zero(const Shape& s) {
    Tensor x = randn(s);
    return x + sign(x) * 0.2f;
}
Tensor positive(const Shape& s) { return abs(randn(s)) + 0.5f; }
}  // namespace

TEST_CASE("gradcheck: unary math") {
    CHECK(gradcheck("neg", [](const In& in) { return neg(in[0]); }, {randn({3, 4})}));
    CHECK(gradcheck("exp", [](const In& in) { return exp(in[0]); }, {randn({3, 4})}));
    CHECK(gradcheck("log", [](const In& in) { return log(in[0]); }, {positive({3, 4})}));
    CHECK(gradcheck("sqrt", [](const In& in) { return sqrt(in[0]); }, {positive({3, 4})}));
    CHECK(gradcheck("abs", [](const In& in) { return abs(in[0]); }, {away_from_zero({3, 4})}));
    CHECK(gradcheck("pow 3", [](const In& in) { return pow(in[0], 3.0f); }, {randn({3, 4})}));
    CHECK(gradcheck("pow -1.5", [](const In& in) { return pow(in[0], -1.5f); }, {positive({5})}));
    CHECK(gradcheck("clamp", [](const In& in) { return clamp(in[0], -0.5f, 0.5f); },
                    {Tensor::from_vector(std::vector<float>{-1.2f, -0.3f, 0.1f, 0.4f, 0.9f, 2.0f}, {6})}));
    CHECK(gradcheck("relu", [](const In& in) { return relu(in[0]); }, {away_from_zero({4, 5})}));
    CHECK(gradcheck("sigmoid", [](const In& in) { return sigmoid(in[0]); }, {randn({4, 5})}));
    CHECK(gradcheck("tanh", [](const In& in) { return tanh(in[0]); }, {randn({4, 5})}));
    CHECK(gradcheck("softplus", [](const In& in) { return softplus(in[0]); }, {randn({4, 5}) * 3.0f}));
    CHECK(gradcheck("log_sigmoid", [](const In& in) { return log_sigmoid(in[0]); }, {randn({4, 5}) * 3.0f}));
    CHECK(gradcheck("scalar ops", [](const In& in) { return (2.0f - in[0] * 3.0f + 1.0f) / 4.0f; }, {randn({4})}));
}

TEST_CASE("gradcheck: unary ops on non-contiguous views") {
    CHECK(gradcheck("sigmoid(x^T)", [](const In& in) { return sigmoid(in[0].transpose(0, 1)); }, {randn({3, 5})}));
    CHECK(gradcheck("exp(slice)", [](const In& in) { return exp(in[0].slice(1, 1, 6, 2)); }, {randn({3, 7})}));
    CHECK(gradcheck(
        "softplus(permute)",
        [](const In& in) {
        return softplus(in[0].permute({2, 0, 1}));
        },
        {randn({2, 3, 4})}));
}

TEST_CASE("gradcheck: binary ops with broadcasting") {
    CHECK(gradcheck("add (3,4)+(4,)", [](const In& in) { return in[0] + in[1]; }, {randn({3, 4}), randn({4})}));
    CHECK(gradcheck("sub (3,1)-(1,4)", [](const In& in) { return in[0] - in[1]; }, {randn({3, 1}), randn({1, 4})}));
    CHECK(
        gradcheck("mul (2,3,4)*(3,1)", [](const In& in) { return in[0] * in[1]; }, {randn({2, 3, 4}), randn({3, 1})}));
    CHECK(gradcheck("div (3,4)/(4,)", [](const In& in) { return in[0] / in[1]; }, {randn({3, 4}), positive({4})}));
    CHECK(gradcheck("maximum", [](const In& in) { return maximum(in[0], in[1]); }, {randn({3, 4}), randn({3, 4})}));
    CHECK(gradcheck("minimum bcast", [](const In& in) { return minimum(in[0], in[1]); }, {randn({3, 4}), randn({4})}));
    CHECK(gradcheck("mul(x^T, y)", [](const In& in) { return in[0].transpose(0, 1) * in[1]; },
                    {randn({4, 3}), randn({3, 4})}));
    CHECK(gradcheck("a used twice", [](const In& in) { return in[0] * in[0] + in[0]; }, {randn({5})}));
}

TEST_CASE("gradcheck: where") {
    Tensor mask = gt(randn({3, 4}), 0.0f);
    CHECK(gradcheck("where", [mask](const In& in) { return where(mask, in[0], in[1]); }, {randn({3, 4}), randn({4})}));
}

TEST_CASE("gradcheck: reductions") {
    CHECK(gradcheck("sum all", [](const In& in) { return sum(in[0]); }, {randn({3, 4})}));
    CHECK(gradcheck("sum dim 1", [](const In& in) { return sum(in[0], {1}); }, {randn({3, 4, 2})}));
    CHECK(gradcheck("sum dims keepdim", [](const In& in) { return sum(in[0], {0, 2}, true); }, {randn({3, 4, 2})}));
    CHECK(gradcheck("mean -1", [](const In& in) { return mean(in[0], {-1}); }, {randn({3, 4})}));
    CHECK(gradcheck("max dim", [](const In& in) { return max(in[0], {1}); }, {randn({3, 5})}));
    CHECK(gradcheck("max all keepdim", [](const In& in) { return max(in[0], {}, true); }, {randn({3, 5})}));
    CHECK(gradcheck("min dim 0", [](const In& in) { return min(in[0], {0}); }, {randn({4, 3})}));
    CHECK(gradcheck(
        "sum of permuted",
        [](const In& in) {
        return sum(in[0].permute({1, 0, 2}), {0});
        },
        {randn({2, 3, 4})}));
    CHECK(gradcheck("sum_to", [](const In& in) { return sum_to(in[0], {3, 1}); }, {randn({2, 3, 4})}));
}

TEST_CASE("gradcheck: matmul") {
    CHECK(gradcheck("2-D", [](const In& in) { return matmul(in[0], in[1]); }, {randn({3, 4}), randn({4, 5})}));
    CHECK(gradcheck("transposed operands",
                    [](const In& in) { return matmul(in[0].transpose(0, 1), in[1].transpose(0, 1)); },
                    {randn({4, 3}), randn({5, 4})}));
    CHECK(
        gradcheck("batched", [](const In& in) { return matmul(in[0], in[1]); }, {randn({2, 3, 4}), randn({2, 4, 2})}));
    CHECK(gradcheck("batched, broadcast b", [](const In& in) { return matmul(in[0], in[1]); },
                    {randn({2, 3, 4}), randn({4, 2})}));
    CHECK(gradcheck("batch broadcast both", [](const In& in) { return matmul(in[0], in[1]); },
                    {randn({2, 1, 3, 4}), randn({3, 4, 2})}));
    CHECK(gradcheck("sliced columns", [](const In& in) { return matmul(in[0].slice(1, 0, 6, 2), in[1]); },
                    {randn({3, 6}), randn({3, 2})}));
}

TEST_CASE("gradcheck: shape ops") {
    CHECK(gradcheck("reshape", [](const In& in) { return in[0].reshape({4, -1}) * 2.0f; }, {randn({2, 3, 2})}));
    CHECK(gradcheck("reshape of transposed", [](const In& in) { return in[0].transpose(0, 1).reshape({-1}); },
                    {randn({3, 4})}));
    CHECK(gradcheck("permute", [](const In& in) { return in[0].permute({2, 0, 1}); }, {randn({2, 3, 4})}));
    CHECK(gradcheck("slice step", [](const In& in) { return in[0].slice(0, 1, 5, 2); }, {randn({6, 2})}));
    CHECK(gradcheck("select", [](const In& in) { return in[0].select(1, -1); }, {randn({3, 4})}));
    CHECK(gradcheck("narrow", [](const In& in) { return in[0].narrow(1, 1, 2); }, {randn({3, 4})}));
    CHECK(gradcheck("expand", [](const In& in) { return in[0].expand({4, 3, 2}); }, {randn({3, 1})}));
    CHECK(gradcheck("unsqueeze/squeeze", [](const In& in) { return in[0].unsqueeze(1).squeeze(2) * 1.0f; },
                    {randn({3, 1, 2})}));
    CHECK(gradcheck("flatten", [](const In& in) { return in[0].flatten(1); }, {randn({2, 3, 4})}));
    CHECK(gradcheck("contiguous", [](const In& in) { return in[0].transpose(0, 1).contiguous(); }, {randn({2, 3})}));
    CHECK(gradcheck("clone", [](const In& in) { return in[0].clone(); }, {randn({2, 3})}));
    CHECK(gradcheck(
        "cat",
        [](const In& in) {
        return cat({in[0], in[1].transpose(0, 1)}, 1);
        },
        {randn({3, 2}), randn({4, 3})}));
    CHECK(gradcheck("stack", [](const In& in) { return stack({in[0], in[1]}, 1); }, {randn({3, 2}), randn({3, 2})}));
}

TEST_CASE("gradcheck: indexing") {
    std::vector<int32_t> rows{2, 0, 2, 1};  // 2 repeats: its gradient accumulates
    Tensor index = Tensor::from_vector(rows, {4});
    CHECK(gradcheck("index_select dim 0", [index](const In& in) { return index_select(in[0], 0, index); },
                    {randn({3, 5})}));
    CHECK(gradcheck("index_select dim 1 of view",
                    [index](const In& in) { return index_select(in[0].transpose(0, 1), 1, index); }, {randn({3, 2})}));
    std::vector<int32_t> picks{0, 2, 1, 1, 2, 0};
    Tensor gather_index = Tensor::from_vector(picks, {3, 2});
    CHECK(gradcheck("gather dim 1", [gather_index](const In& in) { return gather(in[0], 1, gather_index); },
                    {randn({3, 3})}));
}

TEST_CASE("gradcheck: a small network") {
    CHECK(gradcheck(
        "mlp + bce",
        [](const In& in) {
        Tensor h = tanh(matmul(in[0], in[1]) + in[2]);
        Tensor z = matmul(h, in[3]);
        return mean(softplus(z) - z * 0.3f);
        },
        {randn({5, 3}), randn({3, 4}), randn({4}), randn({4, 1})}));
}
