// The backbones: a network that turns images into one feature map per stage, strides 4, 8,
// 16 and 32, for the FPN to take C3..C5 from. Two kinds, picked by BackboneConfig::kind:
//   "plain"  focal's own ResNet-style net (He et al. 2016): a strided 3x3 stem, then stages
//            that each halve the resolution with a strided 3x3 conv and refine with
//            BasicBlocks. The `tiny` preset of docs/design.md is the default configuration.
//   "resnet" torchvision's ResNet-18/34 (layers/resnet.h), with its parameter names, so that
//            ImageNet weights converted by scripts/import_torchvision.py load into it.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "layers/layers.h"

namespace focal {

struct BackboneConfig {
    std::string kind = "plain";  // or "resnet"
    int64_t in_channels = 3;
    int64_t stem_channels = 32;
    std::vector<int64_t> stage_channels{64, 128, 256, 256};  // outputs at strides 4, 8, 16, 32
    std::vector<int64_t> blocks_per_stage{1, 1, 1, 1};
    int64_t norm_groups = 0;  // "plain" only: 0 = BatchNorm; G > 0 = GroupNorm of G groups (Wu & He 2018),
                              // which does not depend on the batch, so small batches train as well
};

class Backbone : public Module {
public:
    explicit Backbone(const BackboneConfig& config) : config(config) {}
    // (N, in_channels, H, W) -> one feature map per stage, (N, stage_channels[i], H / 2^(i+2), W / 2^(i+2)).
    virtual std::vector<Tensor> forward(const Tensor& x) = 0;

    // Fine-tuning controls, as torchvision's and detectron2's detection recipes use them on
    // an ImageNet-trained backbone:
    // - freeze_stages(n) fixes the first n stages, the stem counting as stage 1 (detectron2's
    //   FREEZE_AT; torchvision's trainable_backbone_layers is 5 - n): their parameters stop
    //   requiring gradients and their batch norms are frozen. n = 0 changes nothing.
    // - freeze_batch_norm() freezes every batch norm of the backbone (BatchNorm2d::freeze).
    void freeze_stages(int64_t n);
    void freeze_batch_norm();
    int64_t num_stages() const { return static_cast<int64_t>(stages_in_order_.size()); }  // the stem included

    const BackboneConfig config;

protected:
    std::vector<std::shared_ptr<Module>> stages_in_order_;  // the stem, then the stages; set by the subclass
};

// The backbone config.kind names; throws naming the known kinds otherwise.
std::shared_ptr<Backbone> make_backbone(const BackboneConfig& config, Generator& gen);

// The normalisation after a backbone conv: BatchNorm2d(channels) for norm_groups 0, else
// GroupNorm(norm_groups, channels); throws when the channels do not split into the groups.
std::shared_ptr<Layer> make_norm(int64_t channels, int64_t norm_groups);

// conv3x3 + norm + ReLU, conv3x3 + norm, + identity (or, when the block changes the stride or
// the width, + downsample(x) = norm(conv1x1 stride s (x)), torchvision's "option B"), ReLU.
// The norms are batch norms named bn1, bn2 (torchvision's names), or group norms gn1, gn2.
class BasicBlock : public Layer {
public:
    BasicBlock(int64_t in_channels, int64_t out_channels, int64_t stride, Generator& gen, int64_t norm_groups = 0);
    BasicBlock(int64_t channels, Generator& gen, int64_t norm_groups = 0)
        : BasicBlock(channels, channels, 1, gen, norm_groups) {}
    Tensor forward(const Tensor& x) override;

private:
    std::shared_ptr<Conv2d> conv1_, conv2_;
    std::shared_ptr<Layer> norm1_, norm2_;
    std::shared_ptr<Sequential> downsample_;  // null: the identity
};

// conv3x3 stride 2 (no bias) + norm (make_norm) + ReLU: the stem and each stage's entry.
std::shared_ptr<Sequential> conv_bn_relu(int64_t in, int64_t out, int64_t stride, Generator& gen,
                                         int64_t norm_groups = 0);

// The "plain" kind. State names: stem.*, stages.<i>.0.* (the entry), stages.<i>.<b>.* (blocks).
class PlainBackbone : public Backbone {
public:
    PlainBackbone(const BackboneConfig& config, Generator& gen);
    std::vector<Tensor> forward(const Tensor& x) override;

private:
    std::shared_ptr<Sequential> stem_;
    std::vector<std::shared_ptr<Sequential>> stages_;
};

}  // namespace focal
