#include "detector/init_from.h"

#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "detector/trainer.h"
#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/serialize.h"

namespace focal::detector {

namespace fs = std::filesystem;

namespace {
// The classification head's last layer: its shape follows the class count.
bool is_class_layer(const std::string& name) { return name.rfind("head.cls_score.", 0) == 0; }

// The class names RUN was trained on, from its config.json; empty when RUN is a bare file.
std::vector<std::string> run_classes(const std::string& run) {
    const fs::path config = fs::path(run) / "config.json";
    if (!fs::is_regular_file(config)) return {};
    std::ifstream in(config);
    const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
    if (j.is_discarded() || !j.contains("classes") || !j["classes"].is_array()) return {};
    std::vector<std::string> names;
    for (const auto& name : j["classes"])
        if (name.is_string()) names.push_back(name.get<std::string>());
    return names;
}

}  // namespace

InitFromReport init_from_run(Module& model, const std::string& run, const std::vector<std::string>& classes) {
    InitFromReport report;
    const bool bare_file = fs::path(run).extension() == ".safetensors";
    if (bare_file) FOCAL_CHECK(fs::exists(run), "[train] --init-from: ", run, " does not exist");
    // A run folder: its last weights (the averaged ones for a run trained with --ema).
    try {
        report.file = bare_file ? run : run_weights_file(run, "last");
    } catch (const Error& e) {
        fail("[train] --init-from: ", e.what());
    }
    const std::vector<std::string> trained_on = bare_file ? std::vector<std::string>{} : run_classes(run);
    const bool other_classes = !trained_on.empty() && trained_on != classes;
    const SafetensorsFile source = load_safetensors(report.file);
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [name, t] : source.tensors) by_name[name] = &t;

    // Check everything before changing anything.
    const NamedTensors mine = model.state();
    std::vector<std::pair<Tensor, const Tensor*>> copies;  // (this model's tensor, the run's)
    for (const auto& [name, t] : mine) {
        auto it = by_name.find(name);
        const bool fits = it != by_name.end() && it->second->shape() == t.shape() && it->second->dtype() == t.dtype() &&
                          !(other_classes && is_class_layer(name));
        if (fits) {
            copies.emplace_back(t, it->second);
            report.loaded.push_back(name);
            by_name.erase(it);
            continue;
        }
        FOCAL_CHECK(is_class_layer(name), "[train] --init-from ", report.file, ": ",
                    it == by_name.end() ? "has no '" + name + "'"
                                        : "'" + name + "' has shape " + shape_str(it->second->shape()) +
                                              ", this model's is " + shape_str(t.shape()),
                    " (was it trained with another --preset or --model?)");
        report.reinitialised.push_back(name);
        if (it != by_name.end()) by_name.erase(it);
    }
    for (const auto& [name, t] : by_name) report.skipped.push_back(name);

    NoGradGuard no_grad;
    for (auto& [to, from] : copies) to.copy_(from->to(to.device()));
    return report;
}

}  // namespace focal::detector
