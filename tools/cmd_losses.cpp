// `focal losses`: the registered losses, their parameters and defaults (losses/registry.h).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "engine/error.h"
#include "engine/util.h"
#include "losses/registry.h"

namespace focal::cli {
namespace {

struct LossesOptions {
    std::vector<std::string> names;
    bool json = false;
};

void print_table(const std::vector<losses::LossInfo>& infos) {
    losses::LossKind kind = losses::LossKind::Box;
    bool first = true;
    for (const losses::LossInfo& info : infos) {
        if (first || info.kind != kind) {
            kind = info.kind;
            const bool box = kind == losses::LossKind::Box;
            std::printf("%s%s losses (focal train %s NAME [%s key=value ...]):\n", first ? "" : "\n",
                        box ? "box" : "classification", box ? "--box-loss" : "--cls-loss",
                        box ? "--box-param" : "--loss-param");
            first = false;
        }
        std::printf("  %-15s %s\n", info.name.c_str(), info.summary.c_str());
        std::printf("  %-15s %s\n", "", info.reference.c_str());
        for (const losses::ParamSpec& p : info.params) {
            char setting[64];
            std::snprintf(setting, sizeof setting, "%s=%g", p.name.c_str(), p.default_value);
            std::printf("  %-15s   %-20s %s\n", "", setting, p.help.c_str());
        }
    }
}

// The shortest decimal that reads back as the same float: 1e-07, not 1.0000000116860974e-07.
double shortest(float value) {
    char text[32];
    for (int digits = 6;; ++digits) {
        std::snprintf(text, sizeof text, "%.*g", digits, value);
        if (std::strtof(text, nullptr) == value || digits >= 9) return std::strtod(text, nullptr);
    }
}

void print_json(const std::vector<losses::LossInfo>& infos) {
    nlohmann::json out = nlohmann::json::array();
    for (const losses::LossInfo& info : infos) {
        nlohmann::json params = nlohmann::json::array();
        for (const losses::ParamSpec& p : info.params)
            params.push_back({{"name", p.name}, {"default", shortest(p.default_value)}, {"help", p.help}});
        out.push_back({{"name", info.name},
                       {"kind", losses::loss_kind_name(info.kind)},
                       {"summary", info.summary},
                       {"reference", info.reference},
                       {"params", params}});
    }
    std::printf("%s\n", out.dump(2).c_str());
}

void run_losses(const LossesOptions& opt) {
    std::vector<losses::LossInfo> infos = losses::registered_losses();
    if (!opt.names.empty()) {
        std::vector<std::string> names;
        for (const losses::LossInfo& info : infos) names.push_back(info.name);
        const std::string known = join(names, ", ");
        for (const std::string& name : opt.names) {
            const bool found = std::any_of(infos.begin(), infos.end(), [&](const auto& i) { return i.name == name; });
            FOCAL_CHECK(found, "[losses] unknown loss '", name, "'; known: ", known);
        }
        std::erase_if(infos, [&](const losses::LossInfo& info) {  // keep the listing's order
            return std::find(opt.names.begin(), opt.names.end(), info.name) == opt.names.end();
        });
    }
    if (opt.json) print_json(infos);
    else print_table(infos);
}

}  // namespace

void add_losses(CLI::App& app) {
    auto opt = std::make_shared<LossesOptions>();
    CLI::App* cmd = app.add_subcommand("losses", "List the registered losses with their parameters and defaults");
    cmd->add_option("names", opt->names, "only these losses (default: all)");
    cmd->add_flag("--json", opt->json, "print the list as JSON");
    cmd->callback([opt] { run_losses(*opt); });
}

}  // namespace focal::cli
