// A ResNet-style backbone (He et al. 2016): a strided 3x3 stem, then stages that each
// halve the resolution with a strided 3x3 conv and refine with BasicBlocks. The `tiny`
// preset of docs/design.md is the default configuration.
#pragma once
#include <memory>
#include <vector>

#include "layers/layers.h"

namespace focal {

struct BackboneConfig {
    int64_t in_channels = 3;
    int64_t stem_channels = 32;
    std::vector<int64_t> stage_channels{64, 128, 256, 256};  // outputs at strides 4, 8, 16, 32
    std::vector<int64_t> blocks_per_stage{1, 1, 1, 1};
};

// conv3x3 + BN + ReLU, conv3x3 + BN, + identity, ReLU.
class BasicBlock : public Layer {
public:
    BasicBlock(int64_t channels, Generator& gen);
    Tensor forward(const Tensor& x) override;

private:
    std::shared_ptr<Conv2d> conv1_, conv2_;
    std::shared_ptr<BatchNorm2d> bn1_, bn2_;
};

// conv3x3 stride 2 (no bias) + BN + ReLU: the stem and each stage's entry.
std::shared_ptr<Sequential> conv_bn_relu(int64_t in, int64_t out, int64_t stride, Generator& gen);

class Backbone : public Module {
public:
    Backbone(const BackboneConfig& config, Generator& gen);
    // (N, 3, H, W) -> one feature map per stage, (N, stage_channels[i], H / 2^(i+2), W / 2^(i+2)).
    std::vector<Tensor> forward(const Tensor& x);
    const BackboneConfig config;

private:
    std::shared_ptr<Sequential> stem_;
    std::vector<std::shared_ptr<Sequential>> stages_;
};

}  // namespace focal
