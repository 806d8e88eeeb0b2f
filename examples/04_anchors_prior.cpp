// Chapter 4 (docs/learn/04-anchors-and-prior.md): anchors, matching, and the prior bias.
//
// On the `tiny` RetinaNet (detector/retinanet.h) built for VOC's 20 classes, as the VOC run
// of README.md builds it, and the boxes of one synthetic 256 px image (data/shapes.h; their
// shape labels 0..4 serve as class indices), this program
//   1. lays out the anchors (detector/anchors.h): 9 per location on P3..P7;
//   2. matches them to the image's boxes (detector/matcher.h): IoU >= .5 positive, < .4
//      background, in between ignored, each object keeps its best anchor;
//   3. runs the untrained network twice, with the classification bias at the prior
//      b = -log((1 - pi) / pi), pi = .01, and at 0, and prints the first focal loss of each.
// With the prior every anchor starts at p = .01, and the ~245,000 background (anchor, class)
// pairs cost almost nothing: the loss is about 1. At b = 0 they start at p = .5 and each costs
// .75 * .5^2 * log 2 = .13: the sum over them, divided by the few positives, is in the hundreds.
// The check: the first loss is within 10 % of what the prior predicts, below 3 with the prior,
// above 100 without.
#include <cmath>
#include <cstdio>

#include "data/shapes.h"
#include "data/transforms.h"
#include "detector/detection_loss.h"
#include "losses/losses.h"

using namespace focal;
using namespace focal::detector;

int main() {
    const int64_t K = 20;  // VOC's classes
    RetinaNetConfig cfg = retinanet_preset("tiny", K);
    const int64_t size = cfg.image_size;  // 256
    const LevelSizes levels = level_sizes(cfg.anchors, size, size);
    const std::vector<Box> anchors = make_anchors(cfg.anchors, levels);
    std::printf("tiny preset, %lld px: %lld anchors per location on levels of", (long long)size,
                (long long)cfg.anchors.per_location());
    for (const auto& hw : levels) std::printf(" %lldx%lld", (long long)hw[0], (long long)hw[1]);
    std::printf(" = %zu anchors, %zu (anchor, class) scores\n", anchors.size(), anchors.size() * K);

    // One synthetic image with a few objects (the shapes generator, as `focal make-shapes` runs it).
    data::ShapesOptions so;
    so.size = int(size);
    so.min_object = 12;
    data::Scene scene;
    for (int i = 0; scene.annotation.objects.size() < 3; ++i) scene = data::make_shape_scene(so, i);
    data::Batch batch;
    batch.n = 1, batch.h = batch.w = int(size);
    batch.boxes.resize(1), batch.labels.resize(1), batch.difficult.resize(1);
    for (const data::Object& o : scene.annotation.objects) {
        batch.boxes[0].push_back(o.box), batch.labels[0].push_back(o.label), batch.difficult[0].push_back(o.difficult);
        std::printf("  object %-8s box (%5.1f, %5.1f, %5.1f, %5.1f)%s\n", data::shape_classes()[o.label].c_str(),
                    o.box.x1, o.box.y1, o.box.x2, o.box.y2, o.difficult ? " difficult" : "");
    }

    // Matching and regression targets (detector/targets.cpp calls match_anchors per image).
    const TrainingTargets targets = build_targets(anchors, batch, MatcherConfig{}, BoxCoder{});
    const int64_t P = targets.num_positives, ignored = targets.num_ignored;
    const int64_t background = int64_t(anchors.size()) - P - ignored;
    std::printf("matching: %lld positive, %lld ignored, %lld background anchors\n", (long long)P, (long long)ignored,
                (long long)background);

    // The image as the network sees it: (1, 3, H, W), ImageNet-normalised.
    std::vector<float> pixels(size_t(3 * size * size));
    data::normalize_to_chw(scene.image, pixels.data());
    const Tensor image = Tensor::from_vector(pixels, {1, 3, size, size});
    const losses::ClassificationLoss focal = losses::make_cls_loss("focal");  // alpha .25, gamma 2
    const losses::BoxLoss smooth_l1 = losses::make_box_loss("smooth_l1");
    const Tensor anchor_tensor = anchors_tensor(anchors);

    // What the prior alone predicts: every logit equal to the bias b, so p = sigmoid(b) everywhere.
    //   background pair: (1 - alpha) p^2 (-log(1 - p));  positive's own class: alpha (1 - p)^2 (-log p)
    auto predicted = [&](float p) {
        const double neg_pairs = double(background + P) * K - double(P);  // positives' other classes are 0 too
        return (neg_pairs * 0.75 * p * p * -std::log(1.0 - p) + double(P) * 0.25 * (1 - p) * (1 - p) * -std::log(p)) /
               std::max<int64_t>(P, 1);
    };
    double measured[2];
    for (int with_prior = 1; with_prior >= 0; --with_prior) {
        cfg.prior_bias = with_prior;
        Generator gen(0);  // the same weights both times, but for the bias
        RetinaNet model(cfg, gen);
        NoGradGuard no_grad;
        const HeadOutputs out = model.forward(image);
        const DetectionLoss loss =
            detection_loss(out, targets, anchor_tensor, focal, smooth_l1, BoxCoder{}, Normalizer::Positives);
        const float b = with_prior ? prior_bias(cfg.prior) : 0.0f;
        const float p = 1.0f / (1.0f + std::exp(-b));
        measured[with_prior] = loss.cls.item();
        std::printf("%s b = %+.3f (p = %.2f): first focal loss %.3f (the prior predicts %.3f), box loss %.3f\n",
                    with_prior ? "with the prior:   " : "without (b = 0):  ", b, p, loss.cls.item(), predicted(p),
                    loss.box.item());
    }
    const bool close =
        std::abs(measured[1] / predicted(0.01f) - 1) < 0.1 && std::abs(measured[0] / predicted(0.5f) - 1) < 0.1;
    const bool ok = P > 0 && close && measured[1] < 3 && measured[0] > 100;
    std::printf("%s: about 1 with the prior, %.0fx that without it\n", ok ? "PASS" : "FAIL", measured[0] / measured[1]);
    return ok ? 0 : 1;
}
