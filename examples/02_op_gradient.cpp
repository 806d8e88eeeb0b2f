// Chapter 2 (docs/learn/02-an-op.md): writing an op with its gradient, and checking it.
//
// The op: swish(x) = x * sigmoid(x) (also called SiLU). Its derivative:
//   d/dx [x s(x)] = s(x) + x s(x) (1 - s(x)) = s(x) + x s(x) s(-x),   s = sigmoid
// We write it the way every op in engine/ops/ is written: a forward that computes y, then
// record(y, name, inputs, closure), the backward closure right under the forward
// (compare neg/exp/sigmoid in engine/ops/elementwise.cpp). Then we check the closure
// against central finite differences, as tests/engine/gradcheck.h does for every engine op.
// A second version with a deliberately wrong gradient must FAIL the same check: a check
// that cannot fail proves nothing. Exit status 0 only when both outcomes are as expected.
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/engine.h"

using namespace focal;

// The forward runs on the host (a plain loop); the backward is written with engine ops, so
// it is itself differentiable and runs on any device those ops run on.
Tensor swish(const Tensor& x, bool wrong_gradient = false) {
    FOCAL_CHECK(x.device() == Device::CPU && x.dtype() == DType::F32, "[swish] needs a float32 CPU tensor");
    Tensor xc = x.detached().contiguous();
    Tensor y = Tensor::empty(x.shape());
    const float* in = xc.data<float>();
    float* out = y.data<float>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = in[i] / (1.0f + std::exp(-in[i]));
    // Capture only what backward needs, detached (capturing y itself would make a cycle).
    return record(y, "swish", {x}, [x = x.detached(), wrong_gradient](Grads& g, const Tensor& dy) {
        Tensor s = sigmoid(x);
        if (wrong_gradient) g[0] += dy * s;               // forgot the x s(x) s(-x) term
        else g[0] += dy * (s + x * s * sigmoid(neg(x)));  // s(x) + x s(x) s(-x)
    });
}

// Central differences: dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / 2 eps, with the
// scalar L = sum(w * f(x)) for fixed random weights w (every output counts, differently).
// L is accumulated in double; float32 inputs limit the agreement to about 1e-3 relative.
bool gradcheck(const char* label, bool wrong_gradient) {
    Generator gen(7);
    Tensor x = (Tensor::randn({3, 5}, gen) * 3.0f).requires_grad_();
    Tensor w = Tensor::randn({3, 5}, gen);
    sum(swish(x, wrong_gradient) * w).backward();  // analytic: our closure
    std::vector<float> analytic = x.grad().to_vector<float>();

    auto L = [&](const Tensor& at) {
        NoGradGuard no_grad;
        std::vector<float> y = swish(at).to_vector<float>(), wv = w.to_vector<float>();
        double s = 0;
        for (size_t i = 0; i < y.size(); ++i) s += double(y[i]) * wv[i];
        return s;
    };
    const double eps = 1e-2, atol = 1e-3, rtol = 1e-2;
    Tensor probe = x.detached().clone();
    float* p = probe.data<float>();
    int bad = 0;
    double worst = 0;
    for (int64_t i = 0; i < probe.numel(); ++i) {
        const float saved = p[i];
        p[i] = saved + float(eps);
        const double plus = L(probe);
        p[i] = saved - float(eps);
        const double minus = L(probe);
        p[i] = saved;
        const double numeric = (plus - minus) / (2 * eps), diff = std::abs(numeric - analytic[i]);
        worst = std::max(worst, diff);
        if (diff > atol + rtol * std::abs(numeric)) ++bad;
        if (i < 3)
            std::printf("  %-14s x = %+7.3f  analytic %+.5f  numeric %+.5f\n", label, saved, analytic[i], numeric);
    }
    std::printf("  %-14s %d of %lld elements disagree (worst |difference| %.2e)\n", label, bad,
                static_cast<long long>(probe.numel()), worst);
    return bad == 0;
}

int main() {
    // The new op agrees with the same function composed from existing ops.
    Generator gen(1);
    Tensor x = Tensor::randn({1000}, gen) * 5.0f;
    std::vector<float> ours = swish(x).to_vector<float>(), composed = (x * sigmoid(x)).to_vector<float>();
    double forward_err = 0;
    for (size_t i = 0; i < ours.size(); ++i)  // relative to the value: a few float32 roundings apart at most
        forward_err =
            std::max(forward_err, std::abs(ours[i] - composed[i]) / std::max(1.0, std::abs(double(composed[i]))));
    std::printf("forward: swish vs x * sigmoid(x), max relative difference %.2e over 1000 values\n", forward_err);

    std::printf("gradient check of the right closure:\n");
    const bool right_passes = gradcheck("right closure", false);
    std::printf("gradient check of a wrong closure (ds/dx only):\n");
    const bool wrong_passes = gradcheck("wrong closure", true);

    const bool ok = forward_err <= 1e-6 && right_passes && !wrong_passes;
    std::printf("%s: the right gradient passes, the wrong one is caught\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
