#include "detector/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/loader.h"
#include "layers/checkpoint.h"
#include "engine/util.h"
#include "losses/registry.h"

namespace focal::detector {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Device parse_device(const std::string& name) {
    if (name == "cpu") return Device::CPU;
    if (name == "cuda") return Device::CUDA;
    fail("[train] unknown device '", name, "'; known: cpu, cuda");
}

json read_json(const std::string& path) {
    std::ifstream in(path);
    FOCAL_CHECK(in.good(), "[run] cannot open ", path);
    try {
        return json::parse(in);
    } catch (const json::exception& e) {
        fail("[run] ", path, " is not valid JSON: ", e.what());
    }
}

void write_json(const std::string& path, const json& j) { write_file_atomically(path, j.dump(2) + "\n"); }

// One JSON object per line, flushed as written, so a crash loses nothing already logged.
class JsonLog {
public:
    JsonLog(const std::string& path, bool append) : out_(path, append ? std::ios::app : std::ios::trunc) {
        FOCAL_CHECK(out_.good(), "[train] cannot write ", path);
    }
    void write(const json& j) { out_ << j.dump() << '\n' << std::flush; }

private:
    std::ofstream out_;
};

// "epoch 3/12 [#######.......] 45/125 ETA 0:32 12.3 img/s loss 0.512 (cls 0.301 box 0.211)"
void print_progress(bool tty, int epoch, int epochs, size_t it, size_t iters, double seconds, size_t images,
                    double loss, double cls, double box) {
    const double rate = images / std::max(seconds, 1e-9);
    const double eta = (iters - it) * (seconds / std::max<size_t>(it, 1));
    const int width = 20, filled = static_cast<int>(width * it / std::max<size_t>(iters, 1));
    std::fprintf(stderr, "%sepoch %d/%d [%s%s] %zu/%zu ETA %d:%02d %.1f img/s loss %.4f (cls %.4f box %.4f)%s",
                 tty ? "\r" : "", epoch + 1, epochs, std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), it, iters, int(eta) / 60, int(eta) % 60, rate, loss, cls,
                 box, tty ? "   " : "\n");
    std::fflush(stderr);
}

LrSchedule make_schedule(const TrainConfig& c, int64_t total_steps) {
    LrSchedule s;
    s.base_lr = c.lr;
    s.warmup_steps = std::min(c.warmup_iters, total_steps);
    s.total_steps = total_steps;
    if (c.schedule == "step") {
        s.decay = LrSchedule::Decay::Step;
        s.milestones = {total_steps * 2 / 3, total_steps * 8 / 9};  // detectron2's 1x shape
    } else if (c.schedule == "cosine") {
        s.decay = LrSchedule::Decay::Cosine;
    } else if (c.schedule != "constant") {
        fail("[train] unknown schedule '", c.schedule, "'; known: step, cosine, constant");
    }
    return s;
}

}  // namespace

TrainResult train(const TrainConfig& c) {
    FOCAL_CHECK(!c.data.empty(), "[train] --data is required");
    FOCAL_CHECK(c.epochs > 0 && c.batch > 0, "[train] epochs and batch must be positive");
    FOCAL_CHECK(c.lr > 0 && std::isfinite(c.lr), "[train] lr must be positive, got ", c.lr);
    FOCAL_CHECK(c.min_zoom > 0 && c.min_zoom <= c.max_zoom && c.crop_probability >= 0 && c.crop_probability <= 1,
                "[train] bad scale-crop settings: zoom [", c.min_zoom, ", ", c.max_zoom, "], probability ",
                c.crop_probability);
    if (c.threads > 0) set_num_threads(c.threads);
    const Device device = parse_device(c.device);
    const fs::path run(c.out);
    const CheckpointPaths paths{(run / "checkpoint.safetensors").string(), (run / "optimizer.safetensors").string()};
    if (c.resume) {
        FOCAL_CHECK(fs::exists(paths.model) && fs::exists(paths.optimizer), "[train] --resume: no checkpoint in ",
                    run.string(), " (expected checkpoint.safetensors and optimizer.safetensors)");
    } else {
        FOCAL_CHECK(!fs::exists(paths.model), "[train] ", run.string(),
                    " already holds a run; pass --resume to continue it, or choose another --out");
    }
    fs::create_directories(run);

    // Data.
    data::VocOptions vo;
    vo.split = c.split;
    vo.year = c.year;
    vo.classes = c.classes;
    vo.skip_bad = c.skip_bad;
    const data::VocDataset ds = data::VocDataset::open(c.data, vo);
    for (const std::string& w : ds.warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (c.skip_bad) std::fprintf(stderr, "%s\n", ds.skip_summary().c_str());
    const std::vector<std::string>& class_names = ds.classes();

    // Losses, model, anchors.
    const losses::ClassificationLoss cls_loss = losses::make_cls_loss(c.cls_loss, c.cls_params);
    const losses::BoxLoss box_loss = losses::make_box_loss(c.box_loss, c.box_params);
    const RetinaNetConfig mc = model_config_for(c, static_cast<int64_t>(class_names.size()), cls_loss.softmax());
    Generator init(c.seed);
    RetinaNet model(mc, init);
    model.to(device);
    const int64_t size = mc.image_size;
    const std::vector<Box>& anchors = model.anchors(size, size);
    const Tensor anchor_tensor = anchors_tensor(anchors);
    const BoxCoder coder;
    const MatcherConfig matcher;
    const Normalizer normalizer = parse_normalizer(c.normalizer);

    data::LoaderOptions lo;
    lo.batch_size = c.batch;
    lo.image_size = static_cast<int>(size);
    lo.augment = c.augment;
    lo.crop_probability = c.crop_probability;
    lo.crop.min_zoom = c.min_zoom;
    lo.crop.max_zoom = c.max_zoom;
    lo.seed = c.seed;
    lo.workers = c.workers;
    lo.max_items = static_cast<size_t>(std::max<int64_t>(c.max_images, 0));
    data::Loader loader(ds, lo);
    const int64_t iters_per_epoch = c.max_iters > 0 ? std::min<int64_t>(c.max_iters, loader.batches_per_epoch())
                                                    : static_cast<int64_t>(loader.batches_per_epoch());
    std::unique_ptr<Optimizer> optimizer_ptr;
    if (c.optimizer == "sgd") {
        optimizer_ptr = std::make_unique<SGD>(model.named_parameters(), SgdOptions{c.lr, c.momentum, c.weight_decay});
    } else if (c.optimizer == "adamw") {
        optimizer_ptr = std::make_unique<AdamW>(model.named_parameters(),
                                                AdamWOptions{c.lr, 0.9f, 0.999f, 1e-8f, c.weight_decay});
    } else {
        fail("[train] unknown optimizer '", c.optimizer, "'; known: sgd, adamw");
    }
    Optimizer& optimizer = *optimizer_ptr;
    const LrSchedule schedule = make_schedule(c, iters_per_epoch * c.epochs);

    // Resume, or start the run's files.
    int first_epoch = 0;
    int64_t step = 0;
    TrainResult result;
    if (c.resume) {
        Metadata progress = load_checkpoint(paths, model, &optimizer);
        first_epoch = std::stoi(progress.at("epoch"));
        step = std::stoll(progress.at("step"));
        result.best_map = std::stod(progress.at("best_map"));
        std::fprintf(stderr, "resuming %s after epoch %d (step %lld)\n", run.string().c_str(), first_epoch,
                     static_cast<long long>(step));
    } else {
        json config = {{"train", to_json(c)}, {"model", to_json(mc)}, {"classes", class_names},
                       {"class_source", ds.class_source()}, {"images", loader.items()},
                       {"anchors", anchors.size()}, {"parameters", model.num_parameters()}};
        write_json((run / "config.json").string(), config);
    }
    JsonLog log((run / "log.jsonl").string(), c.resume);
    const bool tty = c.progress && ::isatty(2);
    std::fprintf(stderr, "training %s (%lld parameters, %zu anchors/image) on %zu images of %s [%s], %s loss, %d epochs\n",
                 mc.preset.c_str(), static_cast<long long>(model.num_parameters()), anchors.size(), loader.items(),
                 ds.root().c_str(), c.split.c_str(), c.cls_loss.c_str(), c.epochs);

    for (int epoch = first_epoch; epoch < c.epochs; ++epoch) {
        model.train();
        loader.start_epoch(epoch);
        const double epoch_start = seconds_now();
        double sum_loss = 0, sum_cls = 0, sum_box = 0;
        size_t images = 0;
        int64_t it = 0;
        data::Batch b;
        while (it < iters_per_epoch && loader.next(b)) {
            Tensor x = Tensor::from_vector(b.images, {b.n, 3, b.h, b.w}, device);
            HeadOutputs out = model.forward(x);
            FOCAL_CHECK(out.cls_logits.size(1) == static_cast<int64_t>(anchors.size()), "[train] the heads scored ",
                        out.cls_logits.size(1), " anchors, the anchor generator made ", anchors.size());
            TrainingTargets targets = build_targets(anchors, b, matcher, coder);
            DetectionLoss loss = detection_loss(out, targets, anchor_tensor, cls_loss, box_loss, coder, normalizer);
            const double total = loss.total.item(), cls = loss.cls.item(), box = loss.box.item();
            if (!std::isfinite(total)) {
                log.write({{"type", "error"}, {"epoch", epoch}, {"iter", it}, {"step", step}, {"cls", cls}, {"box", box}});
                fail("[train] the loss became ", total, " at epoch ", epoch + 1, " iteration ", it + 1, " (cls ", cls,
                     ", box ", box, "); stopped. ",
                     epoch > 0 ? "The last good checkpoint is " + paths.model + " (epoch " + std::to_string(epoch) + ")"
                               : std::string("No epoch completed, so no checkpoint was written"),
                     ". Try a lower --lr, --clip-grad, or the prior bias.");
            }
            optimizer.zero_grad();
            loss.total.backward();
            if (c.clip_grad > 0) clip_grad_norm(model.parameters(), c.clip_grad);
            optimizer.set_lr(schedule.at(step));
            optimizer.step();
            ++step, ++it;
            images += b.n;
            sum_loss += total, sum_cls += cls, sum_box += box;
            result.step_losses.push_back(total);
            if (c.log_every > 0 && (it % c.log_every == 0 || it == 1))
                log.write({{"type", "step"}, {"epoch", epoch}, {"iter", it}, {"step", step}, {"loss", total},
                           {"cls", cls}, {"box", box}, {"lr", optimizer.lr()}, {"positives", targets.num_positives},
                           {"images_per_s", images / (seconds_now() - epoch_start)}});
            if (c.progress && (tty || it % std::max(c.log_every, 1) == 0 || it == iters_per_epoch))
                print_progress(tty, epoch, c.epochs, it, iters_per_epoch, seconds_now() - epoch_start, images, sum_loss / it,
                               sum_cls / it, sum_box / it);
        }
        if (tty) std::fprintf(stderr, "\n");
        EpochRecord record{epoch + 1, sum_loss / std::max<int64_t>(it, 1), sum_cls / std::max<int64_t>(it, 1),
                           sum_box / std::max<int64_t>(it, 1), seconds_now() - epoch_start};
        const bool last = epoch + 1 == c.epochs;
        const bool evaluate_now = !c.val_split.empty() && c.eval_every > 0 && ((epoch + 1) % c.eval_every == 0 || last);
        if (evaluate_now) {
            EvalOptions eo;
            eo.data = c.data, eo.split = c.val_split, eo.year = c.year, eo.batch = c.batch, eo.workers = c.workers;
            eo.max_images = c.max_images, eo.run_dir = run.string(), eo.epoch = epoch + 1;
            const EvalResult ev = evaluate(model, class_names, eo);
            record.map50_voc07 = ev.metrics.map_11point;
            record.map50_area = ev.metrics.map_area;
            std::fprintf(stderr, "epoch %d: val mAP@0.5 %.4f (VOC07 11-point), %.4f (area) on %d images, %.1f s\n",
                         epoch + 1, record.map50_voc07, record.map50_area, ev.images, ev.seconds);
            if (record.map50_voc07 > result.best_map) {
                result.best_map = record.map50_voc07;
                save_safetensors((run / "best.safetensors").string(), model.state(),
                                 {{"epoch", std::to_string(epoch + 1)}, {"map50_voc07", std::to_string(result.best_map)}});
            }
        }
        save_checkpoint(paths, model, &optimizer,
                        {{"epoch", std::to_string(epoch + 1)}, {"step", std::to_string(step)},
                         {"best_map", std::to_string(result.best_map)}});
        if (std::find(c.snapshot_epochs.begin(), c.snapshot_epochs.end(), epoch + 1) != c.snapshot_epochs.end())
            save_safetensors((run / ("snapshot-epoch" + std::to_string(epoch + 1) + ".safetensors")).string(),
                             model.state(), {{"epoch", std::to_string(epoch + 1)}});
        json entry = {{"type", "epoch"}, {"epoch", epoch + 1}, {"loss", record.loss}, {"cls", record.cls},
                      {"box", record.box}, {"seconds", record.seconds}, {"step", step}};
        if (evaluate_now) entry["map50_voc07"] = record.map50_voc07, entry["map50_area"] = record.map50_area;
        log.write(entry);
        result.epochs.push_back(record);
    }
    return result;
}

LoadedRun load_run(const std::string& run_dir, const std::string& weights) {
    const fs::path run(run_dir);
    const json config = read_json((run / "config.json").string());
    LoadedRun loaded;
    try {
        loaded.model_config = retinanet_config_from_json(config.at("model"));
        loaded.train_config = train_config_from_json(config.at("train"));
        loaded.class_names = config.at("classes").get<std::vector<std::string>>();
    } catch (const json::exception& e) {
        fail("[run] ", (run / "config.json").string(), " is not a focal run configuration: ", e.what());
    }
    Generator gen(0);
    loaded.model = std::make_shared<RetinaNet>(loaded.model_config, gen);
    fs::path file = run / "checkpoint.safetensors";
    if (weights == "best" && fs::exists(run / "best.safetensors")) file = run / "best.safetensors";
    else if (weights.rfind("epoch", 0) == 0) file = run / ("snapshot-" + weights + ".safetensors");
    else FOCAL_CHECK(weights == "best" || weights == "last", "[run] unknown weights '", weights,
                     "'; known: best, last, epoch<E> (a snapshot)");
    FOCAL_CHECK(fs::exists(file), "[run] ", file.string(), " does not exist");
    loaded.model->load_state(load_safetensors(file.string()).tensors, false, file.string());
    loaded.model->eval();
    return loaded;
}

}  // namespace focal::detector
