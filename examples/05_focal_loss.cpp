// Chapter 5 (docs/learn/05-focal-loss.md): the focal loss, its gradient, and the fused op.
//
// Lin et al. 2017: with p_t the probability of the right answer,
//   CE = -log(p_t),   FL = -(1 - p_t)^gamma log(p_t)                      (eq. 4, alpha off)
// and, for a logit x with label y in {-1, +1}, x_t = y x, p_t = sigmoid(x_t) (appendix B, eq. 10):
//   dFL/dx = y (1 - p_t)^gamma (gamma p_t log(p_t) + p_t - 1)
// This program
//   1. prints CE / FL at p_t = .5, .9, .968 for gamma = 2: 4x, 100x, about 1000x (1 / (1 - p_t)^2);
//   2. checks eq. 10, written by hand here, against autograd through the composed loss
//      (losses/sigmoid_focal.cpp) and against the fused op, whose forward and analytic
//      gradient come from one function shared by the CPU loop and the CUDA kernel
//      (losses/focal_math.h);
//   3. shows the trap the library avoids: written naively, pow(1 - sigmoid(x), .5) *
//      -log(sigmoid(x)) has a NaN gradient at x = 30 (p_t rounds to 1); the library's is finite.
#include <cmath>
#include <cstdio>
#include <vector>

#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;

int main() {
    bool ok = true;
    // ---- 1. how much FL discounts easy examples
    std::printf("gamma = 2, alpha off:   p_t      CE        FL     CE/FL  (1/(1-p_t)^2)\n");
    for (float pt : {0.5f, 0.9f, 0.968f}) {
        Tensor x = Tensor::scalar(std::log(pt / (1 - pt))).reshape({1});  // the logit with sigmoid(x) = p_t
        Tensor t = Tensor::ones({1});                                     // label 1, so p_t = p
        const float ce = binary_cross_entropy_with_logits(x, t, -1.0f, Reduction::Sum).item();
        const float fl = sigmoid_focal_loss(x, t, -1.0f, 2.0f, Reduction::Sum).item();
        const double expected = 1.0 / ((1.0 - pt) * (1.0 - pt));
        std::printf("%27.3f %9.5f %9.6f %7.1fx %8.1f\n", pt, ce, fl, ce / fl, expected);
        ok = ok && std::abs(ce / fl / expected - 1) < 1e-3;
    }

    // ---- 2. eq. 10 by hand vs autograd (composed) vs the fused op's analytic gradient
    const float gamma = 2.0f;
    std::vector<float> xs, ts;
    for (int i = -16; i <= 16; ++i)
        for (float t : {0.0f, 1.0f}) xs.push_back(0.5f * i), ts.push_back(t);  // logits -8..8, both labels
    const int64_t n = int64_t(xs.size());
    const Tensor targets = Tensor::from_vector(ts, {n});
    Tensor xc = Tensor::from_vector(xs, {n}).requires_grad_(), xf = Tensor::from_vector(xs, {n}).requires_grad_();
    sum(sigmoid_focal_loss(xc, targets, -1.0f, gamma)).backward();        // composed from engine ops
    sum(sigmoid_focal_loss_fused(xf, targets, -1.0f, gamma)).backward();  // one fused pass
    const std::vector<float> g_composed = xc.grad().to_vector<float>(), g_fused = xf.grad().to_vector<float>();
    double worst = 0;
    for (int64_t i = 0; i < n; ++i) {
        const double y = ts[i] == 1 ? 1 : -1, pt = 1 / (1 + std::exp(-y * xs[i]));
        const double eq10 = y * std::pow(1 - pt, gamma) * (gamma * pt * std::log(pt) + pt - 1);
        for (float g : {g_composed[i], g_fused[i]})
            worst = std::max(worst, std::abs(g - eq10) / (1e-6 + std::abs(eq10)));
        if (i == 20 || i == 21 || i == 40)
            std::printf("x = %+.1f, y = %+.0f: eq. 10 %+.6f  autograd %+.6f  fused %+.6f\n", xs[i], y, eq10,
                        g_composed[i], g_fused[i]);
    }
    std::printf("eq. 10 vs autograd and fused over %lld (logit, label) pairs: worst relative difference %.1e\n",
                (long long)n, worst);
    ok = ok && worst < 1e-4;

    // ---- 3. the trap: gamma < 1 and p_t = 1
    Tensor x = Tensor::from_vector(std::vector<float>{30.0f}, {1}).requires_grad_();
    Tensor naive = pow(1.0f - sigmoid(x), 0.5f) * -log(sigmoid(x));  // 0^(-.5) = inf, times log(1) = 0
    naive.backward();
    const float naive_grad = x.grad().item();
    Tensor x2 = Tensor::from_vector(std::vector<float>{30.0f}, {1}).requires_grad_();
    sum(sigmoid_focal_loss(x2, Tensor::ones({1}), -1.0f, 0.5f)).backward();
    Tensor x3 = Tensor::from_vector(std::vector<float>{30.0f}, {1}).requires_grad_();
    sum(sigmoid_focal_loss_fused(x3, Tensor::ones({1}), -1.0f, 0.5f)).backward();
    std::printf("gamma = .5 at x = 30, y = 1: naive gradient %g; library: composed %g, fused %g\n", naive_grad,
                x2.grad().item(), x3.grad().item());
    ok = ok && !std::isfinite(naive_grad) && std::isfinite(x2.grad().item()) && std::isfinite(x3.grad().item());

    std::printf("%s: ratios 4, 100, ~1000; eq. 10 holds; the library stays finite where the naive form does not\n",
                ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
