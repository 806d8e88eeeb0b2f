// Forward values of the ops: exact cases, extreme logits, matmul against a naive loop,
// reductions, indexing, and bitwise reproducibility across runs and thread counts.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/engine.h"

using namespace focal;

namespace {
Tensor vec(std::vector<float> v) { return Tensor::from_vector(v, {static_cast<int64_t>(v.size())}); }
std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }
}  // namespace

TEST_CASE("softplus, log_sigmoid and sigmoid are exact and finite at +-100") {
    Tensor x = vec({-100.0f, -20.0f, 0.0f, 20.0f, 100.0f});
    std::vector<float> sp = values(softplus(x)), ls = values(log_sigmoid(x)), s = values(sigmoid(x));
    CHECK(sp[0] == doctest::Approx(std::exp(-100.0)).epsilon(1e-5));  // log1p(e^-100), not 0
    CHECK(sp[0] > 0.0f);
    CHECK(sp[2] == doctest::Approx(std::log(2.0)));
    CHECK(sp[4] == 100.0f);
    CHECK(ls[0] == -100.0f);
    CHECK(ls[1] == doctest::Approx(-20.0 - std::log1p(std::exp(-20.0))));
    CHECK(ls[4] == doctest::Approx(-std::exp(-100.0)).epsilon(1e-5));
    CHECK(ls[4] < 0.0f);
    CHECK(s[0] == doctest::Approx(std::exp(-100.0)).epsilon(1e-5));
    CHECK(s[4] == 1.0f);
    // Gradients stay finite too: d log_sigmoid(x)/dx = sigmoid(-x).
    Tensor leaf = x.clone().requires_grad_();
    sum(log_sigmoid(leaf) + softplus(leaf)).backward();
    for (float g : values(leaf.grad())) CHECK(std::isfinite(g));
    CHECK(values(leaf.grad())[0] == doctest::Approx(1.0f));
}

TEST_CASE("element-wise math matches the C library") {
    Tensor x = vec({0.25f, 1.0f, 2.5f});
    std::vector<float> in = values(x);
    std::vector<float> e = values(exp(x)), l = values(log(x)), r = values(sqrt(x)), t = values(tanh(x)),
                       p = values(pow(x, 1.5f));
    for (size_t i = 0; i < in.size(); ++i) {
        CHECK(e[i] == doctest::Approx(std::exp(in[i])));
        CHECK(l[i] == doctest::Approx(std::log(in[i])));
        CHECK(r[i] == doctest::Approx(std::sqrt(in[i])));
        CHECK(t[i] == doctest::Approx(std::tanh(in[i])));
        CHECK(p[i] == doctest::Approx(std::pow(in[i], 1.5)));
    }
    CHECK(values(clamp(vec({-2, 0.5f, 3}), -1, 1)) == std::vector<float>{-1, 0.5f, 1});
    CHECK(values(relu(vec({-2, 0, 3}))) == std::vector<float>{0, 0, 3});
    CHECK(values(abs(vec({-2, 0, 3}))) == std::vector<float>{2, 0, 3});
    CHECK(values(maximum(vec({1, 5}), vec({3, 2}))) == std::vector<float>{3, 5});
    CHECK(values(minimum(vec({1, 5}), Tensor::scalar(2))) == std::vector<float>{1, 2});
    CHECK(values(vec({1, 2}) / vec({4, 8})) == std::vector<float>{0.25f, 0.25f});
}

TEST_CASE("comparisons and where") {
    Tensor a = vec({1, 2, 3}), b = vec({3, 2, 1});
    CHECK(values(eq(a, b)) == std::vector<float>{0, 1, 0});
    CHECK(values(ne(a, b)) == std::vector<float>{1, 0, 1});
    CHECK(values(lt(a, b)) == std::vector<float>{1, 0, 0});
    CHECK(values(le(a, b)) == std::vector<float>{1, 1, 0});
    CHECK(values(gt(a, b)) == std::vector<float>{0, 0, 1});
    CHECK(values(ge(a, b)) == std::vector<float>{0, 1, 1});
    CHECK(values(where(gt(a, 1.5f), a, Tensor::scalar(-1))) == std::vector<float>{-1, 2, 3});
}

TEST_CASE("matmul matches a naive triple loop, including transposed and batched operands") {
    Generator gen(3);
    for (auto [m, k, n] : {std::tuple{1, 1, 1}, {7, 5, 3}, {33, 17, 65}}) {
        Tensor a = Tensor::randn({2, m, k}, gen), b = Tensor::randn({k, n}, gen);
        std::vector<float> av = values(a), bv = values(b), y = values(matmul(a, b));
        for (int batch = 0; batch < 2; ++batch)
            for (int i = 0; i < m; ++i)
                for (int j = 0; j < n; ++j) {
                    double acc = 0;
                    for (int p = 0; p < k; ++p) acc += double(av[(batch * m + i) * k + p]) * bv[p * n + j];
                    CHECK(y[(batch * m + i) * n + j] == doctest::Approx(acc).epsilon(1e-4));
                }
        // A^T B^T through transpose flags gives the same as through copies.
        Tensor at = a.select(0, 0).transpose(0, 1).contiguous().transpose(0, 1);
        if (m > 1 && k > 1) CHECK_FALSE(at.is_contiguous());
        CHECK(values(matmul(at, b)) == values(matmul(at.contiguous(), b)));
    }
    CHECK(values(matmul(Tensor::ones({2, 0}), Tensor::ones({0, 3}))) == std::vector<float>(6, 0.0f));
}

TEST_CASE("reductions with dims and keepdim") {
    Tensor x = Tensor::arange(0, 24).reshape({2, 3, 4});
    CHECK(sum(x).item() == 276.0f);
    CHECK(values(sum(x, {0, 2})) == std::vector<float>{60, 92, 124});
    CHECK(sum(x, {1}, true).shape() == Shape{2, 1, 4});
    CHECK(values(mean(x, {-1})) == std::vector<float>{1.5f, 5.5f, 9.5f, 13.5f, 17.5f, 21.5f});
    CHECK(values(max(x, {1})) == std::vector<float>{8, 9, 10, 11, 20, 21, 22, 23});
    CHECK(values(min(x.transpose(0, 2), {2})) == values(min(x, {0}).transpose(0, 1).contiguous()));
    CHECK(max(x).item() == 23.0f);
    Tensor y = vec({3, 9, 9, 1});
    CHECK(argmax(y, 0).item() == 1.0f);  // first maximum wins
    Tensor m = Tensor::from_vector(std::vector<float>{1, 7, 3, 8, 2, 0}, {2, 3});
    CHECK(argmax(m, 1).to_vector<int32_t>() == std::vector<int32_t>{1, 0});
    CHECK(argmax(m, 0, true).to_vector<int32_t>() == std::vector<int32_t>{1, 0, 0});
    CHECK(argmax(m, 0, true).shape() == Shape{1, 3});
    // Ties share the gradient of max evenly.
    Tensor t = y.clone().requires_grad_();
    max(t).backward();
    CHECK(values(t.grad()) == std::vector<float>{0, 0.5f, 0.5f, 0});
    CHECK_THROWS_WITH_AS(sum(x, {3}), doctest::Contains("[sum] dim 3 is out of range"), Error);
}

TEST_CASE("cat, stack, index_select, gather") {
    Tensor a = Tensor::arange(0, 4).reshape({2, 2}), b = Tensor::arange(4, 6).reshape({2, 1});
    CHECK(values(cat({a, b}, 1)) == std::vector<float>{0, 1, 4, 2, 3, 5});
    CHECK(stack({a, a}, 0).shape() == Shape{2, 2, 2});
    std::vector<int32_t> idx{1, 1, 0};
    CHECK(values(index_select(a, 0, Tensor::from_vector(idx, {3}))) == std::vector<float>{2, 3, 2, 3, 0, 1});
    std::vector<int32_t> g{1, 0, 0, 0};
    CHECK(values(gather(a, 1, Tensor::from_vector(g, {2, 2}))) == std::vector<float>{1, 0, 2, 2});
}

TEST_CASE("results are bitwise identical across runs and thread counts") {
    Generator gen(11);
    Tensor x = Tensor::randn({1 << 20}, gen), y = Tensor::randn({1 << 20}, gen);
    auto run = [&] {
        return std::tuple{values(sigmoid(x) * y + x), sum(x * y).item(), values(sum(x.reshape({1024, 1024}), {0}))};
    };
    const int saved = num_threads();
    set_num_threads(2);
    auto two_a = run(), two_b = run();
    set_num_threads(1);
    auto one = run();
    set_num_threads(saved);
    CHECK(std::get<0>(two_a) == std::get<0>(two_b));
    CHECK(std::get<1>(two_a) == std::get<1>(two_b));
    CHECK(std::get<2>(two_a) == std::get<2>(two_b));
    CHECK(std::get<0>(two_a) == std::get<0>(one));
    CHECK(std::get<1>(two_a) == std::get<1>(one));  // fixed-size partial sums, merged in order
    CHECK(std::get<2>(two_a) == std::get<2>(one));
}
