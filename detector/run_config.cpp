// config.json: the model and training configuration of a run, as JSON.
#include <cmath>
#include <type_traits>

#include "detector/trainer.h"
#include "engine/util.h"

namespace focal::detector {

using nlohmann::json;

namespace {

std::string rule_words(SettingRule rule) {
    switch (rule) {
        case SettingRule::Any: return "any value";
        case SettingRule::NotEmpty: return "not empty";
        case SettingRule::Positive: return "> 0";
        case SettingRule::NonNegative: return ">= 0";
        case SettingRule::Fraction: return "in [0, 1]";
        case SettingRule::OpenFraction: return "in (0, 1)";
    }
    return "?";
}

std::string setting_name(const char* name, const char* flag) {
    const std::string f = flag;
    return f.empty() ? "setting '" + std::string(name) + "'" : f;
}

template <class T>
void check_setting(const T& value, SettingRule rule, const char* name, const char* flag) {
    if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) {
        const double v = static_cast<double>(value);
        bool ok = std::isfinite(v);
        if (rule == SettingRule::Positive) ok = ok && v > 0;
        if (rule == SettingRule::NonNegative) ok = ok && v >= 0;
        if (rule == SettingRule::Fraction) ok = ok && v >= 0 && v <= 1;
        if (rule == SettingRule::OpenFraction) ok = ok && v > 0 && v < 1;
        FOCAL_CHECK(ok, "[train] ", setting_name(name, flag), " must be ", rule_words(rule), ", got ", value);
    } else if constexpr (std::is_same_v<T, std::string>) {
        FOCAL_CHECK(rule != SettingRule::NotEmpty || !value.empty(), "[train] ", setting_name(name, flag),
                    " must not be empty");
    }
}

}  // namespace

void TrainConfig::validate() const {
#define FOCAL_CHECK_SETTING(type, name, value, flag, rule, help) check_setting(name, SettingRule::rule, #name, flag);
    FOCAL_TRAIN_SETTINGS(FOCAL_CHECK_SETTING)
#undef FOCAL_CHECK_SETTING
    FOCAL_CHECK(min_zoom <= max_zoom, "[train] --zoom MIN MAX needs MIN <= MAX, got ", min_zoom, " and ", max_zoom);
}

const std::vector<SettingInfo>& train_settings() {
    static const std::vector<SettingInfo> rows = {
#define FOCAL_SETTING_ROW(type, name, value, flag, rule, help) {#name, flag, rule_words(SettingRule::rule), help},
        FOCAL_TRAIN_SETTINGS(FOCAL_SETTING_ROW)
#undef FOCAL_SETTING_ROW
    };
    return rows;
}

json to_json(const TrainConfig& c) {
    json j = json::object();
#define FOCAL_SETTING_TO_JSON(type, name, value, flag, rule, help) j[#name] = c.name;
    FOCAL_TRAIN_SETTINGS(FOCAL_SETTING_TO_JSON)
#undef FOCAL_SETTING_TO_JSON
    return j;
}

TrainConfig train_config_from_json(const json& j) {
    FOCAL_CHECK(j.is_object(), "[config] the training settings must be a JSON object, got ", j.dump());
    TrainConfig c;
    for (const auto& [key, value] : j.items()) {
        bool known = false;
#define FOCAL_SETTING_FROM_JSON(type, name, value_, flag, rule, help) \
    if (key == #name) c.name = value.get<type>(), known = true;
        FOCAL_TRAIN_SETTINGS(FOCAL_SETTING_FROM_JSON)
#undef FOCAL_SETTING_FROM_JSON
        FOCAL_CHECK(known, "[config] unknown training setting '", key, "'");
    }
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
            std::vector<std::string> names;
            for (const auto& [k, v] : base.items()) names.push_back(k);
            const std::string known = join(names, ", ");
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
