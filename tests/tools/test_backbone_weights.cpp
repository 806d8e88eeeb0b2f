// ImageNet backbones (`focal train --preset resnet18 --backbone-weights FILE`): a torchvision
// ResNet-18 with random weights, converted by scripts/import_torchvision.py, gives PyTorch's
// features in focal, and a short fine-tune from it runs with the frozen parts left as loaded.
// Needs Debian's python3-torch and python3-torchvision (no download); skipped without them.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "engine/serialize.h"
#include "layers/resnet.h"
#include "run_focal.h"

namespace fs = std::filesystem;
using namespace focal;

namespace {

const fs::path kWork = fs::path(FOCAL_BINARY_DIR) / "test_backbone_weights";

// tests/tools/resnet_reference.py's files for resnet18, made once; "" when torch is absent.
fs::path reference() {
    const fs::path dir = kWork / "reference";
    if (fs::exists(dir / "reference.safetensors")) return dir;
    if (test::shell("/usr/bin/python3 -c 'import torch, torchvision' > /dev/null 2>&1") != 0) return {};
    fs::create_directories(dir);
    const std::string command = "/usr/bin/python3 " FOCAL_SOURCE_DIR "/tests/tools/resnet_reference.py resnet18 " +
                                dir.string() + " > " + (kWork / "reference.log").string() + " 2>&1";
    REQUIRE_MESSAGE(test::shell(command) == 0, test::read_text(kWork / "reference.log"));
    return dir;
}

// max |a - b| / (1 + |b|): 1e-4 is float rounding over ~20 layers, a wrong weight is O(1).
double max_relative_error(const Tensor& a, const Tensor& b) {
    REQUIRE(a.shape() == b.shape());
    const std::vector<float> x = a.to_vector<float>(), y = b.to_vector<float>();
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::abs(double(x[i]) - y[i]) / (1 + std::abs(y[i])));
    return worst;
}

bool same(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.to_vector<float>() == b.to_vector<float>();
}

}  // namespace

TEST_CASE("a converted torchvision ResNet-18 gives PyTorch's features in focal, to 1e-4") {
    const fs::path dir = reference();
    if (dir.empty()) {
        MESSAGE("skipped: Debian's python3-torch and python3-torchvision are not installed");
        return;
    }
    const SafetensorsFile weights = load_safetensors((dir / "resnet18.safetensors").string());
    const SafetensorsFile expected = load_safetensors((dir / "reference.safetensors").string());
    CHECK(weights.metadata.at("arch") == "resnet18");
    Generator gen(0);
    ResNet net(resnet_config(18), gen);
    net.load_state(weights.tensors, false, "resnet18.safetensors");  // every key, no extra
    net.eval();
    const std::vector<Tensor> c = net.forward(expected.at("input"));
    for (int i = 0; i < 4; ++i) {
        const std::string name = std::string("c").append(std::to_string(i + 2));
        CAPTURE(name);
        const double error = max_relative_error(c[i], expected.at(name));
        MESSAGE(name, ": max |focal - torch| / (1 + |torch|) = ", error);
        CHECK(error < 1e-4);
    }
    // In training mode with the batch norms frozen, as --backbone-weights trains it: the same.
    net.freeze_batch_norm();
    net.train();
    CHECK(max_relative_error(net.forward(expected.at("input")).back(), expected.at("c5")) < 1e-4);
}

TEST_CASE("--backbone-weights: a short fine-tune keeps the frozen stages and statistics; bad uses are refused") {
    const fs::path dir = reference();
    if (dir.empty()) {
        MESSAGE("skipped: Debian's python3-torch and python3-torchvision are not installed");
        return;
    }
    const fs::path data = kWork / "shapes", run = kWork / "run", weights = dir / "resnet18.safetensors";
    std::string output;
    if (!fs::exists(data / "classes.txt"))
        REQUIRE(test::run_focal("make-shapes --out " + data.string() + " --images 8 --size 64", output,
                                kWork / "log.txt") == 0);
    fs::remove_all(run);
    const std::string common = "train --data " + data.string() +
                               " --batch 2 --max-iters 2 --eval-every 0 --workers 1 --threads 2 --quiet "
                               "--image-size 64 --optimizer adamw --lr 1e-3 ";
    REQUIRE_MESSAGE(test::run_focal(common + "--preset resnet18 --out " + run.string() + " --backbone-weights " +
                                        weights.string() + " --freeze-stages 2 --epochs 1",
                                    output, kWork / "log.txt") == 0,
                    output);
    CHECK(output.find("backbone initialised from " + weights.string() + " (") != std::string::npos);
    CHECK(output.find("first 2 stages fixed") != std::string::npos);

    const SafetensorsFile loaded = load_safetensors(weights.string());
    const SafetensorsFile trained = load_safetensors((run / "checkpoint.safetensors").string());
    // Frozen: the stem and layer1 (weights), every batch norm (statistics and affine).
    for (const char* name : {"conv1.weight", "layer1.1.conv2.weight", "bn1.running_mean", "layer3.0.bn2.running_var",
                             "layer4.1.bn1.weight", "layer2.0.downsample.1.running_mean"}) {
        CAPTURE(name);
        CHECK(same(trained.at("backbone." + std::string(name)), loaded.at(name)));
    }
    // Trained: the later stages' convolutions.
    for (const char* name : {"layer2.0.conv1.weight", "layer4.1.conv2.weight"}) {
        CAPTURE(name);
        CHECK_FALSE(same(trained.at("backbone." + std::string(name)), loaded.at(name)));
    }
    // --resume goes on with the same parts frozen (the optimizer holds only the trainable ones).
    REQUIRE_MESSAGE(test::run_focal(common + "--preset resnet18 --out " + run.string() + " --backbone-weights " +
                                        weights.string() + " --freeze-stages 2 --epochs 2 --resume",
                                    output, kWork / "log.txt") == 0,
                    output);
    CHECK(same(load_safetensors((run / "checkpoint.safetensors").string()).at("backbone.layer1.0.conv1.weight"),
               loaded.at("layer1.0.conv1.weight")));

    // Bad uses: one error line each, and no run folder.
    const fs::path bad = kWork / "bad";
    struct Case {
        std::string flags, message;
    } cases[] = {
        {"--backbone-weights " + weights.string() + " --preset tiny",
         "--backbone-weights needs a resnet backbone (--preset resnet18 or resnet34); preset 'tiny' has a 'plain' one"},
        {"--preset resnet18 --backbone-weights " + (dir / "missing.safetensors").string(),
         "missing.safetensors is not a file"},
        {"--preset resnet18 --freeze-stages 6", "--freeze-stages 6: the backbone has 5 stages"},
        {"--preset resnet18 --backbone-weights " + (dir / "reference.safetensors").string(),
         "missing key 'conv1.weight'"},
    };
    for (const Case& c : cases) {
        CAPTURE(c.flags);
        fs::remove_all(bad);
        CHECK(test::run_focal(common + "--epochs 1 --out " + bad.string() + " " + c.flags, output, kWork / "log.txt") !=
              0);
        CHECK_MESSAGE(output.find(c.message) != std::string::npos, output);
        CHECK_FALSE(fs::exists(bad));
    }
}
