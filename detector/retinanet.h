// RetinaNet (Lin et al. 2017, "Focal Loss for Dense Object Detection", sec. 4): a backbone,
// an FPN, and two small conv subnets shared across the pyramid levels: one scores A anchors
// x K classes at every location, the other regresses A x 4 box deltas.
//
// The classification subnet's last bias starts at b = -log((1 - pi) / pi) (sec. 4.1,
// "Initialization"), so every anchor starts with foreground probability pi: without it, the
// ~10^5 easy background anchors of an image dominate the first iterations' loss.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "detector/anchors.h"
#include "detector/box_coder.h"
#include "layers/backbone.h"
#include "layers/fpn.h"

namespace focal::detector {

struct RetinaNetConfig {
    std::string preset = "custom";
    int64_t image_size = 256;  // square inputs (letterboxed)
    BackboneConfig backbone;
    FpnConfig fpn;
    AnchorConfig anchors;
    int64_t num_classes = 20;
    int64_t head_channels = 128;
    int64_t head_convs = 2;
    int64_t head_norm_groups = 0;  // > 0: GroupNorm after each subnet conv (Wu & He 2018), as FCOS does;
                                   // it lets heads trained from scratch learn several times faster
    float prior = 0.01f;           // pi
    bool prior_bias = true;        // false: cls bias 0 (the ablation)
    bool softmax = false;          // the loss wants K + 1 logits per anchor (background last)
    float head_init_std = 0.01f;

    int64_t logits_per_anchor() const { return softmax ? num_classes + 1 : num_classes; }
};

// "tiny": the pinned benchmark preset of docs/design.md (256 px, 9 anchors, P3..P7, 128-wide FPN
// and heads). "demo": a smaller network for the synthetic shapes set, trained in minutes on
// two cores. "resnet18", "resnet34": tiny's FPN and heads on torchvision's ResNet (layers/resnet.h),
// the presets for ImageNet weights. Throws naming the known presets otherwise.
RetinaNetConfig retinanet_preset(const std::string& name, int64_t num_classes);

// What the heads produce for a batch, all anchors of all levels concatenated (dim 1) in
// make_anchors' order.
struct HeadOutputs {
    Tensor cls_logits;  // (N, total anchors, K or K + 1)
    Tensor box_deltas;  // (N, total anchors, 4)
    LevelSizes level_sizes;
};

class RetinaNet : public Module {
public:
    RetinaNet(const RetinaNetConfig& config, Generator& gen);
    HeadOutputs forward(const Tensor& images);  // (N, 3, H, W)
    // The anchors of an input of height x width, in the order of forward's outputs; made once
    // per size and kept.
    const std::vector<Box>& anchors(int64_t height, int64_t width);
    Backbone& backbone() { return *backbone_; }
    const RetinaNetConfig config;
    const BoxCoder coder;  // box deltas <-> boxes, for the targets and for inference

private:
    std::map<std::array<int64_t, 2>, std::vector<Box>> anchors_;
    std::shared_ptr<Backbone> backbone_;
    std::shared_ptr<Fpn> fpn_;
    std::shared_ptr<Sequential> cls_subnet_, box_subnet_;
    std::shared_ptr<Conv2d> cls_score_, box_pred_;
};

// The bias that gives sigmoid probability pi: -log((1 - pi) / pi). For a softmax head the
// background logit gets log(1 / pi - K) instead, so each class starts at probability pi.
float prior_bias(float pi);

}  // namespace focal::detector
