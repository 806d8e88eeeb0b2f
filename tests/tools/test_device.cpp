// --device where no GPU can be used, as on CI's machines: every command that runs a model
// says why in one line, exits 1 and writes nothing. Which line depends on the build and the
// machine (engine/device.h): a CPU-only build, a CUDA build without the NVIDIA driver, or
// a driver that does not work (here a stand-in libcuda.so.1 without a single function,
// tests/tools/fake_libcuda.c). Skipped where a GPU is usable; tests/cuda covers that side.
// Also: a checkpoint holds no device, and load_run builds the model where it is asked to.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

#include "detector/inference.h"
#include "detector/trainer.h"
#include "engine/engine.h"
#include "run_focal.h"

namespace fs = std::filesystem;
using namespace focal;

namespace {

const fs::path kDir = fs::path(FOCAL_BINARY_DIR) / "test_device";

// Runs `env focal args`; its exit status, and stdout + stderr in `output`.
int run_focal(const std::string& args, std::string& output, const std::string& env = "") {
    return focal::test::run_focal(args, output, kDir / "focal.log", env);
}

// A shapes set and a run trained for one step on it, made once.
const fs::path& trained_run() {
    static const fs::path run = [] {
        fs::remove_all(kDir);
        fs::create_directories(kDir);
        std::string output;
        REQUIRE(run_focal("make-shapes --out " + (kDir / "data").string() + " --images 10 --size 64", output) == 0);
        REQUIRE_MESSAGE(run_focal("train --data " + (kDir / "data").string() +
                                      " --preset demo --epochs 1 --max-iters 1 " +
                                      "--batch 2 --val-split '' --workers 0 --quiet --out " + (kDir / "run").string(),
                                  output) == 0,
                        output);
        return kDir / "run";
    }();
    return run;
}

// Each command that runs a model, asked for cuda: the output it must not create.
struct Case {
    std::string args;
    fs::path creates;
};

std::vector<Case> cuda_cases() {
    const fs::path run = trained_run(), data = kDir / "data";
    const std::string image =
        (data / "JPEGImages").string() + "/" + fs::directory_iterator(data / "JPEGImages")->path().filename().string();
    return {
        {"train --data " + data.string() + " --preset demo --out " + (kDir / "cuda_run").string(), kDir / "cuda_run"},
        {"eval --run " + run.string() + " --split train", run / "metrics.json"},
        {"detect --run " + run.string() + " --out " + (kDir / "cuda_detect").string() + " " + image,
         kDir / "cuda_detect"},
        {"demo --out " + (kDir / "cuda_demo").string(), kDir / "cuda_demo"},
        {"experiments --tiny --out " + (kDir / "cuda_experiments").string(), kDir / "cuda_experiments"},
    };
}

// `focal ... --device cuda` with `env`: exit 1, one line starting with `start`, ending with
// the way out, and nothing created.
void check_refused(const std::string& env, const std::string& start) {
    for (const Case& c : cuda_cases()) {
        std::string output;
        CAPTURE(c.args);
        CHECK(run_focal(c.args + " --device cuda", output, env) == 1);
        CAPTURE(output);
        CHECK(output.rfind("focal: error: " + start, 0) == 0);
        CHECK(output.find("use --device cpu") != std::string::npos);
        CHECK(std::count(output.begin(), output.end(), '\n') == 1);
        CHECK(!fs::exists(c.creates));
    }
}

}  // namespace

TEST_CASE("--device cuda without a usable GPU: one line naming the reason, exit 1, nothing written" *
          doctest::skip(cuda_available())) {
#ifdef FOCAL_WITH_CUDA
    // CI's machines have the CUDA toolkit but no driver; a machine with a driver and no GPU
    // says "no CUDA device is available (...)".
    const bool driver = focal::test::shell("ldconfig -p | grep -q 'libcuda\\.so\\.1 '") == 0;
    check_refused("", driver ? "[cuda] no CUDA device is available (" : "[cuda] no NVIDIA driver is installed");
#else
    check_refused("", "[cuda] this focal was built without CUDA");
#endif
}

#if defined(FOCAL_WITH_CUDA) && defined(FOCAL_FAKE_LIBCUDA_DIR)
TEST_CASE("--device cuda with a broken driver: CUDA's reason in one line, exit 1, nothing written" *
          doctest::skip(cuda_available())) {
    check_refused("LD_LIBRARY_PATH=" FOCAL_FAKE_LIBCUDA_DIR, "[cuda] no CUDA device is available (");
}
#endif

TEST_CASE("--device takes cpu or cuda, and says so") {
    std::string output;
    CHECK(run_focal("eval --run " + trained_run().string() + " --device gpu", output) == 2);
    CHECK(output == "focal: error: --device: gpu not in {cpu,cuda}\n");
    CHECK(run_focal("train --data " + (kDir / "data").string() + " --out " + (kDir / "gpu_run").string() +
                        " --device gpu",
                    output) == 1);
    CHECK(output == "focal: error: [device] unknown device 'gpu'; known: cpu, cuda\n");
    CHECK(!fs::exists(kDir / "gpu_run"));
    CHECK_THROWS_WITH_AS(parse_device("CUDA"), "[device] unknown device 'CUDA'; known: cpu, cuda", Error);
    CHECK(parse_device("cpu") == Device::CPU);
    CHECK(parse_device("cuda") == Device::CUDA);
}

// The CPU half of "a GPU run's checkpoint loads on the CPU and the other way round" (the
// CUDA half is in tests/cuda): a checkpoint's bytes name no device, so they are the same
// whichever device the tensors were saved from, and load_run places the weights on the
// device asked for, with the same detections as by default.
TEST_CASE("load_run builds the model on the device asked for; a checkpoint holds no device") {
    const fs::path run = trained_run();
    detector::LoadedRun by_default = detector::load_run(run.string(), "last");
    detector::LoadedRun on_cpu = detector::load_run(run.string(), "last", Device::CPU);
    for (const Tensor& p : on_cpu.model->parameters()) CHECK(p.device() == Device::CPU);
    const std::string bytes = safetensors_bytes(on_cpu.model->state());
    uint64_t header_bytes = 0;  // safetensors: a little-endian u64, then the JSON header, then the data
    std::memcpy(&header_bytes, bytes.data(), 8);
    const std::string header = bytes.substr(8, header_bytes);
    CHECK(header.find("cpu") == std::string::npos);
    CHECK(header.find("cuda") == std::string::npos);
    CHECK(parse_safetensors(bytes, "state").tensors.size() == on_cpu.model->state().size());

    data::Image image(96, 80);
    for (size_t i = 0; i < image.pixels.size(); ++i) image.pixels[i] = static_cast<uint8_t>(i * 37 % 251);
    detector::InferenceConfig ic;
    ic.score_threshold = 0.0f;  // an untrained model: keep every candidate
    const std::vector<detector::Detection> a = detector::detect(*by_default.model, image, ic);
    const std::vector<detector::Detection> b = detector::detect(*on_cpu.model, image, ic);
    REQUIRE(a.size() == b.size());
    CHECK(!a.empty());
    for (size_t i = 0; i < a.size(); ++i) CHECK(a[i].score == b[i].score);
    if (!cuda_available()) CHECK_THROWS_AS(detector::load_run(run.string(), "last", Device::CUDA), Error);
}
