// Training and evaluation of a RetinaNet on a VOC-format dataset, with a run directory:
//   config.json          everything needed to rebuild the model and repeat the run
//   log.jsonl            one JSON object per logged step and per epoch
//   checkpoint.safetensors + optimizer.safetensors   the last completed epoch (atomic)
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
#include "detector/error_analysis.h"
#include "detector/postprocess.h"
#include "detector/retinanet.h"

namespace focal::detector {

struct TrainConfig {
    // data
    std::string data;                  // VOCdevkit, VOC20XX or VOC-format folder
    std::string split = "train";
    std::string val_split = "val";     // "" = no evaluation during training
    int year = 0;
    std::string classes;               // see data::VocOptions::classes
    bool skip_bad = false;
    int64_t max_images = 0;            // > 0: use the first N images of the split (smoke tests)
    bool augment = true;
    float crop_probability = 0.5f;     // of a random scale-crop (data::random_scale_crop)...
    float min_zoom = 0.5f, max_zoom = 2.0f;  // ...whose zoom is log-uniform in [min_zoom, max_zoom]
    int workers = 2;
    // model
    std::string preset = "demo";
    int64_t image_size = 0;            // 0 = the preset's
    nlohmann::json model = nlohmann::json::object();  // a JSON merge patch (RFC 7386) over the preset's
                                                      // model config, e.g. {"anchors": {"strides": [4, 8]}}
    float prior = 0.01f;
    bool prior_bias = true;
    // loss
    std::string cls_loss = "focal";
    std::map<std::string, float> cls_params;
    std::string box_loss = "smooth_l1";
    std::map<std::string, float> box_params;
    std::string normalizer = "positives";
    // optimisation
    std::string optimizer = "sgd";     // "sgd" (momentum, weight decay) or "adamw"
    int epochs = 12;
    int batch = 8;
    float lr = 0.01f;
    float momentum = 0.9f;
    float weight_decay = 1e-4f;
    int64_t warmup_iters = 100;
    std::string schedule = "step";     // "step" (x0.1 at 2/3 and 8/9 of training), "cosine", "constant"
    float clip_grad = 0.0f;            // > 0: clip the global gradient norm
    int64_t max_iters = 0;             // > 0: stop each epoch after this many iterations
    // run
    std::string out = "runs/train";
    bool resume = false;
    uint64_t seed = 0;
    int threads = 0;                   // 0 = leave as is
    int eval_every = 1;
    std::vector<int> snapshot_epochs;  // keep the weights after these epochs (1-based), e.g. to draw progress
    int log_every = 10;
    bool progress = true;              // a progress line on stderr
    std::string device = "cpu";
};

nlohmann::json to_json(const TrainConfig& config);
TrainConfig train_config_from_json(const nlohmann::json& j);
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
};

// Trains (or resumes) as configured; throws focal::Error with the reason on bad input or a
// non-finite loss (after which the last checkpoint is the last good epoch).
TrainResult train(const TrainConfig& config);

// A model and everything needed to run it, loaded from a run directory.
struct LoadedRun {
    RetinaNetConfig model_config;
    TrainConfig train_config;
    std::vector<std::string> class_names;
    std::shared_ptr<RetinaNet> model;
};
// weights: "best" (best.safetensors when present, else the last checkpoint), "last", or
// "epoch<E>" (snapshot-epoch<E>.safetensors, see TrainConfig::snapshot_epochs).
LoadedRun load_run(const std::string& run_dir, const std::string& weights = "best");

struct EvalResult {
    VocMetrics metrics;
    ErrorBreakdown errors;  // what the false positives cost (detector/error_analysis.h)
    int images = 0;
    double seconds = 0;
};
// Detections on a split, scored with the VOC metric and diagnosed (error_analysis.h); writes
// metrics.json into run_dir when it is not empty.
EvalResult evaluate(RetinaNet& model, const std::vector<std::string>& class_names, const std::string& data,
                    const std::string& split, int year, int batch, int workers, int64_t max_images,
                    const InferenceConfig& inference, const std::string& run_dir, int epoch = -1);

nlohmann::json metrics_json(const VocMetrics& metrics, const std::vector<std::string>& class_names);

}  // namespace focal::detector
