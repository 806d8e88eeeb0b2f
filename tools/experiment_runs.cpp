// The training runs of `focal experiments`, like a make: each run lives in OUT/runs/<name>,
// a finished one (outcome.json) is reused, an interrupted one resumed. Then the numbers the
// report needs: AP over epochs (val) and the final weights' AP on the test split.
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "detector/demo_recipe.h"
#include "engine/device.h"
#include "engine/serialize.h"
#include "engine/util.h"
#include "experiments.h"

namespace focal::cli::experiments {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string number_name(float v) {  // 0.25 -> "0.25", 2 -> "2"
    std::ostringstream s;
    s << v;
    return s.str();
}

}  // namespace

RunSpec focal_run(const std::string& name, float gamma, float alpha) {
    RunSpec r;
    r.name = name;
    r.label = "FL (γ " + number_name(gamma) + ", α " + number_name(alpha) + ")";
    r.cls_params = {{"gamma", gamma}, {"alpha", alpha}};
    return r;
}

RunSpec ce_run(const std::string& name, bool prior, float alpha) {
    RunSpec r;
    r.name = name;
    r.label = "CE (α " + number_name(alpha) + ")" + (prior ? "" : ", no prior");
    r.cls_loss = "bce";
    r.cls_params = {{"alpha", alpha}};
    r.prior_bias = prior;
    return r;
}

RunSpec ohem_run(const std::string& name) {
    RunSpec r;
    r.name = name;
    r.label = "OHEM 1:3 (CE)";
    r.cls_loss = "ohem";
    r.cls_params = {{"ratio", 3.0f}};
    return r;
}

namespace {

json read_json_file(const fs::path& path) {
    std::ifstream in(path);
    FOCAL_CHECK(in.good(), "[experiments] cannot open ", path.string());
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        fail("[experiments] ", path.string(), " is not valid JSON: ", e.what());
    }
}

// The settings that make two runs the same experiment: a finished run is reused only if
// these agree, so changing --epochs (say) never silently reuses the old numbers. Like
// --threads, --device is not among them: the same experiment, run elsewhere.
json run_key(const detector::TrainConfig& c) {
    std::error_code ec;
    const fs::path data = fs::weakly_canonical(c.data, ec);
    return {{"data", ec ? c.data : data.string()},
            {"epochs", c.epochs},
            {"batch", c.batch},
            {"max_images", c.max_images},
            {"max_iters", c.max_iters},
            {"seed", c.seed},
            {"lr", c.lr},
            {"optimizer", c.optimizer},
            {"cls_loss", c.cls_loss},
            {"cls_params", c.cls_params},
            {"prior_bias", c.prior_bias},
            {"normalizer", c.normalizer},
            {"preset", c.preset},
            {"image_size", c.image_size},
            {"model", c.model},
            {"snapshot_epochs", c.snapshot_epochs}};
}

void check_same_run(const fs::path& dir, const detector::TrainConfig& wanted) {
    const json have = run_key(detector::train_config_from_json(read_json_file(dir / "config.json").at("train")));
    const json want = run_key(wanted);
    for (const auto& [key, value] : want.items())
        FOCAL_CHECK(have.value(key, json()) == value, "[experiments] ", dir.string(),
                    " holds a run with another configuration (", key, " ", have.value(key, json()).dump(), ", now ",
                    value.dump(), "); remove the folder, or pick another --out");
}

template <typename Map>
std::vector<typename Map::mapped_type> values(const Map& m) {
    std::vector<typename Map::mapped_type> out;
    for (const auto& [key, value] : m) out.push_back(value);
    return out;
}

// One pass over log.jsonl: its epochs and its logged steps (an "error" line is the step a
// diverged run stopped at). A resumed run may log an epoch or a step twice: the last wins.
void read_log(const fs::path& dir, RunOutcome& r) {
    std::map<int, EpochPoint> by_epoch;
    std::map<int64_t, StepPoint> by_step;
    std::ifstream in(dir / "log.jsonl");
    std::string line;
    while (std::getline(in, line)) {
        const json j = json::parse(line, nullptr, false);
        if (j.is_discarded()) continue;
        const std::string type = j.value("type", "");
        if (type == "epoch") {
            EpochPoint p;
            p.epoch = j.at("epoch").get<int>();
            p.loss = j.value("loss", 0.0), p.cls = j.value("cls", 0.0), p.box = j.value("box", 0.0);
            p.seconds = j.value("seconds", 0.0);
            p.map50_voc07 = j.value("map50_voc07", -1.0), p.map50_area = j.value("map50_area", -1.0);
            by_epoch[p.epoch] = p;
        } else if (type == "step" || type == "error") {
            StepPoint p;
            p.step = j.value("step", int64_t{0});
            p.cls = j.value("cls", 0.0), p.box = j.value("box", 0.0);
            p.loss = j.value("loss", p.cls + p.box);
            by_step[p.step] = p;
        }
    }
    r.epochs = values(by_epoch);
    r.steps = values(by_step);
}

}  // namespace

std::vector<RunSpec> main_runs() {
    return {focal_run("focal", 2.0f, 0.25f), ce_run("ce", true), ohem_run("ohem"), ce_run("ce_no_prior", false)};
}

std::vector<RunSpec> ablation_runs() {
    std::vector<RunSpec> runs;
    // Table 1b's grid, smaller: gamma 0 is alpha-balanced CE (the fused FL at gamma 0)
    for (float gamma : {0.0f, 1.0f, 2.0f, 5.0f})
        for (float alpha : {0.25f, 0.5f, 0.75f})
            runs.push_back(focal_run("abl_g" + number_name(gamma) + "_a" + number_name(alpha), gamma, alpha));
    RunSpec fl_no_prior = focal_run("abl_fl_no_prior", 2.0f, 0.25f);
    fl_no_prior.prior_bias = false;
    fl_no_prior.label += ", no prior";
    RunSpec ce_no_prior = focal_run("abl_ce_no_prior", 0.0f, 0.25f);
    ce_no_prior.prior_bias = false;
    ce_no_prior.label += ", no prior";
    RunSpec fl_anchors = focal_run("abl_fl_norm_anchors", 2.0f, 0.25f);
    fl_anchors.normalizer = "anchors";
    fl_anchors.label += ", / all anchors";
    runs.push_back(fl_no_prior);
    runs.push_back(ce_no_prior);
    runs.push_back(fl_anchors);
    for (RunSpec& r : runs) r.ablation = true;
    return runs;
}

detector::TrainConfig run_config(const RunSpec& spec, const Options& opt, const std::string& data_dir,
                                 const std::string& run_dir) {
    const int epochs = spec.epochs > 0 ? spec.epochs : spec.ablation ? opt.ablation_epochs : opt.epochs;
    detector::TrainConfig c = detector::demo_recipe(data_dir, run_dir, epochs, opt.seed + spec.seed_offset);
    c.image_size = spec.image_size;
    c.model = spec.model;
    c.cls_loss = spec.cls_loss;
    c.cls_params = spec.cls_params;
    c.prior_bias = spec.prior_bias;
    c.normalizer = spec.normalizer;
    // AP over epochs of the main runs comes from log.jsonl; the ablations report their final
    // weights only, so they skip the per-epoch validation (a sixth of their time).
    c.eval_every = spec.ablation ? c.epochs : 1;
    c.log_every = !spec.log_steps ? 0 : spec.ablation ? 10 : 1;
    // The recipe's 200 warm-up iterations would be nearly half of a short ablation run.
    if (spec.ablation)
        c.warmup_iters =
            std::min<int64_t>(c.warmup_iters, 50);  // every step of the main runs: their first iterations are a figure
    c.threads = opt.threads;
    c.device = opt.device;
    c.max_iters = opt.max_iters;
    c.progress = false;
    if (opt.batch > 0) c.batch = opt.batch;
    if (spec.ablation && opt.ablation_images > 0) c.max_images = opt.ablation_images;
    if (!spec.ablation && spec.name == "focal") c.snapshot_epochs = snapshot_epochs(opt);
    return c;
}

RunOutcome run_or_reuse(const RunSpec& spec, const Options& opt, const std::string& data_dir,
                        const std::string& runs_dir) {
    const fs::path dir = fs::path(runs_dir) / spec.name;
    detector::TrainConfig c = run_config(spec, opt, data_dir, dir.string());
    RunOutcome r;
    r.spec = spec;
    r.dir = dir.string();
    const fs::path outcome_file = dir / "outcome.json";
    json outcome = json::object();
    if (fs::exists(outcome_file)) {
        check_same_run(dir, c);
        outcome = read_json_file(outcome_file);
        std::printf("  %s: finished earlier, reused (%s)\n", spec.name.c_str(), outcome_file.c_str());
    } else {
        const double start = seconds_now();
        if (fs::exists(dir / "checkpoint.safetensors")) {
            check_same_run(dir, c);
            c.resume = true;
        } else if (fs::exists(dir)) {
            fs::remove_all(dir);  // no epoch completed: nothing to keep
        }
        try {
            detector::train(c);
        } catch (const Error& e) {
            // Divergence is a result here (CE without the prior), not a failure of the command.
            if (std::string(e.what()).find("the loss became") == std::string::npos) throw;
            outcome["diverged"] = true;
            outcome["error"] = e.what();
            std::printf("  %s diverged: %s\n", spec.name.c_str(), e.what());
        }
        if (!outcome.value("diverged", false)) {
            detector::LoadedRun loaded = detector::load_run(dir.string(), "last", parse_device(opt.device));
            detector::EvalOptions eo;
            eo.data = data_dir, eo.split = "test", eo.batch = c.batch, eo.workers = c.workers, eo.epoch = c.epochs;
            const detector::EvalResult test = detector::evaluate(*loaded.model, loaded.class_names, eo);
            outcome["test"] = {{"ap", test.metrics.map_coco},
                               {"ap50", test.metrics.map_area},
                               {"ap50_voc07", test.metrics.map_11point},
                               {"images", test.images}};
        }
        outcome["name"] = spec.name;
        outcome["label"] = spec.label;
        outcome["seconds"] = seconds_now() - start;
        // last, and atomically: its presence is what marks the run finished
        write_file_atomically(outcome_file.string(), outcome.dump(2) + "\n");
    }
    r.diverged = outcome.value("diverged", false);
    r.error = outcome.value("error", "");
    r.seconds = outcome.value("seconds", 0.0);
    if (outcome.contains("test")) {
        r.test_ap = outcome["test"].value("ap", -1.0);
        r.test_ap50 = outcome["test"].value("ap50", -1.0);
        r.test_ap50_voc07 = outcome["test"].value("ap50_voc07", -1.0);
    }
    read_log(dir, r);
    return r;
}

}  // namespace focal::cli::experiments
