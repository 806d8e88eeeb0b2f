// The fused sigmoid focal loss against the composed one (values and gradients) over a grid
// of logits, targets, alpha and gamma; its weights, threads and devices.
#include <doctest/doctest.h>

#include <cmath>

#include "losses/focal_math.h"
#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;

namespace {

bool close(float a, float b, float rtol = 1e-5f, float atol = 1e-7f) {
    return std::abs(a - b) <= atol + rtol * std::abs(b);
}

struct Result {
    std::vector<float> value, grad;
};

Result run(bool fused, const Tensor& x0, const Tensor& t, float alpha, float gamma, Reduction r, const Tensor& w = {}) {
    Tensor x = x0.clone().requires_grad_();
    Tensor y = fused ? sigmoid_focal_loss_fused(x, t, alpha, gamma, r, w) : sigmoid_focal_loss(x, t, alpha, gamma, r);
    if (!fused && w.defined()) {
        Tensor none = sigmoid_focal_loss(x, t, alpha, gamma) * (w.dim() < x.dim() ? w.unsqueeze(-1) : w);
        y = reduce(none, r);
    }
    sum(y).backward();
    return {y.to_vector<float>(), x.grad().to_vector<float>()};
}

int mismatches(const Result& a, const Result& b) {
    int bad = 0;
    for (size_t i = 0; i < a.value.size(); ++i) bad += !close(a.value[i], b.value[i]);
    for (size_t i = 0; i < a.grad.size(); ++i) bad += !close(a.grad[i], b.grad[i]);
    return bad;
}

}  // namespace

TEST_CASE("fused = composed over a grid of logits, targets, alpha and gamma") {
    std::vector<float> xs;
    for (float v = -30; v <= 30; v += 0.75f) xs.push_back(v);
    for (float v : {-100.0f, -80.0f, -60.0f, 60.0f, 80.0f, 100.0f}) xs.push_back(v);
    const std::vector<float> ts = {0.0f, 1.0f, 0.25f, 0.5f, 0.9f};
    std::vector<float> x, t;
    for (float target : ts)
        for (float v : xs) x.push_back(v), t.push_back(target);
    Tensor logits = Tensor::from_vector(x, {int64_t(ts.size()), int64_t(xs.size())});
    Tensor targets = Tensor::from_vector(t, logits.shape());
    int cases = 0;
    for (float alpha : {-1.0f, 0.0f, 0.25f, 0.5f, 1.0f})
        for (float gamma : {0.0f, 0.25f, 0.5f, 1.0f, 1.5f, 2.0f, 3.0f, 5.0f})
            for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
                CAPTURE(alpha);
                CAPTURE(gamma);
                CAPTURE(reduction_name(r));
                CHECK(mismatches(run(true, logits, targets, alpha, gamma, r),
                                 run(false, logits, targets, alpha, gamma, r)) == 0);
                ++cases;
            }
    CHECK(cases == 120);
}

TEST_CASE("fused: per-anchor and per-element weights") {
    Generator gen(8);
    Tensor x = Tensor::randn({4, 5, 3}, gen) * 3.0f, t = gt(Tensor::rand({4, 5, 3}, gen), 0.8f);
    Tensor per_anchor = gt(Tensor::rand({4, 5}, gen), 0.3f), per_element = Tensor::rand({4, 5, 3}, gen);
    for (const Tensor& w : {per_anchor, per_element})
        for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean})
            CHECK(mismatches(run(true, x, t, 0.25f, 2.0f, r, w), run(false, x, t, 0.25f, 2.0f, r, w)) == 0);
}

TEST_CASE("fused: the per-element math is eq. 10 for hard targets") {
    // dFL/dx = y (1 - p_t)^gamma (gamma p_t log(p_t) + p_t - 1), y = +-1 (Lin et al. 2017, eq. 10), alpha off
    for (float x : {-4.0f, -1.0f, 0.0f, 0.5f, 3.0f})
        for (float t : {0.0f, 1.0f})
            for (float gamma : {0.5f, 2.0f}) {
                const double y = t == 1.0f ? 1 : -1, pt = 1 / (1 + std::exp(-y * x));
                const double expected = y * std::pow(1 - pt, gamma) * (gamma * pt * std::log(pt) + pt - 1);
                const double loss = -std::pow(1 - pt, gamma) * std::log(pt);  // eq. 4
                math::LossGrad lg = math::sigmoid_focal(x, t, -1.0f, gamma);
                CHECK(lg.grad == doctest::Approx(expected).epsilon(1e-5));
                CHECK(lg.loss == doctest::Approx(loss).epsilon(1e-5));
            }
}

TEST_CASE("fused: the same bits on 1 and 2 threads, and no graph without grad") {
    Generator gen(9);
    Tensor x = Tensor::randn({8, 3000, 20}, gen) * 2.0f, t = gt(Tensor::rand({8, 3000, 20}, gen), 0.99f);
    const int before = num_threads();
    set_num_threads(1);
    Result one = run(true, x, t, 0.25f, 2.0f, Reduction::Sum);
    set_num_threads(2);
    Result two = run(true, x, t, 0.25f, 2.0f, Reduction::Sum);
    set_num_threads(before);
    CHECK(one.value == two.value);
    CHECK(one.grad == two.grad);
    Tensor y = sigmoid_focal_loss_fused(x, t, 0.25f, 2.0f, Reduction::Sum);
    CHECK_FALSE(y.requires_grad());
    Tensor xg = x.clone().requires_grad_();
    {
        NoGradGuard no_grad;
        CHECK_FALSE(sigmoid_focal_loss_fused(xg, t, 0.25f, 2.0f, Reduction::Sum).requires_grad());
    }
    // a non-contiguous view of the logits (anchors-major)
    Tensor xt = Tensor::randn({3, 4}, gen).requires_grad_();
    Tensor tt = gt(Tensor::rand({4, 3}, gen), 0.5f);
    sum(sigmoid_focal_loss_fused(xt.transpose(0, 1), tt)).backward();
    Tensor xc = xt.detached().clone().requires_grad_();
    sum(sigmoid_focal_loss(xc.transpose(0, 1), tt)).backward();
    for (size_t i = 0; i < 12; ++i) CHECK(close(xt.grad().to_vector<float>()[i], xc.grad().to_vector<float>()[i]));
}

TEST_CASE("fused: CUDA kernel matches the CPU" * doctest::skip(!cuda_available())) {
    // skipped (reported as skipped, never passed) without a GPU or in a CPU-only build
    Generator gen(10);
    Tensor x = Tensor::randn({4, 1000, 20}, gen) * 4.0f, t = gt(Tensor::rand({4, 1000, 20}, gen), 0.9f);
    Tensor w = gt(Tensor::rand({4, 1000}, gen), 0.1f);
    x.data<float>()[0] = 100.0f;
    x.data<float>()[1] = -100.0f;
    for (float gamma : {0.0f, 0.5f, 2.0f})
        for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
            Result cpu = run(true, x, t, 0.25f, gamma, r, w);
            Tensor xd = x.to(Device::CUDA).detached().requires_grad_();
            Tensor y = sigmoid_focal_loss_fused(xd, t.to(Device::CUDA), 0.25f, gamma, r, w.to(Device::CUDA));
            sum(y).backward();
            Result gpu{y.to(Device::CPU).to_vector<float>(), xd.grad().to(Device::CPU).to_vector<float>()};
            CHECK(mismatches(gpu, cpu) == 0);
        }
}
