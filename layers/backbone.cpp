#include "layers/backbone.h"

namespace focal {

std::shared_ptr<Sequential> conv_bn_relu(int64_t in, int64_t out, int64_t stride, Generator& gen) {
    auto seq = std::make_shared<Sequential>();
    seq->push_back(std::make_shared<Conv2d>(Conv2dSpec{in, out, 3, stride, 1, 1, false}, gen));
    seq->push_back(std::make_shared<BatchNorm2d>(out));
    seq->push_back(std::make_shared<ReLU>());
    return seq;
}

BasicBlock::BasicBlock(int64_t channels, Generator& gen) {
    conv1_ = register_module("conv1", std::make_shared<Conv2d>(Conv2dSpec{channels, channels, 3, 1, 1, 1, false}, gen));
    bn1_ = register_module("bn1", std::make_shared<BatchNorm2d>(channels));
    conv2_ = register_module("conv2", std::make_shared<Conv2d>(Conv2dSpec{channels, channels, 3, 1, 1, 1, false}, gen));
    bn2_ = register_module("bn2", std::make_shared<BatchNorm2d>(channels));
}

Tensor BasicBlock::forward(const Tensor& x) {
    Tensor y = relu(bn1_->forward(conv1_->forward(x)));
    y = bn2_->forward(conv2_->forward(y));
    return relu(y + x);  // the residual connection
}

Backbone::Backbone(const BackboneConfig& cfg, Generator& gen) : config(cfg) {
    FOCAL_CHECK(!cfg.stage_channels.empty() && cfg.stage_channels.size() == cfg.blocks_per_stage.size(),
                "[backbone] stage_channels and blocks_per_stage must be non-empty and of equal length");
    stem_ = register_module("stem", conv_bn_relu(cfg.in_channels, cfg.stem_channels, 2, gen));
    int64_t channels = cfg.stem_channels;
    for (size_t i = 0; i < cfg.stage_channels.size(); ++i) {
        auto stage = std::make_shared<Sequential>();
        stage->push_back(conv_bn_relu(channels, cfg.stage_channels[i], 2, gen));  // "stages.i.0"
        channels = cfg.stage_channels[i];
        for (int64_t b = 0; b < cfg.blocks_per_stage[i]; ++b)
            stage->push_back(std::make_shared<BasicBlock>(channels, gen));  // "stages.i.1", ...
        stages_.push_back(stage);
    }
    struct StageList : Module {
        explicit StageList(const std::vector<std::shared_ptr<Sequential>>& list) {
            for (size_t i = 0; i < list.size(); ++i) register_module(std::to_string(i), list[i]);
        }
    };
    register_module("stages", std::make_shared<StageList>(stages_));
}

std::vector<Tensor> Backbone::forward(const Tensor& x) {
    FOCAL_CHECK(x.dim() == 4 && x.size(1) == config.in_channels, "[backbone] expects (N, ", config.in_channels,
                ", H, W) images, got ", shape_str(x.shape()));
    std::vector<Tensor> features;
    Tensor y = stem_->forward(x);
    for (auto& stage : stages_) {
        y = stage->forward(y);
        features.push_back(y);
    }
    return features;
}

}  // namespace focal
