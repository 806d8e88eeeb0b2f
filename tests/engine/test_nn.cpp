// Neural-network ops: exact small cases, statistics, modes and bad input.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/engine.h"

using namespace focal;

namespace {
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }
}  // namespace

TEST_CASE("conv2d on a hand-computed case") {
    // 1x1x3x3 input 1..9, 2x2 kernel of ones, stride 1: each output sums a 2x2 window.
    Tensor x = Tensor::arange(1, 10).reshape({1, 1, 3, 3});
    Tensor w = Tensor::ones({1, 1, 2, 2});
    CHECK(values(conv2d(x, w)) == std::vector<float>{12, 16, 24, 28});
    // padding 1, stride 2: windows at (-1,-1), (-1,1), (1,-1), (1,1).
    CHECK(values(conv2d(x, w, Tensor::full({1}, 0.5f), {2, 1, 1})) == std::vector<float>{1.5f, 5.5f, 11.5f, 28.5f});
    CHECK(conv2d(Tensor::zeros({2, 3, 8, 8}), Tensor::zeros({5, 3, 3, 3}), {}, {2, 1, 1}).shape() == Shape{2, 5, 4, 4});
    CHECK_THROWS_WITH_AS(conv2d(Tensor::zeros({1, 4, 5, 5}), Tensor::zeros({2, 3, 3, 3})),
                         "[conv2d] input has 4 channels, weight expects 3", Error);
    CHECK_THROWS_WITH_AS(conv2d(Tensor::zeros({1, 3, 2, 2}), Tensor::zeros({2, 3, 3, 3})),
                         doctest::Contains("smaller than the kernel"), Error);
    CHECK_THROWS_WITH_AS(conv2d(Tensor::zeros({3, 5, 5}), Tensor::zeros({2, 3, 3, 3})),
                         doctest::Contains("(N, C, H, W)"), Error);
}

TEST_CASE("pooling and upsampling values") {
    Tensor x = Tensor::arange(0, 16).reshape({1, 1, 4, 4});
    CHECK(values(max_pool2d(x, 2)) == std::vector<float>{5, 7, 13, 15});
    CHECK(values(avg_pool2d(x, 2)) == std::vector<float>{2.5f, 4.5f, 10.5f, 12.5f});
    CHECK(values(global_avg_pool2d(x)) == std::vector<float>{7.5f});
    // Padding never wins a max, and counts in an average (PyTorch's count_include_pad).
    Tensor neg = Tensor::full({1, 1, 2, 2}, -1.0f);
    CHECK(values(max_pool2d(neg, 3, 1, 1)) == std::vector<float>{-1, -1, -1, -1});
    CHECK(values(avg_pool2d(Tensor::ones({1, 1, 2, 2}), 3, 1, 1))[0] == doctest::Approx(4.0 / 9));
    Tensor small = Tensor::arange(0, 4).reshape({1, 1, 2, 2});
    CHECK(values(upsample_nearest2x(small)) == std::vector<float>{0, 0, 1, 1, 0, 0, 1, 1, 2, 2, 3, 3, 2, 2, 3, 3});
}

TEST_CASE("batch_norm: batch statistics in training, running statistics in eval") {
    Generator gen(4);
    Tensor x = Tensor::randn({8, 3, 4, 4}, gen) * 3.0f + 2.0f;
    Tensor rm = Tensor::zeros({3}), rv = Tensor::ones({3});
    Tensor y = batch_norm(x, {}, {}, rm, rv, true, 0.1f);
    // Each channel of y has mean 0 and (biased) variance 1.
    std::vector<float> m = values(mean(y, {0, 2, 3})), v = values(mean(y * y, {0, 2, 3}));
    for (int c = 0; c < 3; ++c) {
        CHECK(m[c] == doctest::Approx(0.0).epsilon(1e-5).scale(1));
        CHECK(v[c] == doctest::Approx(1.0).epsilon(1e-3));
    }
    // Running statistics moved 10% of the way to the batch's (unbiased variance).
    std::vector<float> bm = values(mean(x, {0, 2, 3}));
    Tensor centered = x - mean(x, {0, 2, 3}, true);
    std::vector<float> bv = values(sum(centered * centered, {0, 2, 3}) / 127.0f);
    for (int c = 0; c < 3; ++c) {
        CHECK(values(rm)[c] == doctest::Approx(0.1 * bm[c]).epsilon(1e-5));
        CHECK(values(rv)[c] == doctest::Approx(0.9 + 0.1 * bv[c]).epsilon(1e-5));
    }
    // Eval uses the running statistics: y = (x - rm) / sqrt(rv + eps) * w + b.
    Tensor w = Tensor::full({3}, 2.0f), b = Tensor::full({3}, -1.0f);
    Tensor e = batch_norm(x, w, b, rm, rv, false);
    float expect = (x.to_vector<float>()[0] - values(rm)[0]) / std::sqrt(values(rv)[0] + 1e-5f) * 2.0f - 1.0f;
    CHECK(e.to_vector<float>()[0] == doctest::Approx(expect).epsilon(1e-5));
    CHECK_THROWS_WITH_AS(batch_norm(Tensor::ones({1, 3}), {}, {}, rm, rv, true),
                         doctest::Contains("more than one value per channel"), Error);
    CHECK_THROWS_WITH_AS(batch_norm(x, Tensor::ones({4}), {}, rm, rv, true), doctest::Contains("per-channel"), Error);
}

TEST_CASE("group_norm normalises each (image, group)") {
    Generator gen(6);
    Tensor x = Tensor::randn({2, 4, 3, 3}, gen) * 5.0f + 1.0f;
    Tensor y = group_norm(x, 2, {}, {});
    Tensor grouped = y.reshape({2, 2, -1});
    for (float m : values(mean(grouped, {2}))) CHECK(m == doctest::Approx(0.0).scale(1).epsilon(1e-5));
    for (float v : values(mean(grouped * grouped, {2}))) CHECK(v == doctest::Approx(1.0).epsilon(1e-3));
    CHECK_THROWS_WITH_AS(group_norm(x, 3, {}, {}), doctest::Contains("do not split into 3 groups"), Error);
}

TEST_CASE("dropout keeps the expectation and is seeded") {
    Tensor x = Tensor::ones({100000});
    Generator g1(9), g2(9);
    Tensor a = dropout(x, 0.25f, true, g1), b = dropout(x, 0.25f, true, g2);
    CHECK(values(a) == values(b));
    CHECK(mean(a).item() == doctest::Approx(1.0).epsilon(0.02));
    CHECK(mean(eq(a, Tensor::scalar(0))).item() == doctest::Approx(0.25).epsilon(0.03));
    CHECK(dropout(x, 0.5f, false, g1).same_storage(x));
    CHECK_THROWS_WITH_AS(dropout(x, 1.0f, true, g1), doctest::Contains("[dropout] p must be in [0, 1)"), Error);
}

TEST_CASE("fused batch_norm equals batch_norm composed from ops, values and gradients") {
    Generator gen(12);
    Tensor x0 = Tensor::randn({4, 3, 5, 6}, gen) * 2.0f + 1.0f;
    Tensor w0 = Tensor::randn({3}, gen), b0 = Tensor::randn({3}, gen), dy = Tensor::randn({4, 3, 5, 6}, gen);
    for (bool training : {true, false}) {
        CAPTURE(training);
        Tensor rm = Tensor::randn({3}, gen), rv = abs(Tensor::randn({3}, gen)) + 0.5f;
        // The composed reference: statistics and normalisation written with engine ops.
        Tensor x = x0.clone().requires_grad_(), w = w0.clone().requires_grad_(), b = b0.clone().requires_grad_();
        Shape bshape{1, 3, 1, 1};
        Tensor m = training ? mean(x, {0, 2, 3}, true) : rm.view(bshape);
        Tensor v = training ? mean((x - m) * (x - m), {0, 2, 3}, true) : rv.view(bshape);
        Tensor ref = (x - m) * pow(v + 1e-5f, -0.5f) * w.view(bshape) + b.view(bshape);
        ref.backward(dy);
        // The fused op.
        Tensor xf = x0.clone().requires_grad_(), wf = w0.clone().requires_grad_(), bf = b0.clone().requires_grad_();
        Tensor fused = batch_norm(xf, wf, bf, rm.clone(), rv.clone(), training);
        fused.backward(dy);
        auto close = [](const Tensor& a, const Tensor& e) {
            std::vector<float> av = a.to_vector<float>(), ev = e.to_vector<float>();
            for (size_t i = 0; i < av.size(); ++i) CHECK(av[i] == doctest::Approx(ev[i]).epsilon(1e-4).scale(1e-3));
        };
        close(fused, ref);
        close(xf.grad(), x.grad());
        close(wf.grad(), w.grad());
        close(bf.grad(), b.grad());
    }
}
