// bench_backbone: the whole `tiny` backbone + FPN, forward and backward at batch 8 on
// 256x256 images in training mode, ours against the same network in PyTorch CPU
// (bench/torch_tiny.py) on the same thread count. Both sides seed backward with the same
// kind of gradients, one per pyramid level, and both are timed step for step in alternation
// (bench/peer.h); best of N for each. First checks our pyramid has the expected shapes and
// finite values.
// Last line: JSON with "ours_ms", "torch_ms" and "time_ratio" (ours / PyTorch).
#include <cmath>
#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "engine/blas_info.h"
#include "engine/cpu/cpu_isa.h"
#include "layers/backbone.h"
#include "layers/fpn.h"
#include "peer.h"
#include "runtime_env.h"

using namespace focal;

int main(int argc, char** argv) {
    cli::tune_runtime(argv);
    // Usage: bench_backbone [threads=2] [repeats=10]. Best of 10: one step takes about half a
    // second, and on a shared VM the best of 5 moved by 20 % from run to run.
    const int threads = argc > 1 ? std::atoi(argv[1]) : 2, repeats = argc > 2 ? std::atoi(argv[2]) : 10;
    const int batch = 8, size = 256;
    set_num_threads(threads);
    std::printf("OpenBLAS core: %s, kernels: %s, threads %d, batch %d, %dx%d\n", blas_core().c_str(),
                cpu::cpu_isa_name(cpu::cpu_isa()), threads, batch, size, size);
    Generator gen(0);
    PlainBackbone backbone(BackboneConfig{}, gen);
    Fpn fpn(FpnConfig{}, gen);
    Tensor x = Tensor::randn({batch, 3, size, size}, gen);
    auto forward = [&] {
        std::vector<Tensor> c = backbone.forward(x);
        return fpn.forward({c[1], c[2], c[3]});
    };
    std::vector<Tensor> grads;
    {
        std::vector<Tensor> p = forward();
        int64_t side = size / 8;
        for (const Tensor& level : p) {
            bench::require(level.shape() == Shape{batch, 128, side, side}, "pyramid level shape");
            bench::require(std::isfinite(sum(level).item()), "pyramid values finite");
            grads.push_back(Tensor::randn(level.shape(), gen));
            side = (side + 1) / 2;
        }
    }
    auto step = [&] {
        backbone.zero_grad();
        fpn.zero_grad();
        run_backward(forward(), grads);  // as torch.autograd.backward(outputs, grads)
    };
    bench::TorchPeer peer({"backbone", "--threads", std::to_string(threads), "--batch", std::to_string(batch), "--size",
                           std::to_string(size)});
    const auto [ours, torch_s] = bench::best_seconds_against(step, &peer, 0, repeats);
    nlohmann::json summary = {{"bench", "backbone"},      {"threads", threads},
                              {"batch", batch},           {"size", size},
                              {"blas_core", blas_core()}, {"cpu_isa", cpu::cpu_isa_name(cpu::cpu_isa())},
                              {"repeats", repeats},       {"ours_ms", 1e3 * ours}};
    if (peer.ok()) {
        summary["torch"] = peer.info()["torch"];
        std::printf("backbone + FPN forward+backward: ours %.1f ms, PyTorch %.1f ms, ratio %.2f\n", 1e3 * ours,
                    1e3 * torch_s, ours / torch_s);
        summary["torch_ms"] = 1e3 * torch_s;
        summary["time_ratio"] = ours / torch_s;
    } else {
        std::printf("backbone + FPN forward+backward: ours %.1f ms (PyTorch peer unavailable)\n", 1e3 * ours);
        summary["time_ratio"] = nullptr;
    }
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
