// `focal demo`: until the detector lands, a small engine demo: a two-layer MLP fitted with
// autodiff and plain SGD to classify two interleaved spirals, printing the loss as it falls.
#include <cmath>
#include <cstdio>

#include "commands.h"
#include "engine/engine.h"

namespace focal::cli {
namespace {

struct DemoOptions {
    int steps = 2000;
    int hidden = 64;
    float lr = 1.0f;
    uint64_t seed = 0;
};

// Two spirals of `n` points each in the plane; label 1 for the second spiral.
void make_spirals(int n, Generator& gen, std::vector<float>& points, std::vector<float>& labels) {
    Tensor noise = Tensor::randn({2 * n, 2}, gen);
    const float* jitter = noise.data<float>();
    for (int s = 0; s < 2; ++s)
        for (int i = 0; i < n; ++i) {
            float t = 0.25f + 3.0f * static_cast<float>(i) / n;  // radius and angle grow together
            float angle = 2.5f * t + static_cast<float>(s) * 3.14159265f;
            int row = s * n + i;
            points.push_back(t * std::cos(angle) + 0.05f * jitter[2 * row]);
            points.push_back(t * std::sin(angle) + 0.05f * jitter[2 * row + 1]);
            labels.push_back(static_cast<float>(s));
        }
}

void run_demo(const DemoOptions& opt) {
    Generator gen(opt.seed);
    std::vector<float> points, labels;
    const int n = 200;
    make_spirals(n, gen, points, labels);
    Tensor x = Tensor::from_vector(points, {2 * n, 2});  // (N, 2)
    Tensor y = Tensor::from_vector(labels, {2 * n, 1});  // (N, 1)

    // Weights: N(0, 1/fan_in); biases zero.
    Tensor w1 = (Tensor::randn({2, opt.hidden}, gen) * std::sqrt(2.0f / 2)).requires_grad_();
    Tensor b1 = Tensor::zeros({opt.hidden}).requires_grad_();
    Tensor w2 = (Tensor::randn({opt.hidden, 1}, gen) * std::sqrt(1.0f / opt.hidden)).requires_grad_();
    Tensor b2 = Tensor::zeros({1}).requires_grad_();
    std::vector<Tensor> params{w1, b1, w2, b2};

    std::printf("focal demo: a 2-%d-1 MLP learns two spirals (%d points) with autodiff + SGD\n",
                opt.hidden, 2 * n);
    for (int step = 0; step <= opt.steps; ++step) {
        Tensor logits = matmul(tanh(matmul(x, w1) + b1), w2) + b2;  // (N, 1)
        // binary cross-entropy with logits: softplus(z) - y z, stable for any z
        Tensor loss = mean(softplus(logits) - y * logits);
        for (Tensor& p : params) p.zero_grad();
        loss.backward();
        {
            NoGradGuard no_grad;
            for (Tensor& p : params) p.add_(p.grad(), -opt.lr);
        }
        if (step % 200 == 0) {
            float accuracy = mean(eq(gt(logits, 0.0f), y)).item();
            std::printf("  step %4d  loss %.4f  accuracy %5.1f%%\n", step, loss.item(), 100 * accuracy);
        }
    }
}

}  // namespace

void add_demo(CLI::App& app) {
    auto opt = std::make_shared<DemoOptions>();
    CLI::App* cmd = app.add_subcommand("demo", "Run the demo (for now: an MLP learning two spirals)");
    cmd->add_option("--steps", opt->steps, "SGD steps")->check(CLI::PositiveNumber);
    cmd->add_option("--hidden", opt->hidden, "hidden units")->check(CLI::PositiveNumber);
    cmd->add_option("--lr", opt->lr, "learning rate")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", opt->seed, "random seed");
    cmd->callback([opt] { run_demo(*opt); });
}

}  // namespace focal::cli
