// NN ops against PyTorch: values and gradients from tests/engine/make_golden_nn.py,
// committed in golden_nn.inc. Inputs are the closed form input(shape, a, b)[i] = sin(a*i + b);
// gradients are of L = sum(y * r) with r[i] = cos(0.11 i).
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "engine/engine.h"
#include "golden_nn.inc"

using namespace focal;

namespace {

Tensor input(const Shape& shape, double a, double b) {
    std::vector<float> v(numel(shape));
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<float>(std::sin(a * i + b));
    return Tensor::from_vector(v, shape).requires_grad_();
}

void backward_weighted(const Tensor& y) {
    std::vector<float> r(y.numel());
    for (size_t i = 0; i < r.size(); ++i) r[i] = static_cast<float>(std::cos(0.11 * i));
    sum(y * Tensor::from_vector(r, y.shape())).backward();
}

void check_matches(const char* what, const Tensor& got, const std::vector<float>& want, double rtol = 1e-4,
                   double atol = 1e-5) {
    std::vector<float> v = got.to_vector<float>();
    REQUIRE_MESSAGE(v.size() == want.size(), std::string(what));
    for (size_t i = 0; i < v.size(); ++i)
        CHECK_MESSAGE(std::abs(v[i] - want[i]) <= atol + rtol * std::abs(want[i]),
                      std::string(what) << "[" << i << "]: focal " << v[i] << ", torch " << want[i]);
}

}  // namespace

TEST_CASE("conv2d matches PyTorch: stride 2, padding 1, bias") {
    Tensor x = input({2, 3, 6, 5}, 0.37, 0.1), w = input({4, 3, 3, 3}, 0.23, 0.5), b = input({4}, 1.1, 0.2);
    Tensor y = conv2d(x, w, b, {2, 1, 1});
    backward_weighted(y);
    check_matches("y", y, golden::conv_y);
    check_matches("dx", x.grad(), golden::conv_dx);
    check_matches("dw", w.grad(), golden::conv_dw);
    check_matches("db", b.grad(), golden::conv_db);
}

TEST_CASE("conv2d matches PyTorch: dilation 2, no bias") {
    Tensor x = input({1, 2, 7, 7}, 0.41, 0.3), w = input({3, 2, 3, 3}, 0.17, 0.9);
    Tensor y = conv2d(x, w, {}, {1, 2, 2});
    backward_weighted(y);
    check_matches("y", y, golden::dconv_y);
    check_matches("dx", x.grad(), golden::dconv_dx);
    check_matches("dw", w.grad(), golden::dconv_dw);
}

TEST_CASE("pooling matches PyTorch") {
    Tensor x = input({1, 2, 5, 5}, 0.53, 0.7);
    Tensor y = max_pool2d(x, 3, 2, 1);
    backward_weighted(y);
    check_matches("max y", y, golden::maxpool_y);
    check_matches("max dx", x.grad(), golden::maxpool_dx);
    Tensor x2 = input({1, 2, 5, 5}, 0.53, 0.7);
    Tensor y2 = avg_pool2d(x2, 3, 2, 1);
    backward_weighted(y2);
    check_matches("avg y", y2, golden::avgpool_y);
    check_matches("avg dx", x2.grad(), golden::avgpool_dx);
}

TEST_CASE("batch_norm matches PyTorch, running statistics included") {
    Tensor x = input({4, 3, 2, 3}, 0.29, 0.4), w = input({3}, 0.7, 1.0), b = input({3}, 0.9, 0.3);
    Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
    Tensor y = batch_norm(x, w, b, rm, rv, true, 0.1f, 1e-5f);
    backward_weighted(y);
    check_matches("y", y, golden::bn_y);
    check_matches("dx", x.grad(), golden::bn_dx, 1e-3, 1e-4);
    check_matches("dw", w.grad(), golden::bn_dw);
    check_matches("db", b.grad(), golden::bn_db);
    check_matches("running_mean", rm, golden::bn_running_mean);
    check_matches("running_var", rv, golden::bn_running_var);
}

TEST_CASE("group_norm matches PyTorch") {
    Tensor x = input({2, 4, 2, 3}, 0.31, 0.6), w = input({4}, 0.5, 0.2), b = input({4}, 0.8, 0.1);
    Tensor y = group_norm(x, 2, w, b);
    backward_weighted(y);
    check_matches("y", y, golden::gn_y);
    check_matches("dx", x.grad(), golden::gn_dx, 1e-3, 1e-4);
    check_matches("dw", w.grad(), golden::gn_dw);
    check_matches("db", b.grad(), golden::gn_db);
}

TEST_CASE("softplus, log_sigmoid, sigmoid match PyTorch at extreme logits") {
    std::vector<float> xs{-100, -20, -1, 0, 1, 20, 100};
    struct Case {
        const char* name;
        Tensor (*fn)(const Tensor&);
        const std::vector<float>& y;
        const std::vector<float>& dx;
    };
    for (const Case& c : {Case{"softplus", softplus, golden::softplus_y, golden::softplus_dx},
                          Case{"log_sigmoid", log_sigmoid, golden::logsigmoid_y, golden::logsigmoid_dx},
                          Case{"sigmoid", sigmoid, golden::sigmoid_y, golden::sigmoid_dx}}) {
        Tensor x = Tensor::from_vector(xs, {7}).requires_grad_();
        Tensor y = c.fn(x);
        sum(y).backward();
        // e^-100 is a float32 denormal: compare relative to 1e-6, absolute to 1e-40.
        check_matches(c.name, y, c.y, 1e-6, 1e-40);
        check_matches(c.name, x.grad(), c.dx, 1e-6, 1e-40);
    }
}
