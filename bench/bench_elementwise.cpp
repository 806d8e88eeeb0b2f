// bench_elementwise: add and mul over 16M floats, in GB/s of memory traffic, against a
// memcpy of the same size as the baseline (the bandwidth ceiling), on 1 and 2 threads
// (the memcpy split over the same number of threads).
// Last line: JSON with each op's GB/s and its ratio to memcpy.
#include <cstring>
#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "engine/blas_info.h"
#include "engine/engine.h"
#include "runtime_env.h"

using namespace focal;

int main(int, char** argv) {
    cli::tune_runtime(argv);
    std::printf("OpenBLAS core: %s\n", blas_core().c_str());
    const int64_t n = 16 << 20;
    const double bytes = n * sizeof(float);
    Generator gen(2);
    Tensor a = Tensor::randn({n}, gen), b = Tensor::randn({n}, gen);
    {
        std::vector<float> av = a.to_vector<float>(), bv = b.to_vector<float>();
        std::vector<float> s = (a + b).to_vector<float>(), p = (a * b).to_vector<float>();
        for (int64_t i = 0; i < n; i += 4099)
            bench::require(s[i] == av[i] + bv[i] && p[i] == av[i] * bv[i], "add/mul value");
    }
    std::vector<float> dst(n);
    nlohmann::json results = nlohmann::json::array();
    std::printf("%-8s %7s %10s %14s %8s\n", "op", "threads", "GB/s", "memcpy GB/s", "ratio");
    for (int threads : {1, 2}) {
        set_num_threads(threads);
        // The baseline copies in parallel on the same thread count, chunk by chunk.
        const float* src = a.data<float>();
        double t_copy = bench::median_seconds(
            [&] {
            parallel_for(n, 1 << 16, [&](int64_t begin, int64_t end) {
                std::memcpy(dst.data() + begin, src + begin, (end - begin) * sizeof(float));
            });
            },
            15);
        const double copy_gbs = 2 * bytes / t_copy / 1e9;  // read + write
        for (const char* op : {"add", "mul"}) {
            Tensor out;
            double t = bench::median_seconds([&] { out = op[0] == 'a' ? a + b : a * b; }, 15);
            const double gbs = 3 * bytes / t / 1e9;  // two reads + one write
            std::printf("%-8s %7d %10.2f %14.2f %8.3f\n", op, threads, gbs, copy_gbs, gbs / copy_gbs);
            results.push_back(
                {{"op", op}, {"threads", threads}, {"gbs", gbs}, {"memcpy_gbs", copy_gbs}, {"ratio", gbs / copy_gbs}});
        }
    }
    nlohmann::json summary = {{"bench", "elementwise"}, {"elements", n}, {"cases", results}};
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
