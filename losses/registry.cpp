// The loss registry: specs added by FOCAL_REGISTER_CLS_LOSS / _BOX_LOSS, looked up by name.
#include "losses/registry.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "engine/util.h"

namespace focal::losses {
namespace {

struct Entry {
    LossInfo info;
    std::function<ClassificationLoss(const LossParams&)> make_cls;
    std::function<BoxLoss(const LossParams&)> make_box;
};

struct Registry {
    std::vector<Entry> entries;
    std::vector<std::string> problems;  // bad registrations, reported on every lookup
};

Registry& registry() {
    static Registry r;  // built on first use, so registrations in any order of static init work
    return r;
}

void check_registry() {
    const Registry& r = registry();
    if (r.problems.empty()) return;
    fail("[losses] bad loss registration: ", join(r.problems, "; "));
}

bool valid_name(const std::string& name) {
    return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    });
}

// "" when `value` keeps `rule`, else what the rule asks for, in words.
std::string rule_problem(ParamRule rule, float value) {
    switch (rule) {
        case ParamRule::Any: return "";
        case ParamRule::NonNegative: return value >= 0 ? "" : ">= 0";
        case ParamRule::Positive: return value > 0 ? "" : "> 0";
        case ParamRule::Alpha: return value <= 1 ? "" : "in [0, 1], or negative to turn alpha-balancing off";
        case ParamRule::Fraction: return value >= 0 && value < 1 ? "" : "in [0, 1)";
        case ParamRule::Count: return value >= 0 && value == std::floor(value) ? "" : "a whole number >= 0";
    }
    return "";
}

LossParams resolve(const LossInfo& spec, const std::map<std::string, float>& overrides) {
    std::map<std::string, float> values = default_params(spec);
    for (const auto& [key, value] : overrides) {
        if (!values.count(key)) {
            std::vector<std::string> names;
            for (const ParamSpec& p : spec.params) names.push_back(p.name);
            fail("[losses] ", spec.name, " has no parameter '", key,
                 "'; its parameters: ", names.empty() ? std::string("none") : join(names, ", "));
        }
        FOCAL_CHECK(std::isfinite(value), "[losses] ", spec.name, " parameter ", key, " must be finite, got ", value);
        values[key] = value;
    }
    for (const ParamSpec& p : spec.params) {
        const std::string wanted = rule_problem(p.rule, values.at(p.name));
        FOCAL_CHECK(wanted.empty(), "[", spec.name, "] ", p.name, " must be ", wanted, ", got ", values.at(p.name));
    }
    return LossParams(spec.name, values);
}

void add(Entry entry) {
    Registry& r = registry();
    const std::string& name = entry.info.name;
    if (!valid_name(name)) r.problems.push_back("name '" + name + "' is not [a-z0-9_]+");
    if (!entry.make_cls && !entry.make_box) r.problems.push_back(name + " has no make function");
    for (const Entry& other : r.entries)
        if (other.info.name == name) r.problems.push_back("two losses named '" + name + "'");
    r.entries.push_back(std::move(entry));
}

const Entry& find_entry(const std::string& name, LossKind kind) {
    check_registry();
    for (const Entry& e : registry().entries) {
        if (e.info.name != name) continue;
        FOCAL_CHECK(e.info.kind == kind, "[losses] ", name, " is a ", loss_kind_name(e.info.kind), " loss, not a ",
                    loss_kind_name(kind), " loss");
        return e;
    }
    fail("[losses] unknown ", loss_kind_name(kind), " loss '", name, "'; known: ", join(loss_names(kind), ", "));
}

}  // namespace

const char* loss_kind_name(LossKind kind) { return kind == LossKind::Box ? "box" : "classification"; }

float LossParams::operator[](const std::string& name) const {
    auto it = values_.find(name);
    FOCAL_CHECK(it != values_.end(), "[", loss_, "] reads parameter '", name, "' that it did not declare");
    return it->second;
}

bool register_cls_loss(ClsLossSpec spec) {
    add({{spec.name, LossKind::Classification, spec.summary, spec.reference, spec.params}, spec.make, nullptr});
    return true;
}

bool register_box_loss(BoxLossSpec spec) {
    add({{spec.name, LossKind::Box, spec.summary, spec.reference, spec.params}, nullptr, spec.make});
    return true;
}

std::vector<LossInfo> registered_losses() {
    check_registry();
    std::vector<LossInfo> infos;
    for (const Entry& e : registry().entries) infos.push_back(e.info);
    std::sort(infos.begin(), infos.end(), [](const LossInfo& a, const LossInfo& b) {
        return a.kind != b.kind ? a.kind < b.kind : a.name < b.name;
    });
    return infos;
}

std::vector<std::string> loss_names(LossKind kind) {
    std::vector<std::string> names;
    for (const LossInfo& info : registered_losses())
        if (info.kind == kind) names.push_back(info.name);
    return names;
}

LossInfo find_loss(const std::string& name, LossKind kind) { return find_entry(name, kind).info; }

ClassificationLoss make_cls_loss(const std::string& name, const std::map<std::string, float>& params) {
    const Entry& e = find_entry(name, LossKind::Classification);
    return e.make_cls(resolve(e.info, params));
}

BoxLoss make_box_loss(const std::string& name, const std::map<std::string, float>& params) {
    const Entry& e = find_entry(name, LossKind::Box);
    return e.make_box(resolve(e.info, params));
}

std::map<std::string, float> parse_loss_params(const std::vector<std::string>& key_values) {
    std::map<std::string, float> out;
    for (const std::string& kv : key_values) {
        const size_t eq = kv.find('=');
        FOCAL_CHECK(eq != std::string::npos, "[losses] loss parameter '", kv, "' is not key=value (e.g. gamma=2)");
        const std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
        FOCAL_CHECK(!key.empty(), "[losses] loss parameter '", kv, "' has no name before '='");
        FOCAL_CHECK(!out.count(key), "[losses] loss parameter '", key, "' is given twice");
        char* end = nullptr;
        const float value = text.empty() ? NAN : std::strtof(text.c_str(), &end);
        FOCAL_CHECK(!text.empty() && end && *end == '\0' && std::isfinite(value), "[losses] loss parameter ", key, "='",
                    text, "' is not a finite number");
        out[key] = value;
    }
    return out;
}

std::map<std::string, float> default_params(const LossInfo& spec) {
    std::map<std::string, float> values;
    for (const ParamSpec& p : spec.params) values[p.name] = p.default_value;
    return values;
}

std::string format_params(const std::map<std::string, float>& values) {
    std::string out;
    for (const auto& [key, value] : values) {
        char number[32];
        std::snprintf(number, sizeof number, "%g", value);
        out += (out.empty() ? "" : " ") + key + "=" + number;
    }
    return out;
}

}  // namespace focal::losses
