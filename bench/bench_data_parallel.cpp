// bench_data_parallel: data-parallel training of the `tiny` RetinaNet (detector/data_parallel.h)
// on this machine's cores, launched by the benchmark itself:
//   1 rank x 2 threads  against  2 ranks x 1 thread (mpirun, TCP on localhost),
// both at global batch 8 on 256x256 images, run in alternation, the best step of each kept.
// "efficiency" = images/s of 2 ranks / images/s of 1 rank (1.0: the ranks cost nothing).
// It also times the gradient all-reduce of a step (pack into one flat buffer, bucketed
// MPI_Iallreduce, unpack: engine/dist/gradient_reducer.h) against a raw MPI_Allreduce of the
// same bytes ("allreduce_ratio" = raw time / ours), the 2-rank step with the buckets
// all-reduced during backward (the default) against after it ("overlap_gain" = time after /
// time during, steps in alternation), and models on paper what N ranks on N
// machines would give: step = compute of the global batch / N + a ring all-reduce of the
// gradient bytes, 2 (N - 1) / N x bytes / bandwidth, at the bandwidths printed.
// Checks first: the loss is finite and falls, and the all-reduce returns the mean.
// Usage: bench_data_parallel [rounds]; `--worker THREADS STEPS` is the per-rank program.
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "data/loader.h"
#include "detector/data_parallel.h"
#include "detector/detection_loss.h"
#include "losses/registry.h"
#ifdef FOCAL_WITH_MPI
#include <mpi.h>
#endif

using namespace focal;
using namespace focal::detector;

namespace {

constexpr int kBatch = 8, kSize = 256;

// The fixed global batch of bench/bench_train_step.cpp: random images, three random boxes each.
data::Batch global_batch(Generator& gen) {
    data::Batch b;
    b.n = kBatch, b.h = b.w = kSize;
    b.images = Tensor::randn({kBatch, 3, kSize, kSize}, gen).to_vector<float>();
    const std::vector<float> u = Tensor::rand({kBatch * 3 * 5}, gen).to_vector<float>();
    for (int i = 0; i < kBatch; ++i) {
        b.boxes.emplace_back(), b.labels.emplace_back(), b.difficult.emplace_back();
        for (int j = 0; j < 3; ++j) {
            const float* r = &u[(i * 3 + j) * 5];
            const float x = r[0] * 180, y = r[1] * 180, w = 24 + r[2] * 70, h = 24 + r[3] * 70;
            b.boxes[i].push_back({x, y, x + w, y + h});
            b.labels[i].push_back(static_cast<int>(r[4] * 20) % 20);
            b.difficult[i].push_back(0);
        }
    }
    return b;
}

// Images [begin, end) of a batch.
data::Batch shard_of(const data::Batch& b, int begin, int end) {
    data::Batch s;
    s.n = end - begin, s.h = b.h, s.w = b.w;
    const size_t plane = size_t(3) * b.h * b.w;
    s.images.assign(b.images.begin() + begin * plane, b.images.begin() + end * plane);
    for (int i = begin; i < end; ++i)
        s.boxes.push_back(b.boxes[i]), s.labels.push_back(b.labels[i]), s.difficult.push_back(b.difficult[i]);
    return s;
}

// One rank: a few training steps on its shard, timed; rank 0 prints "RESULT {json}".
int worker(int threads, int steps) {
    set_num_threads(threads);
    DataParallel parallel(Device::CPU, kBatch, 600);
    Generator gen(0);
    const RetinaNetConfig config = retinanet_preset("tiny", 20);
    RetinaNet model(config, gen);
    const std::vector<Box> anchors = make_anchors(config.anchors, level_sizes(config.anchors, kSize, kSize));
    const data::Batch b = shard_of(global_batch(gen), kBatch * parallel.rank() / parallel.size(),
                                   kBatch * (parallel.rank() + 1) / parallel.size());
    const Tensor images = Tensor::from_vector(b.images, {b.n, 3, kSize, kSize});
    const Tensor anchor_tensor = anchors_tensor(anchors);
    const losses::ClassificationLoss cls_loss = losses::make_cls_loss("focal");
    const losses::BoxLoss box_loss = losses::make_box_loss("smooth_l1");
    SGD sgd(model.named_parameters(), SgdOptions{0.01f, 0.9f, 1e-4f});
    const std::vector<Tensor> params = model.parameters();
    double loss_value = 0;
    auto step = [&] {
        HeadOutputs out = model.forward(images);
        const TrainingTargets targets = build_targets(anchors, b, MatcherConfig{}, BoxCoder{});
        const DataParallel::Divisor divisor = parallel.loss_divisor(targets.num_positives);
        DetectionLoss loss = detection_loss(out, targets, anchor_tensor, cls_loss, box_loss, BoxCoder{}, divisor.value);
        sgd.zero_grad();
        loss.total.backward();
        parallel.average_gradients(params);
        sgd.step();
        loss_value = parallel.gather_losses(loss.total.item(), 0, 0, b.n).total;
    };
    parallel.watch_gradients(params);  // as the trainer does: buckets start during backward
    step();
    const double first = loss_value;
    double best = 1e30, best_after_backward = 1e30;
    for (int i = 0; i < steps; ++i) {
        for (bool overlap : {true, false}) {  // in alternation: the all-reduce during backward, or after it
            parallel.set_overlap(overlap);
            const double start = bench::now_seconds();
            step();
            double& kept = overlap ? best : best_after_backward;
            kept = std::min(kept, bench::now_seconds() - start);
        }
    }
    parallel.set_overlap(true);
    bench::require(std::isfinite(loss_value) && loss_value < first, "data-parallel step: loss finite and falling");
    nlohmann::json result = {{"ranks", parallel.size()},
                             {"threads", threads},
                             {"step_s", best},
                             {"step_s_no_overlap", best_after_backward}};
    int64_t elements = 0;
    for (const Tensor& p : params) elements += p.numel();
    result["gradient_bytes"] = elements * 4;
#ifdef FOCAL_WITH_MPI
    if (parallel.size() > 1) {
        // Check: every gradient set to rank + 1 averages to (size + 1) / 2.
        for (const Tensor& p : params) p.set_grad(Tensor::full(p.shape(), float(parallel.rank() + 1)));
        parallel.average_gradients(params);
        const float mean = (parallel.size() + 1) / 2.0f;
        for (const Tensor& p : params)
            for (float v : p.grad().to_vector<float>()) bench::require(v == mean, "all-reduce gives the mean");
        // Ours (flat buffer, buckets, unpack) against one raw MPI_Allreduce of the same floats.
        std::vector<float> raw(static_cast<size_t>(elements + static_cast<int64_t>(params.size())), 1.0f);
        const auto raw_allreduce = [&] {
            MPI_Allreduce(MPI_IN_PLACE, raw.data(), int(raw.size()), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        };
        const auto [ours, mpi] =
            bench::best_seconds_interleaved([&] { parallel.average_gradients(params); }, raw_allreduce, 20);
        result["allreduce_s"] = ours, result["raw_allreduce_s"] = mpi;
    }
#endif
    if (parallel.root()) std::printf("RESULT %s\n", result.dump().c_str());
    return 0;
}

// Runs `command`, returns the JSON after "RESULT " in its output (null if none).
nlohmann::json run_result(const std::string& command) {
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    bench::require(pipe != nullptr, "popen");
    std::string output;
    char line[4096];
    while (std::fgets(line, sizeof line, pipe)) output += line;
    const int status = pclose(pipe);
    const size_t at = output.rfind("RESULT ");
    if (status != 0 || at == std::string::npos) {
        std::fprintf(stderr, "%s failed:\n%s\n", command.c_str(), output.c_str());
        bench::require(false, "a benchmark run failed");
    }
    return nlohmann::json::parse(output.substr(at + 7, output.find('\n', at) - at - 7));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "--worker") return worker(std::atoi(argv[2]), std::atoi(argv[3]));
#ifndef FOCAL_WITH_MPI
    std::printf(
        "focal was built without MPI: nothing to measure\n{\"bench\": \"data_parallel\", \"efficiency\": null}\n");
    return 0;
#else
    if (std::system("command -v mpirun > /dev/null 2>&1") != 0) {
        std::printf("mpirun is not installed\n{\"bench\": \"data_parallel\", \"efficiency\": null}\n");
        return 0;
    }
    const int rounds = argc > 1 ? std::atoi(argv[1]) : 3, steps = 3;
    if (rounds < 1) {
        std::fprintf(stderr, "usage: bench_data_parallel [rounds >= 1, default 3]\n");
        return 2;
    }
    const std::string self = argv[0], work = " --worker ";
    const std::string mpirun = "OMP_NUM_THREADS=1 mpirun --allow-run-as-root --oversubscribe --bind-to none "
                               "--mca btl tcp,self --mca btl_tcp_if_include lo -np 2 ";
    double one = 1e30, two = 1e30, two_no_overlap = 1e30, ours = 1e30, raw = 1e30;
    nlohmann::json last;
    for (int r = 0; r < rounds; ++r) {  // alternate, so both see the same machine
        one = std::min(
            one, run_result("OMP_NUM_THREADS=2 " + self + work + "2 " + std::to_string(steps))["step_s"].get<double>());
        last = run_result(mpirun + self + work + "1 " + std::to_string(steps));
        two = std::min(two, last["step_s"].get<double>());
        two_no_overlap = std::min(two_no_overlap, last["step_s_no_overlap"].get<double>());
        ours = std::min(ours, last["allreduce_s"].get<double>());
        raw = std::min(raw, last["raw_allreduce_s"].get<double>());
    }
    const double bytes = last["gradient_bytes"].get<double>();
    const double ips1 = kBatch / one, ips2 = kBatch / two, efficiency = ips2 / ips1;
    std::printf("tiny step, global batch %d at %dx%d: 1 rank x 2 threads %.0f ms (%.2f img/s), "
                "2 ranks x 1 thread %.0f ms (%.2f img/s): efficiency %.3f\n",
                kBatch, kSize, kSize, 1e3 * one, ips1, 1e3 * two, ips2, efficiency);
    std::printf("gradient all-reduce of %.1f MB per step: ours %.2f ms, raw MPI_Allreduce %.2f ms (ratio %.3f), "
                "%.1f%% of the 2-rank step\n",
                bytes / 1e6, 1e3 * ours, 1e3 * raw, raw / ours, 100 * ours / two);
    std::printf("2-rank step with the buckets all-reduced during backward %.0f ms, after it %.0f ms "
                "(overlap gain %.3f)\n",
                1e3 * two, 1e3 * two_no_overlap, two_no_overlap / two);
    // On paper: N ranks, one per machine, each as fast as one of these ranks (1 core).
    const double per_image = (two - ours) / (kBatch / 2.0), global = 64;
    std::printf("on paper, global batch %.0f, %.2f s of compute per image per rank, ring all-reduce "
                "2 (N - 1) / N x %.1f MB:\n",
                global, per_image, bytes / 1e6);
    nlohmann::json paper = nlohmann::json::object();
    for (double gbit : {10.0, 100.0}) {
        const double bandwidth = gbit / 8 * 1e9;  // bytes/s
        std::printf("  %3.0f Gbit/s:", gbit);
        for (int n : {2, 4, 8, 16, 32}) {
            const double step = global * per_image / n + 2.0 * (n - 1) / n * bytes / bandwidth;
            const double e = global * per_image / (n * step);
            std::printf("  N=%d %.3f", n, e);
            paper[std::to_string(int(gbit)) + "gbit"][std::to_string(n)] = e;
        }
        std::printf("  (efficiency)\n");
    }
    nlohmann::json summary = {{"bench", "data_parallel"},
                              {"batch", kBatch},
                              {"size", kSize},
                              {"step_ms_1rank_2threads", 1e3 * one},
                              {"step_ms_2ranks_1thread", 1e3 * two},
                              {"step_ms_2ranks_no_overlap", 1e3 * two_no_overlap},
                              {"overlap_gain", two_no_overlap / two},
                              {"images_per_s_1rank", ips1},
                              {"images_per_s_2ranks", ips2},
                              {"allreduce_ms", 1e3 * ours},
                              {"raw_allreduce_ms", 1e3 * raw},
                              {"allreduce_ratio", raw / ours},
                              {"gradient_bytes", bytes},
                              {"paper_efficiency", paper},
                              {"efficiency", efficiency}};
    std::printf("%s\n", summary.dump().c_str());
    return 0;
#endif
}
