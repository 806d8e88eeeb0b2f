// `focal train` and `focal eval`: train a RetinaNet on a VOC-format dataset; score a run.
#include <cstdio>

#include "commands.h"
#include "detector/trainer.h"
#include "losses/registry.h"

namespace focal::cli {

void add_train(CLI::App& app) {
    auto c = std::make_shared<detector::TrainConfig>();
    auto cls_params = std::make_shared<std::vector<std::string>>();
    auto box_params = std::make_shared<std::vector<std::string>>();
    auto gamma = std::make_shared<float>(NAN), alpha = std::make_shared<float>(NAN);
    auto no_prior = std::make_shared<bool>(false), quiet = std::make_shared<bool>(false);
    auto model = std::make_shared<std::vector<std::string>>();
    CLI::App* cmd = app.add_subcommand("train", "Train a RetinaNet on a VOC-format dataset");
    cmd->add_option("--data", c->data, "VOCdevkit, VOC20XX or VOC-format folder")->required();
    cmd->add_option("--split", c->split, "training split (ImageSets/Main/<split>.txt, a .txt path, or all)");
    cmd->add_option("--val-split", c->val_split, "split evaluated during training ('' for none)");
    cmd->add_option("--year", c->year, "VOC year inside a VOCdevkit (default 2007)");
    cmd->add_option("--classes", c->classes, "class list: voc, auto, a file, or a,b,c (default: classes.txt or VOC)");
    cmd->add_flag("--skip-bad", c->skip_bad, "warn and skip bad annotations and images instead of stopping");
    cmd->add_option("--max-images", c->max_images, "use only the first N images of each split (smoke runs)");
    cmd->add_flag("!--no-augment", c->augment, "train without flips, crops and colour jitter");
    cmd->add_option("--crop-probability", c->crop_probability, "chance of a random scale-crop per image")
        ->check(CLI::Range(0.0, 1.0));
    cmd->add_option("--zoom", [c](const CLI::results_t& r) {
        c->min_zoom = std::stof(r.at(0)), c->max_zoom = std::stof(r.at(1));
        return c->min_zoom > 0 && c->min_zoom <= c->max_zoom;
    }, "scale-crop zoom range MIN MAX (< 1 zooms out; default 0.5 2)")->expected(2)->type_name("FLOAT FLOAT");
    cmd->add_option("--preset", c->preset, "model preset")->check(CLI::IsMember({"demo", "tiny"}));
    cmd->add_option("--image-size", c->image_size, "input size (default: the preset's)");
    cmd->add_option("--model", *model,
                    "JSON merge patch over the preset's model config (repeatable), "
                    "e.g. '{\"anchors\": {\"strides\": [4, 8, 16, 32]}}'");
    cmd->add_option("--cls-loss", c->cls_loss, "classification loss (see `focal losses`)");
    cmd->add_option("--gamma", *gamma, "shortcut for --loss-param gamma=G");
    cmd->add_option("--alpha", *alpha, "shortcut for --loss-param alpha=A");
    cmd->add_option("--loss-param", *cls_params, "classification loss parameter key=value (repeatable)");
    cmd->add_option("--box-loss", c->box_loss, "box loss (see `focal losses`)");
    cmd->add_option("--box-param", *box_params, "box loss parameter key=value (repeatable)");
    cmd->add_option("--prior", c->prior, "foreground prior pi of the classification bias");
    cmd->add_flag("--no-prior", *no_prior, "start the classification bias at 0 (the ablation)");
    cmd->add_option("--normalize", c->normalizer, "divide the losses by 'positives' or 'anchors'");
    cmd->add_option("--optimizer", c->optimizer, "sgd or adamw")->check(CLI::IsMember({"sgd", "adamw"}));
    cmd->add_option("--epochs", c->epochs, "epochs")->check(CLI::PositiveNumber);
    cmd->add_option("--batch", c->batch, "images per batch")->check(CLI::PositiveNumber);
    cmd->add_option("--lr", c->lr, "base learning rate")->check(CLI::PositiveNumber);
    cmd->add_option("--momentum", c->momentum, "SGD momentum");
    cmd->add_option("--weight-decay", c->weight_decay, "weight decay (SGD: L2 in the gradient; AdamW: decoupled)");
    cmd->add_option("--warmup", c->warmup_iters, "linear warm-up iterations");
    cmd->add_option("--schedule", c->schedule, "step, cosine or constant")->check(CLI::IsMember({"step", "cosine", "constant"}));
    cmd->add_option("--clip-grad", c->clip_grad, "clip the global gradient norm (0: off)");
    cmd->add_option("--max-iters", c->max_iters, "stop each epoch after N iterations (smoke runs)");
    cmd->add_option("--out", c->out, "run directory");
    cmd->add_flag("--resume", c->resume, "continue the run in --out from its last checkpoint");
    cmd->add_option("--seed", c->seed, "random seed (initialisation, shuffling, augmentation)");
    cmd->add_option("--threads", c->threads, "compute threads (default: all cores)");
    cmd->add_option("--workers", c->workers, "data loading threads");
    cmd->add_option("--eval-every", c->eval_every, "evaluate on --val-split every N epochs");
    cmd->add_option("--log-every", c->log_every, "log a step to log.jsonl every N iterations");
    cmd->add_option("--device", c->device, "cpu or cuda")->check(CLI::IsMember({"cpu", "cuda"}));
    cmd->add_flag("--quiet", *quiet, "no progress line");
    cmd->callback([=] {
        c->cls_params = losses::parse_loss_params(*cls_params);
        c->box_params = losses::parse_loss_params(*box_params);
        if (!std::isnan(*gamma)) c->cls_params["gamma"] = *gamma;
        if (!std::isnan(*alpha)) c->cls_params["alpha"] = *alpha;
        if (*no_prior) c->prior_bias = false;
        for (const std::string& patch : *model) {
            const nlohmann::json j = nlohmann::json::parse(patch, nullptr, false);
            if (j.is_discarded() || !j.is_object())
                throw CLI::ValidationError("--model", "'" + patch + "' is not a JSON object");
            c->model.merge_patch(j);
        }
        c->progress = !*quiet;
        detector::TrainResult r = detector::train(*c);
        std::printf("done: %zu epochs in %s", r.epochs.size(), c->out.c_str());
        if (r.best_map >= 0) std::printf(", best val mAP@0.5 %.4f (VOC07 11-point)", r.best_map);
        std::printf("\n");
    });
}

void add_eval(CLI::App& app) {
    auto run = std::make_shared<std::string>();
    auto data = std::make_shared<std::string>();
    auto split = std::make_shared<std::string>("test");
    auto weights = std::make_shared<std::string>("best");
    auto batch = std::make_shared<int>(8);
    auto max_images = std::make_shared<int64_t>(0);
    auto threads = std::make_shared<int>(0);
    CLI::App* cmd = app.add_subcommand("eval", "Score a trained run on a split: per-class AP and mAP@0.5");
    cmd->add_option("--run", *run, "run directory")->required();
    cmd->add_option("--data", *data, "dataset (default: the one the run trained on)");
    cmd->add_option("--split", *split, "split to score");
    cmd->add_option("--weights", *weights, "best or last")->check(CLI::IsMember({"best", "last"}));
    cmd->add_option("--batch", *batch, "images per batch")->check(CLI::PositiveNumber);
    cmd->add_option("--max-images", *max_images, "score only the first N images");
    cmd->add_option("--threads", *threads, "compute threads");
    cmd->callback([=] {
        if (*threads > 0) set_num_threads(*threads);
        detector::LoadedRun loaded = detector::load_run(*run, *weights);
        const std::string dataset = data->empty() ? loaded.train_config.data : *data;
        detector::EvalResult r = detector::evaluate(*loaded.model, loaded.class_names, dataset, *split,
                                                    loaded.train_config.year, *batch, 2, *max_images,
                                                    detector::InferenceConfig{}, *run);
        std::printf("%s", detector::format_voc_metrics(r.metrics, loaded.class_names).c_str());
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
