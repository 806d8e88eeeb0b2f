// torchvision's ResNet-18/34 as a backbone (layers/resnet.h): shapes, parameter counts and
// names against torchvision's, and the fine-tuning controls (frozen batch norm, frozen
// stages). The features against PyTorch's are in tests/tools/test_backbone_weights.cpp.
#include <doctest/doctest.h>

#include <algorithm>

#include "layers/resnet.h"

using namespace focal;

namespace {
bool has(const NamedTensors& tensors, const std::string& name) {
    return std::any_of(tensors.begin(), tensors.end(), [&](const auto& entry) { return entry.first == name; });
}
}  // namespace

TEST_CASE("resnet18 and resnet34: C2..C5 shapes, torchvision's parameter counts and names") {
    Generator gen(1);
    ResNet r18(resnet_config(18), gen);
    std::vector<Tensor> c = r18.forward(Tensor::randn({1, 3, 96, 128}, gen));
    REQUIRE(c.size() == 4);
    CHECK(c[0].shape() == Shape{1, 64, 24, 32});  // stride 4 (conv1 /2, max pool /2)
    CHECK(c[1].shape() == Shape{1, 128, 12, 16});
    CHECK(c[2].shape() == Shape{1, 256, 6, 8});
    CHECK(c[3].shape() == Shape{1, 512, 3, 4});
    // torchvision: resnet18 11,689,512 and resnet34 21,797,672 parameters, less fc's 513,000.
    CHECK(r18.num_parameters() == 11689512 - 513000);
    ResNet r34(resnet_config(34), gen);
    CHECK(r34.num_parameters() == 21797672 - 513000);

    const NamedTensors state = r18.state();
    CHECK(state.front().first == "conv1.weight");
    for (const char* name : {"bn1.running_var", "layer1.1.bn2.weight", "layer2.0.downsample.0.weight",
                             "layer2.0.downsample.1.running_mean", "layer4.1.conv2.weight"}) {
        CAPTURE(name);
        CHECK(has(state, name));
    }
    CHECK_FALSE(has(state, "layer1.0.downsample.0.weight"));  // layer1 keeps stride and width
    CHECK_FALSE(has(state, "fc.weight"));
    CHECK(has(r34.state(), "layer3.5.conv1.weight"));
    CHECK_THROWS_WITH_AS(resnet_config(50), doctest::Contains("depth 50 is not built here"), Error);
    CHECK_THROWS_WITH_AS(make_backbone(BackboneConfig{"vgg"}, gen), doctest::Contains("unknown kind 'vgg'"), Error);
}

TEST_CASE("freeze_stages fixes the stem and the first layers; frozen batch norms keep their statistics") {
    Generator gen(2);
    ResNet net(resnet_config(18), gen);
    const size_t all = net.named_parameters().size();
    CHECK(net.named_trainable_parameters().size() == all);
    net.freeze_stages(2);  // the stem (conv1, bn1) and layer1
    const NamedTensors trainable = net.named_trainable_parameters();
    CHECK_FALSE(has(trainable, "conv1.weight"));
    CHECK_FALSE(has(trainable, "bn1.weight"));
    CHECK_FALSE(has(trainable, "layer1.1.conv2.weight"));
    CHECK(has(trainable, "layer2.0.conv1.weight"));
    CHECK(has(trainable, "layer2.0.bn1.bias"));
    CHECK(trainable.size() == all - 3 - 2 * 6);  // conv1, bn1 (2); layer1: 2 blocks x (2 convs + 2 BN x 2)

    // Training mode: the frozen stem's bn1 keeps its statistics, layer2's first one moves.
    net.train();
    auto statistics = [&](const std::string& name) {
        for (const auto& [n, t] : net.named_buffers())
            if (n == name) return t.to_vector<float>();
        FAIL("no buffer ", name);
        return std::vector<float>{};
    };
    const std::vector<float> stem_before = statistics("bn1.running_mean");
    const std::vector<float> layer2_before = statistics("layer2.0.bn1.running_mean");
    {
        NoGradGuard no_grad;
        net.forward(Tensor::randn({2, 3, 64, 64}, gen));
    }
    CHECK(statistics("bn1.running_mean") == stem_before);
    CHECK(statistics("layer2.0.bn1.running_mean") != layer2_before);

    // Gradients reach the trainable layers only.
    Tensor x = Tensor::randn({2, 3, 64, 64}, gen);
    sum(net.forward(x).back()).backward();
    for (const auto& [name, p] : net.named_parameters()) {
        const std::string& parameter = name;  // clang 14 cannot capture a structured binding
        CAPTURE(parameter);
        CHECK(p.grad().defined() == p.requires_grad());
    }
    CHECK_THROWS_WITH_AS(net.freeze_stages(6), doctest::Contains("this backbone has 5"), Error);
}

TEST_CASE("a backbone with frozen batch norm computes in training mode what it computes in eval mode") {
    Generator gen(3);
    ResNet net(resnet_config(18), gen);
    {  // non-trivial running statistics first
        NoGradGuard no_grad;
        for (int i = 0; i < 2; ++i) net.forward(Tensor::randn({2, 3, 64, 64}, gen));
    }
    Tensor x = Tensor::randn({1, 3, 64, 64}, gen);
    net.eval();
    const std::vector<float> expected = net.forward(x).back().to_vector<float>();
    net.freeze_batch_norm();
    net.train();
    CHECK(net.forward(x).back().to_vector<float>() == expected);
    for (const auto& [name, p] : net.named_parameters())
        if (name.find("bn") != std::string::npos || name.find("downsample.1") != std::string::npos) {
            const std::string& parameter = name;  // clang 14 cannot capture a structured binding
            CAPTURE(parameter);
            CHECK_FALSE(p.requires_grad());
        }
}
