#include "layers/backbone.h"

#include "layers/resnet.h"

namespace focal {

void Backbone::freeze_stages(int64_t n) {
    FOCAL_CHECK(n >= 0 && n <= num_stages(), "[backbone] cannot freeze ", n, " stages: this backbone has ",
                num_stages(), " (the stem counts as one)");
    for (int64_t i = 0; i < n; ++i)
        stages_in_order_[i]->apply([](Module& m) {
            for (auto& [name, p] : m.named_parameters()) p.requires_grad_(false);
            if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) bn->freeze();
        });
}

void Backbone::freeze_batch_norm() {
    apply([](Module& m) {
        if (auto* bn = dynamic_cast<BatchNorm2d*>(&m)) bn->freeze();
    });
}

std::shared_ptr<Backbone> make_backbone(const BackboneConfig& config, Generator& gen) {
    if (config.kind == "plain") return std::make_shared<PlainBackbone>(config, gen);
    if (config.kind == "resnet") return std::make_shared<ResNet>(config, gen);
    fail("[backbone] unknown kind '", config.kind, "'; known: plain, resnet");
}

std::shared_ptr<Layer> make_norm(int64_t channels, int64_t norm_groups) {
    FOCAL_CHECK(norm_groups >= 0, "[backbone] norm_groups must be >= 0, got ", norm_groups);
    if (norm_groups == 0) return std::make_shared<BatchNorm2d>(channels);
    return std::make_shared<GroupNorm>(norm_groups, channels);
}

std::shared_ptr<Sequential> conv_bn_relu(int64_t in, int64_t out, int64_t stride, Generator& gen, int64_t norm_groups) {
    auto seq = std::make_shared<Sequential>();
    seq->push_back(std::make_shared<Conv2d>(Conv2dSpec{in, out, 3, stride, 1, 1, false}, gen));
    seq->push_back(make_norm(out, norm_groups));
    seq->push_back(std::make_shared<ReLU>());
    return seq;
}

BasicBlock::BasicBlock(int64_t in, int64_t out, int64_t stride, Generator& gen, int64_t norm_groups) {
    const char* norm = norm_groups == 0 ? "bn" : "gn";
    conv1_ = register_module("conv1", std::make_shared<Conv2d>(Conv2dSpec{in, out, 3, stride, 1, 1, false}, gen));
    norm1_ = register_module(std::string(norm) + "1", make_norm(out, norm_groups));
    conv2_ = register_module("conv2", std::make_shared<Conv2d>(Conv2dSpec{out, out, 3, 1, 1, 1, false}, gen));
    norm2_ = register_module(std::string(norm) + "2", make_norm(out, norm_groups));
    if (stride != 1 || in != out) {
        downsample_ = std::make_shared<Sequential>();
        downsample_->push_back(std::make_shared<Conv2d>(Conv2dSpec{in, out, 1, stride, 0, 1, false}, gen));
        downsample_->push_back(make_norm(out, norm_groups));
        register_module("downsample", downsample_);
    }
}

Tensor BasicBlock::forward(const Tensor& x) {
    Tensor y = relu(norm1_->forward(conv1_->forward(x)));
    y = norm2_->forward(conv2_->forward(y));
    return relu(y + (downsample_ ? downsample_->forward(x) : x));  // the residual connection
}

PlainBackbone::PlainBackbone(const BackboneConfig& cfg, Generator& gen) : Backbone(cfg) {
    FOCAL_CHECK(!cfg.stage_channels.empty() && cfg.stage_channels.size() == cfg.blocks_per_stage.size(),
                "[backbone] stage_channels and blocks_per_stage must be non-empty and of equal length");
    stem_ = register_module("stem", conv_bn_relu(cfg.in_channels, cfg.stem_channels, 2, gen, cfg.norm_groups));
    stages_in_order_.push_back(stem_);
    auto stage_list = std::make_shared<ModuleList>();
    int64_t channels = cfg.stem_channels;
    for (size_t i = 0; i < cfg.stage_channels.size(); ++i) {
        auto stage = std::make_shared<Sequential>();
        stage->push_back(conv_bn_relu(channels, cfg.stage_channels[i], 2, gen, cfg.norm_groups));  // "stages.i.0"
        channels = cfg.stage_channels[i];
        for (int64_t b = 0; b < cfg.blocks_per_stage[i]; ++b)
            stage->push_back(std::make_shared<BasicBlock>(channels, gen, cfg.norm_groups));  // "stages.i.1", ...
        stages_.push_back(stage_list->append(stage));
        stages_in_order_.push_back(stage);
    }
    register_module("stages", stage_list);
}

std::vector<Tensor> PlainBackbone::forward(const Tensor& x) {
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
