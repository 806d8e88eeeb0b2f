// Training and evaluation of a RetinaNet on a VOC-format dataset, with a run directory:
//   config.json          everything needed to rebuild the model and repeat the run
//   log.jsonl            one JSON object per logged step and per epoch
//   checkpoint.safetensors + optimizer.safetensors   the last completed epoch (atomic)
//   ema.safetensors      with --ema: the averaged weights at the last checkpoint, the model
//                        that is evaluated and saved (detector/weight_average.h)
//   best.safetensors     the weights with the best validation mAP so far
//   snapshot-epoch<E>.safetensors   the weights after each epoch E of snapshot_epochs (atomic)
//   metrics.json         the latest evaluation: mAP (VOC07 11-point and area), per class
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "detector/detection_loss.h"
#include "detector/evaluate.h"
#include "detector/postprocess.h"
#include "detector/retinanet.h"
#include "detector/train_config.h"

namespace focal::detector {

nlohmann::json to_json(const RetinaNetConfig& config);
RetinaNetConfig retinanet_config_from_json(const nlohmann::json& j);
// The model a training configuration describes: its preset, image size, prior and the
// `model` patch applied; an unknown or mistyped key in the patch fails naming it.
RetinaNetConfig model_config_for(const TrainConfig& config, int64_t num_classes, bool softmax);

struct EpochRecord {
    int epoch = 0;
    double loss = 0, cls = 0, box = 0, seconds = 0;
    double map50_voc07 = -1, map50_area = -1;  // -1 when not evaluated
};

struct TrainResult {
    std::vector<EpochRecord> epochs;
    std::vector<double> step_losses;  // the total loss of every iteration this call ran
    double best_map = -1;
    int stopped_by = 0;           // the signal that stopped it mid-epoch (stop_request.h), or 0
    int64_t stopped_at_step = 0;  // then: the steps done, all in the checkpoint
    int rank = 0;                 // of this process in a data-parallel run; only rank 0 reports
};

// Called after every optimizer step with the steps done so far (tests use it to stop a run
// at a chosen step).
struct TrainHooks {
    std::function<void(int64_t step)> after_step;
};

// Trains (or resumes) as configured; throws focal::Error with the reason on bad input or a
// non-finite loss (after which the last checkpoint is the last good one). When a stop is
// requested (detector/stop_request.h), it finishes the step, writes a mid-epoch checkpoint
// and returns with stopped_by set; --resume continues bitwise as if never stopped.
TrainResult train(const TrainConfig& config, const TrainHooks& hooks = {});

// --multi-scale F: the training sizes, multiples of 32 from size x (1 - F) to size x (1 + F)
// (YOLO's multi-scale training, Redmon & Farhadi 2017, sec. 2); empty when F is 0 (off).
std::vector<int> multi_scale_sizes(int size, float fraction);

// A model and everything needed to run it, loaded from a run directory.
struct LoadedRun {
    RetinaNetConfig model_config;
    TrainConfig train_config;
    std::vector<std::string> class_names;
    std::shared_ptr<RetinaNet> model;
};
// weights: "best" (best.safetensors when present, else the last checkpoint), "last" (the
// checkpoint's weights, or ema.safetensors for a run trained with --ema), or
// "epoch<E>" (snapshot-epoch<E>.safetensors, see TrainConfig::snapshot_epochs). The model
// is built on `device`, whichever device the run trained on.
LoadedRun load_run(const std::string& run_dir, const std::string& weights = "best", Device device = Device::CPU);
// The file load_run reads for `weights`; throws naming it when it does not exist.
std::string run_weights_file(const std::string& run_dir, const std::string& weights = "best");

}  // namespace focal::detector
