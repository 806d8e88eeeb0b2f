#include "detector/retinanet.h"

#include <cmath>

#include "layers/resnet.h"

namespace focal::detector {

float prior_bias(float pi) { return -std::log((1.0f - pi) / pi); }

RetinaNetConfig retinanet_preset(const std::string& name, int64_t num_classes) {
    RetinaNetConfig c;
    c.preset = name;
    c.num_classes = num_classes;
    if (name == "tiny") return c;  // the defaults are the tiny preset
    if (name == "demo") {
        // 128 px, narrower, P3..P6 (strides 8..64) with anchors of 2 x stride (16..160 px),
        // matched to the shapes set's 6..64 px objects.
        c.image_size = 128;
        c.backbone.stem_channels = 16;
        c.backbone.stage_channels = {32, 64, 96, 128};
        c.fpn.in_channels = {64, 96, 128};
        c.fpn.channels = 64;
        c.fpn.extra_levels = 1;
        c.anchors.strides = {8, 16, 32, 64};
        c.anchors.size_per_stride = 2.0f;
        c.head_channels = 64;
        c.head_norm_groups = 16;
        return c;
    }
    if (name == "resnet18" || name == "resnet34") {
        // tiny's FPN and heads on torchvision's ResNet, for ImageNet weights (--backbone-weights).
        c.backbone = resnet_config(name == "resnet18" ? 18 : 34);
        c.fpn.in_channels = {128, 256, 512};
        return c;
    }
    fail("[retinanet] unknown preset '", name, "'; known: tiny, demo, resnet18, resnet34");
}

RetinaNet::RetinaNet(const RetinaNetConfig& cfg, Generator& gen) : config(cfg) {
    FOCAL_CHECK(cfg.num_classes > 0, "[retinanet] needs at least one class");
    FOCAL_CHECK(cfg.prior > 0 && cfg.prior < 1, "[retinanet] prior must be in (0, 1), got ", cfg.prior);
    FOCAL_CHECK(cfg.backbone.stage_channels.size() >= cfg.fpn.in_channels.size(),
                "[retinanet] the FPN takes more levels than the backbone has stages");
    FOCAL_CHECK(static_cast<int64_t>(cfg.anchors.strides.size()) ==
                    static_cast<int64_t>(cfg.fpn.in_channels.size()) + cfg.fpn.extra_levels,
                "[retinanet] ", cfg.anchors.strides.size(), " anchor strides for ",
                cfg.fpn.in_channels.size() + cfg.fpn.extra_levels, " pyramid levels");
    backbone_ = register_module("backbone", make_backbone(cfg.backbone, gen));
    fpn_ = register_module("fpn", std::make_shared<Fpn>(cfg.fpn, gen));
    const int64_t a = cfg.anchors.per_location(), ch = cfg.head_channels;
    auto subnet = [&](int64_t in) {
        auto seq = std::make_shared<Sequential>();
        for (int64_t i = 0; i < cfg.head_convs; ++i) {
            auto conv = std::make_shared<Conv2d>(Conv2dSpec{i == 0 ? in : ch, ch, 3, 1, 1, 1, true}, gen);
            init::normal_(conv->weight, gen, 0.0f, cfg.head_init_std);  // sec. 4.1: N(0, 0.01), bias 0
            seq->push_back(conv);
            if (cfg.head_norm_groups > 0) seq->push_back(std::make_shared<GroupNorm>(cfg.head_norm_groups, ch));
            seq->push_back(std::make_shared<ReLU>());
        }
        return seq;
    };
    const int64_t subnet_out = cfg.head_convs > 0 ? ch : cfg.fpn.channels;
    auto head = std::make_shared<ModuleList>();
    cls_subnet_ = subnet(cfg.fpn.channels);
    box_subnet_ = subnet(cfg.fpn.channels);
    cls_score_ = std::make_shared<Conv2d>(Conv2dSpec{subnet_out, a * cfg.logits_per_anchor(), 3, 1, 1, 1, true}, gen);
    box_pred_ = std::make_shared<Conv2d>(Conv2dSpec{subnet_out, a * 4, 3, 1, 1, 1, true}, gen);
    init::normal_(cls_score_->weight, gen, 0.0f, cfg.head_init_std);
    init::normal_(box_pred_->weight, gen, 0.0f, cfg.head_init_std);
    if (cfg.prior_bias) {
        NoGradGuard no_grad;
        if (!cfg.softmax) {
            cls_score_->bias.fill_(prior_bias(cfg.prior));
        } else {  // background (last of each anchor's K + 1) at log(1/pi - K), classes at 0
            const float background = std::log(std::max(1.0f / cfg.prior - cfg.num_classes, 1.0f));
            cls_score_->bias.view({a, cfg.num_classes + 1}).select(1, cfg.num_classes).fill_(background);
        }
    }
    head->add("cls_subnet", cls_subnet_);
    head->add("cls_score", cls_score_);
    head->add("box_subnet", box_subnet_);
    head->add("box_pred", box_pred_);
    register_module("head", head);
}

const std::vector<Box>& RetinaNet::anchors(int64_t height, int64_t width) {
    auto [it, made] = anchors_.try_emplace({height, width});
    if (made) it->second = make_anchors(config.anchors, level_sizes(config.anchors, height, width));
    return it->second;
}

HeadOutputs RetinaNet::forward(const Tensor& images) {
    FOCAL_CHECK(images.dim() == 4 && images.size(1) == 3, "[retinanet] expects (N, 3, H, W) images, got ",
                shape_str(images.shape()));
    std::vector<Tensor> stages = backbone_->forward(images);
    const size_t used = config.fpn.in_channels.size();
    std::vector<Tensor> pyramid = fpn_->forward(std::vector<Tensor>(stages.end() - used, stages.end()));
    const int64_t n = images.size(0), c = config.logits_per_anchor();
    std::vector<Tensor> cls, box;
    HeadOutputs out;
    for (const Tensor& p : pyramid) {
        out.level_sizes.push_back({p.size(2), p.size(3)});
        // (N, A*C, H, W) -> (N, H, W, A*C) -> (N, H*W*A, C): locations row-major, then anchors.
        cls.push_back(cls_score_->forward(cls_subnet_->forward(p)).permute({0, 2, 3, 1}).reshape({n, -1, c}));
        box.push_back(box_pred_->forward(box_subnet_->forward(p)).permute({0, 2, 3, 1}).reshape({n, -1, 4}));
    }
    out.cls_logits = cat(cls, 1);
    out.box_deltas = cat(box, 1);
    return out;
}

}  // namespace focal::detector
