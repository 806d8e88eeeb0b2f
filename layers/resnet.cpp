#include "layers/resnet.h"

#include <string>

namespace focal {

BackboneConfig resnet_config(int depth) {
    BackboneConfig c;
    c.kind = "resnet";
    c.stem_channels = 64;
    c.stage_channels = {64, 128, 256, 512};
    if (depth == 18) {
        c.blocks_per_stage = {2, 2, 2, 2};
    } else if (depth == 34) {
        c.blocks_per_stage = {3, 4, 6, 3};
    } else {
        fail("[resnet] depth ", depth, " is not built here; known: 18, 34");
    }
    return c;
}

namespace {
// The stem as one module for freeze_stages(): conv1 and bn1 stay registered on the ResNet
// itself, under torchvision's names.
struct StemParts : Module {
    StemParts(const std::shared_ptr<Conv2d>& conv, const std::shared_ptr<BatchNorm2d>& bn) {
        register_module("conv1", conv);
        register_module("bn1", bn);
    }
};
}  // namespace

ResNet::ResNet(const BackboneConfig& cfg, Generator& gen) : Backbone(cfg) {
    FOCAL_CHECK(!cfg.stage_channels.empty() && cfg.stage_channels.size() == cfg.blocks_per_stage.size(),
                "[resnet] stage_channels and blocks_per_stage must be non-empty and of equal length");
    FOCAL_CHECK(cfg.norm_groups == 0, "[resnet] torchvision's ResNet has batch norms; norm_groups must be 0, got ",
                cfg.norm_groups);
    conv1_ = register_module("conv1",
                             std::make_shared<Conv2d>(Conv2dSpec{cfg.in_channels, cfg.stem_channels, 7, 2, 3, 1, false},
                                                      gen));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(cfg.stem_channels));
    stages_in_order_.push_back(std::make_shared<StemParts>(conv1_, bn1_));
    int64_t channels = cfg.stem_channels;
    for (size_t i = 0; i < cfg.stage_channels.size(); ++i) {
        auto layer = std::make_shared<Sequential>();
        for (int64_t b = 0; b < cfg.blocks_per_stage[i]; ++b) {
            const int64_t stride = (i > 0 && b == 0) ? 2 : 1;
            layer->push_back(std::make_shared<BasicBlock>(channels, cfg.stage_channels[i], stride, gen));
            channels = cfg.stage_channels[i];
        }
        layers_.push_back(register_module("layer" + std::to_string(i + 1), layer));
        stages_in_order_.push_back(layer);
    }
}

std::vector<Tensor> ResNet::forward(const Tensor& x) {
    FOCAL_CHECK(x.dim() == 4 && x.size(1) == config.in_channels, "[resnet] expects (N, ", config.in_channels,
                ", H, W) images, got ", shape_str(x.shape()));
    Tensor y = max_pool2d(relu(bn1_->forward(conv1_->forward(x))), 3, 2, 1);
    std::vector<Tensor> features;
    for (auto& layer : layers_) {
        y = layer->forward(y);
        features.push_back(y);
    }
    return features;
}

}  // namespace focal
