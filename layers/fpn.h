// Feature Pyramid Network (Lin et al. 2017, "Feature Pyramid Networks for Object Detection"),
// as RetinaNet uses it: 1x1 laterals on C3..C5, a nearest-x2 top-down path with additions,
// 3x3 output convs, and two extra levels P6 = conv3x3 s2 (P5), P7 = conv3x3 s2 (ReLU(P6)).
#pragma once
#include <memory>
#include <vector>

#include "layers/layers.h"

namespace focal {

struct FpnConfig {
    std::vector<int64_t> in_channels{128, 256, 256};  // C3, C4, C5
    int64_t channels = 128;
    int64_t extra_levels = 2;  // P6, P7 (0, 1 or 2)
};

class Fpn : public Module {
public:
    Fpn(const FpnConfig& config, Generator& gen);
    // {C3, C4, C5} -> {P3, ..., P7}, each with `channels` channels, strides doubling.
    std::vector<Tensor> forward(const std::vector<Tensor>& features);
    const FpnConfig config;

private:
    std::vector<std::shared_ptr<Conv2d>> lateral_, output_;
    std::shared_ptr<Conv2d> p6_, p7_;
};

}  // namespace focal
