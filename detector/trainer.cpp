#include "detector/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "data/loader.h"
#include "detector/data_parallel.h"
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
// A disabled log (ranks other than 0 of a data-parallel run) opens nothing and writes nothing.
class JsonLog {
public:
    JsonLog(const std::string& path, bool append, bool enabled = true) : enabled_(enabled) {
        if (!enabled_) return;
        out_.open(path, append ? std::ios::app : std::ios::trunc);
        FOCAL_CHECK(out_.good(), "[train] cannot write ", path);
    }
    void write(const json& j) {
        if (enabled_) out_ << j.dump() << '\n' << std::flush;
    }

private:
    bool enabled_;
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

// Everything a run needs, built and checked before anything is written: a bad setting, an
// unknown loss or optimizer or an unreadable dataset fails here and leaves no folder behind.
struct TrainingRun {
    const TrainConfig& config;
    const fs::path dir;
    const CheckpointPaths paths;
    const Device device;
    DataParallel parallel;  // this process's rank among the training processes (one by default)
    const data::VocDataset dataset;
    const losses::ClassificationLoss cls_loss;
    const losses::BoxLoss box_loss;
    const Normalizer normalizer;
    const RetinaNetConfig model_config;
    Generator init;  // the model's initialisation, from the run's seed
    RetinaNet model;
    data::Loader loader;
    const int64_t iters_per_epoch;
    const LrSchedule schedule;
    std::unique_ptr<Optimizer> optimizer;

    explicit TrainingRun(const TrainConfig& c)
        : config(c),
          dir(c.out),
          paths{(dir / "checkpoint.safetensors").string(), (dir / "optimizer.safetensors").string()},
          device(parse_device(c.device)),
          parallel(device, c.batch, c.dist_timeout),
          dataset(open_dataset(c)),
          cls_loss(losses::make_cls_loss(c.cls_loss, c.cls_params)),
          box_loss(losses::make_box_loss(c.box_loss, c.box_params)),
          normalizer(parse_normalizer(c.normalizer)),
          model_config(model_config_for(c, static_cast<int64_t>(dataset.classes().size()), cls_loss.softmax())),
          init(c.seed),
          model(model_config, init),
          loader(dataset, loader_options(c, model_config.image_size, parallel)),
          iters_per_epoch(c.max_iters > 0 ? std::min<int64_t>(c.max_iters, loader.batches_per_epoch())
                                          : static_cast<int64_t>(loader.batches_per_epoch())),
          schedule(make_schedule(c, iters_per_epoch * c.epochs)) {
        model.to(device);
        optimizer = make_optimizer(c.optimizer, model.named_parameters(), {c.lr, c.momentum, c.weight_decay});
    }

    static data::VocDataset open_dataset(const TrainConfig& c) {
        data::VocOptions vo;
        vo.split = c.split;
        vo.year = c.year;
        vo.classes = c.classes;
        vo.skip_bad = c.skip_bad;
        return data::VocDataset::open(c.data, vo);
    }

    static data::LoaderOptions loader_options(const TrainConfig& c, int64_t image_size, const DataParallel& parallel) {
        data::LoaderOptions lo;
        lo.batch_size = c.batch;
        lo.image_size = static_cast<int>(image_size);
        lo.augment = c.augment;
        lo.crop_probability = c.crop_probability;
        lo.crop.min_zoom = c.min_zoom;
        lo.crop.max_zoom = c.max_zoom;
        lo.seed = c.seed;
        lo.workers = c.workers;
        lo.shard = parallel.rank(), lo.shards = parallel.size();
        lo.max_items = static_cast<size_t>(std::max<int64_t>(c.max_images, 0));
        return lo;
    }

    const std::vector<Box>& anchors() { return model.anchors(model_config.image_size, model_config.image_size); }
};

// Where training stands: epochs and steps completed, and the best validation mAP so far.
struct Progress {
    int epoch = 0;  // completed, so also the 0-based index of the next one
    int64_t step = 0;
    double best_map = -1;
};

// On resume in a data-parallel run: how the saved run's ranks and this one's compare. The
// global batch, the data order and the schedule do not depend on the number of ranks, so
// the run continues where it stopped.
std::string resume_ranks_note(const TrainingRun& run, const Metadata& saved) {
    const int before = saved.count("ranks") ? std::stoi(saved.at("ranks")) : 1, now = run.parallel.size();
    if (before == 1 && now == 1) return "";
    return " on " + std::to_string(now) + (now == 1 ? " rank" : " ranks") + " (saved by " + std::to_string(before) +
           "): the global batch stays " + std::to_string(run.config.batch) + " and the data order and schedule "
           "continue unchanged" + (before != now && !run.config.sync_bn ? "; per-rank batch norm now sees " +
           std::to_string(run.config.batch / now) + " images instead of " + std::to_string(run.config.batch / before)
                                                                        : std::string());
}

// Data-parallel start (nothing to do in one process), before anything is written: every rank
// checks that the others run the same settings on the same data.
void start_data_parallel(TrainingRun& run) {
    DataParallel& parallel = run.parallel;
    if (parallel.size() == 1) return;
    parallel.check_agreement(to_json(run.config), run.dataset, run.loader.items());
    if (parallel.root())
        std::fprintf(stderr, "data-parallel on %d ranks (%s): %d images per step, %s per rank; batch norm %s\n",
                     parallel.size(), parallel.world().name().c_str(), run.config.batch,
                     run.config.batch % parallel.size() == 0 ? std::to_string(run.config.batch / parallel.size()).c_str()
                                                             : "about batch / ranks",
                     run.config.sync_bn ? "synchronised (--sync-bn)" : "per rank");
}

// A new run writes config.json; --resume reads the last checkpoint back.
Progress start_or_resume(TrainingRun& run) {
    const TrainConfig& c = run.config;
    if (c.resume) {
        FOCAL_CHECK(fs::exists(run.paths.model) && fs::exists(run.paths.optimizer), "[train] --resume: no checkpoint in ",
                    run.dir.string(), " (expected checkpoint.safetensors and optimizer.safetensors)",
                    run.parallel.size() > 1 ? " on rank " + std::to_string(run.parallel.rank()) +
                                                  ": every rank reads it, so --out must be on a filesystem all ranks share"
                                            : std::string());
        const Metadata saved = load_checkpoint(run.paths, run.model, run.optimizer.get());
        Progress p{std::stoi(saved.at("epoch")), std::stoll(saved.at("step")), std::stod(saved.at("best_map"))};
        if (run.parallel.root())
            std::fprintf(stderr, "resuming %s after epoch %d (step %lld)%s\n", run.dir.string().c_str(), p.epoch,
                         static_cast<long long>(p.step), resume_ranks_note(run, saved).c_str());
        return p;
    }
    if (!run.parallel.root()) return {};  // rank 0 writes the run folder
    fs::create_directories(run.dir);
    const json config = {{"train", to_json(c)}, {"model", to_json(run.model_config)},
                         {"classes", run.dataset.classes()}, {"class_source", run.dataset.class_source()},
                         {"images", run.loader.items()}, {"anchors", run.anchors().size()},
                         {"parameters", run.model.num_parameters()}};
    write_json((run.dir / "config.json").string(), config);
    return {};
}

// One pass over the training set (epoch index progress.epoch): forward, loss, backward and
// an optimizer step per batch.
EpochRecord train_one_epoch(TrainingRun& run, Progress& progress, JsonLog& log, TrainResult& result) {
    const TrainConfig& c = run.config;
    const int epoch = progress.epoch;
    const std::vector<Box>& anchors = run.anchors();
    const Tensor anchor_tensor = anchors_tensor(anchors);
    const BoxCoder coder;
    const MatcherConfig matcher;
    const bool tty = c.progress && run.parallel.root() && ::isatty(2);
    const dist::BatchNormSync sync_bn(c.sync_bn ? &run.parallel.world() : nullptr);  // no-op in one process
    run.model.train();
    run.loader.start_epoch(epoch);
    const double epoch_start = seconds_now();
    double sum_loss = 0, sum_cls = 0, sum_box = 0;
    size_t images = 0;
    int64_t it = 0;
    data::Batch b;
    while (it < run.iters_per_epoch && run.loader.next(b)) {
        Tensor x = Tensor::from_vector(b.images, {b.n, 3, b.h, b.w}, run.device);
        HeadOutputs out = run.model.forward(x);
        FOCAL_CHECK(out.cls_logits.size(1) == static_cast<int64_t>(anchors.size()), "[train] the heads scored ",
                    out.cls_logits.size(1), " anchors, the anchor generator made ", anchors.size());
        TrainingTargets targets = build_targets(anchors, b, matcher, coder);
        // Divided by the count over the global batch; the losses below are the global batch's.
        const DataParallel::Divisor divisor = run.parallel.loss_divisor(normalizer_count(targets, run.normalizer));
        DetectionLoss loss = detection_loss(out, targets, anchor_tensor, run.cls_loss, run.box_loss, coder, divisor.value);
        const DataParallel::StepLoss step = run.parallel.gather_losses(loss.total.item(), loss.cls.item(),
                                                                        loss.box.item(), b.n);
        const double total = step.total, cls = step.cls, box = step.box;
        if (step.bad_rank >= 0) {
            log.write({{"type", "error"}, {"epoch", epoch}, {"iter", it}, {"step", progress.step}, {"cls", cls},
                       {"box", box}});
            fail("[train] the loss became ", total, " at epoch ", epoch + 1, " iteration ", it + 1, " (cls ", cls,
                 ", box ", box, ")",
                 run.parallel.size() > 1 ? " on rank " + std::to_string(step.bad_rank) + " of " +
                                               std::to_string(run.parallel.size()) + " (step " +
                                               std::to_string(progress.step + 1) + ")"
                                         : std::string(),
                 "; stopped. ",
                 epoch > 0 ? "The last good checkpoint is " + run.paths.model + " (epoch " + std::to_string(epoch) + ")"
                           : std::string("No epoch completed, so no checkpoint was written"),
                 ". Try a lower --lr, --clip-grad, or the prior bias.");
        }
        Optimizer& optimizer = *run.optimizer;
        optimizer.zero_grad();
        loss.total.backward();
        run.parallel.average_gradients(run.model.parameters());  // no-op in one process
        if (c.clip_grad > 0) clip_grad_norm(run.model.parameters(), c.clip_grad);
        optimizer.set_lr(run.schedule.at(progress.step));
        optimizer.step();
        ++progress.step, ++it;
        images += static_cast<size_t>(step.images);
        sum_loss += total, sum_cls += cls, sum_box += box;
        result.step_losses.push_back(total);
        if (c.log_every > 0 && (it % c.log_every == 0 || it == 1))
            log.write({{"type", "step"}, {"epoch", epoch}, {"iter", it}, {"step", progress.step}, {"loss", total},
                       {"cls", cls}, {"box", box}, {"lr", optimizer.lr()}, {"positives", run.normalizer == Normalizer::Positives ? divisor.total : targets.num_positives},
                       {"images_per_s", images / (seconds_now() - epoch_start)}});
        if (c.progress && run.parallel.root() && (tty || it % std::max(c.log_every, 1) == 0 || it == run.iters_per_epoch))
            print_progress(tty, epoch, c.epochs, it, run.iters_per_epoch, seconds_now() - epoch_start, images,
                           sum_loss / it, sum_cls / it, sum_box / it);
    }
    if (tty) std::fprintf(stderr, "\n");
    const double iters = static_cast<double>(std::max<int64_t>(it, 1));
    return {epoch + 1, sum_loss / iters, sum_cls / iters, sum_box / iters, seconds_now() - epoch_start};
}

// Validation mAP after an epoch; best.safetensors follows the best VOC07 mAP.
void evaluate_epoch(TrainingRun& run, EpochRecord& record, Progress& progress) {
    const TrainConfig& c = run.config;
    EvalOptions eo;
    eo.data = c.data, eo.split = c.val_split, eo.year = c.year, eo.batch = c.batch, eo.workers = c.workers;
    eo.max_images = c.max_images, eo.run_dir = run.dir.string(), eo.epoch = record.epoch;
    const EvalResult ev = evaluate(run.model, run.dataset.classes(), eo);
    record.map50_voc07 = ev.metrics.map_11point;
    record.map50_area = ev.metrics.map_area;
    std::fprintf(stderr, "epoch %d: val mAP@0.5 %.4f (VOC07 11-point), %.4f (area) on %d images, %.1f s\n",
                 record.epoch, record.map50_voc07, record.map50_area, ev.images, ev.seconds);
    if (record.map50_voc07 > progress.best_map) {
        progress.best_map = record.map50_voc07;
        save_safetensors((run.dir / "best.safetensors").string(), run.model.state(),
                         {{"epoch", std::to_string(record.epoch)}, {"map50_voc07", std::to_string(progress.best_map)}});
    }
}

// The checkpoint (weights + optimizer, atomically) and any snapshot the config asks for.
void save_epoch(TrainingRun& run, const Progress& progress) {
    const std::string epoch = std::to_string(progress.epoch);
    Metadata metadata{{"epoch", epoch}, {"step", std::to_string(progress.step)},
                      {"best_map", std::to_string(progress.best_map)}};
    if (run.parallel.size() > 1) metadata["ranks"] = std::to_string(run.parallel.size());  // absent: 1
    save_checkpoint(run.paths, run.model, run.optimizer.get(), metadata);
    const std::vector<int>& snapshots = run.config.snapshot_epochs;
    if (std::find(snapshots.begin(), snapshots.end(), progress.epoch) != snapshots.end())
        save_safetensors((run.dir / ("snapshot-epoch" + epoch + ".safetensors")).string(), run.model.state(),
                         {{"epoch", epoch}});
}

}  // namespace

TrainResult train(const TrainConfig& c) {
    c.validate();
    FOCAL_CHECK(c.resume || !fs::exists(fs::path(c.out) / "checkpoint.safetensors"), "[train] ", c.out,
                " already holds a run; pass --resume to continue it, or choose another --out");
    if (c.threads > 0) set_num_threads(c.threads);
    TrainingRun run(c);
    const bool root = run.parallel.root();  // only rank 0 prints and writes (detector/data_parallel.h)
    if (root) for (const std::string& w : run.dataset.warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (root && c.skip_bad) std::fprintf(stderr, "%s\n", run.dataset.skip_summary().c_str());
    start_data_parallel(run);
    Progress progress = start_or_resume(run);
    run.parallel.broadcast_state(run.model, *run.optimizer, c.resume ? "after --resume" : "after initialisation");
    TrainResult result;
    result.best_map = progress.best_map;
    result.rank = run.parallel.rank();
    JsonLog log((run.dir / "log.jsonl").string(), c.resume, root);
    if (root) std::fprintf(stderr, "training %s (%lld parameters, %zu anchors/image) on %zu images of %s [%s], %s loss, %d epochs\n",
                 run.model_config.preset.c_str(), static_cast<long long>(run.model.num_parameters()),
                 run.anchors().size(), run.loader.items(), run.dataset.root().c_str(), c.split.c_str(),
                 c.cls_loss.c_str(), c.epochs);
    while (progress.epoch < c.epochs) {
        EpochRecord record = train_one_epoch(run, progress, log, result);
        progress.epoch = record.epoch;  // epochs completed
        const bool last = record.epoch == c.epochs;
        const bool evaluate_now = !c.val_split.empty() && c.eval_every > 0 && (record.epoch % c.eval_every == 0 || last);
        if (evaluate_now && root) evaluate_epoch(run, record, progress);
        run.parallel.broadcast_state(run.model, *run.optimizer, "after epoch " + std::to_string(record.epoch));
        if (root) save_epoch(run, progress);
        json entry = {{"type", "epoch"}, {"epoch", record.epoch}, {"loss", record.loss}, {"cls", record.cls},
                      {"box", record.box}, {"seconds", record.seconds}, {"step", progress.step}};
        if (evaluate_now) entry["map50_voc07"] = record.map50_voc07, entry["map50_area"] = record.map50_area;
        log.write(entry);
        result.epochs.push_back(record);
    }
    result.best_map = progress.best_map;
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
