#include "detector/detection_loss.h"

namespace focal::detector {

Normalizer parse_normalizer(const std::string& name) {
    if (name == "positives") return Normalizer::Positives;
    if (name == "anchors") return Normalizer::Anchors;
    fail("[train] unknown normalizer '", name, "'; known: positives, anchors");
}

Tensor anchors_tensor(const std::vector<Box>& anchors) {
    std::vector<float> flat;
    flat.reserve(anchors.size() * 4);
    for (const Box& b : anchors) flat.insert(flat.end(), {b.x1, b.y1, b.x2, b.y2});
    return Tensor::from_vector(flat, {static_cast<int64_t>(anchors.size()), 4});
}

int64_t normalizer_count(const TrainingTargets& targets, Normalizer normalizer) {
    if (normalizer == Normalizer::Positives) return targets.num_positives;
    return targets.labels.numel() - targets.num_ignored;  // the collapse-to-background ablation
}

DetectionLoss detection_loss(const HeadOutputs& out, const TrainingTargets& targets, const Tensor& anchors,
                             const losses::ClassificationLoss& cls_loss, const losses::BoxLoss& box_loss,
                             const BoxCoder& coder, Normalizer normalizer) {
    return detection_loss(out, targets, anchors, cls_loss, box_loss, coder,
                          static_cast<float>(std::max<int64_t>(1, normalizer_count(targets, normalizer))));
}

DetectionLoss detection_loss(const HeadOutputs& out, const TrainingTargets& targets, const Tensor& anchors,
                             const losses::ClassificationLoss& cls_loss, const losses::BoxLoss& box_loss,
                             const BoxCoder& coder, float divisor) {
    const Device device = out.cls_logits.device();
    DetectionLoss loss;
    loss.normalizer = divisor;
    // Classification: labels (N, A) with background and ignore codes; the loss masks ignored anchors.
    losses::ClsLossInput cls_in{out.cls_logits, targets.labels.to(device), Tensor(), loss.normalizer,
                                losses::Reduction::Sum};
    loss.cls = cls_loss(cls_in);
    // Box regression over the positive anchors only, gathered from (N * A, 4): decoded box
    // losses (GIoU) are undefined on the zero targets of the other anchors.
    std::vector<int32_t> positives;
    const std::vector<float> mask = targets.positive.to_vector<float>();
    for (size_t i = 0; i < mask.size(); ++i)
        if (mask[i] > 0) positives.push_back(static_cast<int32_t>(i));
    if (positives.empty()) {
        loss.box = Tensor::scalar(0.0f, device);
    } else {
        const int64_t a = anchors.size(0);
        Tensor index = Tensor::from_vector(positives, {static_cast<int64_t>(positives.size())}, device);
        Tensor pred = index_select(out.box_deltas.reshape({-1, 4}), 0, index);  // (P, 4)
        Tensor target = index_select(targets.box_deltas.to(device).reshape({-1, 4}), 0, index);
        if (box_loss.decoded()) {
            std::vector<int32_t> anchor_of(positives.size());
            for (size_t i = 0; i < positives.size(); ++i) anchor_of[i] = static_cast<int32_t>(positives[i] % a);
            Tensor which = Tensor::from_vector(anchor_of, {static_cast<int64_t>(anchor_of.size())}, device);
            pred = coder.decode(index_select(anchors.to(device), 0, which), pred);
            target = index_select(targets.matched_boxes.to(device).reshape({-1, 4}), 0, index);
        }
        loss.box = box_loss(losses::BoxLossInput{pred, target, Tensor(), loss.normalizer, losses::Reduction::Sum});
    }
    loss.total = loss.cls + loss.box;
    return loss;
}

}  // namespace focal::detector
