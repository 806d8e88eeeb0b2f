// `focal export --run RUN --onnx FILE`: the exported network, run in ONNX Runtime
// (onnxruntime-node from npm), gives focal's outputs to 1e-4 at another batch size than the
// one it was traced with; a sigmoid run on focal's own backbone with GroupNorm heads, and a
// softmax run on ResNet-18. Skipped without node and onnxruntime-node (FOCAL_ONNXRUNTIME_NODE,
// default build/onnxruntime/node_modules, where .ci/run installs it) or without Debian's
// python3-torch and python3-onnx.
#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "detector/trainer.h"
#include "engine/serialize.h"
#include "run_focal.h"

namespace fs = std::filesystem;
using namespace focal;

namespace {

const fs::path kWork = fs::path(FOCAL_BINARY_DIR) / "test_export";

// node_modules holding onnxruntime-node, or "" when node or the module is missing.
fs::path onnxruntime_node() {
    const char* env = std::getenv("FOCAL_ONNXRUNTIME_NODE");
    const fs::path modules = env ? fs::path(env) : fs::path(FOCAL_BINARY_DIR) / "onnxruntime" / "node_modules";
    if (!fs::exists(modules / "onnxruntime-node")) return {};
    if (test::shell("node --version > /dev/null 2>&1") != 0) return {};
    return modules;
}

std::string missing() {
    if (test::shell("/usr/bin/python3 -c 'import torch, onnx' > /dev/null 2>&1") != 0)
        return "Debian's python3-torch and python3-onnx";
    if (onnxruntime_node().empty())
        return "node with onnxruntime-node (npm install --prefix build/onnxruntime onnxruntime-node)";
    return "";
}

int run_focal(const std::string& args, std::string& output) { return test::run_focal(args, output, kWork / "log.txt"); }

// focal's outputs for a random batch of 2 from the run's weights, and the anchors.
void write_probe(const fs::path& run, const fs::path& probe) {
    detector::LoadedRun loaded = detector::load_run(run.string());
    const int64_t size = loaded.model_config.image_size;
    Generator gen(7);
    Tensor input = Tensor::randn({2, 3, size, size}, gen);
    detector::HeadOutputs out;
    {
        NoGradGuard no_grad;
        out = loaded.model->forward(input);
    }
    std::vector<float> corners;
    for (const data::Box& b : loaded.model->anchors(size, size))
        corners.insert(corners.end(), {b.x1, b.y1, b.x2, b.y2});
    save_safetensors(probe.string(), {{"input", input},
                                      {"cls_logits", out.cls_logits.contiguous()},
                                      {"box_deltas", out.box_deltas.contiguous()},
                                      {"anchors", Tensor::from_vector(corners, {int64_t(corners.size() / 4), 4})}});
}

}  // namespace

TEST_CASE("focal export: ONNX Runtime gives focal's outputs to 1e-4, with a dynamic batch") {
    const std::string absent = missing();
    if (!absent.empty()) {
        MESSAGE("skipped: needs ", absent);
        return;
    }
    fs::create_directories(kWork);
    const fs::path data = kWork / "shapes";
    std::string output;
    if (!fs::exists(data / "classes.txt"))
        REQUIRE(run_focal("make-shapes --out " + data.string() + " --images 8 --size 64", output) == 0);
    struct Case {
        std::string name, flags;
    } cases[] = {
        {"demo_sigmoid", "--preset demo"},  // focal's plain backbone, GroupNorm heads, K logits
        {"demo_gn_backbone", "--preset demo --model '{\"backbone\": {\"norm_groups\": 8}}'"},  // GroupNorm throughout
        {"resnet18_softmax", "--preset resnet18 --cls-loss ce --image-size 64"},               // K + 1 logits
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const fs::path run = kWork / c.name, onnx = kWork / (c.name + ".onnx"), probe = kWork / (c.name + ".probe");
        fs::remove_all(run);
        fs::remove(onnx);
        REQUIRE_MESSAGE(run_focal("train --data " + data.string() + " --out " + run.string() +
                                      " --epochs 1 --batch 2 --max-iters 2 --eval-every 0 --workers 1 --threads 2 "
                                      "--quiet " +
                                      c.flags,
                                  output) == 0,
                        output);
        REQUIRE_MESSAGE(run_focal("export --run " + run.string() + " --onnx " + onnx.string(), output) == 0, output);
        CHECK(output.find("dynamic batch") != std::string::npos);
        write_probe(run, probe);
        const std::string node = "NODE_PATH=" + onnxruntime_node().string() +
                                 " node " FOCAL_SOURCE_DIR "/tests/tools/run_onnx.js " + onnx.string() + " " +
                                 probe.string() + " > " + (kWork / "onnx.txt").string() + " 2>&1";
        const int status = test::shell(node);
        const std::string report = test::read_text(kWork / "onnx.txt");
        MESSAGE(c.name, ": ", report);
        CHECK_MESSAGE(status == 0, report);
        CHECK(report.find("\"batch\":2") != std::string::npos);  // traced with 1
    }

    // Nothing lost: an existing file is kept without --force; a folder that is not a run is
    // focal's error, and writes nothing.
    const fs::path onnx = kWork / "demo_sigmoid.onnx";
    const auto size = fs::file_size(onnx);
    CHECK(run_focal("export --run " + (kWork / "demo_sigmoid").string() + " --onnx " + onnx.string(), output) != 0);
    CHECK(output.find("exists; --force replaces it") != std::string::npos);
    CHECK(fs::file_size(onnx) == size);
    CHECK(run_focal("export --run " + data.string() + " --onnx " + (kWork / "none.onnx").string(), output) != 0);
    CHECK(output.find("config.json") != std::string::npos);
    CHECK_FALSE(fs::exists(kWork / "none.onnx"));
}
