// bench_focal: the sigmoid focal loss of a RetinaNet training step (12,276 anchors x 20
// classes x batch 8, alpha .25, gamma 2, ignored anchors masked, / max(1, #positives)),
// forward and forward+backward: the fused op (losses/sigmoid_focal_fused.cpp) against the
// same loss composed from engine ops, on 1 and 2 threads, and torchvision's
// sigmoid_focal_loss (bench/focal_peer.py) as the PyTorch peer when it is installed.
// Checks first that both give the same loss and gradient, then times them interleaved.
// Last line: JSON with "fused_speedup" = composed time / fused time (forward+backward,
// the smallest over the thread counts).
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "engine/engine.h"
#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;

namespace {

constexpr int64_t kBatch = 8, kAnchors = 12276, kClasses = 20;

struct Problem {
    Tensor logits, targets, valid;
    float normalizer;
};

// Logits near the prior bias -log(99) (Lin et al. 2017, sec. 4.1); 1% positive anchors, 4%
// ignored: what the first iterations of RetinaNet see.
Problem make_problem() {
    Generator gen(0);
    Tensor logits = Tensor::randn({kBatch, kAnchors, kClasses}, gen) * 1.5f - 4.6f;
    std::vector<float> u = Tensor::rand({kBatch, kAnchors}, gen).to_vector<float>();
    std::vector<float> cls = Tensor::rand({kBatch, kAnchors}, gen).to_vector<float>();
    std::vector<float> targets(size_t(kBatch * kAnchors * kClasses), 0.0f), valid(u.size(), 1.0f);
    int positives = 0;
    for (size_t a = 0; a < u.size(); ++a) {
        if (u[a] < 0.01f) targets[a * kClasses + size_t(cls[a] * kClasses)] = 1.0f, ++positives;
        else if (u[a] < 0.05f) valid[a] = 0.0f;
    }
    return {logits, Tensor::from_vector(targets, logits.shape()), Tensor::from_vector(valid, {kBatch, kAnchors}),
            float(std::max(1, positives))};
}

Tensor composed(const Problem& p, const Tensor& x) {
    return sum(sigmoid_focal_loss(x, p.targets, 0.25f, 2.0f) * p.valid.unsqueeze(-1)) / p.normalizer;
}

Tensor fused(const Problem& p, const Tensor& x) {
    return sigmoid_focal_loss_fused(x, p.targets, 0.25f, 2.0f, Reduction::Sum, p.valid) / p.normalizer;
}

// torchvision's time for the same step, or a negative number when the peer is unavailable.
double torch_peer_seconds(int threads, int repeats) {
    char command[512];
    std::snprintf(command, sizeof command,
                  "/usr/bin/python3 " FOCAL_SOURCE_DIR "/bench/focal_peer.py --threads %d --repeats %d --batch %lld "
                  "--anchors %lld --classes %lld 2>/dev/null",
                  threads, repeats, (long long)kBatch, (long long)kAnchors, (long long)kClasses);
    FILE* pipe = popen(command, "r");
    if (!pipe) return -1;
    std::string out;
    char buffer[1024];
    while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    if (pclose(pipe) != 0) return -1;
    try {
        return nlohmann::json::parse(out).at("seconds").get<double>();
    } catch (const nlohmann::json::exception&) {
        return -1;
    }
}

}  // namespace

int main() {
    const Problem p = make_problem();
    Tensor xc = p.logits.clone().requires_grad_(), xf = p.logits.clone().requires_grad_();

    // check: the same loss and gradient
    Tensor lc = composed(p, xc), lf = fused(p, xf);
    lc.backward();
    lf.backward();
    const double loss_diff = std::abs(lc.item() - lf.item()) / std::abs(lc.item());
    std::vector<float> gc = xc.grad().to_vector<float>(), gf = xf.grad().to_vector<float>();
    double grad_diff = 0, grad_max = 0;
    for (size_t i = 0; i < gc.size(); ++i) {
        grad_diff = std::max(grad_diff, double(std::abs(gc[i] - gf[i])));
        grad_max = std::max(grad_max, double(std::abs(gc[i])));
    }
    std::printf(
        "loss %.6f (composed) vs %.6f (fused): relative difference %.2e; gradient max difference %.2e of max %.2e\n",
        lc.item(), lf.item(), loss_diff, grad_diff, grad_max);
    bench::require(loss_diff <= 1e-5, "fused focal loss differs from the composed one");
    bench::require(grad_diff <= 1e-5 * grad_max, "fused focal gradient differs from the composed one");

    const int repeats = 7;
    nlohmann::json cases = nlohmann::json::array();
    double speedup = 1e9;
    std::printf("%-10s %7s %13s %10s %8s %12s\n", "pass", "threads", "composed ms", "fused ms", "speedup",
                "torchvision");
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        for (bool backward : {false, true}) {
            auto run = [&](Tensor& x, Tensor (*loss)(const Problem&, const Tensor&)) {
                return [&x, &p, loss, backward] {
                    if (!backward) {
                        NoGradGuard no_grad;
                        loss(p, x);
                        return;
                    }
                    x.zero_grad();
                    loss(p, x).backward();
                };
            };
            auto [t_composed, t_fused] = bench::best_seconds_interleaved(run(xc, composed), run(xf, fused), repeats);
            const double peer = backward ? torch_peer_seconds(threads, repeats) : -1;
            const double ratio = t_composed / t_fused;
            if (backward) speedup = std::min(speedup, ratio);
            char peer_text[32] = "-";
            if (peer > 0) std::snprintf(peer_text, sizeof peer_text, "%.1f ms", peer * 1e3);
            std::printf("%-10s %7d %13.2f %10.2f %7.1fx %12s\n", backward ? "fwd+bwd" : "forward", threads,
                        t_composed * 1e3, t_fused * 1e3, ratio, peer_text);
            cases.push_back({{"pass", backward ? "forward+backward" : "forward"},
                             {"threads", threads},
                             {"composed_ms", t_composed * 1e3},
                             {"fused_ms", t_fused * 1e3},
                             {"speedup", ratio},
                             {"torchvision_ms", peer > 0 ? nlohmann::json(peer * 1e3) : nlohmann::json(nullptr)}});
        }
    }
    nlohmann::json summary = {{"bench", "focal"},
                              {"shape", {kBatch, kAnchors, kClasses}},
                              {"fused_speedup", speedup},
                              {"cases", cases}};
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
