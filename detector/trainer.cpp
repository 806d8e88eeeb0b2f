#include "detector/trainer.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <span>

#include "data/loader.h"
#include "detector/data_parallel.h"
#include "detector/init_from.h"
#include "detector/run_lock.h"
#include "detector/stop_request.h"
#include "detector/weight_average.h"
#include "engine/device.h"
#include "engine/util.h"
#include "layers/checkpoint.h"
#include "losses/registry.h"

namespace focal::detector {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

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
    JsonLog(const std::string& path, bool append, bool enabled = true) : path_(path), enabled_(enabled) {
        if (!enabled_) return;
        out_.open(path, append ? std::ios::app : std::ios::trunc);
        FOCAL_CHECK(out_.good(), "[train] cannot write ", path, ": ", std::strerror(errno));
    }
    // A failed write (a full disk, a file-size limit) is an error, not a silently short log.
    void write(const json& j) {
        if (!enabled_) return;
        errno = 0;
        out_ << j.dump() << '\n' << std::flush;
        FOCAL_CHECK(out_.good(), "[train] cannot write ", path_, ": ", errno ? std::strerror(errno) : "write failed");
    }

private:
    std::string path_;
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

}  // namespace

std::vector<int> multi_scale_sizes(int size, float fraction) {
    if (fraction <= 0) return {};
    constexpr int kStep = 32;  // the backbone's stride: every pyramid level an integer size
    const int lo = std::max(kStep, int(std::ceil(size * (1 - fraction) / kStep)) * kStep);
    const int hi = int(std::floor(size * (1 + fraction) / kStep)) * kStep;
    std::vector<int> sizes;
    for (int s = lo; s <= hi; s += kStep) sizes.push_back(s);
    FOCAL_CHECK(!sizes.empty(), "[train] --multi-scale ", fraction, " at image size ", size, " leaves no multiple of ",
                kStep, " between ", size * (1 - fraction), " and ", size * (1 + fraction));
    return sizes;
}

namespace {

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

struct Progress;  // below: where training stands

// Everything a run needs, built and checked before anything is written: a bad setting, an
// unknown loss or optimizer or an unreadable dataset fails here and leaves no folder behind.
struct TrainingRun {
    const TrainConfig& config;
    const fs::path dir;
    const CheckpointPaths paths;
    const Device device;
    DataParallel parallel;  // this process's rank among the training processes (one by default)
    const data::Dataset dataset;
    const losses::ClassificationLoss cls_loss;
    const losses::BoxLoss box_loss;
    const Normalizer normalizer;
    const RetinaNetConfig model_config;
    Generator init;  // the model's initialisation, from the run's seed
    RetinaNet model;
    data::Loader loader;
    const int64_t iters_per_epoch;
    const LrSchedule schedule;
    std::vector<Tensor> trainable;  // the parameters the optimizer updates (all but frozen ones)
    std::unique_ptr<Optimizer> optimizer;
    std::optional<WeightAverage> ema;  // --ema: the averaged weights, evaluated and saved as the model
    std::optional<RunLock> lock;       // held by the rank that writes the run folder

    explicit TrainingRun(const TrainConfig& c)
        : config(c),
          dir(c.out),
          paths{(dir / "checkpoint.safetensors").string(), (dir / "optimizer.safetensors").string()},
          device(open_device(c.device)),  // first: a missing GPU fails before the dataset is read
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
        freeze_backbone(c, model);
        NamedTensors named = model.named_trainable_parameters();
        for (const auto& [name, p] : named) trainable.push_back(p);
        optimizer = make_optimizer(c.optimizer, std::move(named), {c.lr, c.momentum, c.weight_decay});
    }

    // Before the optimizer is made, so that it holds only what trains: --backbone-weights
    // freezes the backbone's batch norms, as torchvision's detection models do with an
    // ImageNet backbone (FrozenBatchNorm2d), and --freeze-stages fixes its first stages.
    static void freeze_backbone(const TrainConfig& c, RetinaNet& model) {
        Backbone& backbone = model.backbone();
        if (!c.backbone_weights.empty()) {
            FOCAL_CHECK(backbone.config.kind == "resnet", "[train] --backbone-weights needs a resnet backbone ",
                        "(--preset resnet18 or resnet34); preset '", c.preset, "' has a '", backbone.config.kind,
                        "' one");
            FOCAL_CHECK(c.init_from.empty(), "[train] --backbone-weights and --init-from both set the backbone's ",
                        "weights; give one");
            FOCAL_CHECK(fs::is_regular_file(c.backbone_weights), "[train] --backbone-weights: ", c.backbone_weights,
                        " is not a file");
            backbone.freeze_batch_norm();
        }
        FOCAL_CHECK(c.freeze_stages <= backbone.num_stages(), "[train] --freeze-stages ", c.freeze_stages,
                    ": the backbone has ", backbone.num_stages(), " stages (the stem counts as one)");
        backbone.freeze_stages(c.freeze_stages);
    }

    static data::Dataset open_dataset(const TrainConfig& c) {
        data::DatasetOptions vo;
        vo.format = c.format;
        vo.split = c.split;
        vo.year = c.year;
        vo.classes = c.classes;
        vo.skip_bad = c.skip_bad;
        return data::Dataset::open(c.data, vo);
    }

    static data::LoaderOptions loader_options(const TrainConfig& c, int64_t image_size, const DataParallel& parallel) {
        data::LoaderOptions lo;
        lo.batch_size = c.batch;
        lo.image_size = static_cast<int>(image_size);
        lo.augment = c.augment;
        lo.crop_probability = c.crop_probability;
        lo.crop.min_zoom = c.min_zoom;
        lo.crop.max_zoom = c.max_zoom;
        lo.sizes = multi_scale_sizes(static_cast<int>(image_size), c.multi_scale);
        lo.mosaic_probability = c.mosaic;
        lo.mixup_probability = c.mixup;
        lo.seed = c.seed;
        lo.workers = c.workers;
        lo.shard = parallel.rank(), lo.shards = parallel.size();
        lo.max_items = static_cast<size_t>(std::max<int64_t>(c.max_images, 0));
        return lo;
    }

    const std::vector<Box>& anchors() { return model.anchors(model_config.image_size, model_config.image_size); }

    // The weights the run evaluates and saves as its model: the average with --ema, else its own.
    NamedTensors model_state() const { return ema ? ema->state() : model.state(); }

    // The checkpoint (weights, optimizer and the average, atomically) and, with --ema, the
    // averaged weights as ema.safetensors, what `--weights last` loads.
    void save_checkpoint_now(const Progress& progress);
};

// Where training stands: epochs and steps completed, the best validation mAP so far and,
// when stopped mid-epoch, how far into the epoch it got (iterations, and the sums the
// epoch's record averages), so that --resume goes on as if it had never stopped.
struct Progress {
    int epoch = 0;  // completed, so also the 0-based index of the one in progress
    int64_t step = 0;
    double best_map = -1;
    int64_t iteration = 0;  // of the epoch in progress
    double sum_loss = 0, sum_cls = 0, sum_box = 0;
    int64_t images = 0;
};

std::string exact(double v) {  // round-trips through std::stod
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", v);
    return text;
}

Metadata to_metadata(const Progress& p, int ranks) {
    Metadata m{{"epoch", std::to_string(p.epoch)}, {"step", std::to_string(p.step)},
               {"best_map", exact(p.best_map)},    {"iteration", std::to_string(p.iteration)},
               {"sum_loss", exact(p.sum_loss)},    {"sum_cls", exact(p.sum_cls)},
               {"sum_box", exact(p.sum_box)},      {"images", std::to_string(p.images)}};
    if (ranks > 1) m["ranks"] = std::to_string(ranks);  // absent: 1
    return m;
}

void TrainingRun::save_checkpoint_now(const Progress& progress) {
    save_checkpoint(paths, model, optimizer.get(), to_metadata(progress, parallel.size()),
                    ema ? ema->checkpoint_state() : NamedTensors{});
    if (ema)
        save_safetensors((dir / "ema.safetensors").string(), ema->state(),
                         {{"format", "pt"}, {"producer", "focal"}, {"step", std::to_string(progress.step)}});
}

Progress progress_from(const Metadata& m, const std::string& source) {
    const auto number = [&](const char* key, const char* fallback) {
        const auto it = m.find(key);
        return it == m.end() ? std::string(fallback) : it->second;
    };
    try {
        Progress p;
        p.epoch = std::stoi(number("epoch", ""));
        p.step = std::stoll(number("step", ""));
        p.best_map = std::stod(number("best_map", "-1"));
        p.iteration = std::stoll(number("iteration", "0"));  // older checkpoints: epoch boundaries only
        p.sum_loss = std::stod(number("sum_loss", "0"));
        p.sum_cls = std::stod(number("sum_cls", "0"));
        p.sum_box = std::stod(number("sum_box", "0"));
        p.images = std::stoll(number("images", "0"));
        return p;
    } catch (const std::exception&) {
        fail("[train] ", source, " does not record the training progress (epoch, step)");
    }
}

// On resume in a data-parallel run: how the saved run's ranks and this one's compare. The
// global batch, the data order and the schedule do not depend on the number of ranks, so
// the run continues where it stopped.
std::string resume_ranks_note(const TrainingRun& run, const Metadata& saved) {
    const int before = saved.count("ranks") ? std::stoi(saved.at("ranks")) : 1, now = run.parallel.size();
    if (before == 1 && now == 1) return "";
    return " on " + std::to_string(now) + (now == 1 ? " rank" : " ranks") + " (saved by " + std::to_string(before) +
           "): the global batch stays " + std::to_string(run.config.batch) +
           " and the data order and schedule "
           "continue unchanged" +
           (before != now && !run.config.sync_bn
                ? "; per-rank batch norm now sees " + std::to_string(run.config.batch / now) + " images instead of " +
                      std::to_string(run.config.batch / before)
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
                     run.config.batch % parallel.size() == 0
                         ? std::to_string(run.config.batch / parallel.size()).c_str()
                         : "about batch / ranks",
                     run.config.sync_bn ? "synchronised (--sync-bn)" : "per rank");
    parallel.watch_gradients(run.trainable);  // the all-reduce overlaps every step's backward
}

// A new run writes config.json (after --init-from's weights, read first so that a bad one
// leaves nothing behind); --resume reads the last checkpoint back.
Progress start_or_resume(TrainingRun& run) {
    const TrainConfig& c = run.config;
    if (!c.resume && !c.init_from.empty()) {  // every rank: the start-up check compares their weights
        const InitFromReport r = init_from_run(run.model, c.init_from, run.dataset.classes());
        if (run.parallel.root())
            std::fprintf(stderr, "initialised from %s: %zu tensors loaded%s%s\n", r.file.c_str(), r.loaded.size(),
                         r.reinitialised.empty()
                             ? ""
                             : ("; re-initialised (other classes): " + join(r.reinitialised, ", ")).c_str(),
                         r.skipped.empty() ? "" : ("; skipped (not in this model): " + join(r.skipped, ", ")).c_str());
    }
    if (!c.resume && !c.backbone_weights.empty()) {  // every rank, as --init-from
        const SafetensorsFile weights = load_safetensors(c.backbone_weights);
        run.model.backbone().load_state(weights.tensors, false, c.backbone_weights);
        if (run.parallel.root()) {
            auto arch = weights.metadata.find("arch");
            std::fprintf(stderr, "backbone initialised from %s (%zu tensors%s%s); batch norms frozen%s\n",
                         c.backbone_weights.c_str(), weights.tensors.size(), arch == weights.metadata.end() ? "" : ", ",
                         arch == weights.metadata.end() ? "" : arch->second.c_str(),
                         c.freeze_stages > 0 ? (", first " + std::to_string(c.freeze_stages) + " stages fixed").c_str()
                                             : "");
        }
    }
    if (run.parallel.root()) run.lock.emplace(run.dir.string());  // before anything is read or written
    if (c.resume) {
        FOCAL_CHECK(fs::exists(run.paths.model) && fs::exists(run.paths.optimizer),
                    "[train] --resume: no checkpoint in ", run.dir.string(),
                    " (expected checkpoint.safetensors and optimizer.safetensors)",
                    run.parallel.size() > 1
                        ? " on rank " + std::to_string(run.parallel.rank()) +
                              ": every rank reads it, so --out must be on a filesystem all ranks share"
                        : std::string());
        NamedTensors training_state;
        const Metadata saved = load_checkpoint(run.paths, run.model, run.optimizer.get(), &training_state);
        const Progress p = progress_from(saved, run.paths.optimizer);
        if (c.ema > 0) {
            run.ema.emplace(run.model, c.ema, c.ema_ramp);
            run.ema->load_checkpoint_state(training_state, run.paths.optimizer);
        }
        FOCAL_CHECK(p.iteration <= run.iters_per_epoch, "[train] --resume: the checkpoint stopped at iteration ",
                    p.iteration, " of epoch ", p.epoch + 1, ", which now has only ", run.iters_per_epoch);
        if (run.parallel.root() && p.iteration > 0)
            std::fprintf(stderr, "resuming %s in epoch %d at iteration %lld (step %lld)%s\n", run.dir.string().c_str(),
                         p.epoch + 1, static_cast<long long>(p.iteration), static_cast<long long>(p.step),
                         resume_ranks_note(run, saved).c_str());
        else if (run.parallel.root())
            std::fprintf(stderr, "resuming %s after epoch %d (step %lld)%s\n", run.dir.string().c_str(), p.epoch,
                         static_cast<long long>(p.step), resume_ranks_note(run, saved).c_str());
        return p;
    }
    if (c.ema > 0) run.ema.emplace(run.model, c.ema, c.ema_ramp);  // every rank: the same updates follow
    if (!run.parallel.root()) return {};                           // rank 0 writes the run folder
    fs::create_directories(run.dir);
    const json config = {{"train", to_json(c)},
                         {"model", to_json(run.model_config)},
                         {"classes", run.dataset.classes()},
                         {"class_source", run.dataset.class_source()},
                         {"images", run.loader.items()},
                         {"anchors", run.anchors().size()},
                         {"parameters", run.model.num_parameters()}};
    write_json((run.dir / "config.json").string(), config);
    return {};
}

// The signal that asked to stop, agreed by every rank, so that all stop after the same step
// (a cluster's preemption reaches the ranks at slightly different times); 0 when none did.
int agreed_stop(TrainingRun& run) {
    if (run.parallel.size() == 1) return stop_requested();
    double asked[1] = {stop_requested() != 0 ? 1.0 : 0.0};
    run.parallel.world().all_reduce_sum(std::span<double>(asked));
    if (asked[0] == 0) return 0;
    return stop_requested() != 0 ? stop_requested() : SIGTERM;
}

// One pass over the training set (epoch index progress.epoch, from progress.iteration):
// forward, loss, backward and an optimizer step per batch. Returns the epoch's record, or
// nothing when a stop was requested (stop_request.h): then a mid-epoch checkpoint holds
// the progress.
std::optional<EpochRecord> train_one_epoch(TrainingRun& run, Progress& progress, JsonLog& log, TrainResult& result,
                                           const TrainHooks& hooks) {
    const TrainConfig& c = run.config;
    const int epoch = progress.epoch;
    // Batches come in one size, or several with --multi-scale, each with its own anchors.
    std::map<int, Tensor> anchor_tensors;  // by batch height (batches are square)
    const BoxCoder& coder = run.model.coder;
    const MatcherConfig matcher;
    const bool tty = c.progress && run.parallel.root() && ::isatty(2);
    const dist::BatchNormSync sync_bn(c.sync_bn ? &run.parallel.world() : nullptr);  // no-op in one process
    run.model.train();
    run.loader.start_epoch(epoch, static_cast<size_t>(progress.iteration));
    const double epoch_start = seconds_now();
    const int64_t first_iteration = progress.iteration;
    int64_t& it = progress.iteration;
    data::Batch b;
    while (it < run.iters_per_epoch && run.loader.next(b)) {
        Tensor x = Tensor::from_vector(b.images, {b.n, 3, b.h, b.w}, run.device);
        HeadOutputs out = run.model.forward(x);
        const std::vector<Box>& anchors = run.model.anchors(b.h, b.w);
        auto [cached, fresh] = anchor_tensors.try_emplace(b.h);
        if (fresh) cached->second = anchors_tensor(anchors);
        const Tensor& anchor_tensor = cached->second;
        FOCAL_CHECK(out.cls_logits.size(1) == static_cast<int64_t>(anchors.size()), "[train] the heads scored ",
                    out.cls_logits.size(1), " anchors, the anchor generator made ", anchors.size());
        TrainingTargets targets = build_targets(anchors, b, matcher, coder);
        // Divided by the count over the global batch; the losses below are the global batch's.
        const DataParallel::Divisor divisor = run.parallel.loss_divisor(normalizer_count(targets, run.normalizer));
        DetectionLoss loss =
            detection_loss(out, targets, anchor_tensor, run.cls_loss, run.box_loss, coder, divisor.value);
        const DataParallel::StepLoss step =
            run.parallel.gather_losses(loss.total.item(), loss.cls.item(), loss.box.item(), b.n);
        const double total = step.total, cls = step.cls, box = step.box;
        if (step.bad_rank >= 0) {
            log.write({{"type", "error"},
                       {"epoch", epoch},
                       {"iter", it},
                       {"step", progress.step},
                       {"cls", cls},
                       {"box", box}});
            fail("[train] the loss became ", total, " at epoch ", epoch + 1, " iteration ", it + 1, " (cls ", cls,
                 ", box ", box, ")",
                 run.parallel.size() > 1
                     ? " on rank " + std::to_string(step.bad_rank) + " of " + std::to_string(run.parallel.size()) +
                           " (step " + std::to_string(progress.step + 1) + ")"
                     : std::string(),
                 "; stopped. ",
                 fs::exists(run.paths.model) ? "The last good checkpoint is " + run.paths.model
                                             : std::string("No checkpoint was written"),
                 ". Try a lower --lr, --clip-grad, or the prior bias.");
        }
        Optimizer& optimizer = *run.optimizer;
        optimizer.zero_grad();
        loss.total.backward();
        run.parallel.average_gradients(run.trainable);  // no-op in one process
        if (c.clip_grad > 0) clip_grad_norm(run.trainable, c.clip_grad);
        optimizer.set_lr(run.schedule.at(progress.step));
        optimizer.step();
        ++progress.step, ++it;
        if (run.ema) run.ema->update(run.model, progress.step);
        progress.images += step.images;
        progress.sum_loss += total, progress.sum_cls += cls, progress.sum_box += box;
        result.step_losses.push_back(total);
        const double rate = (progress.images - first_iteration * c.batch) / (seconds_now() - epoch_start);
        if (c.log_every > 0 && (it % c.log_every == 0 || it == 1))
            log.write({{"type", "step"},
                       {"epoch", epoch},
                       {"iter", it},
                       {"step", progress.step},
                       {"loss", total},
                       {"cls", cls},
                       {"box", box},
                       {"lr", optimizer.lr()},
                       {"positives", run.normalizer == Normalizer::Positives ? divisor.total : targets.num_positives},
                       {"images_per_s", rate}});
        if (c.progress && run.parallel.root() &&
            (tty || it % std::max(c.log_every, 1) == 0 || it == run.iters_per_epoch))
            print_progress(tty, epoch, c.epochs, it, run.iters_per_epoch, seconds_now() - epoch_start, progress.images,
                           progress.sum_loss / it, progress.sum_cls / it, progress.sum_box / it);
        if (hooks.after_step) hooks.after_step(progress.step);
        const int stop = it < run.iters_per_epoch ? agreed_stop(run) : 0;  // at the epoch's end, train() checks
        if (stop != 0) {
            if (tty) std::fprintf(stderr, "\n");
            if (run.parallel.root()) run.save_checkpoint_now(progress);
            log.write({{"type", "stopped"}, {"signal", stop}, {"epoch", epoch}, {"iter", it}, {"step", progress.step}});
            result.stopped_by = stop;
            result.stopped_at_step = progress.step;
            return std::nullopt;
        }
    }
    if (tty) std::fprintf(stderr, "\n");
    const double iters = static_cast<double>(std::max<int64_t>(it, 1));
    EpochRecord record{epoch + 1, progress.sum_loss / iters, progress.sum_cls / iters, progress.sum_box / iters,
                       seconds_now() - epoch_start};
    progress.iteration = 0, progress.sum_loss = progress.sum_cls = progress.sum_box = 0, progress.images = 0;
    return record;
}

// Validation mAP after an epoch (of the averaged weights with --ema); best.safetensors
// follows the best VOC07 mAP.
void evaluate_epoch(TrainingRun& run, EpochRecord& record, Progress& progress) {
    std::optional<SwappedWeights> averaged;
    if (run.ema) averaged.emplace(run.model, run.ema->state());
    const TrainConfig& c = run.config;
    EvalOptions eo;
    eo.data = c.data, eo.split = c.val_split, eo.year = c.year, eo.batch = c.batch, eo.workers = c.workers;
    eo.format = c.format;
    eo.max_images = c.max_images, eo.run_dir = run.dir.string(), eo.epoch = record.epoch;
    const EvalResult ev = evaluate(run.model, run.dataset.classes(), eo);
    record.map50_voc07 = ev.metrics.map_11point;
    record.map50_area = ev.metrics.map_area;
    std::fprintf(stderr, "epoch %d: val mAP@0.5 %.4f (VOC07 11-point), %.4f (area) on %d images, %.1f s\n",
                 record.epoch, record.map50_voc07, record.map50_area, ev.images, ev.seconds);
    if (record.map50_voc07 > progress.best_map) {
        progress.best_map = record.map50_voc07;
        save_safetensors((run.dir / "best.safetensors").string(), run.model_state(),
                         {{"epoch", std::to_string(record.epoch)}, {"map50_voc07", std::to_string(progress.best_map)}});
    }
}

// The checkpoint (weights + optimizer, atomically) and any snapshot the config asks for.
void save_epoch(TrainingRun& run, const Progress& progress) {
    const std::string epoch = std::to_string(progress.epoch);
    run.save_checkpoint_now(progress);
    const std::vector<int>& snapshots = run.config.snapshot_epochs;
    if (std::find(snapshots.begin(), snapshots.end(), progress.epoch) != snapshots.end())
        save_safetensors((run.dir / ("snapshot-epoch" + epoch + ".safetensors")).string(), run.model_state(),
                         {{"epoch", epoch}});
}

}  // namespace

TrainResult train(const TrainConfig& c, const TrainHooks& hooks) {
    c.validate();
    FOCAL_CHECK(c.resume || !fs::exists(fs::path(c.out) / "checkpoint.safetensors"), "[train] ", c.out,
                " already holds a run; pass --resume to continue it, or choose another --out");
    if (c.threads > 0) set_num_threads(c.threads);
    TrainingRun run(c);
    const bool root = run.parallel.root();  // only rank 0 prints and writes (detector/data_parallel.h)
    if (root)
        for (const std::string& w : run.dataset.warnings()) std::fprintf(stderr, "warning: %s\n", w.c_str());
    if (root && c.skip_bad) std::fprintf(stderr, "%s\n", run.dataset.skip_summary().c_str());
    start_data_parallel(run);
    Progress progress = start_or_resume(run);
    run.parallel.broadcast_state(run.model, *run.optimizer, c.resume ? "after --resume" : "after initialisation");
    TrainResult result;
    result.best_map = progress.best_map;
    result.rank = run.parallel.rank();
    JsonLog log((run.dir / "log.jsonl").string(), c.resume, root);
    if (root)
        std::fprintf(stderr,
                     "training %s (%lld parameters, %zu anchors/image) on %zu images of %s [%s], %s loss, %d epochs\n",
                     run.model_config.preset.c_str(), static_cast<long long>(run.model.num_parameters()),
                     run.anchors().size(), run.loader.items(), run.dataset.root().c_str(), c.split.c_str(),
                     c.cls_loss.c_str(), c.epochs);
    while (progress.epoch < c.epochs) {
        const std::optional<EpochRecord> trained = train_one_epoch(run, progress, log, result, hooks);
        if (!trained) break;  // stopped by a signal: the mid-epoch checkpoint is written
        EpochRecord record = *trained;
        progress.epoch = record.epoch;  // epochs completed
        const bool last = record.epoch == c.epochs;
        const bool evaluate_now =
            !c.val_split.empty() && c.eval_every > 0 && (record.epoch % c.eval_every == 0 || last);
        if (evaluate_now && root) evaluate_epoch(run, record, progress);
        run.parallel.broadcast_state(run.model, *run.optimizer, "after epoch " + std::to_string(record.epoch));
        if (root) save_epoch(run, progress);
        json entry = {{"type", "epoch"},   {"epoch", record.epoch},     {"loss", record.loss},  {"cls", record.cls},
                      {"box", record.box}, {"seconds", record.seconds}, {"step", progress.step}};
        if (evaluate_now) entry["map50_voc07"] = record.map50_voc07, entry["map50_area"] = record.map50_area;
        log.write(entry);
        result.epochs.push_back(record);
        const int stop = progress.epoch < c.epochs ? agreed_stop(run) : 0;  // asked during the epoch's last step
        if (stop != 0) {  // the epoch's checkpoint above is the stop's; the log says so as a mid-epoch stop does
            log.write({{"type", "stopped"},
                       {"signal", stop},
                       {"epoch", progress.epoch},
                       {"iter", 0},
                       {"step", progress.step}});
            result.stopped_by = stop;
            result.stopped_at_step = progress.step;
            break;
        }
    }
    result.best_map = progress.best_map;
    return result;
}

std::string run_weights_file(const std::string& run_dir, const std::string& weights) {
    const fs::path run(run_dir);
    fs::path file = run / "checkpoint.safetensors";
    if (fs::exists(run / "ema.safetensors")) file = run / "ema.safetensors";  // --ema: the averaged weights
    if (weights == "best" && fs::exists(run / "best.safetensors")) file = run / "best.safetensors";
    else if (weights.rfind("epoch", 0) == 0) file = run / ("snapshot-" + weights + ".safetensors");
    else
        FOCAL_CHECK(weights == "best" || weights == "last", "[run] unknown weights '", weights,
                    "'; known: best, last, epoch<E> (a snapshot)");
    FOCAL_CHECK(fs::exists(file), "[run] ", file.string(), " does not exist");
    return file.string();
}

LoadedRun load_run(const std::string& run_dir, const std::string& weights, Device device) {
    const fs::path run(run_dir);
    const json config = read_json((run / "config.json").string());
    LoadedRun loaded;
    try {
        loaded.model_config = retinanet_config_from_json(config.at("model"));
        loaded.train_config = train_config_from_json(config.at("train"));
        loaded.class_names = config.at("classes").get<std::vector<std::string>>();
    } catch (const json::exception& e) {
        fail("[run] ", (run / "config.json").string(), " is not a focal run configuration: ", e.what());
    } catch (const Error& e) {
        fail("[run] ", (run / "config.json").string(), ": ", e.what());
    }
    Generator gen(0);
    loaded.model = std::make_shared<RetinaNet>(loaded.model_config, gen);
    const std::string file = run_weights_file(run_dir, weights);
    // A checkpoint holds host bytes whatever device wrote it (save_safetensors copies to the
    // host); they load on the CPU and then move, so a GPU run's weights load on the CPU and
    // the other way round.
    loaded.model->load_state(load_safetensors(file).tensors, false, file);
    loaded.model->to(device);
    loaded.model->eval();
    return loaded;
}

}  // namespace focal::detector
