// The RetinaNet model: the prior-initialised bias, output shapes, targets and the loss.
#include <doctest/doctest.h>

#include <cmath>

#include "detector/detection_loss.h"
#include "detector/trainer.h"
#include "losses/registry.h"

using namespace focal;
using namespace focal::detector;

TEST_CASE("the classification bias starts at -log((1 - pi) / pi): every anchor scores pi") {
    CHECK(prior_bias(0.01f) == doctest::Approx(-std::log(99.0)));
    Generator gen(0);
    RetinaNetConfig config = retinanet_preset("demo", 5);
    config.image_size = 64;
    RetinaNet model(config, gen);
    NoGradGuard no_grad;
    Tensor images = Tensor::randn({2, 3, 64, 64}, gen);
    HeadOutputs out = model.forward(images);
    const std::vector<Box> anchors = make_anchors(config.anchors, out.level_sizes);
    CHECK(out.cls_logits.shape() == Shape{2, static_cast<int64_t>(anchors.size()), 5});
    CHECK(out.box_deltas.shape() == Shape{2, static_cast<int64_t>(anchors.size()), 4});
    CHECK(out.level_sizes == level_sizes(config.anchors, 64, 64));
    // Weights N(0, 0.01) keep the logits near the bias: probabilities near pi = 0.01.
    const float p = mean(sigmoid(out.cls_logits)).item();
    CHECK(p == doctest::Approx(0.01).epsilon(0.05));
    // Without the prior the same model starts at 0.5.
    config.prior_bias = false;
    Generator gen2(0);
    RetinaNet plain(config, gen2);
    CHECK(mean(sigmoid(plain.forward(images).cls_logits)).item() == doctest::Approx(0.5).epsilon(0.02));
    // Softmax heads carry K + 1 logits; the background starts at 1 - K pi.
    config.prior_bias = true;
    config.softmax = true;
    Generator gen3(0);
    RetinaNet soft(config, gen3);
    Tensor logits = soft.forward(images).cls_logits;
    CHECK(logits.size(2) == 6);
    Tensor e = exp(logits - max(logits, {2}, true));
    Tensor probs = e / sum(e, {2}, true);
    CHECK(mean(probs.narrow(2, 0, 5)).item() == doctest::Approx(0.01).epsilon(0.05));
    CHECK_THROWS_WITH_AS(retinanet_preset("huge", 3), doctest::Contains("known: tiny, demo"), Error);
}

TEST_CASE("targets and loss: an anchor equal to a box is positive with zero deltas; empty images") {
    AnchorConfig config;
    config.strides = {8};
    config.scales = {1.0f};
    config.ratios = {1.0f};
    config.size_per_stride = 2.0f;
    std::vector<Box> anchors = make_anchors(config, {{4, 4}});  // 16 px squares every 8 px
    data::Batch batch;
    batch.n = 2;
    batch.boxes = {{anchors[5]}, {}};  // image 1 has no objects
    batch.labels = {{1}, {}};
    batch.difficult = {{0}, {}};
    TrainingTargets t = build_targets(anchors, batch, MatcherConfig{}, BoxCoder{});
    std::vector<int32_t> labels = t.labels.to_vector<int32_t>();
    CHECK(labels[5] == 1);
    CHECK(t.num_positives >= 1);
    CHECK(t.box_deltas.to_vector<float>()[5 * 4] == 0.0f);
    for (int i = 16; i < 32; ++i) CHECK(labels[i] == kMatchBackground);
    // The loss: focal over non-ignored anchors / max(1, positives); box loss on positives.
    Generator gen(1);
    HeadOutputs out{(Tensor::randn({2, 16, 2}, gen) - 4.0f).requires_grad_(),
                    (Tensor::randn({2, 16, 4}, gen) * 0.1f).requires_grad_(),
                    {{4, 4}}};
    for (const char* box : {"smooth_l1", "giou"}) {
        DetectionLoss loss = detection_loss(out, t, anchors_tensor(anchors), losses::make_cls_loss("focal"),
                                            losses::make_box_loss(box), BoxCoder{}, Normalizer::Positives);
        CHECK(loss.normalizer == static_cast<float>(t.num_positives));
        CHECK(std::isfinite(loss.total.item()));
        CHECK(loss.box.item() > 0.0f);
        loss.total.backward();
        for (float g : out.box_deltas.grad().to_vector<float>()) CHECK(std::isfinite(g));
        out.cls_logits.zero_grad();
        out.box_deltas.zero_grad();
    }
    // Only background anywhere: the box loss is 0 and the normaliser 1.
    data::Batch empty = batch;
    empty.boxes = {{}, {}};
    empty.labels = {{}, {}};
    empty.difficult = {{}, {}};
    TrainingTargets none = build_targets(anchors, empty, MatcherConfig{}, BoxCoder{});
    DetectionLoss loss = detection_loss(out, none, anchors_tensor(anchors), losses::make_cls_loss("focal"),
                                        losses::make_box_loss("smooth_l1"), BoxCoder{}, Normalizer::Positives);
    CHECK(loss.normalizer == 1.0f);
    CHECK(loss.box.item() == 0.0f);
    CHECK(loss.cls.item() > 0.0f);
    DetectionLoss by_anchors = detection_loss(out, t, anchors_tensor(anchors), losses::make_cls_loss("focal"),
                                              losses::make_box_loss("smooth_l1"), BoxCoder{}, Normalizer::Anchors);
    CHECK(by_anchors.normalizer == static_cast<float>(32 - t.num_ignored));
}

TEST_CASE("--model patches the preset's config, and a mistyped key fails naming it") {
    TrainConfig c;
    c.preset = "demo";
    c.model = nlohmann::json::parse(R"({"anchors": {"strides": [4, 8, 16, 32]},
                                        "fpn": {"in_channels": [32, 64, 96, 128], "extra_levels": 0},
                                        "head_channels": 48})");
    const RetinaNetConfig m = model_config_for(c, 5, false);
    const RetinaNetConfig preset = retinanet_preset("demo", 5);
    CHECK(m.anchors.strides == std::vector<int64_t>{4, 8, 16, 32});
    CHECK(m.fpn.extra_levels == 0);
    CHECK(m.head_channels == 48);
    CHECK(m.anchors.scales == preset.anchors.scales);  // untouched keys keep the preset's values
    CHECK(m.backbone.stage_channels == preset.backbone.stage_channels);
    CHECK(m.backbone.norm_groups == 0);  // batch norms unless asked
    CHECK(m.num_classes == 5);
    c.model = nlohmann::json::parse(R"({"backbone": {"norm_groups": 16}})");
    CHECK(model_config_for(c, 5, false).backbone.norm_groups == 16);
    CHECK(retinanet_config_from_json(to_json(model_config_for(c, 5, false))).backbone.norm_groups == 16);

    c.model = nlohmann::json::parse(R"({"anchors": {"stride": [4]}})");
    CHECK_THROWS_WITH_AS(model_config_for(c, 5, false), doctest::Contains("unknown model setting 'anchors.stride'"),
                         Error);
    c.model = nlohmann::json::parse(R"({"head_channels": "wide"})");
    CHECK_THROWS_WITH_AS(model_config_for(c, 5, false), doctest::Contains("head_channels"), Error);
    c.model = nlohmann::json::parse(R"({"num_classes": 3})");
    CHECK_THROWS_WITH_AS(model_config_for(c, 5, false), doctest::Contains("num_classes comes from the dataset"), Error);
    c.model = nlohmann::json::parse(R"({"softmax": true})");  // fuzz/corpus/run_config/regression_softmax_patch.json
    CHECK_THROWS_WITH_AS(model_config_for(c, 5, false), doctest::Contains("softmax comes from the classification loss"),
                         Error);
    CHECK(model_config_for(c, 5, true).softmax);
}
