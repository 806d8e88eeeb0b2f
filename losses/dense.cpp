// Checking and resolving the targets of dense classification losses (see dense.h).
#include "losses/dense.h"

#include <cmath>

namespace focal::losses {

const char* reduction_name(Reduction r) {
    switch (r) {
        case Reduction::None: return "none";
        case Reduction::Sum: return "sum";
        case Reduction::Mean: return "mean";
    }
    return "?";
}

Reduction parse_reduction(const std::string& name) {
    if (name == "none") return Reduction::None;
    if (name == "sum") return Reduction::Sum;
    if (name == "mean") return Reduction::Mean;
    fail("[losses] unknown reduction '", name, "' (expected none, sum or mean)");
}

Tensor reduce(const Tensor& loss, Reduction reduction) {
    switch (reduction) {
        case Reduction::None: return loss;
        case Reduction::Sum: return sum(loss);
        case Reduction::Mean: return loss.numel() == 0 ? sum(loss) : mean(loss);
    }
    return loss;
}

void check_float_tensor(const Tensor& t, const std::string& op, const char* what) {
    FOCAL_CHECK(t.defined(), "[", op, "] ", what, " is undefined");
    FOCAL_CHECK(t.dtype() == DType::F32, "[", op, "] ", what, " must be float32, got ", dtype_name(t.dtype()));
}

void check_same_shape(const Tensor& a, const Tensor& b, const std::string& op, const char* a_name, const char* b_name) {
    FOCAL_CHECK(a.shape() == b.shape(), "[", op, "] ", a_name, " ", shape_str(a.shape()), " and ", b_name, " ",
                shape_str(b.shape()), " must have the same shape");
    FOCAL_CHECK(a.device() == b.device(), "[", op, "] ", a_name, " is on ", device_name(a.device()), " but ", b_name,
                " is on ", device_name(b.device()));
}

void check_alpha(float alpha, const std::string& op) {
    FOCAL_CHECK(std::isfinite(alpha) && alpha <= 1.0f, "[", op, "] alpha must be in [0, 1], or negative to turn ",
                "alpha-balancing off; got ", alpha);
}

void check_non_negative(float value, const std::string& op, const char* name) {
    FOCAL_CHECK(std::isfinite(value) && value >= 0.0f, "[", op, "] ", name, " must be finite and >= 0, got ", value);
}

namespace {

Shape anchor_shape(const Tensor& logits) { return Shape(logits.shape().begin(), logits.shape().end() - 1); }

void check_logits(const ClsLossInput& in, const std::string& loss, int64_t min_columns) {
    check_float_tensor(in.logits, loss, "logits");
    FOCAL_CHECK(in.logits.dim() >= 1 && in.logits.size(-1) >= min_columns, "[", loss, "] logits ",
                shape_str(in.logits.shape()), " need a last dim of at least ", min_columns, " classes");
    FOCAL_CHECK(std::isfinite(in.normalizer) && in.normalizer > 0, "[", loss,
                "] normalizer must be finite and > 0, got ", in.normalizer,
                " (RetinaNet uses max(1, number of positive anchors))");
    FOCAL_CHECK(in.reduction != Reduction::Mean || in.normalizer == 1.0f, "[", loss,
                "] reduction mean divides by the number of valid elements itself; pass normalizer 1 (got ",
                in.normalizer, ") or use reduction sum");
    FOCAL_CHECK(in.targets.defined(), "[", loss, "] targets are undefined");
    FOCAL_CHECK(in.targets.device() == in.logits.device(), "[", loss, "] targets are on ",
                device_name(in.targets.device()), " but logits on ", device_name(in.logits.device()));
}

Tensor resolve_valid(const ClsLossInput& in, const std::string& loss) {
    const Shape anchors = anchor_shape(in.logits);
    if (!in.valid.defined()) return Tensor::ones(anchors, DType::F32, in.logits.device());
    check_float_tensor(in.valid, loss, "valid");
    FOCAL_CHECK(in.valid.shape() == anchors, "[", loss, "] valid has shape ", shape_str(in.valid.shape()), "; logits ",
                shape_str(in.logits.shape()), " need one entry per anchor, ", shape_str(anchors));
    FOCAL_CHECK(in.valid.device() == in.logits.device(), "[", loss, "] valid is on ", device_name(in.valid.device()),
                " but logits on ", device_name(in.logits.device()));
    return in.valid.detached();
}

// Labels must be 0..K-1, kBackground or kIgnore; names the first that is not.
std::vector<int32_t> checked_labels(const ClsLossInput& in, const std::string& loss, int64_t K) {
    const Shape anchors = anchor_shape(in.logits);
    FOCAL_CHECK(in.targets.shape() == anchors, "[", loss, "] int32 labels have shape ", shape_str(in.targets.shape()),
                "; logits ", shape_str(in.logits.shape()), " need one label per anchor, ", shape_str(anchors));
    std::vector<int32_t> labels = in.targets.to_vector<int32_t>();
    for (size_t i = 0; i < labels.size(); ++i)
        FOCAL_CHECK(labels[i] >= kIgnore && labels[i] < K, "[", loss, "] label ", labels[i], " at anchor ", i,
                    " is out of range for ", K, " classes (expected 0..", K - 1, ", ", kBackground, " background or ",
                    kIgnore, " ignore)");
    return labels;
}

// In place on the host (no copy of a contiguous CPU tensor); also rejects nan.
void check_target_values(const Tensor& targets, const std::string& loss) {
    const Tensor host = targets.device() == Device::CPU ? targets.contiguous() : targets.to(Device::CPU);
    const float* values = host.data<float>();
    for (int64_t i = 0; i < host.numel(); ++i)
        FOCAL_CHECK(values[i] >= 0.0f && values[i] <= 1.0f, "[", loss, "] target ", values[i], " at element ", i,
                    " is outside [0, 1]");
}

}  // namespace

SigmoidTargets sigmoid_targets(const ClsLossInput& in, const std::string& loss) {
    check_logits(in, loss, 1);
    const int64_t K = in.logits.size(-1);
    Tensor valid = resolve_valid(in, loss);
    if (in.targets.dtype() == DType::I32) {
        checked_labels(in, loss, K);
        Tensor labels = in.targets.to(DType::F32);                     // (...)
        Tensor classes = Tensor::arange(0, K).to(in.logits.device());  // (K,)
        Tensor one_hot = eq(labels.unsqueeze(-1), classes);            // (..., 1) == (K,) -> (..., K)
        Tensor not_ignored = ne(labels, Tensor::full({}, float(kIgnore), DType::F32, labels.device()));
        return {one_hot, valid * not_ignored};
    }
    FOCAL_CHECK(in.targets.shape() == in.logits.shape(), "[", loss, "] float targets have shape ",
                shape_str(in.targets.shape()), " but logits ", shape_str(in.logits.shape()),
                "; pass float32 targets of the logits' shape or int32 labels of shape ",
                shape_str(anchor_shape(in.logits)));
    check_target_values(in.targets, loss);
    return {in.targets.detached(), valid};
}

SoftmaxTargets softmax_targets(const ClsLossInput& in, const std::string& loss) {
    check_logits(in, loss, 2);
    const int64_t K = in.logits.size(-1) - 1;  // the last column is background
    Tensor valid = resolve_valid(in, loss);
    std::vector<int32_t> labels;
    if (in.targets.dtype() == DType::I32) {
        labels = checked_labels(in, loss, K);
        for (int32_t& l : labels) l = l == kBackground ? int32_t(K) : l == kIgnore ? kIgnoreIndex : l;
    } else {
        Shape expected = in.logits.shape();
        expected.back() = K;
        FOCAL_CHECK(in.targets.shape() == expected, "[", loss, "] float targets have shape ",
                    shape_str(in.targets.shape()), "; logits ", shape_str(in.logits.shape()),
                    " (background last) need one-hot targets ", shape_str(expected), " or int32 labels");
        check_target_values(in.targets, loss);
        std::vector<float> t = in.targets.to_vector<float>();
        labels.assign(t.size() / K, int32_t(K));
        for (size_t a = 0; a < labels.size(); ++a)
            for (int64_t k = 0; k < K; ++k)  // first largest positive target wins
                if (t[a * K + k] > 0 && (labels[a] == K || t[a * K + k] > t[a * K + labels[a]])) labels[a] = int32_t(k);
    }
    std::vector<float> v = valid.to_vector<float>();
    for (size_t a = 0; a < labels.size(); ++a)
        if (v[a] == 0.0f) labels[a] = kIgnoreIndex;
    return {Tensor::from_vector(labels, valid.shape(), in.logits.device()), valid};
}

Tensor positive_mask(const Tensor& targets) { return gt(max(targets.detached(), {-1}), 0.0f); }

namespace {

Tensor normalize(const Tensor& loss, float normalizer) { return normalizer == 1.0f ? loss : loss / normalizer; }

}  // namespace

Tensor reduce_per_anchor(const Tensor& per_anchor, const Tensor& valid, const ClsLossInput& in,
                         double mean_denominator) {
    Tensor weighted = per_anchor * valid;
    switch (in.reduction) {
        case Reduction::None: return normalize(weighted, in.normalizer);
        case Reduction::Sum: return normalize(sum(weighted), in.normalizer);
        case Reduction::Mean:
            // nothing valid: 0 (torch would give nan), still attached to the graph
            return mean_denominator > 0 ? sum(weighted) / float(mean_denominator) : sum(weighted) * 0.0f;
    }
    return weighted;
}

Tensor reduce_sigmoid(const Tensor& elementwise, const Tensor& valid, const ClsLossInput& in) {
    Tensor weighted = elementwise * valid.unsqueeze(-1);  // (..., K) * (..., 1)
    switch (in.reduction) {
        case Reduction::None: return normalize(weighted, in.normalizer);
        case Reduction::Sum: return normalize(sum(weighted), in.normalizer);
        case Reduction::Mean: {
            const double count = double(sum(valid).item()) * double(elementwise.size(-1));
            return count > 0 ? sum(weighted) / float(count) : sum(weighted) * 0.0f;
        }
    }
    return weighted;
}

ClassificationLoss sigmoid_loss(std::string name, ElementwiseFn fn) {
    return ClassificationLoss(name, false, [name, fn](const ClsLossInput& in) {
        SigmoidTargets t = sigmoid_targets(in, name);
        return reduce_sigmoid(fn(in.logits, t.targets), t.valid, in);
    });
}

}  // namespace focal::losses
