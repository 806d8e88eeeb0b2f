// A finite-difference gradient checker for any differentiable function of tensors.
//
// For f(inputs) -> y it compares the autograd gradient of L = sum(w * y), with fixed random
// weights w (so every output element matters, with a different weight), against central
// differences (L(x + eps) - L(x - eps)) / 2 eps, with L accumulated in double on the host.
// Leaves are contiguous; to test an op on a non-contiguous input, build the view inside f
// (e.g. [](auto& in) { return sigmoid(in[0].transpose(0, 1)); }).
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "engine/engine.h"

namespace focal::testing {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

struct GradcheckOptions {
    double eps = 1e-3;
    double atol = 1e-3;
    double rtol = 1e-2;
};

inline double weighted_sum(const Tensor& y, const std::vector<float>& w) {
    std::vector<float> v = y.to_vector<float>();
    double total = 0;
    for (size_t i = 0; i < v.size(); ++i) total += static_cast<double>(v[i]) * w[i];
    return total;
}

// Returns true when every gradient element matches; reports the first mismatches.
inline bool gradcheck(const std::string& name, const Fn& f, std::vector<Tensor> inputs, GradcheckOptions opt = {}) {
    for (Tensor& x : inputs) x = x.detached().contiguous().clone().requires_grad_();
    Tensor y = f(inputs);
    Generator gen(1234);
    std::vector<float> w = Tensor::randn(y.shape(), gen).to_vector<float>();
    Tensor wt = Tensor::from_vector(w, y.shape(), y.device());
    sum(y * wt).backward();

    bool ok = true;
    int reported = 0;
    for (size_t k = 0; k < inputs.size(); ++k) {
        Tensor grad = inputs[k].grad();
        std::vector<float> analytic =
            grad.defined() ? grad.to_vector<float>() : std::vector<float>(inputs[k].numel(), 0.0f);
        REQUIRE(analytic.size() == static_cast<size_t>(inputs[k].numel()));
        float* data = inputs[k].data<float>();
        for (int64_t i = 0; i < inputs[k].numel(); ++i) {
            const float saved = data[i];
            double plus, minus;
            {
                NoGradGuard no_grad;
                data[i] = static_cast<float>(saved + opt.eps);
                plus = weighted_sum(f(inputs), w);
                data[i] = static_cast<float>(saved - opt.eps);
                minus = weighted_sum(f(inputs), w);
                data[i] = saved;
            }
            const double numeric = (plus - minus) / (2 * opt.eps);
            const double diff = std::abs(numeric - analytic[i]);
            if (!(diff <= opt.atol + opt.rtol * std::abs(numeric))) {
                ok = false;
                if (reported++ < 5)
                    MESSAGE(name << ": input " << k << " element " << i << " analytic " << analytic[i] << " numeric "
                                 << numeric);
            }
        }
    }
    return ok;
}

}  // namespace focal::testing
