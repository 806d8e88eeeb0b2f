#include "layers/fpn.h"

namespace focal {

Fpn::Fpn(const FpnConfig& cfg, Generator& gen) : config(cfg) {
    FOCAL_CHECK(!cfg.in_channels.empty() && cfg.extra_levels >= 0 && cfg.extra_levels <= 2,
                "[fpn] needs input levels and 0..2 extra levels");
    auto lateral = register_module("lateral", std::make_shared<ModuleList>());
    auto output = register_module("output", std::make_shared<ModuleList>());
    for (int64_t in : cfg.in_channels) {
        lateral_.push_back(
            lateral->append(std::make_shared<Conv2d>(Conv2dSpec{in, cfg.channels, 1, 1, 0, 1, true}, gen)));
        output_.push_back(
            output->append(std::make_shared<Conv2d>(Conv2dSpec{cfg.channels, cfg.channels, 3, 1, 1, 1, true}, gen)));
    }
    if (cfg.extra_levels >= 1)
        p6_ = register_module("p6",
                              std::make_shared<Conv2d>(Conv2dSpec{cfg.channels, cfg.channels, 3, 2, 1, 1, true}, gen));
    if (cfg.extra_levels >= 2)
        p7_ = register_module("p7",
                              std::make_shared<Conv2d>(Conv2dSpec{cfg.channels, cfg.channels, 3, 2, 1, 1, true}, gen));
}

std::vector<Tensor> Fpn::forward(const std::vector<Tensor>& features) {
    FOCAL_CHECK(features.size() == lateral_.size(), "[fpn] expects ", lateral_.size(), " feature maps, got ",
                features.size());
    const size_t levels = features.size();
    std::vector<Tensor> inner(levels);
    inner[levels - 1] = lateral_[levels - 1]->forward(features[levels - 1]);
    for (size_t i = levels - 1; i-- > 0;) {
        Tensor lateral = lateral_[i]->forward(features[i]);
        // Top-down: upsample the coarser level by 2, cropped to this level's size (odd sizes).
        Tensor up = upsample_nearest2x(inner[i + 1]).slice(2, 0, lateral.size(2)).slice(3, 0, lateral.size(3));
        FOCAL_CHECK(up.shape() == lateral.shape(), "[fpn] level ", i, " is ", shape_str(lateral.shape()),
                    " but the level above upsamples to ", shape_str(up.shape()));
        inner[i] = lateral + up;
    }
    std::vector<Tensor> out;
    for (size_t i = 0; i < levels; ++i) out.push_back(output_[i]->forward(inner[i]));
    if (p6_) out.push_back(p6_->forward(out.back()));
    if (p7_) out.push_back(p7_->forward(relu(out.back())));
    return out;
}

}  // namespace focal
