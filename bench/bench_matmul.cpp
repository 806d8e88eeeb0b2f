// bench_matmul: the engine's matmul against raw cblas_sgemm on the same buffers.
// Checks the results agree, then times both (interleaved, best of N) on 1 and 2 threads for square
// 256/512/1024 and the im2col shape of a 3x3 convolution (M=12544, N=64, K=576).
// Last line: JSON with "gflops_ratio" = the smallest ours/raw ratio over the cases.
#include <cblas.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "engine/blas_info.h"
#include "engine/engine.h"
#include "runtime_env.h"

using namespace focal;

int main(int, char** argv) {
    cli::tune_runtime(argv);
    std::printf("OpenBLAS core: %s\n", blas_core().c_str());
    struct Case {
        const char* name;
        int64_t m, n, k;
    };
    const Case cases[] = {{"256", 256, 256, 256},
                          {"512", 512, 512, 512},
                          {"1024", 1024, 1024, 1024},
                          {"conv 12544x64x576", 12544, 64, 576}};
    nlohmann::json results = nlohmann::json::array();
    double worst = 1e9;
    std::printf("%-20s %7s %12s %12s %8s\n", "case", "threads", "ours GF/s", "raw GF/s", "ratio");
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        for (const Case& c : cases) {
            Generator gen(1);
            Tensor a = Tensor::randn({c.m, c.k}, gen), b = Tensor::randn({c.k, c.n}, gen);
            std::vector<float> raw_out(c.m * c.n);
            auto raw = [&] {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, c.m, c.n, c.k, 1.0f, a.data<float>(), c.k,
                            b.data<float>(), c.n, 0.0f, raw_out.data(), c.n);
            };
            Tensor ours_out;
            auto ours = [&] { ours_out = matmul(a, b); };
            raw();
            ours();
            const float* y = ours_out.data<float>();
            double max_diff = 0;
            for (size_t i = 0; i < raw_out.size(); ++i)
                max_diff = std::max(max_diff, double(std::abs(y[i] - raw_out[i])));
            bench::require(max_diff <= 1e-4, "matmul differs from cblas_sgemm");

            const double flops = 2.0 * c.m * c.n * c.k;
            const int repeats = flops > 1e9 ? 31 : 81;
            auto [t_ours, t_raw] = bench::best_seconds_interleaved(ours, raw, repeats);
            double ratio = t_raw / t_ours;  // = ours GF/s / raw GF/s
            worst = std::min(worst, ratio);
            std::printf("%-20s %7d %12.1f %12.1f %8.3f\n", c.name, threads, flops / t_ours / 1e9, flops / t_raw / 1e9,
                        ratio);
            results.push_back({{"case", c.name},
                               {"threads", threads},
                               {"ours_gflops", flops / t_ours / 1e9},
                               {"raw_gflops", flops / t_raw / 1e9},
                               {"ratio", ratio}});
        }
    }
    nlohmann::json summary = {{"bench", "matmul"}, {"gflops_ratio", worst}, {"cases", results}};
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
