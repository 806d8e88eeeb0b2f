// `focal experiments`: the seed's figures and the paper's ablations (Lin et al. 2017, sec. 5.1,
// Table 1, Figures 1 and 4), reproduced by focal itself on the synthetic shapes set.
//   cmd_experiments.cpp      the command: options, the order of the steps, report.md
//   experiment_runs.cpp      the training runs (one folder each, reused when finished)
//   experiment_tables.cpp    AP over epochs, the main comparison and the ablation tables
//   experiment_snapshots.cpp detections of the same test images at chosen epochs
//   experiment_loss.cpp      where the loss goes: loss CDFs (Fig. 4), the per-anchor overlay
//   experiment_errors.cpp    what each main run's false positives are, and what they cost
// The C++ writes CSV and JSON; tools/plot_experiments.py draws them.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/voc.h"
#include "detector/trainer.h"

namespace focal::cli::experiments {

// The defaults (docs/results.md's figures) make about 102,000 training and 70,000 evaluated
// image passes: 48,000 + 16,000 for the four main runs, the rest for the fifteen ablation
// runs, which score the val split after every epoch. Measured: 25.8 minutes on two quiet
// cores (12 for the main runs, 13.5 for the ablations).
struct Options {
    std::string out = "results";
    std::string data;            // an existing VOC-format set; "" = generate OUT/data
    int images = 2500;           // synthetic images generated (60 % train, 20 % val, 20 % test)
    int epochs = 8;              // the main comparison runs (section 3 of the report)
    int ablation_epochs = 6;     // each run of the ablation grid
    int ablation_images = 600;   // training images of each ablation run (0 = the whole split)
    int analysis_images = 150;   // val images for the loss distributions
    std::vector<int> snapshots;  // epochs drawn; empty = about a quarter, half, all of --epochs
    int threads = 0;             // 0 = all cores
    std::string device = "cpu";  // where the runs train and the models run (--device)
    uint64_t seed = 0;
    int64_t max_iters = 0;  // > 0: at most this many iterations per epoch (smoke tests)
    int batch = 0;          // 0 = the demo recipe's
    bool ablations = true;
    bool plot = true;
    std::string python = "/usr/bin/python3";
};

// The epochs of the focal run whose weights are kept for the snapshots: --snapshots, or
// about a quarter and a half of --epochs; the last epoch always.
std::vector<int> snapshot_epochs(const Options& options);

// --tiny: a few images, one or two epochs of a few iterations (the CI configuration).
void make_tiny(Options& options);

// One training run of the experiments.
struct RunSpec {
    std::string name;   // folder under OUT/runs
    std::string label;  // in legends and tables
    std::string cls_loss = "focal";
    std::map<std::string, float> cls_params;
    bool prior_bias = true;
    std::string normalizer = "positives";
    bool ablation = false;  // the ablation budget instead of the main one
    // Set by the imbalance sweep (experiment_sweep.cpp); the defaults leave the recipe as it is.
    int epochs = 0;                                   // 0: --epochs (or --ablation-epochs)
    int64_t image_size = 0;                           // 0: the preset's
    nlohmann::json model = nlohmann::json::object();  // --model merge patch
    int64_t seed_offset = 0;                          // training seed = --seed + this
    bool log_steps = true;                            // false: log.jsonl holds the epochs only
};

struct StepPoint {  // one logged training step
    int64_t step = 0;
    double loss = 0, cls = 0, box = 0;
};

struct EpochPoint {
    int epoch = 0;
    double loss = 0, cls = 0, box = 0, seconds = 0;
    double map50_voc07 = -1, map50_area = -1;
};

// What a run left: its epochs, and its final weights scored on the test split.
struct RunOutcome {
    RunSpec spec;
    std::string dir;
    std::vector<EpochPoint> epochs;
    std::vector<StepPoint> steps;  // the logged steps, in order (a diverged run's last is its error)
    bool diverged = false;
    std::string error;                                          // the trainer's message when it diverged
    double test_ap = -1, test_ap50 = -1, test_ap50_voc07 = -1;  // COCO AP .5:.95, AP@.5 (area, VOC07)
    double seconds = 0;                                         // training and evaluation
};

std::vector<RunSpec> main_runs();  // FL, alpha-balanced CE, OHEM 1:3, CE without the prior
RunSpec focal_run(const std::string& name, float gamma, float alpha);
RunSpec ce_run(const std::string& name, bool prior, float alpha = 0.25f);  // alpha-balanced BCE
RunSpec ohem_run(const std::string& name);                                 // OHEM 1:3 over CE
std::vector<RunSpec> ablation_runs();  // gamma x alpha; the prior on/off; the normaliser

// The training configuration of a run: the demo recipe, the spec's loss, the budget.
detector::TrainConfig run_config(const RunSpec& spec, const Options& options, const std::string& data_dir,
                                 const std::string& run_dir);

// Trains the run unless OUT/runs/<name> already holds it finished (or diverged); resumes an
// interrupted one. A finished run made with another configuration fails naming the setting.
RunOutcome run_or_reuse(const RunSpec& spec, const Options& options, const std::string& data_dir,
                        const std::string& runs_dir);

// ap_over_epochs.csv (one row per run and epoch) and the ablation tables
// (ablation_*.csv, ablations.md). Returns the markdown of the tables.
void write_ap_over_epochs(const std::vector<RunOutcome>& runs, const std::string& out_dir);
// first_iterations.csv: the main runs' logged losses over their first `max_step` steps;
// returns a markdown table of the loss at steps 1, 10, 50, 100 and 200 (the last logged
// step at or before each).
std::string write_first_iterations(const std::vector<RunOutcome>& runs, const std::string& out_dir,
                                   int64_t max_step = 400);
std::string write_ablation_tables(const std::vector<RunOutcome>& runs, const std::string& out_dir);

// Distractors (hard negatives) in each image of `ds`, regenerated from the shapes set's
// marker file (focal-shapes.txt); all -1 when `data_dir` is not a shapes set, or when the
// generator no longer reproduces its objects.
std::vector<int> distractor_counts(const std::string& data_dir, const data::Dataset& ds);

// Snapshots (report section 2): the detections of the same test images after each snapshot
// epoch of `run_dir`, with each one marked true or false positive, in
// OUT/snapshots/snapshots.json, and per snapshot the mean TP and FP per image over the whole
// test split (snapshots.csv). Returns a one-line summary for the report.
std::string write_snapshots(const std::string& run_dir, const std::vector<int>& epochs, const std::string& data_dir,
                            const std::string& out_dir, int images_shown, Device device);

// Loss distributions (report section 4, the paper's Figure 4): per-anchor FL at gamma 0, .5,
// 1, 2 (alpha .25) of a trained model on val images, as normalised cumulative distributions
// over positive and negative anchors (loss_cdf.csv, loss_shares.csv), and the per-location
// loss of one image under CE and FL (loss_overlay.json). Returns summary lines. Runs on the
// CPU whatever --device is: a few hundred forward passes, read back anchor by anchor.
std::string write_loss_analysis(const std::string& run_dir, const std::string& data_dir, const std::string& out_dir,
                                int max_images);

// Each main run's final weights on the test split, diagnosed as Hoiem et al. 2012 do
// (detector/error_analysis.h): AP50 as is and with localisation errors, confusions and
// background false positives removed in turn, in OUT/error_analysis.csv. Returns a markdown table.
std::string write_error_analysis(const std::vector<RunOutcome>& runs, const std::string& data_dir,
                                 const std::string& out_dir, Device device);

// `focal experiments --sweep imbalance` (experiment_sweep.cpp): FL, alpha-balanced CE (alpha
// .25 and .75) and OHEM 1:3 over several seeds at three levels of easy background, into
// OUT/imbalance (report.md, CSVs, PNGs). Resumable like the rest.
struct SweepOptions {
    int seeds = 3;
    int epochs = 3;  // per run, at every level (equal iterations)
};
void run_imbalance_sweep(const Options& options, const SweepOptions& sweep, bool tiny);

void write_text_file(const std::string& path, const std::string& text);
std::string fmt(double v, int digits = 3);  // "%.*f", or "-" for a negative (missing) value

}  // namespace focal::cli::experiments
