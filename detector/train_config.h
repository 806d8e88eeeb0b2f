// Every setting of a training run, declared once. The list below makes TrainConfig's members
// and their defaults; config.json's keys (run_config.cpp), `focal train`'s flags and their
// --help text (tools/cmd_train.cpp) and the range checks of validate() are all derived from
// it, so a new setting is one line here.
//
//   X(type, name, default, flag, rule, help)
//   flag: the command-line flag; "!--no-x" sets a bool to false; "" = set through another
//         flag, written by hand in tools/cmd_train.cpp (named in the help text)
//   rule: the values accepted (SettingRule), checked by validate() with a message that names
//         the flag, e.g. "--lr must be > 0, got -1"
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace focal::detector {

enum class SettingRule { Any, NotEmpty, Positive, NonNegative, Fraction, OpenFraction, FractionBelowOne };

using ParamMap = std::map<std::string, float>;  // a loss's parameters by name
using EpochList = std::vector<int>;

#define FOCAL_TRAIN_SETTINGS(X)                                                                                       \
    /* data */                                                                                                        \
    X(std::string, data, "", "--data", NotEmpty, "dataset: VOC, COCO or YOLO folder (docs/data.md)")                  \
    X(std::string, format, "", "--format", Any, "dataset format: voc, coco or yolo ('': from the layout)")            \
    X(std::string, split, "train", "--split", NotEmpty,                                                               \
      "training split: a name, a .txt list or all (docs/data.md); a+b unites splits; VOC2012/train names a year")     \
    X(std::string, val_split, "val", "--val-split", Any, "split evaluated during training ('' for none)")             \
    X(int, year, 0, "--year", NonNegative, "VOC year inside a VOCdevkit (0: 2007)")                                   \
    X(std::string, classes, "", "--classes", Any,                                                                     \
      "class list: voc, auto, a file, or a,b,c (default: classes.txt or VOC)")                                        \
    X(bool, skip_bad, false, "--skip-bad", Any, "warn and skip bad annotations and images instead of stopping")       \
    X(int64_t, max_images, 0, "--max-images", NonNegative, "use only the first N images of each split (smoke runs)")  \
    X(bool, augment, true, "!--no-augment", Any, "train without flips, crops and colour jitter")                      \
    X(float, crop_probability, 0.5f, "--crop-probability", Fraction, "chance of a random scale-crop per image")       \
    X(float, min_zoom, 0.5f, "", Positive, "smallest scale-crop zoom, < 1 zooms out (--zoom MIN MAX)")                \
    X(float, max_zoom, 2.0f, "", Positive, "largest scale-crop zoom (--zoom MIN MAX)")                                \
    X(float, mosaic, 0.0f, "--mosaic", Fraction, "chance of a 4-image mosaic per training image (YOLOv4)")            \
    X(float, multi_scale, 0.0f, "--multi-scale", FractionBelowOne,                                                    \
      "train each batch at a size drawn from image size x [1 - F, 1 + F], multiples of 32 (0: off)")                  \
    X(float, mixup, 0.0f, "--mixup", Fraction, "chance of blending a training image with another (mixup)")            \
    X(int, workers, 2, "--workers", NonNegative, "data loading threads")                                              \
    /* model */                                                                                                       \
    X(std::string, preset, "demo", "--preset", NotEmpty, "model preset: demo, tiny, resnet18 or resnet34")            \
    X(int64_t, image_size, 0, "--image-size", NonNegative, "input size (0: the preset's)")                            \
    X(nlohmann::json, model, nlohmann::json::object(), "", Any,                                                       \
      "JSON merge patch (RFC 7386) over the preset's model config (--model)")                                         \
    X(float, prior, 0.01f, "--prior", OpenFraction, "foreground prior pi of the classification bias")                 \
    X(bool, prior_bias, true, "!--no-prior", Any, "start the classification bias at 0 (the ablation)")                \
    X(std::string, backbone_weights, "", "--backbone-weights", Any,                                                   \
      "ImageNet weights for a resnet preset's backbone (scripts/import_torchvision.py); its batch norms are frozen")  \
    X(int, freeze_stages, 0, "--freeze-stages", NonNegative,                                                          \
      "keep the first N backbone stages fixed, the stem counting as 1 (2: stem and layer1, torchvision's default)")   \
    /* loss */                                                                                                        \
    X(std::string, cls_loss, "focal", "--cls-loss", NotEmpty, "classification loss (see `focal losses`)")             \
    X(ParamMap, cls_params, {}, "", Any, "classification loss parameters (--loss-param k=v, --gamma, --alpha)")       \
    X(std::string, box_loss, "smooth_l1", "--box-loss", NotEmpty, "box loss (see `focal losses`)")                    \
    X(ParamMap, box_params, {}, "", Any, "box loss parameters (--box-param k=v)")                                     \
    X(std::string, normalizer, "positives", "--normalize", NotEmpty, "divide the losses by 'positives' or 'anchors'") \
    /* optimisation */                                                                                                \
    X(std::string, optimizer, "sgd", "--optimizer", NotEmpty, "optimizer: sgd (momentum, weight decay) or adamw")     \
    X(int, epochs, 12, "--epochs", Positive, "epochs")                                                                \
    X(int, batch, 8, "--batch", Positive,                                                                             \
      "images per step, all ranks together (the global batch: N ranks read batch/N each)")                            \
    X(float, lr, 0.01f, "--lr", Positive, "base learning rate")                                                       \
    X(float, momentum, 0.9f, "--momentum", Fraction, "SGD momentum")                                                  \
    X(float, weight_decay, 1e-4f, "--weight-decay", NonNegative,                                                      \
      "weight decay (SGD: L2 in the gradient; AdamW: decoupled)")                                                     \
    X(int64_t, warmup_iters, 100, "--warmup", NonNegative, "linear warm-up iterations")                               \
    X(std::string, schedule, "step", "--schedule", NotEmpty,                                                          \
      "step (x0.1 at 2/3 and 8/9 of training), cosine or constant")                                                   \
    X(float, clip_grad, 0.0f, "--clip-grad", NonNegative, "clip the global gradient norm (0: off)")                   \
    X(float, ema, 0.0f, "--ema", FractionBelowOne,                                                                    \
      "evaluate and save an exponential moving average of the weights with this decay, e.g. 0.999 (0: off)")          \
    X(int64_t, ema_ramp, 2000, "--ema-ramp", Positive,                                                                \
      "steps over which the average's decay ramps up: decay x (1 - exp(-step / ramp))")                               \
    X(int64_t, max_iters, 0, "--max-iters", NonNegative, "stop each epoch after N iterations (smoke runs)")           \
    /* run */                                                                                                         \
    X(std::string, out, "runs/train", "--out", NotEmpty, "run directory")                                             \
    X(bool, resume, false, "--resume", Any, "continue the run in --out from its last checkpoint")                     \
    X(std::string, init_from, "", "--init-from", Any,                                                                 \
      "start from a trained run's weights (RUN or a .safetensors file); another class count re-initialises the "      \
      "classification head's last layer")                                                                             \
    X(uint64_t, seed, 0, "--seed", Any, "random seed (initialisation, shuffling, augmentation)")                      \
    X(int, threads, 0, "--threads", NonNegative, "compute threads (0: all cores)")                                    \
    X(int, eval_every, 1, "--eval-every", NonNegative, "evaluate on --val-split every N epochs (0: never)")           \
    X(EpochList, snapshot_epochs, {}, "--snapshot-epochs", Any, "keep the weights after these epochs (1-based)")      \
    X(int, log_every, 10, "--log-every", NonNegative, "log a step to log.jsonl every N iterations (0: never)")        \
    X(bool, progress, true, "!--quiet", Any, "no progress line")                                                      \
    X(std::string, device, "cpu", "--device", NotEmpty, "cpu or cuda")                                                \
    /* several processes (mpirun, srun; docs/distributed.md) */                                                       \
    X(bool, sync_bn, false, "--sync-bn", Any, "batch norm statistics over the global batch, all ranks together")      \
    X(float, dist_timeout, 600.0f, "--dist-timeout", Positive,                                                        \
      "seconds a rank waits for the others before it stops with an error")

struct TrainConfig {
#define FOCAL_DECLARE_SETTING(type, name, value, flag, rule, help) type name = value;
    FOCAL_TRAIN_SETTINGS(FOCAL_DECLARE_SETTING)
#undef FOCAL_DECLARE_SETTING

    // Throws Error naming the first setting out of range, by its flag ("--lr must be > 0,
    // got -1"); also min_zoom <= max_zoom.
    void validate() const;
};

// One row of the list, for code that walks every setting (the CLI, tests).
struct SettingInfo {
    std::string name, flag, rule, help;  // rule in words, e.g. "> 0"
};
const std::vector<SettingInfo>& train_settings();

nlohmann::json to_json(const TrainConfig& config);
// Keys absent from `j` keep their defaults (older runs' config.json); an unknown key fails.
TrainConfig train_config_from_json(const nlohmann::json& j);

}  // namespace focal::detector
