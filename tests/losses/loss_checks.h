// Checks every registered loss must pass, in one line per loss:
//
//   TEST_CASE("my_loss") { check_cls_loss("my_loss", {{"gamma", 2}}); }
//
// check_cls_loss builds the loss through the registry and checks, with doctest CHECKs:
//   - gradients against finite differences (tests/engine/gradcheck.h), hard and (for sigmoid
//     losses) soft targets, with a valid mask and a normaliser;
//   - the reductions agree: None sums to Sum, Sum / normaliser, Mean = Sum / count;
//   - ignored anchors (valid 0, or label kIgnore) change neither the loss nor get a gradient,
//     and int32 labels give the same loss as one-hot float targets;
//   - logits of +-100 (and +-1e30) give a finite loss >= 0 and finite gradients;
//   - a target of the wrong shape throws focal::Error whose message names the loss.
// check_box_loss does the same for a box loss on deltas or decoded boxes.
#pragma once
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>

#include "engine/gradcheck.h"
#include "losses/losses.h"

namespace focal::testing {

struct ClsCheckOptions {
    bool non_negative = true;  // the loss is >= 0 everywhere (false for e.g. poly_focal with epsilon < 0)
};

namespace detail {

inline bool all_finite(const Tensor& t) {
    for (float v : t.to_vector<float>())
        if (!std::isfinite(v)) return false;
    return true;
}

inline bool all_non_negative(const Tensor& t) {
    for (float v : t.to_vector<float>())
        if (!(v >= 0.0f)) return false;
    return true;
}

inline bool close(float a, float b, float rtol = 1e-5f, float atol = 1e-6f) {
    return std::abs(a - b) <= atol + rtol * std::abs(b);
}

// Labels (N, A) for K classes with positives, background and one ignored anchor per image.
inline Tensor make_labels(int64_t N, int64_t A, int64_t K) {
    std::vector<int32_t> labels(size_t(N * A));
    for (size_t i = 0; i < labels.size(); ++i)
        labels[i] = i % 5 == 1 ? int32_t(i % K) : i % 7 == 3 ? losses::kIgnore : losses::kBackground;
    return Tensor::from_vector(labels, {N, A});
}

}  // namespace detail

inline void check_cls_loss(const std::string& name, const std::map<std::string, float>& params = {},
                           ClsCheckOptions opt = {}) {
    using namespace losses;
    INFO("loss " << name << " " << format_params(params));
    const ClassificationLoss loss = make_cls_loss(name, params);
    const int64_t N = 2, A = 6, K = 3, C = loss.logits_per_anchor(K);
    Generator gen(17);
    Tensor logits = Tensor::randn({N, A, C}, gen) * 2.0f;
    Tensor labels = detail::make_labels(N, A, K);
    Tensor valid = Tensor::ones({N, A});
    valid.data<float>()[4] = 0.0f;  // one anchor ignored by the mask as well as by a label
    Tensor one_hot = eq(labels.to(DType::F32).unsqueeze(-1), Tensor::arange(0, K));  // (N, A, K)
    Tensor counted =
        valid * ne(labels.to(DType::F32), Tensor::scalar(float(kIgnore)));  // what one-hot needs for kIgnore

    // gradients, through labels and the mask, with a normaliser
    auto fn = [&](const Tensor& targets, Reduction r, float normalizer) {
        return [=](const std::vector<Tensor>& in) { return loss(ClsLossInput{in[0], targets, valid, normalizer, r}); };
    };
    CHECK(gradcheck(name + " sum", fn(labels, Reduction::Sum, 3.0f), {logits}));
    CHECK(gradcheck(name + " none", fn(labels, Reduction::None, 1.0f), {logits}));
    CHECK(gradcheck(name + " mean", fn(one_hot, Reduction::Mean, 1.0f), {logits}));  // (kIgnore anchors count here)
    if (!loss.softmax()) {
        Tensor soft = Tensor::rand({N, A, K}, gen) * one_hot;  // IoU-like quality targets
        CHECK(gradcheck(name + " soft", fn(soft, Reduction::Sum, 1.0f), {logits}));
    }

    // reductions agree; int labels = one-hot targets
    Tensor none = loss({logits, labels, valid, 1.0f, Reduction::None});
    const float total = loss({logits, labels, valid, 1.0f, Reduction::Sum}).item();
    CHECK(detail::close(sum(none).item(), total));
    CHECK(detail::close(loss({logits, one_hot, counted, 1.0f, Reduction::Sum}).item(), total));
    CHECK(detail::close(loss({logits, labels, valid, 4.0f, Reduction::Sum}).item(), total / 4.0f));
    CHECK(detail::close(sum(loss({logits, labels, valid, 4.0f, Reduction::None})).item(), total / 4.0f));
    CHECK_THROWS_AS(loss({logits, labels, valid, 2.0f, Reduction::Mean}), Error);  // mean takes no normaliser
    if (opt.non_negative) CHECK(detail::all_non_negative(none));

    // ignored anchors: their logits change nothing and get no gradient
    Tensor moved = logits.clone();
    for (int64_t c = 0; c < C; ++c) moved.data<float>()[4 * C + c] += 5.0f;  // valid 0
    for (int64_t c = 0; c < C; ++c) moved.data<float>()[3 * C + c] -= 5.0f;  // label kIgnore (i = 3)
    CHECK(detail::close(loss({moved, labels, valid, 1.0f, Reduction::Sum}).item(), total));
    Tensor x = logits.clone().requires_grad_();
    loss({x, labels, valid, 1.0f, Reduction::Sum}).backward();
    std::vector<float> g = x.grad().to_vector<float>();
    for (int64_t c = 0; c < C; ++c) CHECK(g[size_t(4 * C + c)] == 0.0f);
    for (int64_t c = 0; c < C; ++c) CHECK(g[size_t(3 * C + c)] == 0.0f);

    // extreme logits: finite loss and gradient
    for (float big : {100.0f, 1e30f}) {
        Tensor extreme = Tensor::full({N, A, C}, big);
        for (int64_t i = 0; i < extreme.numel(); i += 2) extreme.data<float>()[i] = -big;
        Tensor xe = extreme.requires_grad_();
        Tensor y = loss({xe, labels, valid, 1.0f, Reduction::None});
        CHECK_MESSAGE(detail::all_finite(y), "loss not finite at logits +-" << big);
        if (opt.non_negative) CHECK(detail::all_non_negative(y));
        sum(y).backward();
        CHECK_MESSAGE(detail::all_finite(xe.grad()), "gradient not finite at logits +-" << big);
    }

    // bad targets name the loss
    Tensor bad = Tensor::zeros({N, A, K + 2});
    CHECK_THROWS_WITH_AS(loss({logits, bad, valid, 1.0f, Reduction::Sum}),
                         doctest::Contains(("[" + name + "]").c_str()), Error);
}

// A box loss: gradients, reductions with per-box weights, and errors naming the loss.
inline void check_box_loss(const std::string& name, const std::map<std::string, float>& params = {}) {
    using namespace losses;
    INFO("loss " << name << " " << format_params(params));
    const BoxLoss loss = make_box_loss(name, params);
    Generator gen(23);
    auto boxes = [&](int64_t n) {  // decoded boxes (x1, y1, x2, y2) or deltas
        if (!loss.decoded()) return Tensor::randn({n, 4}, gen);
        Tensor xy = Tensor::rand({n, 2}, gen) * 10.0f, wh = Tensor::rand({n, 2}, gen) * 5.0f + 1.0f;
        return cat({xy, xy + wh}, 1);
    };
    Tensor pred = boxes(7), target = boxes(7);
    Tensor weight = Tensor::from_vector(std::vector<float>{1, 0, 1, 1, 0, 1, 1}, {7});
    for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
        const float normalizer = r == Reduction::Mean ? 1.0f : 3.0f;
        CHECK(gradcheck(
            name + " " + reduction_name(r),
            [&](const std::vector<Tensor>& in) {
            return loss(BoxLossInput{in[0], target, weight, normalizer, r});
            },
            {pred}));
    }
    Tensor none = loss({pred, target, weight, 1.0f, Reduction::None});
    CHECK(none.shape() == Shape{7});
    CHECK(detail::all_non_negative(none));
    const float total = loss({pred, target, weight, 1.0f, Reduction::Sum}).item();
    CHECK(detail::close(sum(none).item(), total));
    CHECK(detail::close(loss({pred, target, weight, 1.0f, Reduction::Mean}).item(), total / 5.0f));
    CHECK(detail::close(loss({pred, target, weight, 2.0f, Reduction::Sum}).item(), total / 2.0f));
    CHECK(loss({pred, pred, {}, 1.0f, Reduction::Sum}).item() == doctest::Approx(0.0).epsilon(1e-6));
    Tensor empty = Tensor::zeros({0, 4});
    CHECK(loss({empty, empty, {}, 1.0f, Reduction::Sum}).item() == 0.0f);  // no positives: 0, not nan
    CHECK(loss({empty, empty, {}, 1.0f, Reduction::Mean}).item() == 0.0f);
    CHECK_THROWS_WITH_AS(loss({pred, Tensor::zeros({7, 3}), {}, 1.0f, Reduction::Sum}),
                         doctest::Contains(("[" + name + "]").c_str()), Error);
}

}  // namespace focal::testing
