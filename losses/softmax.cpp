// Softmax cross-entropy and softmax focal loss, and their registry entries ("ce",
// "softmax_focal") for a detection head with a background column.
#include "losses/softmax.h"

#include <cfloat>

#include "losses/registry.h"

namespace focal::losses {
namespace {

// The rows' labels, checked, as what the composed ops need.
struct RowLabels {
    Tensor index;   // int32 (..., 1): the label, 0 for ignored rows (any valid column)
    Tensor weight;  // float32 (...): class weight of the label, 0 for ignored rows
    double weight_sum = 0;
};

RowLabels row_labels(const Tensor& logits, const Tensor& labels, const SoftmaxOptions& opt, const char* op) {
    check_float_tensor(logits, op, "logits");
    FOCAL_CHECK(logits.dim() >= 1 && logits.size(-1) >= 1, "[", op, "] logits ", shape_str(logits.shape()),
                " need a class dim");
    FOCAL_CHECK(labels.defined() && labels.dtype() == DType::I32, "[", op, "] labels must be int32");
    const Shape rows(logits.shape().begin(), logits.shape().end() - 1);
    FOCAL_CHECK(labels.shape() == rows, "[", op, "] labels have shape ", shape_str(labels.shape()), "; logits ",
                shape_str(logits.shape()), " need ", shape_str(rows), " (classes last)");
    const int64_t C = logits.size(-1);
    FOCAL_CHECK(opt.class_weight.empty() || int64_t(opt.class_weight.size()) == C, "[", op, "] class_weight has ",
                opt.class_weight.size(), " values for ", C, " classes");
    std::vector<int32_t> label = labels.to_vector<int32_t>(), index(label.size(), 0);
    std::vector<float> weight(label.size(), 0.0f);
    RowLabels out;
    for (size_t i = 0; i < label.size(); ++i) {
        if (label[i] == opt.ignore_index) continue;
        FOCAL_CHECK(label[i] >= 0 && label[i] < C, "[", op, "] label ", label[i], " at row ", i,
                    " is out of range for ", C, " classes (ignore_index is ", opt.ignore_index, ")");
        index[i] = label[i];
        weight[i] = opt.class_weight.empty() ? 1.0f : opt.class_weight[size_t(label[i])];
        out.weight_sum += weight[i];
    }
    Shape index_shape = rows;
    index_shape.push_back(1);
    out.index = Tensor::from_vector(index, index_shape, logits.device());
    out.weight = Tensor::from_vector(weight, rows, logits.device());
    return out;
}

Tensor reduce_rows(const Tensor& loss, const RowLabels& rows, Reduction reduction) {
    if (reduction != Reduction::Mean) return reduce(loss, reduction);
    return rows.weight_sum > 0 ? sum(loss) / float(rows.weight_sum) : sum(loss) * 0.0f;
}

}  // namespace

Tensor log_softmax(const Tensor& logits) {
    Tensor shifted = logits - max(logits.detached(), {-1}, true);  // the max only shifts: no gradient needed
    return shifted - log(sum(exp(shifted), {-1}, true));           // exp(shifted) <= 1: no overflow
}

Tensor softmax_cross_entropy(const Tensor& logits, const Tensor& labels, const SoftmaxOptions& options,
                             Reduction reduction) {
    RowLabels rows = row_labels(logits, labels, options, "softmax_cross_entropy");
    Tensor log_p = gather(log_softmax(logits), -1, rows.index).squeeze(-1);  // (..., C) -> (...)
    return reduce_rows(-log_p * rows.weight, rows, reduction);
}

Tensor softmax_focal_loss(const Tensor& logits, const Tensor& labels, float gamma, const SoftmaxOptions& options,
                          Reduction reduction) {
    check_non_negative(gamma, "softmax_focal_loss", "gamma");
    RowLabels rows = row_labels(logits, labels, options, "softmax_focal_loss");
    Tensor log_p_all = log_softmax(logits);                        // (..., C)
    Tensor log_p = gather(log_p_all, -1, rows.index).squeeze(-1);  // (...)
    // 1 - p_y as the sum of the other classes' probabilities: no cancellation as p_y -> 1
    Tensor classes = Tensor::arange(0, logits.size(-1)).to(logits.device());  // (C,)
    Tensor others = ne(rows.index.to(DType::F32), classes);                   // (..., 1) vs (C,) -> (..., C)
    Tensor q = sum(exp(log_p_all) * others, {-1});                            // (...)
    // clamped so that pow's gradient stays finite for gamma < 1 (see sigmoid_focal_loss)
    Tensor loss = -log_p * pow(clamp(q, FLT_MIN, 1.0f), gamma) * rows.weight;
    return reduce_rows(loss, rows, reduction);
}

// ---------------------------------------------------------------- registry entries
namespace {

// Class weights for a head of K objects + background: alpha for objects, 1 - alpha for
// background (the softmax reading of eq. 3's alpha_t); alpha < 0: none.
std::vector<float> head_weights(float alpha, int64_t columns) {
    if (alpha < 0) return {};
    std::vector<float> w(size_t(columns), alpha);
    w.back() = 1.0f - alpha;
    return w;
}

ClassificationLoss softmax_head_loss(const std::string& name, float alpha, float gamma, bool focal) {
    return ClassificationLoss(name, true, [=](const ClsLossInput& in) {
        SoftmaxTargets t = softmax_targets(in, name);
        SoftmaxOptions opt{kIgnoreIndex, head_weights(alpha, in.logits.size(-1))};
        Tensor per_anchor = focal ? softmax_focal_loss(in.logits, t.labels, gamma, opt, Reduction::None)
                                  : softmax_cross_entropy(in.logits, t.labels, opt, Reduction::None);
        double denominator = 0;  // Mean: summed class weight of the valid anchors
        if (in.reduction == Reduction::Mean) {
            std::vector<int32_t> labels = t.labels.to_vector<int32_t>();
            std::vector<float> valid = t.valid.to_vector<float>();
            for (size_t i = 0; i < labels.size(); ++i)
                if (labels[i] != kIgnoreIndex)
                    denominator += valid[i] * (opt.class_weight.empty() ? 1.0f : opt.class_weight[labels[i]]);
        }
        return reduce_per_anchor(per_anchor, t.valid, in, denominator);
    });
}

}  // namespace

FOCAL_REGISTER_CLS_LOSS({
    .name = "ce",
    .summary = "softmax cross-entropy over K classes + background (logits K + 1, background last)",
    .reference = "Bishop 2006, eq. 4.108; the SSD / Faster R-CNN head",
    .params = {{"alpha", -1.0f, "class weight of objects, background gets 1 - alpha; < 0: unweighted",
                ParamRule::Alpha}},
    .make = [](const LossParams& p) { return softmax_head_loss(p.loss(), p["alpha"], 0.0f, false); },
});

FOCAL_REGISTER_CLS_LOSS({
    .name = "softmax_focal",
    .summary = "softmax focal loss over K classes + background (logits K + 1, background last)",
    .reference = "Lin et al. 2017, sec. 3 (its multi-class form)",
    .params = {{"alpha", -1.0f, "class weight of objects, background gets 1 - alpha; < 0: unweighted",
                ParamRule::Alpha},
               {"gamma", 2.0f, "focusing parameter >= 0; 0 gives ce", ParamRule::NonNegative}},
    .make = [](const LossParams& p) { return softmax_head_loss(p.loss(), p["alpha"], p["gamma"], true); },
});

}  // namespace focal::losses
