// Chapter 6 (docs/learn/06-adding-a-loss.md): a loss added in one file, found by name.
//
// This file registers "example_focal", a focal loss (alpha off) written the general way,
// exactly as a new losses/<name>.cpp would (here it lives in the example program, which
// works the same: registration runs when the program starts). Then it checks what the
// chapter promises:
//   1. the registry lists it with its parameter, and builds it by name (make_cls_loss);
//   2. it equals the library's "focal" (alpha = -1) on hard labels AND on soft targets;
//   3. its gradient passes finite differences on soft targets, and stays finite at +-100;
//   4. a bad parameter fails with a message that names the loss.
// It also shows why the chapter's tip matters: the shortcut exp(g * log_sigmoid(-x)) is
// (1 - p)^g, which is (1 - p_t)^g only when t = 1; on soft targets it gives another loss.
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <string>

#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;

namespace {
// FL without alpha, element-wise over (..., K). q = 1 - p_t = t sigmoid(-x) + (1 - t) sigmoid(x):
// right for any t in [0, 1]; the clamp keeps pow's gradient finite for gamma < 1 where q = 0.
Tensor example_focal(const Tensor& x, const Tensor& t, float gamma) {
    Tensor ce = t * softplus(-x) + (1.0f - t) * softplus(x);  // -log p_t, never log(0)
    Tensor q = t * sigmoid(-x) + (1.0f - t) * sigmoid(x);
    return ce * pow(clamp(q, FLT_MIN, 1.0f), gamma);
}
// The shortcut, right for hard targets only (shown, not registered).
Tensor hard_target_only(const Tensor& x, const Tensor& t, float gamma) {
    Tensor ce = t * softplus(-x) + (1.0f - t) * softplus(x);
    return ce * (t * exp(gamma * log_sigmoid(-x)) + (1.0f - t) * exp(gamma * log_sigmoid(x)));
}
}  // namespace

FOCAL_REGISTER_CLS_LOSS({
    .name = "example_focal",
    .summary = "focal loss without alpha, from examples/06_add_a_loss.cpp",
    .reference = "Lin et al. 2017, eq. 4",
    .params = {{"gamma", 2.0f, "focusing parameter >= 0", ParamRule::NonNegative}},
    .make =
        [](const LossParams& p) {
    const float gamma = p["gamma"];  // already checked against its rule by the registry
    return sigmoid_loss(p.loss(), [=](const Tensor& x, const Tensor& t) { return example_focal(x, t, gamma); });
    },
});

int main() {
    bool ok = true;
    auto expect = [&](bool condition, const char* what) {
        std::printf("  [%s] %s\n", condition ? "ok" : "FAILED", what);
        ok = ok && condition;
    };
    // 1. the registry
    const LossInfo info = find_loss("example_focal", LossKind::Classification);
    std::printf("registered: %s (%s), defaults: %s\n", info.name.c_str(), info.summary.c_str(),
                format_params(default_params(info)).c_str());
    expect(info.params.size() == 1 && info.params[0].name == "gamma", "listed with its parameter gamma");
    const ClassificationLoss mine = make_cls_loss("example_focal", {{"gamma", 2.0f}});
    const ClassificationLoss reference = make_cls_loss("focal", {{"gamma", 2.0f}, {"alpha", -1.0f}});

    // 2. equal to the library's focal loss: int labels (N, A) and soft targets (N, A, K)
    Generator gen(5);
    const int64_t N = 2, A = 6, K = 3;
    Tensor x = Tensor::randn({N, A, K}, gen) * 3.0f;
    Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, -1, 2, -2, -1, 1, -1, -1, 1, 2, -1, 0}, {N, A});
    Tensor soft = Tensor::rand({N, A, K}, gen);  // IoU-like quality targets in [0, 1)
    auto value = [&](const ClassificationLoss& loss, const Tensor& t) {
        return loss({x, t, {}, 3.0f, Reduction::Sum}).item();
    };
    std::printf("hard labels: %.6f vs focal %.6f;  soft targets: %.6f vs focal %.6f\n", value(mine, labels),
                value(reference, labels), value(mine, soft), value(reference, soft));
    expect(std::abs(value(mine, labels) / value(reference, labels) - 1) < 1e-5, "equals focal (alpha -1) on labels");
    expect(std::abs(value(mine, soft) / value(reference, soft) - 1) < 1e-5, "equals focal (alpha -1) on soft targets");
    const float shortcut = sum(hard_target_only(x, soft, 2.0f)).item() / 3.0f;
    std::printf("the hard-target shortcut on the same soft targets: %.6f\n", shortcut);
    expect(std::abs(shortcut / value(reference, soft) - 1) > 1e-2, "the shortcut is a different loss on soft targets");

    // 3. gradient: central differences on the soft targets, L accumulated in double
    Tensor xg = x.clone().requires_grad_();
    mine({xg, soft, {}, 1.0f, Reduction::Sum}).backward();
    const std::vector<float> analytic = xg.grad().to_vector<float>();
    Tensor probe = x.clone();
    double worst = 0;
    for (int64_t i = 0; i < probe.numel(); ++i) {
        const float saved = probe.data<float>()[i];
        const double eps = 1e-2;
        probe.data<float>()[i] = saved + float(eps);
        const double plus = mine({probe, soft}).item();
        probe.data<float>()[i] = saved - float(eps);
        const double minus = mine({probe, soft}).item();
        probe.data<float>()[i] = saved;
        const double numeric = (plus - minus) / (2 * eps);
        worst = std::max(worst, std::abs(numeric - analytic[size_t(i)]) / (1e-2 + std::abs(numeric)));
    }
    std::printf("finite differences vs autograd: worst relative difference %.1e\n", worst);
    expect(worst < 2e-2, "gradient matches finite differences (soft targets)");
    Tensor extreme = Tensor::full({1, 4}, 100.0f);
    extreme.data<float>()[1] = extreme.data<float>()[3] = -100.0f;
    extreme.requires_grad_();
    Tensor loss_extreme = make_cls_loss("example_focal", {{"gamma", 0.5f}})(
        {extreme, soft.reshape({-1}).narrow(0, 0, 4).reshape({1, 4})});
    loss_extreme.backward();
    bool finite = std::isfinite(loss_extreme.item());
    for (float g : extreme.grad().to_vector<float>()) finite = finite && std::isfinite(g);
    expect(finite, "finite loss and gradient at logits +-100, gamma .5");

    // 4. bad input names the loss
    std::string message;
    try {
        make_cls_loss("example_focal", {{"gamma", -1.0f}});
    } catch (const Error& e) {
        message = e.what();
    }
    std::printf("gamma = -1 fails: %s\n", message.c_str());
    expect(message.find("example_focal") != std::string::npos, "the error names the loss");

    std::printf("%s: a loss in one file, found by name, right on soft targets\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
