// `focal experiments --out DIR`: the seed's figures and the paper's ablations in one
// command, on the synthetic shapes set: loss vs p_t, training snapshots, AP over epochs for
// CE / OHEM / FL, where the loss goes (Figure 4 and a per-anchor overlay), ablation tables,
// and DIR/report.md that shows them. Re-running continues: finished runs are reused.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "commands.h"
#include "curves.h"
#include "data/shapes.h"
#include "detector/demo_recipe.h"
#include "device_flag.h"
#include "engine/util.h"
#include "experiments.h"
#include "flag_checks.h"
#include "run_python.h"

namespace focal::cli {
namespace experiments {
namespace fs = std::filesystem;
using nlohmann::json;

std::vector<int> snapshot_epochs(const Options& o) {
    std::vector<int> e = o.snapshots;
    if (e.empty()) e = {std::max(1, o.epochs / 4), std::max(1, o.epochs / 2)};
    e.push_back(o.epochs);
    std::sort(e.begin(), e.end());
    e.erase(std::unique(e.begin(), e.end()), e.end());
    for (int epoch : e)
        FOCAL_CHECK(epoch >= 1 && epoch <= o.epochs, "[experiments] snapshot epoch ", epoch, " is not in 1..",
                    o.epochs);
    return e;
}

void make_tiny(Options& o) {
    o.images = 40;  // 24 train, 8 val, 8 test
    o.epochs = 2;
    o.ablation_epochs = 1;
    o.ablation_images = 0;
    o.analysis_images = 8;
    o.snapshots = {1};
    o.max_iters = 2;
    o.batch = 4;
}

namespace {

std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// "0.105360538" -> "0.1054": four significant digits for the tables; text stays as it is.
std::string readable(const std::string& cell) {
    char* end = nullptr;
    const double v = std::strtod(cell.c_str(), &end);
    if (end != cell.c_str() + cell.size() || cell.find('.') == std::string::npos) return cell;
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return text;
}

// A CSV file as a markdown table (quotes dropped; the files hold no commas inside fields
// except in quoted labels, which are kept whole).
std::string csv_to_markdown(const fs::path& path) {
    std::ifstream in(path);
    std::string line, md;
    bool header = true;
    while (std::getline(in, line)) {
        const std::vector<std::string> cells = split_csv_line(line);
        md += "|";
        for (const std::string& c : cells) md.append(" ").append(c.empty() ? "-" : readable(c)).append(" |");
        md += "\n";
        if (header) {
            md += "|";
            for (size_t i = 0; i < cells.size(); ++i) md += "---|";
            md += "\n";
            header = false;
        }
    }
    return md;
}

std::string figure(const fs::path& out, const std::string& png, const std::string& alt) {
    if (fs::exists(out / png)) return "![" + alt + "](" + png + ")\n";
    return "*(" + png + " not drawn: /usr/bin/python3 with matplotlib is needed; the CSV files are written)*\n";
}

// The data: an existing set (--data), or the demo's synthetic set generated into OUT/data.
std::string prepare_data(const Options& o, const fs::path& out) {
    if (!o.data.empty()) {
        FOCAL_CHECK(fs::exists(o.data), "[experiments] --data ", o.data, " does not exist");
        return fs::absolute(o.data).string();
    }
    const fs::path dir = out / "data";
    const fs::path marker = dir / "focal-shapes.txt";
    if (fs::exists(marker)) {
        const data::ShapesOptions have = data::parse_shapes_marker(read_text(marker), marker.string());
        FOCAL_CHECK(have.images == o.images && have.seed == o.seed, "[experiments] ", dir.string(),
                    " holds another synthetic set (", marker.string(), "), not ", o.images, " images of seed ", o.seed,
                    "; remove it, or pick another --out");
        std::printf("== data: reusing %s\n", dir.c_str());
    } else {
        std::printf("== data: %d synthetic images in %s\n", o.images, dir.c_str());
        data::ShapesOptions shapes = detector::demo_shapes(o.images, o.seed);
        shapes.threads = o.threads;
        data::write_shapes_dataset(dir.string(), shapes);
    }
    return fs::absolute(dir).string();
}

bool matplotlib_works(const std::string& python) {
    if (!fs::exists(python)) return false;
    return run_python(python, {"-c", "import matplotlib, numpy, PIL"}, "experiments") == 0;
}

void write_report(const Options& o, const fs::path& out, const std::string& data_dir, double minutes,
                  const std::vector<RunOutcome>& runs, const std::string& snapshots, const std::string& loss,
                  const std::string& tables, const std::string& first_iterations, const std::string& errors) {
    const detector::TrainConfig recipe = detector::demo_recipe(data_dir, "", o.epochs, o.seed);
    std::ostringstream r;
    const std::time_t t = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&t));
    double run_seconds = 0;
    for (const RunOutcome& run : runs) run_seconds += run.seconds;
    r << "# focal experiments: hard-example mining, made visible\n\n"
      << "Written by `focal experiments` on " << date << ". Training and testing its " << runs.size() << " runs took "
      << fmt(run_seconds / 60, 1) << " minutes (summed over the runs, including any reused "
      << "from an earlier call); this call took " << fmt(minutes, 1) << ". Data: `" << data_dir
      << "` (train / val / test splits). "
      << "Model and recipe: the `demo` preset, " << recipe.optimizer << " lr " << recipe.lr << ", weight decay "
      << recipe.weight_decay << ", " << recipe.schedule << " schedule, warm-up " << recipe.warmup_iters
      << " iterations, batch " << (o.batch > 0 ? o.batch : recipe.batch) << ", seed " << o.seed
      << ". Main runs: " << o.epochs << " epoch(s)"
      << (o.ablations ? "; ablation runs: " + std::to_string(o.ablation_epochs) + " epoch(s)" : "")
      << (o.ablations && o.ablation_images > 0
              ? " on the first " + std::to_string(o.ablation_images) + " training images"
              : "")
      << (o.max_iters > 0 ? "; at most " + std::to_string(o.max_iters) + " iterations per epoch" : "") << ".\n\n"
      << "AP50 is the VOC AP at IoU .5 (all-point area), AP the COCO-style AP averaged over IoU .5:.95, both "
      << "on the test split with each run's final weights unless a column says val. The paper (Lin et al. "
      << "2017) trains ResNet-50/101 RetinaNets on COCO for 90k iterations; these are minutes-long runs of a "
      << "1M-parameter model on 128 px synthetic images, so expect trends, not the paper's numbers.\n\n";

    r << "## 1. Loss vs confidence (the paper's Figure 1)\n\n"
      << figure(out, "curves/focal_curves.png", "FL vs CE")
      << "\nComputed by focal's own loss functions (`curves/focal_curves.csv`). FL (γ 2) against CE at the "
      << "points the paper quotes:\n\n"
      << csv_to_markdown(out / "curves" / "focal_ratios.csv") << "\n";

    r << "## 2. Training snapshots: the false positives on hard negatives fade\n\n"
      << figure(out, "snapshots.png", "detections at early, middle and final epochs")
      << "\nThe same test images (ones with distractors: ellipses, bars, hexagons and hollow outlines that "
      << "resemble the classes) after each snapshot epoch of the FL run. Green boxes are true positives, red "
      << "dashed ones false positives on the background (no object under them: the hard negatives), orange "
      << "dashed ones false positives on an object (wrong class, poor box or duplicate); thin white boxes are "
      << "the ground truth. Detections scoring >= .3 are drawn and counted.\n\n"
      << snapshots << "\n\n"
      << csv_to_markdown(out / "snapshots" / "snapshots.csv") << "\n";

    r << "## 3. AP over epochs: CE, OHEM 1:3 and FL on the same data, budget and seed\n\n"
      << figure(out, "ap_over_epochs.png", "val AP50 over epochs") << "\n"
      << tables.substr(0, tables.find("\n**")) << "\n"
      << "CE is α-balanced BCE with α .25, RetinaNet's α (the paper's best α for CE alone is .75, Table "
      << "1a; the γ = 0 row of the ablation grid has α .5 and .75); OHEM keeps all positives and the "
      << "hardest negatives at 1:3 per image by their CE (Table 1d's 'OHEM 1:3', without its NMS); CE "
      << "without the prior starts every anchor at p = .5 instead of π = .01 (sec. 3.3).\n\n"
      << "Total training loss over the first iterations (`first_iterations.csv`; in brackets the step logged "
      << "last before it, when that one was not logged). Without the prior, every one of the ~10^4 "
      << "(anchor, class) pairs of an image starts at p = .5 and costs log 2, so the first loss is about "
      << "anchors x classes x log 2 / positives; with it, p = π = .01 costs only -log(.99) per pair:\n\n"
      << first_iterations << "\n"
      << "Where each run's errors are (`error_analysis.csv`; Hoiem et al. 2012, as COCO's analyze()): AP50 "
      << "with each kind of false positive removed in turn. A localisation error has an object of its class "
      << "under it at IoU .1-.5, or is a duplicate; a confusion sits on an object of another class (IoU >= "
      << ".1); a background false positive has no object under it (the distractors and clutter: the hard "
      << "negatives focal loss is about). The last column counts each kind among each class's first n "
      << "detections (n = its objects), where AP is decided:\n\n"
      << errors << "\n";

    r << "## 4. Where the loss goes (the paper's Figure 4)\n\n"
      << figure(out, "loss_cdf.png", "loss CDFs") << "\n"
      << figure(out, "loss_overlay.png", "per-anchor loss, CE vs FL") << "\n"
      << loss << "\n\n"
      << csv_to_markdown(out / "analysis" / "loss_shares.csv") << "\n";

    if (o.ablations) r << "## 5. Ablations (Table 1, small)\n\n" << tables.substr(tables.find("\n**") + 1) << "\n";

    r << "## Files\n\n"
      << "- `runs/<name>/`: each training run (config.json, log.jsonl, checkpoints, outcome.json with the "
      << "test AP); a re-run of the command reuses finished runs.\n"
      << "- `ap_over_epochs.csv`, `main_results.csv`, `error_analysis.csv`, `ablation_*.csv`, `ablations.md`: the "
         "numbers above.\n"
      << "- `snapshots/`, `analysis/`, `curves/`: the data behind the figures (drawn by "
      << "tools/plot_experiments.py and tools/plot_curves.py).\n";
    write_text_file((out / "report.md").string(), r.str());
}

void run(Options o, bool tiny) {
    const Device device = open_device(o.device);  // before anything is written
    if (tiny) make_tiny(o);
    FOCAL_CHECK(o.images >= 10, "[experiments] --images must be at least 10, got ", o.images);
    FOCAL_CHECK(o.epochs >= 1 && o.ablation_epochs >= 1, "[experiments] epochs must be positive");
    const std::vector<int> snapshots = snapshot_epochs(o);
    const double start = seconds_now();
    const fs::path out = fs::absolute(o.out);
    fs::create_directories(out);
    if (o.threads > 0) set_num_threads(o.threads);
    const bool plot = o.plot && matplotlib_works(o.python);
    if (o.plot && !plot)
        std::printf("note: %s with matplotlib, numpy and PIL is not available, so no PNGs are drawn (the CSV and JSON "
                    "files are); Debian: apt install python3-matplotlib\n",
                    o.python.c_str());
    const std::string data_dir = prepare_data(o, out);

    std::printf("== 1. loss vs p_t\n");
    CurvesOptions curves;
    curves.out = (out / "curves").string();
    curves.no_plot = !plot;
    curves.python = o.python;
    curves.verbose = false;
    write_curves(curves);

    std::vector<RunSpec> specs = main_runs();
    if (o.ablations)
        for (const RunSpec& s : ablation_runs()) specs.push_back(s);
    std::printf("== training: %zu runs (main %d epochs, ablations %d epochs) in %s\n", specs.size(), o.epochs,
                o.ablation_epochs, (out / "runs").c_str());
    std::vector<RunOutcome> outcomes;
    for (size_t i = 0; i < specs.size(); ++i) {
        std::printf("-- run %zu/%zu %s: %s\n", i + 1, specs.size(), specs[i].name.c_str(), specs[i].label.c_str());
        std::fflush(stdout);  // before the trainer's lines on stderr
        outcomes.push_back(run_or_reuse(specs[i], o, data_dir, (out / "runs").string()));
        const RunOutcome& r = outcomes.back();
        std::printf("   test AP50 %s, AP %s (%.0f s); %.1f min so far\n", fmt(r.test_ap50).c_str(),
                    fmt(r.test_ap).c_str(), r.seconds, (seconds_now() - start) / 60);
    }
    write_ap_over_epochs(outcomes, out.string());
    const std::string tables = write_ablation_tables(outcomes, out.string());
    const std::string first_iterations = write_first_iterations(outcomes, out.string());
    std::printf("== 3. where the errors are (test split)\n");
    const std::string errors = write_error_analysis(outcomes, data_dir, out.string(), device);

    std::printf("== 2. snapshots of the FL run at epochs");
    for (int e : snapshots) std::printf(" %d", e);
    std::printf("\n");
    const std::string focal_run = (out / "runs" / "focal").string();
    const std::string snapshot_summary = write_snapshots(focal_run, snapshots, data_dir, out.string(), 4, device);
    std::printf("== 4. where the loss goes (%d val images)\n", o.analysis_images);
    const std::string loss_summary = write_loss_analysis(focal_run, data_dir, out.string(), o.analysis_images);
    std::printf("%s\n", loss_summary.c_str());
    if (plot) {
        std::fflush(stdout);
        const int status = run_python(o.python, {tool_script("plot_experiments.py"), out.string()}, "experiments");
        FOCAL_CHECK(status == 0, "[experiments] tools/plot_experiments.py failed with status ", status,
                    "; the CSV files are written, --no-plot skips the PNGs");
    }
    write_report(o, out, data_dir, (seconds_now() - start) / 60, outcomes, snapshot_summary, loss_summary, tables,
                 first_iterations, errors);
    std::printf("focal experiments: %s written in %.1f minutes\n", (out / "report.md").c_str(),
                (seconds_now() - start) / 60);
}

}  // namespace
}  // namespace experiments

void add_experiments(CLI::App& app) {
    auto o = std::make_shared<experiments::Options>();
    auto tiny = std::make_shared<bool>(false);
    auto no_plot = std::make_shared<bool>(false);
    auto no_ablations = std::make_shared<bool>(false);
    auto sweep = std::make_shared<std::string>();
    auto sweep_options = std::make_shared<experiments::SweepOptions>();
    CLI::App* cmd = app.add_subcommand(
        "experiments", "Reproduce the focal loss figures and ablations on the synthetic set (report.md, PNGs, CSVs)");
    cmd->add_option("--out", o->out, "output folder (re-running continues it)")->capture_default_str();
    cmd->add_option("--data", o->data, "an existing VOC-format set with train/val/test splits (default: generate)");
    cmd->add_option("--images", o->images, "synthetic images to generate")
        ->capture_default_str()
        ->check(in_range(10, 1e7));
    cmd->add_option("--epochs", o->epochs, "epochs of the main runs (FL, CE, OHEM, CE without prior)")
        ->capture_default_str()
        ->check(positive());
    cmd->add_option("--ablation-epochs", o->ablation_epochs, "epochs of each ablation run")
        ->capture_default_str()
        ->check(positive());
    cmd->add_option("--ablation-images", o->ablation_images, "training images of each ablation run (0 = all)")
        ->capture_default_str()
        ->check(non_negative());
    cmd->add_option("--analysis-images", o->analysis_images, "val images for the loss distributions")
        ->capture_default_str()
        ->check(positive());
    cmd->add_option("--snapshots", o->snapshots, "epochs of the FL run to draw (default: 1/4, 1/2 and all of --epochs)")
        ->delimiter(',');
    cmd->add_option("--batch", o->batch, "batch size (0 = the demo recipe's)")->check(non_negative());
    cmd->add_option("--max-iters", o->max_iters, "at most this many iterations per epoch (0 = all)")
        ->check(non_negative());
    cmd->add_option("--threads", o->threads, "compute threads (0 = all cores)")->check(non_negative());
    cmd->add_option("--seed", o->seed, "random seed of data and training")->capture_default_str();
    add_device_flag(cmd, o->device);
    cmd->add_option("--python", o->python, "python with matplotlib")->capture_default_str();
    cmd->add_flag("--no-ablations", *no_ablations, "only the main runs and the figures");
    cmd->add_flag("--no-plot", *no_plot, "write CSV and JSON only");
    cmd->add_option("--sweep", *sweep,
                    "imbalance: instead of the above, FL vs CE (alpha .25, .75) vs OHEM at three levels of easy "
                    "background, over --seeds seeds, into OUT/imbalance")
        ->check(CLI::IsMember({"imbalance"}));
    cmd->add_option("--seeds", sweep_options->seeds, "--sweep: training seeds per cell")
        ->capture_default_str()
        ->check(positive());
    cmd->add_option("--sweep-epochs", sweep_options->epochs, "--sweep: epochs of every run")
        ->capture_default_str()
        ->check(positive());
    cmd->add_flag("--tiny", *tiny,
                  "40 images, 1-2 epochs of 2 iterations (overrides the budget flags): the pipeline in well under a "
                  "minute");
    cmd->callback([=] {
        experiments::Options opt = *o;
        opt.plot = !*no_plot;
        opt.ablations = !*no_ablations;
        if (!sweep->empty()) experiments::run_imbalance_sweep(opt, *sweep_options, *tiny);
        else experiments::run(opt, *tiny);
    });
}

}  // namespace focal::cli
