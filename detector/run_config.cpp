// config.json: the model and training configuration of a run, as JSON.
#include "detector/trainer.h"

namespace focal::detector {

using nlohmann::json;

json to_json(const TrainConfig& c) {
    return {{"data", c.data}, {"split", c.split}, {"val_split", c.val_split}, {"year", c.year},
            {"classes", c.classes}, {"skip_bad", c.skip_bad}, {"max_images", c.max_images}, {"augment", c.augment},
            {"crop_probability", c.crop_probability}, {"min_zoom", c.min_zoom}, {"max_zoom", c.max_zoom},
            {"workers", c.workers}, {"preset", c.preset}, {"image_size", c.image_size}, {"model", c.model}, {"prior", c.prior},
            {"prior_bias", c.prior_bias}, {"cls_loss", c.cls_loss}, {"cls_params", c.cls_params},
            {"box_loss", c.box_loss}, {"box_params", c.box_params}, {"normalizer", c.normalizer},
            {"optimizer", c.optimizer}, {"epochs", c.epochs}, {"batch", c.batch}, {"lr", c.lr}, {"momentum", c.momentum},
            {"weight_decay", c.weight_decay}, {"warmup_iters", c.warmup_iters}, {"schedule", c.schedule},
            {"clip_grad", c.clip_grad}, {"max_iters", c.max_iters}, {"out", c.out}, {"seed", c.seed},
            {"threads", c.threads}, {"eval_every", c.eval_every}, {"snapshot_epochs", c.snapshot_epochs}, {"log_every", c.log_every}, {"device", c.device}};
}

TrainConfig train_config_from_json(const json& j) {
    TrainConfig c;
    auto get = [&j](const char* key, auto& field) {
        if (j.contains(key)) field = j.at(key).get<std::decay_t<decltype(field)>>();
    };
    get("data", c.data), get("split", c.split), get("val_split", c.val_split), get("year", c.year);
    get("classes", c.classes), get("skip_bad", c.skip_bad), get("max_images", c.max_images);
    get("augment", c.augment), get("workers", c.workers), get("preset", c.preset), get("image_size", c.image_size);
    get("model", c.model), get("crop_probability", c.crop_probability), get("min_zoom", c.min_zoom);
    get("max_zoom", c.max_zoom);
    get("prior", c.prior), get("prior_bias", c.prior_bias), get("cls_loss", c.cls_loss);
    get("cls_params", c.cls_params), get("box_loss", c.box_loss), get("box_params", c.box_params);
    get("normalizer", c.normalizer), get("optimizer", c.optimizer), get("epochs", c.epochs), get("batch", c.batch), get("lr", c.lr);
    get("momentum", c.momentum), get("weight_decay", c.weight_decay), get("warmup_iters", c.warmup_iters);
    get("schedule", c.schedule), get("clip_grad", c.clip_grad), get("max_iters", c.max_iters);
    get("out", c.out), get("seed", c.seed), get("threads", c.threads), get("eval_every", c.eval_every);
    get("snapshot_epochs", c.snapshot_epochs);
    get("log_every", c.log_every), get("device", c.device);
    return c;
}

json to_json(const RetinaNetConfig& c) {
    return {{"preset", c.preset},
            {"image_size", c.image_size},
            {"backbone", {{"in_channels", c.backbone.in_channels}, {"stem_channels", c.backbone.stem_channels},
                          {"stage_channels", c.backbone.stage_channels}, {"blocks_per_stage", c.backbone.blocks_per_stage}}},
            {"fpn", {{"in_channels", c.fpn.in_channels}, {"channels", c.fpn.channels}, {"extra_levels", c.fpn.extra_levels}}},
            {"anchors", {{"strides", c.anchors.strides}, {"size_per_stride", c.anchors.size_per_stride},
                         {"scales", c.anchors.scales}, {"ratios", c.anchors.ratios}}},
            {"num_classes", c.num_classes},
            {"head_channels", c.head_channels},
            {"head_convs", c.head_convs},
            {"head_norm_groups", c.head_norm_groups},
            {"prior", c.prior},
            {"prior_bias", c.prior_bias},
            {"softmax", c.softmax},
            {"head_init_std", c.head_init_std}};
}

RetinaNetConfig retinanet_config_from_json(const json& j) {
    RetinaNetConfig c;
    c.preset = j.at("preset").get<std::string>();
    c.image_size = j.at("image_size").get<int64_t>();
    const json& b = j.at("backbone");
    c.backbone.in_channels = b.at("in_channels").get<int64_t>();
    c.backbone.stem_channels = b.at("stem_channels").get<int64_t>();
    c.backbone.stage_channels = b.at("stage_channels").get<std::vector<int64_t>>();
    c.backbone.blocks_per_stage = b.at("blocks_per_stage").get<std::vector<int64_t>>();
    const json& f = j.at("fpn");
    c.fpn.in_channels = f.at("in_channels").get<std::vector<int64_t>>();
    c.fpn.channels = f.at("channels").get<int64_t>();
    c.fpn.extra_levels = f.at("extra_levels").get<int64_t>();
    const json& a = j.at("anchors");
    c.anchors.strides = a.at("strides").get<std::vector<int64_t>>();
    c.anchors.size_per_stride = a.at("size_per_stride").get<float>();
    c.anchors.scales = a.at("scales").get<std::vector<float>>();
    c.anchors.ratios = a.at("ratios").get<std::vector<float>>();
    c.num_classes = j.at("num_classes").get<int64_t>();
    c.head_channels = j.at("head_channels").get<int64_t>();
    c.head_convs = j.at("head_convs").get<int64_t>();
    c.head_norm_groups = j.value("head_norm_groups", int64_t{0});
    c.prior = j.at("prior").get<float>();
    c.prior_bias = j.at("prior_bias").get<bool>();
    c.softmax = j.at("softmax").get<bool>();
    c.head_init_std = j.at("head_init_std").get<float>();
    return c;
}

}  // namespace focal::detector

namespace focal::detector {
namespace {

// Every key of `patch` must name a setting of `base`, recursively: a typo fails loudly
// instead of silently training the preset.
void check_patch_keys(const json& patch, const json& base, const std::string& where) {
    FOCAL_CHECK(patch.is_object(), "[config] the model settings", where.empty() ? "" : " at '" + where + "'",
                " must be a JSON object, got ", patch.dump());
    for (const auto& [key, value] : patch.items()) {
        const std::string path = where.empty() ? key : where + "." + key;
        if (!base.contains(key)) {
            std::string known;
            for (const auto& [k, v] : base.items()) known.append(known.empty() ? "" : ", ").append(k);
            fail("[config] unknown model setting '", path, "'; known here: ", known);
        }
        if (base.at(key).is_object() && !value.is_null()) check_patch_keys(value, base.at(key), path);
    }
}

}  // namespace

RetinaNetConfig model_config_for(const TrainConfig& c, int64_t num_classes, bool softmax) {
    RetinaNetConfig mc = retinanet_preset(c.preset, num_classes);
    if (c.image_size > 0) mc.image_size = c.image_size;
    mc.prior = c.prior;
    mc.prior_bias = c.prior_bias;
    mc.softmax = softmax;
    if (c.model.is_null() || c.model.empty()) return mc;
    json j = to_json(mc);
    check_patch_keys(c.model, j, "");
    j.merge_patch(c.model);
    try {
        mc = retinanet_config_from_json(j);
    } catch (const json::exception& e) {
        fail("[config] model settings ", c.model.dump(), ": ", e.what());
    }
    FOCAL_CHECK(mc.num_classes == num_classes, "[config] num_classes comes from the dataset (", num_classes,
                "), not from the model settings");
    return mc;
}

}  // namespace focal::detector
