// Autograd mechanics: accumulation, no-grad, detach, release, deep graphs.
#include <doctest/doctest.h>

#include <cmath>

#include "engine/engine.h"

using namespace focal;

TEST_CASE("a tensor used twice accumulates its gradient") {
    Tensor x = Tensor::from_vector(std::vector<float>{2.0f, -1.0f}, {2}).requires_grad_();
    Tensor y = sum(x * x + 3.0f * x);  // dy/dx = 2x + 3
    y.backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{7.0f, 1.0f});
    // A second graph adds onto the existing gradient, until it is zeroed.
    sum(x).backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{8.0f, 2.0f});
    x.zero_grad();
    CHECK_FALSE(x.grad().defined());
}

TEST_CASE("leaves, non-leaves and requires_grad") {
    Tensor x = Tensor::ones({2}).requires_grad_();
    Tensor c = Tensor::ones({2});
    Tensor y = x * c;
    CHECK(y.requires_grad());
    CHECK_FALSE(y.is_leaf());
    CHECK(std::string(y.grad_fn()->name) == "mul");
    CHECK_FALSE((c * c).requires_grad());
    CHECK_THROWS_WITH_AS(y.requires_grad_(), doctest::Contains("only leaf tensors"), Error);
    CHECK_THROWS_WITH_AS((c * c).backward(Tensor::ones({2})), doctest::Contains("does not require grad"), Error);
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("one-element output"), Error);
    y.backward(Tensor::full({2}, 2.0f));
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2.0f, 2.0f});
    CHECK_FALSE(c.grad().defined());
}

TEST_CASE("no-grad scope records nothing; detach cuts the graph") {
    Tensor x = Tensor::ones({3}).requires_grad_();
    {
        NoGradGuard no_grad;
        Tensor y = exp(x);
        CHECK_FALSE(y.requires_grad());
        CHECK(y.grad_fn() == nullptr);
    }
    CHECK(grad_enabled());
    Tensor d = (x * 2.0f).detached();
    CHECK_FALSE(d.requires_grad());
    Tensor y = sum(d * x);
    y.backward();
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2.0f, 2.0f, 2.0f});
}

TEST_CASE("in-place updates of tensors that require grad are refused outside no-grad") {
    Tensor w = Tensor::ones({2}).requires_grad_();
    CHECK_THROWS_WITH_AS(w.add_(Tensor::ones({2})), doctest::Contains("NoGradGuard"), Error);
    NoGradGuard no_grad;
    w.add_(Tensor::ones({2}), -0.5f);
    CHECK(w.to_vector<float>() == std::vector<float>{0.5f, 0.5f});
    w.mul_(4.0f);
    CHECK(w.to_vector<float>() == std::vector<float>{2.0f, 2.0f});
}

TEST_CASE("the graph is released after backward") {
    Tensor x = Tensor::ones({2}).requires_grad_();
    Tensor y = sum(exp(x));
    std::weak_ptr<Node> inner = y.grad_fn()->edges[0].node;
    CHECK_FALSE(inner.expired());
    y.backward();
    CHECK(inner.expired());  // the exp node and its saved output are gone
    CHECK_THROWS_WITH_AS(y.backward(), doctest::Contains("already released"), Error);
}

TEST_CASE("a 10,000-op chain backpropagates without overflowing the stack") {
    Tensor x = Tensor::from_vector(std::vector<float>{0.5f}, {1}).requires_grad_();
    Tensor y = x;
    for (int i = 0; i < 10000; ++i) y = y * 1.0001f + 0.0f;
    y.backward(Tensor::ones({1}));
    CHECK(x.grad().item() == doctest::Approx(std::pow(1.0001, 10000)).epsilon(1e-3));
    // Building and dropping a 200,000-node graph without backward: iterative destruction.
    Tensor z = x;
    for (int i = 0; i < 200000; ++i) z = z + 1.0f;
    z = Tensor();
}

TEST_CASE("diamond graphs sum the gradients of every path") {
    Tensor x = Tensor::from_vector(std::vector<float>{1.5f}, {1}).requires_grad_();
    Tensor a = sigmoid(x), b = a * a, c = a * 3.0f;
    (b + c).backward(Tensor::ones({1}));
    float s = 1.0f / (1.0f + std::exp(-1.5f));
    CHECK(x.grad().item() == doctest::Approx((2 * s + 3) * s * (1 - s)));
}

TEST_CASE("backward from several outputs equals backward from the sum of their inner products") {
    Generator gen(3);
    Tensor x = Tensor::randn({2, 3}, gen).requires_grad_();
    Tensor w = Tensor::randn({3}, gen).requires_grad_();
    // Outputs that share nodes (h feeds both), one of them a leaf, and one seeded twice.
    auto outputs = [&] {
        Tensor h = tanh(x * w);
        return std::vector<Tensor>{h * 2.0f, exp(h), w, h * 2.0f};
    };
    std::vector<Tensor> seeds;
    for (const Tensor& y : outputs()) seeds.push_back(Tensor::randn(y.shape(), gen));

    std::vector<Tensor> ys = outputs();
    Tensor total = Tensor::scalar(0.0f);
    for (size_t i = 0; i < ys.size(); ++i) total = total + sum(ys[i] * seeds[i]);
    total.backward();
    const std::vector<float> dx_sum = x.grad().to_vector<float>(), dw_sum = w.grad().to_vector<float>();
    x.zero_grad();
    w.zero_grad();

    run_backward(outputs(), seeds);
    const std::vector<float> dx = x.grad().to_vector<float>(), dw = w.grad().to_vector<float>();
    REQUIRE(dx.size() == dx_sum.size());
    for (size_t i = 0; i < dx.size(); ++i) CHECK(dx[i] == doctest::Approx(dx_sum[i]).epsilon(1e-5));
    for (size_t i = 0; i < dw.size(); ++i) CHECK(dw[i] == doctest::Approx(dw_sum[i]).epsilon(1e-5));
}

TEST_CASE("backward from several outputs rejects mismatched seeds") {
    Tensor x = Tensor::ones({2}).requires_grad_();
    Tensor y = x * 2.0f;
    CHECK_THROWS_WITH_AS(run_backward(std::vector{y}, std::vector<Tensor>{}), doctest::Contains("1 outputs but 0"),
                         Error);
    CHECK_THROWS_WITH_AS(run_backward(std::vector{y, y}, std::vector{Tensor::ones({2}), Tensor::ones({3})}),
                         doctest::Contains("output 1 of shape (2,)"), Error);
    CHECK_THROWS_WITH_AS(run_backward(std::vector{y, Tensor::ones({2})},
                                      std::vector{Tensor::ones({2}), Tensor::ones({2})}),
                         doctest::Contains("output 1 does not require grad"), Error);
    CHECK_FALSE(x.grad().defined());  // validation comes before any gradient is written
}

TEST_CASE("a gradient buffer receives the gradient; later ones add into it in place") {
    Tensor x = Tensor::from_vector(std::vector<float>{2.0f, -1.0f}, {2}).requires_grad_();
    Tensor storage = Tensor::full({5}, 9.0f);
    const Tensor buffer = storage.narrow(0, 1, 2);  // a view, as data-parallel slots are
    x.set_grad_buffer(buffer);
    sum(x * x).backward();  // 2x, from two edges into x
    CHECK(x.grad().impl() == buffer.impl());
    CHECK(storage.to_vector<float>() == std::vector<float>{9.0f, 4.0f, -2.0f, 9.0f, 9.0f});
    sum(x).backward();  // + 1, a second backward
    CHECK(x.grad().impl() == buffer.impl());
    CHECK(storage.to_vector<float>() == std::vector<float>{9.0f, 5.0f, -1.0f, 9.0f, 9.0f});
    x.zero_grad();
    sum(3.0f * x).backward();  // the buffer again, overwritten
    CHECK(x.grad().impl() == buffer.impl());
    CHECK(storage.to_vector<float>() == std::vector<float>{9.0f, 3.0f, 3.0f, 9.0f, 9.0f});
    // A gradient that is not the buffer (set by hand) accumulates into a fresh tensor.
    x.set_grad(Tensor::ones({2}));
    sum(x).backward();
    CHECK_FALSE(x.grad().same_storage(storage));
    CHECK(x.grad().to_vector<float>() == std::vector<float>{2.0f, 2.0f});
    x.set_grad_buffer(Tensor());
    x.zero_grad();
    sum(x).backward();
    CHECK_FALSE(x.grad().same_storage(storage));
    CHECK(storage.to_vector<float>() == std::vector<float>{9.0f, 3.0f, 3.0f, 9.0f, 9.0f});

    CHECK_THROWS_WITH_AS(x.set_grad_buffer(Tensor::zeros({3})), doctest::Contains("[set_grad_buffer]"), Error);
    CHECK_THROWS_WITH_AS(x.set_grad_buffer(Tensor::zeros({2, 2}).select(1, 0)), doctest::Contains("contiguous"), Error);
}

TEST_CASE("a leaf's grad-ready hook runs once, as soon as its gradient is final, before backward ends") {
    const Tensor x = Tensor::from_vector(std::vector<float>{1.0f, -2.0f, 3.0f}, {3});
    Tensor w1 = Tensor::from_vector(std::vector<float>{0.5f, 1.0f, -1.0f}, {3}).requires_grad_();
    Tensor w2 = Tensor::from_vector(std::vector<float>{2.0f, 3.0f, 4.0f}, {3}).requires_grad_();
    Tensor elsewhere = Tensor::ones({3}).requires_grad_();
    std::vector<std::vector<float>> w1_at_its_hook;
    std::vector<bool> w1_reached_at_w2_hook;
    int elsewhere_calls = 0;
    w1.set_grad_ready_hook([&] { w1_at_its_hook.push_back(w1.grad().to_vector<float>()); });
    w2.set_grad_ready_hook([&] { w1_reached_at_w2_hook.push_back(w1.grad().defined()); });
    elsewhere.set_grad_ready_hook([&] { ++elsewhere_calls; });
    const Tensor unwalked = sum(elsewhere * x);  // a graph this backward does not walk

    // y = sum(w2 * (w1 * x + w1)), w1 on two paths: dy/dw1 = w2 * (x + 1), dy/dw2 = w1 * (x + 1).
    sum(w2 * (w1 * x + w1)).backward();
    CHECK(w1_reached_at_w2_hook == std::vector<bool>{false});  // w2 was final before backward reached w1
    REQUIRE(w1_at_its_hook.size() == 1);                       // once, after both of w1's paths
    CHECK(w1_at_its_hook[0] == std::vector<float>{4.0f, -3.0f, 16.0f});
    CHECK(w1.grad().to_vector<float>() == w1_at_its_hook[0]);
    CHECK(elsewhere_calls == 0);

    w1.set_grad_ready_hook({}), w2.set_grad_ready_hook({});  // removed: backward calls nothing
    sum(w2 * w1).backward();
    CHECK(w1_at_its_hook.size() == 1);
    CHECK(w1_reached_at_w2_hook.size() == 1);
}
