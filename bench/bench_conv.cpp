// bench_conv: conv2d forward + backward for each distinct convolution shape of the `tiny`
// preset (backbone, FPN and heads; 256x256 input, batch 8), ours against PyTorch CPU
// (oneDNN) on the same thread count, each shape's two steps timed in alternation
// (bench/peer.h), best of N.
// Each shape is first checked against a direct (naive) convolution.
// Last line: JSON with "time_ratio" = sum of our times / sum of PyTorch's.
#include <cmath>
#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "engine/blas_info.h"
#include "engine/cpu/cpu_isa.h"
#include "engine/engine.h"
#include "peer.h"
#include "runtime_env.h"

using namespace focal;

namespace {

struct Shape2d {
    const char* where;
    int64_t c, h, o, k, stride, padding;
    bool bias, input_grad;
};

// out[n=0, o, y, x] computed directly, for a few output channels: the reference check.
void check_against_direct(const Shape2d& s, const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& y) {
    const int64_t oh = y.size(2), ow = y.size(3), h = s.h;
    const float* xs = x.data<float>();
    const float* ws = w.data<float>();
    const float* ys = y.data<float>();
    for (int64_t o = 0; o < std::min<int64_t>(s.o, 3); ++o)
        for (int64_t r = 0; r < oh; r += std::max<int64_t>(1, oh / 5))
            for (int64_t q = 0; q < ow; q += std::max<int64_t>(1, ow / 5)) {
                double acc = b.defined() ? b.data<float>()[o] : 0.0;
                for (int64_t c = 0; c < s.c; ++c)
                    for (int64_t i = 0; i < s.k; ++i)
                        for (int64_t j = 0; j < s.k; ++j) {
                            int64_t yy = r * s.stride - s.padding + i, xx = q * s.stride - s.padding + j;
                            if (yy < 0 || yy >= h || xx < 0 || xx >= h) continue;
                            acc += double(xs[(c * h + yy) * h + xx]) * ws[((o * s.c + c) * s.k + i) * s.k + j];
                        }
                bench::require(std::abs(ys[(o * oh + r) * ow + q] - acc) <= 1e-3 * (1 + std::abs(acc)),
                               "conv2d differs from a direct convolution");
            }
}

}  // namespace

int main(int argc, char** argv) {
    cli::tune_runtime(argv);
    // Usage: bench_conv [threads=2] [repeats=5]
    const int threads = argc > 1 ? std::atoi(argv[1]) : 2, repeats = argc > 2 ? std::atoi(argv[2]) : 5, batch = 8;
    set_num_threads(threads);
    std::printf("OpenBLAS core: %s, kernels: %s, threads %d, batch %d\n", blas_core().c_str(),
                cpu::cpu_isa_name(cpu::cpu_isa()), threads, batch);
    const Shape2d shapes[] = {
        {"stem", 3, 256, 32, 3, 2, 1, false, false},
        {"stage1 down", 32, 128, 64, 3, 2, 1, false, true},
        {"stage1 block", 64, 64, 64, 3, 1, 1, false, true},
        {"stage2 down", 64, 64, 128, 3, 2, 1, false, true},
        {"stage2 block", 128, 32, 128, 3, 1, 1, false, true},
        {"stage3 down", 128, 32, 256, 3, 2, 1, false, true},
        {"stage3 block", 256, 16, 256, 3, 1, 1, false, true},
        {"stage4 down", 256, 16, 256, 3, 2, 1, false, true},
        {"stage4 block", 256, 8, 256, 3, 1, 1, false, true},
        {"lateral C3", 128, 32, 128, 1, 1, 0, true, true},
        {"lateral C4", 256, 16, 128, 1, 1, 0, true, true},
        {"lateral C5", 256, 8, 128, 1, 1, 0, true, true},
        {"P3 out / head", 128, 32, 128, 3, 1, 1, true, true},
        {"P4 out / head", 128, 16, 128, 3, 1, 1, true, true},
        {"P5 out / head", 128, 8, 128, 3, 1, 1, true, true},
        {"P6", 128, 8, 128, 3, 2, 1, true, true},
        {"P7", 128, 4, 128, 3, 2, 1, true, true},
        {"head P6", 128, 4, 128, 3, 1, 1, true, true},
        {"head P7", 128, 2, 128, 3, 1, 1, true, true},
        {"cls P3", 128, 32, 180, 3, 1, 1, true, true},
        {"cls P4", 128, 16, 180, 3, 1, 1, true, true},
        {"cls P5", 128, 8, 180, 3, 1, 1, true, true},
        {"cls P6", 128, 4, 180, 3, 1, 1, true, true},
        {"cls P7", 128, 2, 180, 3, 1, 1, true, true},
        {"box P3", 128, 32, 36, 3, 1, 1, true, true},
        {"box P4", 128, 16, 36, 3, 1, 1, true, true},
        {"box P5", 128, 8, 36, 3, 1, 1, true, true},
        {"box P6", 128, 4, 36, 3, 1, 1, true, true},
        {"box P7", 128, 2, 36, 3, 1, 1, true, true},
    };
    nlohmann::json shape_list = nlohmann::json::array();
    struct Problem {
        Tensor x, w, b, dy;
    };
    std::vector<Problem> problems;
    Generator gen(0);
    for (const Shape2d& s : shapes) {
        Tensor x = Tensor::randn({batch, s.c, s.h, s.h}, gen);
        Tensor w = (Tensor::randn({s.o, s.c, s.k, s.k}, gen) * 0.05f).requires_grad_();
        Tensor b = s.bias ? Tensor::randn({s.o}, gen).requires_grad_() : Tensor();
        if (s.input_grad) x.requires_grad_();
        Tensor y = conv2d(x, w, b, {s.stride, s.padding, 1});
        check_against_direct(s, x, w, b, y.detached());
        problems.push_back({x, w, b, Tensor::randn(y.shape(), gen)});
        shape_list.push_back({{"n", batch},
                              {"c", s.c},
                              {"h", s.h},
                              {"w", s.h},
                              {"o", s.o},
                              {"k", s.k},
                              {"stride", s.stride},
                              {"padding", s.padding},
                              {"bias", s.bias},
                              {"input_grad", s.input_grad}});
    }
    // Each shape: ours and PyTorch's step in alternation (bench/peer.h), best of `repeats`.
    bench::TorchPeer peer({"conv", "--threads", std::to_string(threads), "--shapes", shape_list.dump()});
    const bool have_peer = peer.ok();
    std::vector<double> ours, theirs;
    for (size_t i = 0; i < std::size(shapes); ++i) {
        const Shape2d& s = shapes[i];
        const Problem& p = problems[i];
        auto step = [&] { conv2d(p.x, p.w, p.b, {s.stride, s.padding, 1}).backward(p.dy); };
        const auto [t_ours, t_torch] = bench::best_seconds_against(step, &peer, static_cast<int>(i), repeats);
        ours.push_back(t_ours);
        theirs.push_back(t_torch);
    }

    std::printf("%-16s %-22s %10s %10s %7s\n", "conv", "C->O k s @HxW", "ours ms", "torch ms", "ratio");
    double sum_ours = 0, sum_torch = 0;
    nlohmann::json cases = nlohmann::json::array();
    for (size_t i = 0; i < std::size(shapes); ++i) {
        const Shape2d& s = shapes[i];
        const double t_torch = have_peer ? theirs[i] : 0.0;
        sum_ours += ours[i];
        sum_torch += t_torch;
        char desc[64];
        std::snprintf(desc, sizeof desc, "%lld->%lld k%lld s%lld @%lld", (long long)s.c, (long long)s.o, (long long)s.k,
                      (long long)s.stride, (long long)s.h);
        std::printf("%-16s %-22s %10.2f %10.2f %7.2f\n", s.where, desc, 1e3 * ours[i], 1e3 * t_torch,
                    have_peer ? ours[i] / t_torch : 0.0);
        cases.push_back({{"conv", s.where}, {"ours_ms", 1e3 * ours[i]}, {"torch_ms", 1e3 * t_torch}});
    }
    std::printf("%-39s %10.2f %10.2f %7.2f\n", "total", 1e3 * sum_ours, 1e3 * sum_torch,
                have_peer ? sum_ours / sum_torch : 0.0);
    nlohmann::json summary = {{"bench", "conv"},
                              {"threads", threads},
                              {"batch", batch},
                              {"blas_core", blas_core()},
                              {"cpu_isa", cpu::cpu_isa_name(cpu::cpu_isa())},
                              {"ours_ms", 1e3 * sum_ours},
                              {"cases", cases}};
    if (have_peer) {
        summary["torch_ms"] = 1e3 * sum_torch;
        summary["time_ratio"] = sum_ours / sum_torch;
        summary["torch"] = peer.info()["torch"];
    } else {
        summary["time_ratio"] = nullptr;
        summary["note"] = "PyTorch peer unavailable (install python3-torch)";
    }
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
