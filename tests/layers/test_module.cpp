// Modules: names as PyTorch's state_dict, train/eval, state loading, the tiny backbone and FPN.
#include <doctest/doctest.h>

#include "engine/error.h"
#include "layers/backbone.h"
#include "layers/fpn.h"

using namespace focal;

TEST_CASE("parameters and buffers are named like a PyTorch state_dict") {
    Generator gen(0);
    Sequential seq;
    seq.push_back(std::make_shared<Conv2d>(Conv2dSpec{3, 4, 3, 1, 1, 1, false}, gen));
    seq.push_back(std::make_shared<BatchNorm2d>(4));
    seq.push_back(std::make_shared<ReLU>());
    seq.push_back(std::make_shared<Linear>(4, 2, gen));
    std::vector<std::string> names;
    for (auto& [name, t] : seq.state()) names.push_back(name);
    CHECK(names == std::vector<std::string>{"0.weight", "1.weight", "1.bias", "3.weight", "3.bias", "1.running_mean",
                                            "1.running_var"});
    CHECK(seq.num_parameters() == 3 * 4 * 9 + 4 + 4 + 4 * 2 + 2);
    for (const Tensor& p : seq.parameters()) CHECK(p.requires_grad());
    for (auto& [name, b] : seq.named_buffers()) CHECK_FALSE(b.requires_grad());
}

TEST_CASE("train and eval propagate to children and change batch_norm") {
    Generator gen(1);
    Sequential seq;
    auto bn = std::make_shared<BatchNorm2d>(2);
    seq.push_back(bn);
    seq.eval();
    CHECK_FALSE(bn->is_training());
    Tensor x = Tensor::randn({4, 2, 3, 3}, gen) + 5.0f;
    Tensor y = seq(x);  // eval: running stats (0, 1) -> identity up to eps
    CHECK(y.to_vector<float>()[0] == doctest::Approx(x.to_vector<float>()[0]).epsilon(1e-4));
    CHECK(bn->running_mean.to_vector<float>()[0] == 0.0f);  // eval never updates statistics
    seq.train();
    seq(x);
    CHECK(bn->running_mean.to_vector<float>()[0] == doctest::Approx(0.5).epsilon(0.05));
}

TEST_CASE("load_state copies values and names what is missing or misshapen") {
    Generator gen(2);
    Linear a(3, 2, gen), b(3, 2, gen);
    b.load_state(a.state());
    CHECK(b.weight.to_vector<float>() == a.weight.to_vector<float>());
    NamedTensors missing{{"weight", Tensor::ones({2, 3})}};
    CHECK_THROWS_WITH_AS(b.load_state(missing, false, "ckpt.safetensors"),
                         "[load_state] ckpt.safetensors: missing key 'bias'", Error);
    NamedTensors misshapen{{"weight", Tensor::ones({3, 3})}, {"bias", Tensor::ones({2})}};
    CHECK_THROWS_WITH_AS(b.load_state(misshapen), doctest::Contains("key 'weight' has shape (3, 3)"), Error);
    NamedTensors extra = a.state();
    extra.emplace_back("head.weight", Tensor::ones({1}));
    CHECK_THROWS_WITH_AS(b.load_state(extra), doctest::Contains("unexpected key 'head.weight'"), Error);
    b.load_state(extra, true);
    CHECK(b.weight.to_vector<float>() == a.weight.to_vector<float>());  // unchanged after the failures
}

TEST_CASE("the tiny backbone + FPN: shapes, strides, parameter count") {
    Generator gen(3);
    PlainBackbone backbone(BackboneConfig{}, gen);
    Fpn fpn(FpnConfig{}, gen);
    Tensor x = Tensor::randn({1, 3, 64, 64}, gen);
    std::vector<Tensor> c = backbone.forward(x);
    REQUIRE(c.size() == 4);
    CHECK(c[0].shape() == Shape{1, 64, 16, 16});
    CHECK(c[3].shape() == Shape{1, 256, 2, 2});
    std::vector<Tensor> p = fpn.forward({c[1], c[2], c[3]});
    REQUIRE(p.size() == 5);
    const int64_t sizes[] = {8, 4, 2, 1, 1};  // strides 8..128 on a 64-pixel input
    for (int i = 0; i < 5; ++i) CHECK(p[i].shape() == Shape{1, 128, sizes[i], sizes[i]});
    // stem 864+64; stages: conv_bn_relu + one BasicBlock each; FPN laterals, outputs, P6, P7.
    int64_t expected = 32 * 3 * 9 + 2 * 32;
    int64_t in = 32;
    for (int64_t ch : {64, 128, 256, 256}) {
        expected += ch * in * 9 + 2 * ch + 2 * (ch * ch * 9 + 2 * ch);
        in = ch;
    }
    expected += (128 * 128 + 128) + (256 * 128 + 128) * 2 + 3 * (128 * 128 * 9 + 128) + 2 * (128 * 128 * 9 + 128);
    CHECK(backbone.num_parameters() + fpn.num_parameters() == expected);
    CHECK(backbone.state().front().first == "stem.0.weight");
    CHECK(fpn.state().back().first == "p7.bias");
}

TEST_CASE("the plain backbone with group norms: same shapes and parameters, no batch statistics, batch-independent") {
    BackboneConfig config;
    config.norm_groups = 16;
    Generator gen(3), gen_bn(3);
    PlainBackbone gn(config, gen), bn(BackboneConfig{}, gen_bn);
    CHECK(gn.num_parameters() == bn.num_parameters());  // a GN has BN's weight and bias
    int batch_norms = 0;
    gn.apply([&](Module& m) { batch_norms += dynamic_cast<BatchNorm2d*>(&m) != nullptr; });
    CHECK(batch_norms == 0);
    CHECK(gn.state().size() < bn.state().size());  // no running mean / variance
    bool named_gn = false;
    for (const auto& [name, tensor] : gn.state()) named_gn |= name == "stages.0.1.gn1.weight";
    CHECK(named_gn);
    // In training mode each image's features do not depend on the rest of the batch.
    const Tensor two = Tensor::randn({2, 3, 32, 32}, gen);
    const std::vector<Tensor> together = gn.forward(two);
    const std::vector<Tensor> alone = gn.forward(two.slice(0, 0, 1));
    REQUIRE(together.size() == 4);
    CHECK(together[0].shape() == Shape{2, 64, 8, 8});
    const std::vector<float> first = together[3].slice(0, 0, 1).contiguous().to_vector<float>();
    const std::vector<float> by_itself = alone[3].to_vector<float>();
    REQUIRE(first.size() == by_itself.size());
    for (std::size_t i = 0; i < first.size(); ++i) CHECK(first[i] == doctest::Approx(by_itself[i]).epsilon(1e-4));
    config.norm_groups = 7;  // 32 stem channels do not split into 7 groups
    CHECK_THROWS_WITH_AS(PlainBackbone(config, gen), doctest::Contains("32 channels do not split into 7 groups"),
                         Error);
}

TEST_CASE("the FPN handles odd sizes by cropping the upsampled level") {
    Generator gen(4);
    PlainBackbone backbone(BackboneConfig{}, gen);
    Fpn fpn(FpnConfig{}, gen);
    std::vector<Tensor> c = backbone.forward(Tensor::randn({1, 3, 72, 40}, gen));
    std::vector<Tensor> p = fpn.forward({c[1], c[2], c[3]});
    CHECK(p[0].shape() == Shape{1, 128, 9, 5});
    CHECK(p[1].shape() == Shape{1, 128, 5, 3});
}
