// torchvision's ResNet-18 and ResNet-34 (He et al. 2016, "Deep Residual Learning for Image
// Recognition", table 1) as a detection backbone: the classifier (avgpool, fc) is left out
// and the four stages' outputs C2..C5 are returned. Parameters carry torchvision's state_dict
// names (conv1.weight, bn1.running_mean, layer2.0.downsample.0.weight, ...), so an ImageNet
// checkpoint converted by scripts/import_torchvision.py loads key for key.
//
//   conv1 7x7/2 (no bias), bn1, ReLU, max pool 3x3/2    (N, 64, H/4, W/4)
//   layer1: BasicBlocks at stride 1                       (N, 64, H/4, W/4)     C2
//   layer2..layer4: BasicBlocks, the first at stride 2    (N, 128|256|512, H/8|16|32, ...)  C3..C5
#pragma once
#include <memory>
#include <vector>

#include "layers/backbone.h"

namespace focal {

// The configuration of torchvision's resnet18 (depth 18: 2, 2, 2, 2 blocks) or resnet34
// (3, 4, 6, 3); throws for other depths (the deeper ones use Bottleneck blocks).
BackboneConfig resnet_config(int depth);

class ResNet : public Backbone {
public:
    ResNet(const BackboneConfig& config, Generator& gen);
    std::vector<Tensor> forward(const Tensor& x) override;

private:
    std::shared_ptr<Conv2d> conv1_;
    std::shared_ptr<BatchNorm2d> bn1_;
    std::vector<std::shared_ptr<Sequential>> layers_;  // layer1, layer2, ...
};

}  // namespace focal
