// The `tiny` RetinaNet on CUDA against the CPU, end to end (the kernels one by one are in
// tests/cuda/test_cuda_parity.cpp, whose main() skips this file too without a GPU, and fails
// it under FOCAL_REQUIRE_CUDA=1):
//   - one batch: the loss agrees to rtol 1e-3, every parameter's gradient to 4x the CPU's own
//     sensitivity to rounding (relative L2; the test case says why);
//   - a seeded 40-step `focal train` run on CUDA: its first 5 losses are the CPU run's to
//     1e-3, and all 40 are finite;
//   - two CUDA runs are bitwise equal (losses and checkpoint);
//   - a checkpoint written by the CUDA run loads on the CPU, and the CPU run's on CUDA, with
//     the same weights to the bit and the same head outputs to rtol 1e-3.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "data/shapes.h"
#include "detector/detection_loss.h"
#include "detector/trainer.h"
#include "engine/engine.h"
#include "losses/registry.h"

using namespace focal;
using namespace focal::detector;
namespace fs = std::filesystem;

namespace {

constexpr float kRtol = 1e-3f;

// |a - b| <= rtol (|a| + the largest |a| / 100): relative, except for elements far below the
// tensor's scale, where float rounding of the sums is all that differs.
void check_close(const Tensor& cpu, const Tensor& cuda, const std::string& what) {
    REQUIRE(cpu.shape() == cuda.shape());
    const std::vector<float> a = cpu.to_vector<float>(), b = cuda.to_vector<float>();
    float scale = 0;
    for (float v : a) scale = std::max(scale, std::abs(v));
    for (size_t i = 0; i < a.size(); ++i)
        REQUIRE_MESSAGE(std::abs(a[i] - b[i]) <= kRtol * (std::abs(a[i]) + scale / 100),
                        what << " element " << i << ": cpu " << a[i] << ", cuda " << b[i] << " (largest " << scale
                             << ")");
}

// ||b - a|| / ||a||.
double relative_l2(const Tensor& a, const Tensor& b) {
    const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
    double diff = 0, norm = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        diff += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
        norm += double(x[i]) * x[i];
    }
    return norm > 0 ? std::sqrt(diff / norm) : std::sqrt(diff);
}

// A fixed batch of 256 px random images with three random boxes each (as bench_train_step).
data::Batch random_batch(int n, int size, int classes, Generator& gen) {
    data::Batch b;
    b.n = n, b.h = b.w = size;
    b.images = Tensor::randn({n, 3, size, size}, gen).to_vector<float>();
    const std::vector<float> u = Tensor::rand({n * 3 * 5}, gen).to_vector<float>();
    for (int i = 0; i < n; ++i) {
        b.boxes.emplace_back(), b.labels.emplace_back(), b.difficult.emplace_back();
        for (int j = 0; j < 3; ++j) {
            const float* r = &u[(i * 3 + j) * 5];
            const float x = r[0] * size * 0.7f, y = r[1] * size * 0.7f, w = 24 + r[2] * 70, h = 24 + r[3] * 70;
            b.boxes[i].push_back({x, y, x + w, y + h});
            b.labels[i].push_back(static_cast<int>(r[4] * classes) % classes);
            b.difficult[i].push_back(0);
        }
    }
    return b;
}

// The batch with every pixel scaled by 1 + eps * u, u ~ N(0, 1) from `seed`: a change of
// the order of one float rounding step when eps is 1e-7.
data::Batch nudged(data::Batch b, float eps, uint64_t seed) {
    Generator gen(seed);
    const std::vector<float> u = Tensor::randn({static_cast<int64_t>(b.images.size())}, gen).to_vector<float>();
    for (size_t i = 0; i < u.size(); ++i) b.images[i] *= 1.0f + eps * u[i];
    return b;
}

// One forward and backward of the tiny RetinaNet (its weights from seed 0) on `device`.
struct Step {
    float loss;
    std::vector<std::pair<std::string, Tensor>> grads;  // on the host
};
Step tiny_step(const data::Batch& b, Device device) {
    Generator init(0);
    RetinaNet model(retinanet_preset("tiny", 4), init);
    model.to(device);
    const std::vector<Box> anchors = model.anchors(b.h, b.w);
    const TrainingTargets targets = build_targets(anchors, b, MatcherConfig{}, model.coder);
    const HeadOutputs out = model.forward(Tensor::from_vector(b.images, {b.n, 3, b.h, b.w}, device));
    const DetectionLoss loss = detection_loss(out, targets, anchors_tensor(anchors), losses::make_cls_loss("focal"),
                                              losses::make_box_loss("smooth_l1"), model.coder, Normalizer::Positives);
    loss.total.backward();
    Step s{loss.total.item(), {}};
    for (const auto& [name, p] : model.named_parameters()) {
        const std::string parameter = name;  // clang 14 cannot capture a structured binding
        REQUIRE_MESSAGE(p.grad().defined(), parameter);
        s.grads.emplace_back(name, p.grad().to(Device::CPU));
    }
    return s;
}

// A shapes set of 200 images, written once per process: 160 in trainval, 40 steps of 4.
const fs::path& shapes() {
    static const fs::path dir = [] {
        const fs::path d = fs::temp_directory_path() / ("focal_cuda_shapes_" + std::to_string(::getpid()));
        data::ShapesOptions options;
        options.images = 200;
        options.size = 128;
        options.seed = 5;
        data::write_shapes_dataset(d.string(), options);
        return d;
    }();
    return dir;
}

fs::path run_folder(const std::string& name) {
    return shapes().parent_path() / ("focal_cuda_run_" + name + "_" + std::to_string(::getpid()));
}

// `focal train --preset tiny` for `steps` steps of batch 4 on `device`, into a fresh folder.
// A constant rate after the warm-up, so that runs of 5 and 40 steps share their first steps'
// rates (the step schedule decays at fractions of the whole run).
TrainResult train_tiny(const std::string& name, int steps, const std::string& device) {
    TrainConfig c;
    c.data = shapes().string();
    c.split = "trainval";
    c.val_split = "";
    c.preset = "tiny";
    c.batch = 4;
    c.epochs = 1;
    c.max_iters = steps;
    c.warmup_iters = 5;
    c.schedule = "constant";
    c.workers = 1;
    c.seed = 11;
    c.device = device;
    c.out = run_folder(name).string();
    c.progress = false;
    fs::remove_all(c.out);
    return train(c);
}

std::string file_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

// A suite of its own, so that scripts/gpu_check.sh runs it apart from the kernels' parity
// (focal_tests_cuda -ts=training, and -tse=training for the rest).
TEST_SUITE_BEGIN("training");

// How close can CUDA's gradients be to the CPU's? The tiny RetinaNet at initialisation on
// noise images is ill-conditioned: its backbone gradients pass through a dozen BatchNorms
// (train mode, 128 values per channel at the deepest stage) and ReLUs, and the CPU's own
// gradients move by up to 0.6% (relative L2) when the images move by one rounding step,
// their small elements by 30% (which is why an element-wise rtol cannot be the test here).
// CUDA sums in other orders, so its rounding is such a nudge inside every op. The test: each
// gradient within 4x the CPU's own sensitivity (the largest of three nudges), and within
// 2e-3 where that is smaller; a wrong gradient is off by O(1).
TEST_CASE("tiny RetinaNet, one batch: the loss and every parameter's gradient, CPU vs CUDA, to 4x the CPU's "
          "own sensitivity") {
    Generator gen(7);
    const data::Batch b = random_batch(2, 256, 4, gen);
    const Step cpu = tiny_step(b, Device::CPU), cuda = tiny_step(b, Device::CUDA);
    const Step nudges[] = {tiny_step(nudged(b, 1e-7f, 1), Device::CPU), tiny_step(nudged(b, -1e-7f, 2), Device::CPU),
                           tiny_step(nudged(b, 3e-8f, 3), Device::CPU)};
    CHECK(std::isfinite(cpu.loss));
    CHECK(std::abs(cuda.loss - cpu.loss) <= kRtol * std::abs(cpu.loss));
    REQUIRE(cpu.grads.size() == cuda.grads.size());
    double worst_ratio = 0;
    std::string worst;
    for (size_t i = 0; i < cpu.grads.size(); ++i) {
        const auto& [name, expected] = cpu.grads[i];
        const double error = relative_l2(expected, cuda.grads[i].second);
        double own = 0;
        for (const Step& nudge : nudges) own = std::max(own, relative_l2(expected, nudge.grads[i].second));
        const double bound = std::max(2e-3, 4 * own);
        const std::string line = name + ": CPU vs CUDA " + std::to_string(error) + ", CPU vs nudged CPU " +
                                 std::to_string(own) + ", bound " + std::to_string(bound);
        CHECK_MESSAGE(error <= bound, line);
        if (error / bound > worst_ratio) worst_ratio = error / bound, worst = line;
    }
    MESSAGE("closest to its bound: " << worst);
}

TEST_CASE("focal train --device cuda: 40 seeded steps, finite, the first 5 as on the CPU, bitwise run to run; "
          "checkpoints load across devices") {
    const TrainResult cpu = train_tiny("cpu", 5, "cpu");
    const TrainResult cuda = train_tiny("cuda", 40, "cuda");
    const TrainResult again = train_tiny("cuda_again", 40, "cuda");
    REQUIRE(cpu.step_losses.size() == 5);
    REQUIRE(cuda.step_losses.size() == 40);
    for (size_t i = 0; i < 5; ++i)
        CHECK_MESSAGE(std::abs(cuda.step_losses[i] - cpu.step_losses[i]) <= kRtol * std::abs(cpu.step_losses[i]),
                      "step " << i + 1 << ": cpu " << cpu.step_losses[i] << ", cuda " << cuda.step_losses[i]);
    for (double loss : cuda.step_losses) CHECK(std::isfinite(loss));
    CHECK(cuda.step_losses == again.step_losses);  // bitwise: doubles compared with ==
    CHECK(file_bytes(run_folder("cuda") / "checkpoint.safetensors") ==
          file_bytes(run_folder("cuda_again") / "checkpoint.safetensors"));

    // The CUDA run's checkpoint on the CPU, the CPU run's on CUDA.
    for (const char* run : {"cuda", "cpu"}) {
        CAPTURE(run);
        LoadedRun on_cpu = load_run(run_folder(run).string(), "last", Device::CPU);
        LoadedRun on_cuda = load_run(run_folder(run).string(), "last", Device::CUDA);
        const NamedTensors a = on_cpu.model->state(), b = on_cuda.model->state();
        REQUIRE(a.size() == b.size());
        for (size_t i = 0; i < a.size(); ++i) {
            CHECK(a[i].second.device() == Device::CPU);
            CHECK(b[i].second.device() == Device::CUDA);
            const std::vector<float> x = a[i].second.to_vector<float>(), y = b[i].second.to_vector<float>();
            CHECK_MESSAGE(x == y, a[i].first);
        }
        Generator gen(3);
        const Tensor images = Tensor::randn({2, 3, 256, 256}, gen);
        NoGradGuard no_grad;
        const HeadOutputs p = on_cpu.model->forward(images), q = on_cuda.model->forward(images.to(Device::CUDA));
        check_close(p.cls_logits, q.cls_logits.to(Device::CPU), "cls_logits");
        check_close(p.box_deltas, q.box_deltas.to(Device::CPU), "box_deltas");
    }
}

TEST_SUITE_END();
