// `focal train` and `focal eval`: train a RetinaNet on a VOC-format dataset; score a run.
#include <signal.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <type_traits>

#include "commands.h"
#include "detector/stop_request.h"
#include "detector/trainer.h"
#include "device_flag.h"
#include "flag_checks.h"
#include "losses/registry.h"

namespace focal::cli {

namespace {

// One flag of the settings table (detector/train_config.h); settings without a flag of
// their own ("") are set by the hand-written flags in add_train.
// A string that must not be empty and has no default is a required flag (--data).
template <class T>
void add_setting_flag(CLI::App* cmd, const std::string& flag, T& field, const std::string& help,
                      detector::SettingRule rule) {
    if (flag.empty()) return;
    if constexpr (std::is_same_v<T, bool>) {
        cmd->add_flag(flag, field, help);  // "!--no-x" stores false
    } else if constexpr (std::is_same_v<T, detector::ParamMap> || std::is_same_v<T, nlohmann::json>) {
        fail("[cli] ", flag, ": a map or JSON setting takes a hand-written flag");
    } else {
        CLI::Option* option = cmd->add_option(flag, field, help);
        if constexpr (std::is_same_v<T, std::string>)
            if (rule == detector::SettingRule::NotEmpty && field.empty()) option->required();
    }
}

// Whether the command line set this setting's own flag ("!--no-x" flags by their name).
bool flag_given(const CLI::App* cmd, std::string flag) {
    if (flag.empty()) return false;
    if (flag.front() == '!') flag.erase(0, 1);
    return cmd->count(flag) > 0;
}

// --recipe FILE: training settings in config.json's names (detector/train_config.h), any
// subset; a run's own config.json is one. The command line wins over the file, setting by
// setting; --model patches merge over the recipe's model, and --loss-param / --box-param
// override its loss parameters key by key.
void apply_recipe(const std::string& path, const CLI::App* cmd, detector::TrainConfig& c) {
    std::ifstream in(path);
    FOCAL_CHECK(in.good(), "[train] --recipe ", path, ": cannot open");
    const nlohmann::json recipe = nlohmann::json::parse(in, nullptr, false);
    FOCAL_CHECK(!recipe.is_discarded(), "[train] --recipe ", path, ": not valid JSON");
    detector::TrainConfig from_file;
    try {
        from_file = detector::train_config_from_json(recipe);
    } catch (const Error& e) {
        fail("[train] --recipe ", path, ": ", e.what());
    }
    const float min_zoom = c.min_zoom, max_zoom = c.max_zoom;  // --zoom's, if given (parsed already)
#define FOCAL_RECIPE_SETTING(type, name, value, flag, rule, help) \
    if (recipe.contains(#name) && !flag_given(cmd, flag)) c.name = from_file.name;
    FOCAL_TRAIN_SETTINGS(FOCAL_RECIPE_SETTING)
#undef FOCAL_RECIPE_SETTING
    if (cmd->count("--zoom") > 0) c.min_zoom = min_zoom, c.max_zoom = max_zoom;
}

// SIGTERM / SIGINT (a cluster's preemption, a Ctrl-C): the first asks the trainer to stop
// after the current step and write a checkpoint; a second exits at once, and the last
// complete checkpoint stays intact (checkpoints are written atomically).
void on_stop_signal(int signal) {
    if (detector::stop_requested() != 0) ::_exit(128 + signal);
    detector::request_stop(signal);
}

void stop_cleanly_on_signals() {
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    for (int signal : {SIGTERM, SIGINT}) sigaction(signal, &action, nullptr);
}

}  // namespace

void add_train(CLI::App& app) {
    auto c = std::make_shared<detector::TrainConfig>();
    auto cls_params = std::make_shared<std::vector<std::string>>();
    auto box_params = std::make_shared<std::vector<std::string>>();
    auto gamma = std::make_shared<float>(NAN), alpha = std::make_shared<float>(NAN);
    auto model = std::make_shared<std::vector<std::string>>();
    auto recipe = std::make_shared<std::string>();
    CLI::App* cmd = app.add_subcommand("train", "Train a RetinaNet on a VOC-format dataset");
#define FOCAL_SETTING_FLAG(type, name, value, flag, rule, help) \
    add_setting_flag(cmd, flag, c->name, help, detector::SettingRule::rule);
    FOCAL_TRAIN_SETTINGS(FOCAL_SETTING_FLAG)
#undef FOCAL_SETTING_FLAG
    // The settings that take more than one value per flag, or several flags.
    cmd->add_option(
           "--zoom",
           [c](const CLI::results_t& r) {
        c->min_zoom = std::stof(r.at(0)), c->max_zoom = std::stof(r.at(1));
        return true;
           },
           "scale-crop zoom range MIN MAX (< 1 zooms out; default 0.5 2)")
        ->expected(2)
        ->type_name("FLOAT FLOAT");
    cmd->add_option("--model", *model,
                    "JSON merge patch over the preset's model config (repeatable), "
                    "e.g. '{\"anchors\": {\"strides\": [4, 8, 16, 32]}}'");
    cmd->add_option("--recipe", *recipe,
                    "training settings from a JSON file (config.json's names, e.g. recipes/voc.json or a run's "
                    "config.json); flags given here win");
    cmd->add_option("--gamma", *gamma, "shortcut for --loss-param gamma=G");
    cmd->add_option("--alpha", *alpha, "shortcut for --loss-param alpha=A");
    cmd->add_option("--loss-param", *cls_params, "classification loss parameter key=value (repeatable)");
    cmd->add_option("--box-param", *box_params, "box loss parameter key=value (repeatable)");
    cmd->callback([=] {
        if (!recipe->empty()) apply_recipe(*recipe, cmd, *c);
        for (const auto& [key, v] : losses::parse_loss_params(*cls_params)) c->cls_params[key] = v;
        for (const auto& [key, v] : losses::parse_loss_params(*box_params)) c->box_params[key] = v;
        if (!std::isnan(*gamma)) c->cls_params["gamma"] = *gamma;
        if (!std::isnan(*alpha)) c->cls_params["alpha"] = *alpha;
        for (const std::string& patch : *model) {
            const nlohmann::json j = nlohmann::json::parse(patch, nullptr, false);
            FOCAL_CHECK(!j.is_discarded() && j.is_object(), "[train] --model '", patch, "' is not a JSON object");
            c->model.merge_patch(j);
        }
        stop_cleanly_on_signals();
        detector::TrainResult r = detector::train(*c);
        if (r.stopped_by != 0) {
            if (r.rank == 0)
                std::fprintf(stderr,
                             "focal: stopped by %s after step %lld; the checkpoint in %s holds everything. To "
                             "continue exactly where it stopped, run the same command with --resume.\n",
                             strsignal(r.stopped_by), static_cast<long long>(r.stopped_at_step), c->out.c_str());
            throw ExitStatus{128 + r.stopped_by};
        }
        if (r.rank != 0) return;
        std::printf("done: %zu epochs in %s", r.epochs.size(), c->out.c_str());
        if (r.best_map >= 0) std::printf(", best val mAP@0.5 %.4f (VOC07 11-point)", r.best_map);
        std::printf("\n");
    });
}

void add_eval(CLI::App& app) {
    auto run = std::make_shared<std::string>();
    auto data = std::make_shared<std::string>();
    auto format = std::make_shared<std::string>();
    auto split = std::make_shared<std::string>("test");
    auto weights = std::make_shared<std::string>("best");
    auto batch = std::make_shared<int>(8);
    auto max_images = std::make_shared<int64_t>(0);
    auto threads = std::make_shared<int>(0);
    auto coco_results = std::make_shared<std::string>();
    auto device = std::make_shared<std::string>("cpu");
    CLI::App* cmd = app.add_subcommand("eval", "Score a trained run on a split: per-class AP and mAP@0.5");
    cmd->add_option("--run", *run, "run directory")->required();
    cmd->add_option("--data", *data, "dataset (default: the one the run trained on)");
    cmd->add_option("--format", *format, "voc, coco or yolo (default: from the layout)")
        ->check(CLI::IsMember({"voc", "coco", "yolo"}));
    cmd->add_option("--split", *split, "split to score");
    cmd->add_option("--weights", *weights, "best or last")->check(CLI::IsMember({"best", "last"}));
    cmd->add_option("--batch", *batch, "images per batch")->check(positive());
    cmd->add_option("--max-images", *max_images, "score only the first N images")->check(non_negative());
    cmd->add_option("--threads", *threads, "compute threads")->check(non_negative());
    cmd->add_option("--coco-results", *coco_results, "also write the detections to this file in COCO's results format");
    add_device_flag(cmd, *device);
    cmd->callback([=] {
        const Device on = open_device(*device);
        if (*threads > 0) set_num_threads(*threads);
        detector::LoadedRun loaded = detector::load_run(*run, *weights, on);
        const std::string dataset = data->empty() ? loaded.train_config.data : *data;
        detector::EvalOptions eo;
        eo.data = dataset, eo.split = *split, eo.year = loaded.train_config.year, eo.batch = *batch;
        eo.max_images = *max_images, eo.run_dir = *run;
        eo.format = data->empty() && format->empty() ? loaded.train_config.format : *format;
        eo.coco_results = *coco_results;
        detector::EvalResult r = detector::evaluate(*loaded.model, loaded.class_names, eo);
        std::printf("%s", detector::format_voc_metrics(r.metrics, loaded.class_names).c_str());
        std::printf("%s", detector::format_coco_metrics(r.coco).c_str());
        const detector::ErrorBreakdown& e = r.errors;
        std::printf("errors (Hoiem et al. 2012), mAP@0.5 (area) %.4f: without poor boxes %.4f, and without wrong "
                    "classes %.4f, and without background false positives %.4f (the recall ceiling); among each "
                    "class's first n detections (n = its objects): %d poor boxes, %d wrong classes, %d background\n",
                    e.ap50, e.without_localization, e.without_confusion, e.without_background, e.top_localization,
                    e.top_confusion, e.top_background);
        std::printf("%d images of %s [%s] in %.1f s; metrics written to %s/metrics.json\n", r.images, dataset.c_str(),
                    split->c_str(), r.seconds, run->c_str());
    });
}

}  // namespace focal::cli
