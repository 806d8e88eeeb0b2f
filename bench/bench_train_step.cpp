// bench_train_step: one training step of the `tiny` RetinaNet (forward, focal + smooth L1
// loss, backward, SGD update) at batch 8 on 256x256 images, ours against the same network
// and loss in PyTorch (bench/torch_tiny.py, torchvision's sigmoid_focal_loss) on the same
// device, thread count and targets, the two timed step for step in alternation
// (bench/peer.h). Also inference latency for one image, and peak RSS; on cuda, peak device
// memory: ours the caching allocator's high-water mark (engine/cuda/cuda_allocator.h),
// PyTorch's torch.cuda.max_memory_allocated.
//   bench_train_step [THREADS] [--device cpu|cuda] [--batch N] [--size S]
// (issue #13 times cuda at --batch 8 --size 256 and --batch 32 --size 512; one size per run,
// so that each peak is its own). Our step ends with loss.item(), which waits for the device.
// Our step includes matching anchors to the boxes on the CPU (build_targets), as a step of
// `focal train` does; the peer reads those targets precomputed.
// Checks first that our step's loss is finite and falls over a few steps on fixed data.
// Last line: JSON with "ours_ms", "torch_ms", "time_ratio", inference ms, peak RSS (MB) and
// on cuda "ours_peak_device_mb", "torch_peak_device_mb".
#include <sys/resource.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "bench_util.h"
#include "detector/detection_loss.h"
#include "engine/blas_info.h"
#include "engine/cpu/cpu_isa.h"
#include "engine/device.h"
#include "losses/registry.h"
#include "peer.h"
#include "runtime_env.h"
#ifdef FOCAL_WITH_CUDA
#include "engine/cuda/cuda_allocator.h"
#endif

using namespace focal;
using namespace focal::detector;

namespace {
double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}

// The high-water mark of device memory our tensors held (0 on the CPU).
double peak_device_mb(Device device) {
#ifdef FOCAL_WITH_CUDA
    if (device == Device::CUDA) return cuda::memory_stats().peak / 1048576.0;
#endif
    (void)device;
    return 0;
}

struct Options {
    int threads = 2, batch = 8, size = 256;
    std::string device = "cpu";
};

Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool has_value = i + 1 < argc;
        if (arg == "--device" && has_value) o.device = argv[++i];
        else if (arg == "--batch" && has_value) o.batch = std::atoi(argv[++i]);
        else if (arg == "--size" && has_value) o.size = std::atoi(argv[++i]);
        else o.threads = std::atoi(arg.c_str());
    }
    bench::require(o.threads > 0 && o.batch > 0 && o.size >= 64 && o.size % 128 == 0,
                   "usage: bench_train_step [THREADS] [--device cpu|cuda] [--batch N] [--size S, a multiple of 128]");
    return o;
}
}  // namespace

int main(int argc, char** argv) {
    cli::tune_runtime(argv);
    const Options o = parse_options(argc, argv);
    const int threads = o.threads, batch = o.batch, size = o.size, repeats = 5;
    Device device = Device::CPU;
    try {
        device = open_device(o.device);
    } catch (const Error& e) {
        std::fprintf(stderr, "bench_train_step: %s\n", e.what());
        return 1;
    }
    set_num_threads(threads);
    std::printf("device %s, OpenBLAS core: %s, kernels: %s, threads %d, batch %d, %dx%d\n", device_name(device),
                blas_core().c_str(), cpu::cpu_isa_name(cpu::cpu_isa()), threads, batch, size, size);
    Generator gen(0);
    RetinaNetConfig config = retinanet_preset("tiny", 20);
    RetinaNet model(config, gen);
    model.to(device);
    const std::vector<Box> anchors = make_anchors(config.anchors, level_sizes(config.anchors, size, size));
    // A fixed batch: random images, three random boxes per image.
    data::Batch b;
    b.n = batch, b.h = b.w = size;
    b.images = Tensor::randn({batch, 3, size, size}, gen).to_vector<float>();
    std::vector<float> u = Tensor::rand({batch * 3 * 5}, gen).to_vector<float>();
    for (int i = 0; i < batch; ++i) {
        b.boxes.emplace_back(), b.labels.emplace_back(), b.difficult.emplace_back();
        for (int j = 0; j < 3; ++j) {
            const float* r = &u[(i * 3 + j) * 5];
            const float scale = size / 256.0f;  // the same scene at every size
            const float x = r[0] * 180 * scale, y = r[1] * 180 * scale, w = (24 + r[2] * 70) * scale,
                        h = (24 + r[3] * 70) * scale;
            b.boxes[i].push_back({x, y, x + w, y + h});
            b.labels[i].push_back(static_cast<int>(r[4] * 20) % 20);
            b.difficult[i].push_back(0);
        }
    }
    const Tensor images = Tensor::from_vector(b.images, {batch, 3, size, size}, device);
    const Tensor anchor_tensor = anchors_tensor(anchors);
    const losses::ClassificationLoss cls_loss = losses::make_cls_loss("focal");
    const losses::BoxLoss box_loss = losses::make_box_loss("smooth_l1");
    SGD sgd(model.named_parameters(), SgdOptions{0.01f, 0.9f, 1e-4f});
    TrainingTargets targets;
    float last_loss = 0;
    auto step = [&] {
        HeadOutputs out = model.forward(images);
        targets = build_targets(anchors, b, MatcherConfig{}, BoxCoder{});
        DetectionLoss loss =
            detection_loss(out, targets, anchor_tensor, cls_loss, box_loss, BoxCoder{}, Normalizer::Positives);
        sgd.zero_grad();
        loss.total.backward();
        sgd.step();
        last_loss = loss.total.item();
    };
    step();
    const float first_loss = last_loss;
    for (int i = 0; i < 3; ++i) step();
    bench::require(std::isfinite(last_loss) && last_loss < first_loss, "training step: loss finite and falling");
    // The peer trains on our targets, so both sides compute the same loss.
    const std::string file = (std::filesystem::temp_directory_path() / "focal_train_step_targets.safetensors").string();
    save_safetensors(file, {{"images", images}, {"labels", targets.labels}, {"box_deltas", targets.box_deltas}});
    bench::TorchPeer peer(
        {"train-step", "--threads", std::to_string(threads), "--targets", file, "--device", device_name(device)});
    std::filesystem::remove(file);
    // Case 0 of the peer: its training step; case 1: inference on one image.
    const auto [ours, torch_step] = bench::best_seconds_against(step, &peer, 0, repeats);
    model.eval();
    const Tensor one = images.narrow(0, 0, 1);
    const auto [ours_infer, torch_infer] = bench::best_seconds_against(
        [&] {
        NoGradGuard no_grad;
        const HeadOutputs out = model.forward(one);
        (void)out.cls_logits.to(Device::CPU),
            (void)out.box_deltas.to(Device::CPU);  // as predict() reads them; waits for the device
        },
        &peer, 1, repeats);
    const double ours_rss = peak_rss_mb(), ours_device = peak_device_mb(device);
    const nlohmann::json peer_totals = peer.finish();

    nlohmann::json summary = {{"bench", "train_step"},
                              {"device", device_name(device)},
                              {"threads", threads},
                              {"batch", batch},
                              {"size", size},
                              {"blas_core", blas_core()},
                              {"cpu_isa", cpu::cpu_isa_name(cpu::cpu_isa())},
                              {"ours_ms", 1e3 * ours},
                              {"ours_inference_ms", 1e3 * ours_infer},
                              {"ours_peak_rss_mb", ours_rss}};
    if (device == Device::CUDA) {
        summary["ours_peak_device_mb"] = ours_device;
        std::printf("peak device memory: ours %.0f MB", ours_device);
        if (peer_totals.is_object() && peer_totals.contains("peak_device_mb")) {
            summary["torch_peak_device_mb"] = peer_totals["peak_device_mb"];
            std::printf(", PyTorch %.0f MB", peer_totals["peak_device_mb"].get<double>());
        }
        std::printf("\n");
    }
    if (peer_totals.is_object()) {
        const double t = torch_step, ti = torch_infer;
        std::printf("training step: ours %.1f ms, PyTorch %.1f ms, ratio %.2f\n", 1e3 * ours, 1e3 * t, ours / t);
        std::printf("inference (1 image): ours %.1f ms, PyTorch %.1f ms\n", 1e3 * ours_infer, 1e3 * ti);
        std::printf("peak RSS: ours %.0f MB, PyTorch %.0f MB\n", ours_rss, peer_totals["peak_rss_mb"].get<double>());
        summary["torch_ms"] = 1e3 * t;
        summary["time_ratio"] = ours / t;
        summary["torch_inference_ms"] = 1e3 * ti;
        summary["torch_peak_rss_mb"] = peer_totals["peak_rss_mb"];
    } else {
        std::printf("training step: ours %.1f ms (PyTorch peer unavailable)\n", 1e3 * ours);
        summary["time_ratio"] = nullptr;
    }
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
