// The sigmoid focal loss and BCE: the properties of Lin et al. 2017, the traps at extreme
// logits (docs/design.md, "Known traps"), gradient checks, and bad input.
#include <doctest/doctest.h>

#include <cfloat>
#include <cmath>
#include <functional>

#include "engine/gradcheck.h"
#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;
using focal::testing::gradcheck;
using In = std::vector<Tensor>;

namespace {

// Every pair of a logit from -100..100 (and beyond) with a hard or soft target: (2, 3 * 19).
struct Grid {
    Tensor logits, targets;
};
Grid grid() {
    const std::vector<float> xs = {-100, -50,  -20, -10, -5, -2, -1, -0.5f, -0.1f, 0,
                                   0.1f, 0.5f, 1,   2,   5,  10, 20, 50,    100};
    std::vector<float> x, t;
    for (float target : {0.0f, 1.0f, 0.3f})
        for (float v : xs) x.push_back(v), t.push_back(target);
    return {Tensor::from_vector(x, {3, int64_t(xs.size())}), Tensor::from_vector(t, {3, int64_t(xs.size())})};
}

std::vector<float> grad_of(const std::function<Tensor(const Tensor&)>& f, const Tensor& x0) {
    Tensor x = x0.clone().requires_grad_();
    sum(f(x)).backward();
    return x.grad().to_vector<float>();
}

// The two implementations of FL, with one signature.
using FocalFn = std::function<Tensor(const Tensor&, const Tensor&, float alpha, float gamma, Reduction)>;
const std::vector<std::pair<std::string, FocalFn>>& focal_impls() {
    static const std::vector<std::pair<std::string, FocalFn>> impls = {
        {"composed", [](const Tensor& x, const Tensor& t, float a, float g,
                        Reduction r) { return sigmoid_focal_loss(x, t, a, g, r); }},
        {"fused", [](const Tensor& x, const Tensor& t, float a, float g,
                     Reduction r) { return sigmoid_focal_loss_fused(x, t, a, g, r); }},
    };
    return impls;
}

bool finite(const std::vector<float>& v) {
    for (float f : v)
        if (!std::isfinite(f)) return false;
    return true;
}

}  // namespace

TEST_CASE("focal loss <= BCE, element-wise, for every gamma and alpha") {
    Grid g = grid();
    for (float gamma : {0.0f, 0.5f, 1.0f, 2.0f, 5.0f})
        for (float alpha : {-1.0f, 0.25f, 0.75f}) {
            CAPTURE(gamma);
            CAPTURE(alpha);
            std::vector<float> bce =
                binary_cross_entropy_with_logits(g.logits, g.targets, alpha, Reduction::None).to_vector<float>();
            std::vector<float> fl = sigmoid_focal_loss(g.logits, g.targets, alpha, gamma).to_vector<float>();
            std::vector<float> fused = sigmoid_focal_loss_fused(g.logits, g.targets, alpha, gamma).to_vector<float>();
            for (size_t i = 0; i < bce.size(); ++i) {
                CHECK(fl[i] <= bce[i]);
                CHECK(fused[i] <= bce[i]);
                CHECK(fl[i] >= 0.0f);
            }
        }
}

TEST_CASE("gamma = 0 with alpha off is BCE exactly, gradients included") {
    Grid g = grid();
    Tensor bce = binary_cross_entropy_with_logits(g.logits, g.targets, -1.0f, Reduction::None);
    CHECK(sigmoid_focal_loss(g.logits, g.targets, -1.0f, 0.0f).to_vector<float>() == bce.to_vector<float>());
    CHECK(sigmoid_focal_loss_fused(g.logits, g.targets, -1.0f, 0.0f).to_vector<float>() == bce.to_vector<float>());
    auto bce_fn = [&](const Tensor& x) {
        return binary_cross_entropy_with_logits(x, g.targets, -1.0f, Reduction::None);
    };
    const std::vector<float> expected = grad_of(bce_fn, g.logits);
    CHECK(grad_of([&](const Tensor& x) { return sigmoid_focal_loss(x, g.targets, -1.0f, 0.0f); }, g.logits) ==
          expected);
    CHECK(grad_of([&](const Tensor& x) { return sigmoid_focal_loss_fused(x, g.targets, -1.0f, 0.0f); }, g.logits) ==
          expected);
    // and alpha-balanced FL at gamma 0 is alpha-balanced BCE (Lin et al. 2017, eq. 3)
    CHECK(sigmoid_focal_loss(g.logits, g.targets, 0.25f, 0.0f).to_vector<float>() ==
          binary_cross_entropy_with_logits(g.logits, g.targets, 0.25f, Reduction::None).to_vector<float>());
}

TEST_CASE("exact at logits of +-100: softplus forms, no log(0)") {
    Tensor x = Tensor::from_vector(std::vector<float>{100, -100, 100, -100}, {4});
    Tensor t = Tensor::from_vector(std::vector<float>{0, 1, 1, 0}, {4});
    for (const auto& impl : focal_impls()) {
        const std::string& name = impl.first;  // not a structured binding: clang 14 cannot capture one
        const FocalFn& fl = impl.second;
        CAPTURE(name);
        std::vector<float> v = fl(x, t, 0.25f, 2.0f, Reduction::None).to_vector<float>();
        CHECK(v[0] == 75.0f);  // (1 - alpha) * 1^2 * 100: the wrong side costs exactly |x|
        CHECK(v[1] == 25.0f);
        CHECK(v[2] == 0.0f);  // 0.25 * (e^-100)^2 * e^-100 underflows to 0, and is not nan
        CHECK(v[3] == 0.0f);
    }
    // BCE of a confident right answer is e^-100 = 3.7e-44 (a float32 denormal), not log(1) = 0
    std::vector<float> bce = binary_cross_entropy_with_logits(x, t, -1.0f, Reduction::None).to_vector<float>();
    CHECK(bce[0] == 100.0f);
    CHECK(bce[2] > 0.0f);
    CHECK(bce[2] == doctest::Approx(3.72e-44).epsilon(0.05));
}

TEST_CASE("gradients stay finite for gamma < 1 as p_t -> 1, and vanish") {
    std::vector<float> xs;
    for (float v = 0; v <= 200; v += 2.5f) xs.push_back(v);
    xs.push_back(1e30f);
    xs.push_back(FLT_MAX);
    Tensor x = Tensor::from_vector(xs, {int64_t(xs.size())});
    Tensor t = Tensor::ones({int64_t(xs.size())});  // p_t = sigmoid(x) -> 1
    for (float gamma : {0.0f, 0.1f, 0.5f, 0.9f, 1.0f, 2.0f}) {
        CAPTURE(gamma);
        for (const auto& impl : focal_impls()) {
            const std::string& name = impl.first;  // not a structured binding: clang 14 cannot capture one
            const FocalFn& fl = impl.second;
            CAPTURE(name);
            std::vector<float> g =
                grad_of([&](const Tensor& in) { return fl(in, t, 0.25f, gamma, Reduction::None); }, x);
            CHECK(finite(g));
            for (size_t i = 1; i < g.size(); ++i) {
                CHECK(g[i] <= 0.0f);                          // more confident, lower loss
                CHECK(std::abs(g[i]) <= std::abs(g[i - 1]));  // and a smaller push
            }
            CHECK(g.back() == 0.0f);
        }
    }
}

TEST_CASE("no nan for any finite input") {
    // The fused op: every finite float. The composed one: |x| <= 1e37; beyond, its chain rule
    // multiplies ce * gamma * q^(gamma - 1) (which overflows) by dq/dx = 0 (see the header).
    const std::vector<float> xs = {-1e37f, -1e30f, -1e4f, -103.5f, -88,  1e-40f, -0.0f,
                                   0,      1e-30f, 88,    103.5f,  1e4f, 1e30f,  1e37f};
    for (const auto& impl : focal_impls()) {
        const std::string& name = impl.first;  // not a structured binding: clang 14 cannot capture one
        const FocalFn& fl = impl.second;
        std::vector<float> x, t;
        for (float target : {0.0f, 1.0f, 0.5f, 1e-30f}) {
            for (float v : xs) x.push_back(v), t.push_back(target);
            if (name == "fused") x.push_back(FLT_MAX), x.push_back(-FLT_MAX), t.push_back(target), t.push_back(target);
        }
        Tensor logits = Tensor::from_vector(x, {int64_t(x.size())}),
               targets = Tensor::from_vector(t, {int64_t(t.size())});
        for (float gamma : {0.0f, 0.5f, 2.0f, 5.0f}) {
            CAPTURE(gamma);
            CAPTURE(name);
            std::vector<float> v = fl(logits, targets, 0.25f, gamma, Reduction::None).to_vector<float>();
            for (float f : v) CHECK((std::isfinite(f) && f >= 0.0f));
            CHECK(finite(
                grad_of([&](const Tensor& in) { return fl(in, targets, 0.25f, gamma, Reduction::None); }, logits)));
        }
    }
}

TEST_CASE("gradcheck: focal (composed and fused) and BCE") {
    Generator gen(3);
    Tensor x = Tensor::randn({4, 6}, gen) * 3.0f;
    Tensor hard = gt(Tensor::rand({4, 6}, gen), 0.7f), soft = Tensor::rand({4, 6}, gen);
    for (const Tensor& t : {hard, soft})
        for (float gamma : {0.0f, 0.5f, 2.0f, 5.0f})
            for (float alpha : {-1.0f, 0.25f}) {
                CAPTURE(gamma);
                CAPTURE(alpha);
                CHECK(
                    gradcheck("focal", [&](const In& in) { return sigmoid_focal_loss(in[0], t, alpha, gamma); }, {x}));
                CHECK(gradcheck(
                    "focal fused sum",
                    [&](const In& in) { return sigmoid_focal_loss_fused(in[0], t, alpha, gamma, Reduction::Sum); },
                    {x}));
                CHECK(gradcheck(
                    "focal fused none",
                    [&](const In& in) { return sigmoid_focal_loss_fused(in[0], t, alpha, gamma, Reduction::None); },
                    {x}));
            }
    CHECK(gradcheck("bce mean", [&](const In& in) { return binary_cross_entropy_with_logits(in[0], soft); }, {x}));
    CHECK(gradcheck("bce alpha", [&](const In& in) { return binary_cross_entropy_with_logits(in[0], hard, 0.25f); },
                    {x}));
    // the composed loss also differentiates through soft targets
    CHECK(gradcheck("focal d/dt", [&](const In& in) { return sigmoid_focal_loss(x, in[0], 0.25f, 2.0f); }, {soft}));
}

TEST_CASE("reductions: none / sum / mean") {
    Generator gen(5);
    Tensor x = Tensor::randn({3, 5}, gen), t = gt(Tensor::rand({3, 5}, gen), 0.5f);
    for (const auto& impl : focal_impls()) {
        const std::string& name = impl.first;  // not a structured binding: clang 14 cannot capture one
        const FocalFn& fl = impl.second;
        CAPTURE(name);
        Tensor none = fl(x, t, 0.25f, 2.0f, Reduction::None);
        CHECK(none.shape() == Shape{3, 5});
        CHECK(fl(x, t, 0.25f, 2.0f, Reduction::Sum).item() == doctest::Approx(sum(none).item()).epsilon(1e-6));
        CHECK(fl(x, t, 0.25f, 2.0f, Reduction::Mean).item() == doctest::Approx(mean(none).item()).epsilon(1e-6));
        CHECK(fl(Tensor::zeros({0, 4}), Tensor::zeros({0, 4}), 0.25f, 2.0f, Reduction::Mean).item() == 0.0f);
    }
    CHECK(parse_reduction("mean") == Reduction::Mean);
    CHECK_THROWS_WITH_AS(parse_reduction("avg"), doctest::Contains("avg"), Error);
}

TEST_CASE("bad input names the op and the value") {
    Tensor x = Tensor::zeros({2, 3});
    CHECK_THROWS_WITH_AS(sigmoid_focal_loss(x, Tensor::zeros({2, 4})),
                         doctest::Contains("[sigmoid_focal_loss] logits (2, 3) and targets (2, 4)"), Error);
    CHECK_THROWS_WITH_AS(sigmoid_focal_loss(x, x, 1.5f), doctest::Contains("alpha must be in [0, 1]"), Error);
    CHECK_THROWS_WITH_AS(sigmoid_focal_loss(x, x, 0.25f, -1.0f),
                         doctest::Contains("gamma must be finite and >= 0, got -1"), Error);
    CHECK_THROWS_WITH_AS(sigmoid_focal_loss(x, Tensor::zeros({2, 3}, DType::I32)),
                         doctest::Contains("targets must be float32"), Error);
    CHECK_THROWS_WITH_AS(binary_cross_entropy_with_logits(x, x, NAN),
                         doctest::Contains("[binary_cross_entropy_with_logits] alpha"), Error);
    CHECK_THROWS_WITH_AS(sigmoid_focal_loss_fused(x, x, 0.25f, 2.0f, Reduction::Sum, Tensor::ones({3})),
                         doctest::Contains("weight has shape (3,)"), Error);
    Tensor t = Tensor::zeros({2, 3}).requires_grad_();
    CHECK_THROWS_WITH_AS(sigmoid_focal_loss_fused(x, t), doctest::Contains("targets require grad"), Error);
}
