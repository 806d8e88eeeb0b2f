// Chapter 1 (docs/learn/01-autodiff.md): reverse-mode autodiff, checked by hand.
//
// A two-layer network  out = relu(x W1 + b1) W2 + b2  with the loss L = mean((out - y)^2).
// We compute dL/dW1, dL/db1, dL/dW2, dL/db2 twice:
//   1. by hand, with plain loops: the chain rule applied backwards, layer by layer;
//   2. by focal's autograd: loss.backward() fills W1.grad() and the others.
// The program prints both and fails (exit 1) if any gradient differs by more than 1e-5.
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/engine.h"

using namespace focal;
using Matrix = std::vector<double>;  // row-major, the hand-written side works in double

int main() {
    const int N = 8, D = 3, H = 4;  // batch, inputs, hidden units; one output
    Generator gen(0);               // seeded: the same numbers on every machine
    Tensor x = Tensor::randn({N, D}, gen);
    Tensor y = Tensor::randn({N, 1}, gen);
    Tensor W1 = (Tensor::randn({D, H}, gen) * 0.5f).requires_grad_();
    Tensor b1 = (Tensor::randn({H}, gen) * 0.1f).requires_grad_();
    Tensor W2 = (Tensor::randn({H, 1}, gen) * 0.5f).requires_grad_();
    Tensor b2 = Tensor::zeros({1}).requires_grad_();

    // ---- 2. autograd: each op records a node with its backward closure; backward() walks
    // the graph from the loss to the leaves (engine/autograd.cpp).
    Tensor z = matmul(x, W1) + b1;  // (N, H); b1 broadcasts over the rows
    Tensor h = relu(z);
    Tensor out = matmul(h, W2) + b2;  // (N, 1)
    Tensor diff = out - y;
    Tensor loss = mean(diff * diff);
    loss.backward();

    // ---- 1. by hand. Copy everything to plain arrays first.
    auto host = [](const Tensor& t) {
        std::vector<float> v = t.detached().to_vector<float>();
        return Matrix(v.begin(), v.end());
    };
    const Matrix X = host(x), Y = host(y), w1 = host(W1), c1 = host(b1), w2 = host(W2), c2 = host(b2);

    // forward, keeping what backward needs (z and h), as autograd's closures do
    Matrix Z(N * H), Hd(N * H), Out(N);
    for (int n = 0; n < N; ++n) {
        for (int j = 0; j < H; ++j) {
            double s = c1[j];
            for (int d = 0; d < D; ++d) s += X[n * D + d] * w1[d * H + j];
            Z[n * H + j] = s;
            Hd[n * H + j] = s > 0 ? s : 0;
        }
        double o = c2[0];
        for (int j = 0; j < H; ++j) o += Hd[n * H + j] * w2[j];
        Out[n] = o;
    }
    // backward: start from dL/dL = 1 and apply each step's local derivative in reverse
    Matrix dOut(N), dW2(H, 0.0), dB2(1, 0.0), dH(N * H), dZ(N * H), dW1(D * H, 0.0), dB1(H, 0.0);
    for (int n = 0; n < N; ++n) dOut[n] = 2.0 * (Out[n] - Y[n]) / N;  // d mean(e^2) / d out
    for (int n = 0; n < N; ++n) {
        dB2[0] += dOut[n];  // out = ... + b2
        for (int j = 0; j < H; ++j) {
            dW2[j] += Hd[n * H + j] * dOut[n];                     // dW2 = h^T dOut
            dH[n * H + j] = dOut[n] * w2[j];                       // dh = dOut W2^T
            dZ[n * H + j] = Z[n * H + j] > 0 ? dH[n * H + j] : 0;  // relu passes where z > 0
        }
    }
    for (int n = 0; n < N; ++n)
        for (int j = 0; j < H; ++j) {
            dB1[j] += dZ[n * H + j];                                                     // b1 was broadcast: sum over n
            for (int d = 0; d < D; ++d) dW1[d * H + j] += X[n * D + d] * dZ[n * H + j];  // dW1 = x^T dZ
        }

    // ---- compare
    struct Check {
        const char* name;
        const Matrix& hand;
        Tensor autograd;
    };
    const Check checks[] = {{"W1", dW1, W1.grad()},
                            {"b1", dB1, b1.grad()},
                            {"W2", dW2, W2.grad()},
                            {"b2", dB2, b2.grad()}};
    std::printf("loss = %.6f (autograd forward), %.6f (by hand)\n", loss.item(), [&] {
        double s = 0;
        for (int n = 0; n < N; ++n) s += (Out[n] - Y[n]) * (Out[n] - Y[n]);
        return s / N;
    }());
    double worst = 0;
    for (const Check& c : checks) {
        std::vector<float> g = c.autograd.to_vector<float>();
        double err = 0;
        for (size_t i = 0; i < g.size(); ++i) err = std::max(err, std::abs(g[i] - c.hand[i]));
        worst = std::max(worst, err);
        std::printf("dL/d%-2s  hand %+.6f  autograd %+.6f  (first element)   max |difference| %.2e\n", c.name,
                    c.hand[0], g[0], err);
    }
    const bool ok = worst <= 1e-5;
    std::printf("%s: backward() matches the hand-written chain rule (worst difference %.2e, tolerance 1e-5)\n",
                ok ? "PASS" : "FAIL", worst);
    return ok ? 0 : 1;
}
