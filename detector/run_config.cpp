// config.json: the model and training configuration of a run, as JSON.
#include <cmath>
#include <limits>
#include <type_traits>
#include <utility>
#include <vector>

#include "detector/trainer.h"
#include "engine/device.h"
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
        case SettingRule::FractionBelowOne: return "in [0, 1)";
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
        if (rule == SettingRule::FractionBelowOne) ok = ok && v >= 0 && v < 1;
        FOCAL_CHECK(ok, "[train] ", setting_name(name, flag), " must be ", rule_words(rule), ", got ", value);
    } else if constexpr (std::is_same_v<T, std::string>) {
        FOCAL_CHECK(rule != SettingRule::NotEmpty || !value.empty(), "[train] ", setting_name(name, flag),
                    " must not be empty");
    }
}

// A JSON value in an error message: scalars as written (cut at 60 characters), arrays and
// objects by their kind only, since dump() recurses and a hostile value may nest deeply.
std::string describe(const json& v) {
    if (v.is_structured()) return std::string(v.is_array() ? "an array" : "an object");
    std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
    if (text.size() > 60) text = text.substr(0, 57) + "...";
    return text;
}

// Nesting deeper than this is refused before a value is copied or merged: those recurse.
constexpr int kMaxJsonDepth = 32;

void check_depth(const json& root, const std::string& where) {
    std::vector<std::pair<const json*, int>> stack = {{&root, 1}};  // iterative: the depth is the threat
    while (!stack.empty()) {
        const auto [v, depth] = stack.back();
        stack.pop_back();
        if (!v->is_structured()) continue;
        FOCAL_CHECK(depth <= kMaxJsonDepth, "[config] ", where, " nests deeper than ", kMaxJsonDepth, " levels");
        for (const json& child : *v) stack.emplace_back(&child, depth + 1);
    }
}

// `v` as T, checked so that no conversion is undefined: integers must be JSON integers within
// T's range, floats finite numbers within float's; throws Error naming `where`.
template <class T>
T json_as(const json& v, const std::string& where) {
    if constexpr (std::is_same_v<T, json>) {
        check_depth(v, where);
        return v;
    } else if constexpr (std::is_same_v<T, bool>) {
        FOCAL_CHECK(v.is_boolean(), "[config] ", where, " must be true or false, got ", describe(v));
        return v.get<bool>();
    } else if constexpr (std::is_integral_v<T>) {
        bool ok = false;
        if (v.is_number_unsigned()) {
            ok = v.get<uint64_t>() <= static_cast<uint64_t>(std::numeric_limits<T>::max());
        } else if (v.is_number_integer()) {
            const int64_t x = v.get<int64_t>();
            ok = x >= static_cast<int64_t>(std::numeric_limits<T>::min()) &&
                 (x < 0 || static_cast<uint64_t>(x) <= static_cast<uint64_t>(std::numeric_limits<T>::max()));
        }
        FOCAL_CHECK(ok, "[config] ", where, " must be an integer in [", +std::numeric_limits<T>::min(), ", ",
                    +std::numeric_limits<T>::max(), "], got ", describe(v));
        return v.is_number_unsigned() ? static_cast<T>(v.get<uint64_t>()) : static_cast<T>(v.get<int64_t>());
    } else if constexpr (std::is_floating_point_v<T>) {
        const double x = v.is_number() ? v.get<double>() : 0.0;
        FOCAL_CHECK(v.is_number() && std::isfinite(x) && std::fabs(x) <= std::numeric_limits<T>::max(), "[config] ",
                    where, " must be a finite number, got ", describe(v));
        return static_cast<T>(x);
    } else if constexpr (std::is_same_v<T, std::string>) {
        FOCAL_CHECK(v.is_string(), "[config] ", where, " must be a string, got ", describe(v));
        return v.get<std::string>();
    } else if constexpr (std::is_same_v<T, ParamMap>) {
        FOCAL_CHECK(v.is_object(), "[config] ", where, " must be an object of numbers, got ", describe(v));
        ParamMap m;
        for (const auto& [key, value] : v.items()) m[key] = json_as<float>(value, where + "." + key);
        return m;
    } else {  // std::vector<E>
        FOCAL_CHECK(v.is_array(), "[config] ", where, " must be a list, got ", describe(v));
        T out;
        for (size_t i = 0; i < v.size(); ++i)
            out.push_back(json_as<typename T::value_type>(v[i], where + "[" + std::to_string(i) + "]"));
        return out;
    }
}

// j[key], which must exist; `where` is j's own place ("" at the top).
const json& field(const json& j, const char* key, const std::string& where) {
    const std::string path = where.empty() ? key : where + "." + key;
    FOCAL_CHECK(j.is_object(), "[config] ", where.empty() ? "the model settings" : "'" + where + "'",
                " must be an object, got ", describe(j));
    const auto it = j.find(key);
    FOCAL_CHECK(it != j.end(), "[config] model setting '", path, "' is missing");
    return *it;
}

template <class T>
T model_setting(const json& j, const char* key, const std::string& where = "") {
    return json_as<T>(field(j, key, where), "model setting '" + (where.empty() ? key : where + "." + key) + "'");
}

}  // namespace

void TrainConfig::validate() const {
#define FOCAL_CHECK_SETTING(type, name, value, flag, rule, help) check_setting(name, SettingRule::rule, #name, flag);
    FOCAL_TRAIN_SETTINGS(FOCAL_CHECK_SETTING)
#undef FOCAL_CHECK_SETTING
    FOCAL_CHECK(min_zoom <= max_zoom, "[train] --zoom MIN MAX needs MIN <= MAX, got ", min_zoom, " and ", max_zoom);
    (void)parse_device(device);  // the name only: whether the device is usable is checked when training starts
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
    FOCAL_CHECK(j.is_object(), "[config] the training settings must be a JSON object, got ", describe(j));
    TrainConfig c;
    for (const auto& [key, value] : j.items()) {
        bool known = false;
#define FOCAL_SETTING_FROM_JSON(type, name, value_, flag, rule, help) \
    if (key == #name) c.name = json_as<type>(value, "training setting '" #name "'"), known = true;
        FOCAL_TRAIN_SETTINGS(FOCAL_SETTING_FROM_JSON)
#undef FOCAL_SETTING_FROM_JSON
        FOCAL_CHECK(known, "[config] unknown training setting '", key, "'");
    }
    return c;
}

json to_json(const RetinaNetConfig& c) {
    return {{"preset", c.preset},
            {"image_size", c.image_size},
            {"backbone",
             {{"kind", c.backbone.kind},
              {"in_channels", c.backbone.in_channels},
              {"stem_channels", c.backbone.stem_channels},
              {"stage_channels", c.backbone.stage_channels},
              {"blocks_per_stage", c.backbone.blocks_per_stage},
              {"norm_groups", c.backbone.norm_groups}}},
            {"fpn",
             {{"in_channels", c.fpn.in_channels}, {"channels", c.fpn.channels}, {"extra_levels", c.fpn.extra_levels}}},
            {"anchors",
             {{"strides", c.anchors.strides},
              {"size_per_stride", c.anchors.size_per_stride},
              {"scales", c.anchors.scales},
              {"ratios", c.anchors.ratios}}},
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
    using V = std::vector<int64_t>;
    using F = std::vector<float>;
    RetinaNetConfig c;
    c.preset = model_setting<std::string>(j, "preset");
    c.image_size = model_setting<int64_t>(j, "image_size");
    const json& b = field(j, "backbone", "");
    c.backbone.kind = b.contains("kind") ? model_setting<std::string>(b, "kind", "backbone") : "plain";  // older runs
    c.backbone.in_channels = model_setting<int64_t>(b, "in_channels", "backbone");
    c.backbone.stem_channels = model_setting<int64_t>(b, "stem_channels", "backbone");
    c.backbone.stage_channels = model_setting<V>(b, "stage_channels", "backbone");
    c.backbone.blocks_per_stage = model_setting<V>(b, "blocks_per_stage", "backbone");
    c.backbone.norm_groups = b.contains("norm_groups") ? model_setting<int64_t>(b, "norm_groups", "backbone") : 0;
    const json& f = field(j, "fpn", "");
    c.fpn.in_channels = model_setting<V>(f, "in_channels", "fpn");
    c.fpn.channels = model_setting<int64_t>(f, "channels", "fpn");
    c.fpn.extra_levels = model_setting<int64_t>(f, "extra_levels", "fpn");
    const json& a = field(j, "anchors", "");
    c.anchors.strides = model_setting<V>(a, "strides", "anchors");
    c.anchors.size_per_stride = model_setting<float>(a, "size_per_stride", "anchors");
    c.anchors.scales = model_setting<F>(a, "scales", "anchors");
    c.anchors.ratios = model_setting<F>(a, "ratios", "anchors");
    c.num_classes = model_setting<int64_t>(j, "num_classes");
    c.head_channels = model_setting<int64_t>(j, "head_channels");
    c.head_convs = model_setting<int64_t>(j, "head_convs");
    c.head_norm_groups = j.contains("head_norm_groups") ? model_setting<int64_t>(j, "head_norm_groups") : 0;
    c.prior = model_setting<float>(j, "prior");
    c.prior_bias = model_setting<bool>(j, "prior_bias");
    c.softmax = model_setting<bool>(j, "softmax");
    c.head_init_std = model_setting<float>(j, "head_init_std");
    return c;
}

}  // namespace focal::detector

namespace focal::detector {
namespace {

// Every key of `patch` must name a setting of `base`, recursively: a typo fails loudly
// instead of silently training the preset.
void check_patch_keys(const json& patch, const json& base, const std::string& where) {
    FOCAL_CHECK(patch.is_object(), "[config] the model settings", where.empty() ? "" : " at '" + where + "'",
                " must be a JSON object, got ", describe(patch));
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
    check_depth(c.model, "the model settings");  // merge_patch recurses
    check_patch_keys(c.model, j, "");
    j.merge_patch(c.model);
    mc = retinanet_config_from_json(j);
    FOCAL_CHECK(mc.num_classes == num_classes, "[config] num_classes comes from the dataset (", num_classes,
                "), not from the model settings");
    // Found by fuzz/fuzz_run_config.cpp: a patch could give a sigmoid loss a softmax head.
    FOCAL_CHECK(mc.softmax == softmax, "[config] softmax comes from the classification loss (", softmax ? "" : "not ",
                "softmax here), not from the model settings");
    return mc;
}

}  // namespace focal::detector
