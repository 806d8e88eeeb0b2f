// `focal experiments --sweep imbalance`: does focal loss's lead over alpha-balanced CE and OHEM
// grow as the easy negatives do? Lin et al. 2017 argue it should: a dense detector scores
// ~10^5 anchors per image, almost all easy background, which swamps CE's gradient and which
// FL's (1 - p_t)^gamma removes. The sweep holds the objects fixed and grows the background:
//   3k   128 px shapes, the demo model (P3..P6)                              3,060 anchors
//   12k  256 px shapes with the 128 px set's objects (max_object 64), P3..P6  12,240 anchors
//   49k  the same 256 px images, a stride-4 level in place of stride 64       48,960 anchors
// and trains FL (gamma 2, alpha .25), alpha-balanced CE (alpha .25, and the paper's best for
// CE, .75) and OHEM 1:3, each with the prior bias, at every level over --seeds seeds, with the
// same iterations everywhere. It reports negatives per positive at each level (the matcher on
// the training images), test AP with mean and std over seeds, FL's margin over each baseline
// (paired by seed), val AP over training and where FL's loss goes (Figure 4) at each level.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "data/loader.h"
#include "data/shapes.h"
#include "detector/anchors.h"
#include "detector/demo_recipe.h"
#include "detector/matcher.h"
#include "engine/util.h"
#include "experiments.h"
#include "run_python.h"

namespace focal::cli::experiments {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct Level {
    std::string name;      // "3k", ...
    int image_size;        // of the data and the model
    json model;            // --model patch over the demo preset
    std::string data_dir;  // set once the data exists
};

std::vector<Level> levels(int small, int large) {
    const json stride4 = {{"fpn", {{"in_channels", {32, 64, 96, 128}}, {"extra_levels", 0}}},
                          {"anchors", {{"strides", {4, 8, 16, 32}}}}};
    return {{"3k", small, json::object(), ""}, {"12k", large, json::object(), ""}, {"49k", large, stride4, ""}};
}

std::vector<RunSpec> sweep_losses() {
    return {focal_run("fl", 2.0f, 0.25f), ce_run("ce_a0.25", true, 0.25f), ce_run("ce_a0.75", true, 0.75f),
            ohem_run("ohem")};
}

// The shapes set of one image size: `small` px as the demo makes it, or `large` px with the
// small set's objects (drawn from the same count and pixel-size distributions) in more
// background. Placed boxes come out ~13 % larger in mean area on the larger canvas: at the
// small size a large figure is more often given up for overlap or for leaving the picture
// (tests/data/test_shapes.cpp).
std::string prepare_level_data(const Options& o, const fs::path& dir, int size, int small) {
    data::ShapesOptions shapes = detector::demo_shapes(o.images, o.seed);
    shapes.size = size;
    if (size != small) shapes.max_object = small / 2;
    shapes.threads = o.threads;
    const fs::path marker = dir / "focal-shapes.txt";
    if (fs::exists(marker)) {
        std::ifstream in(marker);
        std::stringstream text;
        text << in.rdbuf();
        const data::ShapesOptions have = data::parse_shapes_marker(text.str(), marker.string());
        FOCAL_CHECK(have.images == shapes.images && have.seed == shapes.seed && have.size == shapes.size &&
                        have.max_object == shapes.max_object,
                    "[experiments] ", dir.string(), " holds another synthetic set; remove it, or pick another --out");
    } else {
        std::printf("== data: %d synthetic images of %d px in %s\n", o.images, size, dir.c_str());
        data::write_shapes_dataset(dir.string(), shapes);
    }
    return fs::absolute(dir).string();
}

// What the matcher makes of the training images at one level: anchors per image and, summed
// over the images, positive, background and ignored anchors (before augmentation).
struct Imbalance {
    int64_t images = 0, anchors_per_image = 0, positives = 0, negatives = 0, ignored = 0;
    double negatives_per_positive() const { return positives > 0 ? double(negatives) / double(positives) : -1; }
};

Imbalance count_imbalance(const Level& level, int max_images) {
    detector::TrainConfig c = detector::demo_recipe(level.data_dir, "", 1, 0);
    c.image_size = level.image_size;
    c.model = level.model;
    data::DatasetOptions dopt;
    dopt.split = "train";
    const data::Dataset dataset = data::Dataset::open(level.data_dir, dopt);
    const detector::RetinaNetConfig model = detector::model_config_for(c, int64_t(dataset.classes().size()), false);
    const std::vector<data::Box> anchors =
        detector::make_anchors(model.anchors, detector::level_sizes(model.anchors, level.image_size, level.image_size));
    Imbalance n;
    n.anchors_per_image = int64_t(anchors.size());
    const detector::MatcherConfig matcher;
    for (size_t i = 0; i < dataset.size() && int(i) < max_images; ++i) {
        const data::Sample s = data::load_sample(dataset, i);
        FOCAL_CHECK(s.image.width == level.image_size && s.image.height == level.image_size, "[experiments] ",
                    level.data_dir, ": image ", i, " is not ", level.image_size, " px");
        for (int32_t m : detector::match_anchors(anchors, s.boxes, s.difficult, matcher)) {
            if (m >= 0) ++n.positives;
            else if (m == detector::kMatchBackground) ++n.negatives;
            else ++n.ignored;
        }
        ++n.images;
    }
    return n;
}

struct Stats {
    double mean = -1, std = -1;
    int n = 0;
};

Stats stats(const std::vector<double>& values) {  // std: the sample standard deviation (n - 1)
    Stats s;
    s.n = int(values.size());
    if (values.empty()) return s;
    double sum = 0;
    for (double v : values) sum += v;
    s.mean = sum / double(values.size());
    double squares = 0;
    for (double v : values) squares += (v - s.mean) * (v - s.mean);
    s.std = values.size() > 1 ? std::sqrt(squares / double(values.size() - 1)) : 0;
    return s;
}

std::string signed_fmt(double v, int digits = 3) {
    char text[32];
    std::snprintf(text, sizeof text, "%+.*f", digits, v);
    return text;
}

std::string pm(const Stats& s, bool sign = false) {
    if (s.n == 0) return "-";
    return (sign ? signed_fmt(s.mean) : fmt(s.mean)) + " ± " + fmt(s.std);
}

struct Cell {  // one (level, loss, seed) run
    std::string level, loss;
    int seed = 0;
    RunOutcome outcome;
};

double test_ap50(const Cell& c) { return c.outcome.diverged ? 0.0 : c.outcome.test_ap50; }
double test_ap(const Cell& c) { return c.outcome.diverged ? 0.0 : c.outcome.test_ap; }

std::string figure(const fs::path& out, const std::string& png, const std::string& alt) {
    if (fs::exists(out / png)) return "![" + alt + "](" + png + ")\n";
    return "*(" + png + " not drawn: /usr/bin/python3 with matplotlib is needed; the CSV files are written)*\n";
}

}  // namespace

void run_imbalance_sweep(const Options& given, const SweepOptions& given_sweep, bool tiny) {
    Options o = given;
    SweepOptions sweep = given_sweep;
    int small = 128, large = 256, count_images = 300;
    if (tiny) {  // the pipeline in well under a minute: a few images, 2 iterations per run
        o.images = 20, o.max_iters = 2, o.batch = 2, o.analysis_images = 4;
        sweep.seeds = 2, sweep.epochs = 1;
        small = 64, large = 128, count_images = 8;
    }
    FOCAL_CHECK(sweep.seeds >= 1 && sweep.epochs >= 1, "[experiments] --seeds and --sweep-epochs must be positive");
    FOCAL_CHECK(o.images >= 10, "[experiments] --images must be at least 10, got ", o.images);
    FOCAL_CHECK(o.data.empty(), "[experiments] --sweep makes its own data; --data does not apply");
    open_device(o.device);  // a missing GPU fails before anything is written
    const double start = seconds_now();
    const fs::path out = fs::absolute(o.out) / "imbalance";
    fs::create_directories(out);
    if (o.threads > 0) set_num_threads(o.threads);

    std::vector<Level> all = levels(small, large);
    std::map<int, std::string> data_of_size;
    for (Level& l : all) {
        if (!data_of_size.count(l.image_size))
            data_of_size[l.image_size] =
                prepare_level_data(o, out / ("data" + std::to_string(l.image_size)), l.image_size, small);
        l.data_dir = data_of_size[l.image_size];
    }

    std::printf("== imbalance: anchors and negatives per positive on %d training images per level\n", count_images);
    std::string levels_csv = "level,image_size,anchors_per_image,images,positives,negatives,ignored,"
                             "positives_per_image,negatives_per_positive\n";
    std::map<std::string, Imbalance> imbalance;
    for (const Level& l : all) {
        const Imbalance n = count_imbalance(l, count_images);
        imbalance[l.name] = n;
        levels_csv += l.name + "," + std::to_string(l.image_size) + "," + std::to_string(n.anchors_per_image) + "," +
                      std::to_string(n.images) + "," + std::to_string(n.positives) + "," + std::to_string(n.negatives) +
                      "," + std::to_string(n.ignored) + "," +
                      fmt(double(n.positives) / double(std::max<int64_t>(n.images, 1)), 2) + "," +
                      fmt(n.negatives_per_positive(), 1) + "\n";
        std::printf("   %-4s %6lld anchors/image, %.1f negatives per positive\n", l.name.c_str(),
                    static_cast<long long>(n.anchors_per_image), n.negatives_per_positive());
    }
    write_text_file((out / "sweep_levels.csv").string(), levels_csv);

    // Seeds outermost: an interrupted sweep has whole seeds of every cell, not one cell complete.
    const std::vector<RunSpec> losses = sweep_losses();
    std::vector<Cell> cells;
    const size_t total = size_t(sweep.seeds) * all.size() * losses.size();
    for (int seed = 0; seed < sweep.seeds; ++seed)
        for (const Level& l : all)
            for (const RunSpec& loss : losses) {
                RunSpec spec = loss;
                spec.name = l.name + "_" + loss.name + "_s" + std::to_string(seed);
                spec.epochs = sweep.epochs;
                spec.image_size = l.image_size;
                spec.model = l.model;
                spec.seed_offset = seed;
                spec.log_steps = false;  // the epochs are what the sweep reads; a run's record stays small
                std::printf("-- run %zu/%zu %s: %s, %s anchors, seed %d\n", cells.size() + 1, total, spec.name.c_str(),
                            loss.label.c_str(), l.name.c_str(), int(o.seed) + seed);
                std::fflush(stdout);
                Cell c{l.name, loss.name, seed, run_or_reuse(spec, o, l.data_dir, (out / "runs").string())};
                std::printf("   test AP50 %s, AP %s (%.0f s); %.1f min so far\n", fmt(c.outcome.test_ap50).c_str(),
                            fmt(c.outcome.test_ap).c_str(), c.outcome.seconds, (seconds_now() - start) / 60);
                cells.push_back(std::move(c));
            }

    // Every run, and the per-epoch validation AP.
    std::string runs_csv = "level,anchors_per_image,negatives_per_positive,loss,label,seed,diverged,test_ap50,"
                           "test_ap50_voc07,test_ap,seconds\n";
    std::string epochs_csv = "level,loss,label,seed,epoch,val_ap50_area,val_ap50_voc07\n";
    for (const Cell& c : cells) {
        const Imbalance& n = imbalance[c.level];
        runs_csv += c.level + "," + std::to_string(n.anchors_per_image) + "," + fmt(n.negatives_per_positive(), 1) +
                    "," + c.loss + ",\"" + c.outcome.spec.label + "\"," + std::to_string(c.seed) + "," +
                    (c.outcome.diverged ? "1," : "0,") + fmt(test_ap50(c), 4) + "," +
                    fmt(c.outcome.diverged ? 0.0 : c.outcome.test_ap50_voc07, 4) + "," + fmt(test_ap(c), 4) + "," +
                    fmt(c.outcome.seconds, 1) + "\n";
        for (const EpochPoint& p : c.outcome.epochs)
            epochs_csv += c.level + "," + c.loss + ",\"" + c.outcome.spec.label + "\"," + std::to_string(c.seed) + "," +
                          std::to_string(p.epoch) + "," + fmt(p.map50_area, 4) + "," + fmt(p.map50_voc07, 4) + "\n";
    }
    write_text_file((out / "sweep_runs.csv").string(), runs_csv);
    write_text_file((out / "sweep_ap_over_epochs.csv").string(), epochs_csv);

    // Mean and std over seeds per (level, loss); FL's margin over each baseline, paired by seed.
    auto values = [&](const std::string& level, const std::string& loss, double (*metric)(const Cell&)) {
        std::map<int, double> by_seed;
        for (const Cell& c : cells)
            if (c.level == level && c.loss == loss) by_seed[c.seed] = metric(c);
        return by_seed;
    };
    std::string summary_csv = "level,anchors_per_image,negatives_per_positive,loss,label,seeds,test_ap50_mean,"
                              "test_ap50_std,test_ap_mean,test_ap_std,minutes_per_run\n";
    std::string margins_csv = "level,anchors_per_image,negatives_per_positive,baseline,seeds,ap50_margin_mean,"
                              "ap50_margin_std,ap_margin_mean,ap_margin_std\n";
    std::string table = "| level | anchors / image | negatives per positive |";
    for (const RunSpec& loss : losses) table += " " + loss.label + " |";
    table += " FL − CE α .25 | FL − CE α .75 | FL − OHEM |\n|---|---|---|";
    for (size_t i = 0; i < losses.size() + 3; ++i) table += "---|";
    table += "\n";
    double run_minutes = 0;
    for (const Cell& c : cells) run_minutes += c.outcome.seconds / 60;
    for (const Level& l : all) {
        const Imbalance& n = imbalance[l.name];
        const std::string head =
            l.name + "," + std::to_string(n.anchors_per_image) + "," + fmt(n.negatives_per_positive(), 1) + ",";
        table += "| " + l.name + " | " + std::to_string(n.anchors_per_image) + " | " +
                 fmt(n.negatives_per_positive(), 1) + " |";
        for (const RunSpec& loss : losses) {
            std::vector<double> ap50, ap, minutes;
            for (auto [seed, v] : values(l.name, loss.name, test_ap50)) ap50.push_back(v);
            for (auto [seed, v] : values(l.name, loss.name, test_ap)) ap.push_back(v);
            for (const Cell& c : cells)
                if (c.level == l.name && c.loss == loss.name) minutes.push_back(c.outcome.seconds / 60);
            const Stats s50 = stats(ap50), s = stats(ap), m = stats(minutes);
            summary_csv += head + loss.name + ",\"" + loss.label + "\"," + std::to_string(ap50.size()) + "," +
                           fmt(s50.mean, 4) + "," + fmt(s50.std, 4) + "," + fmt(s.mean, 4) + "," + fmt(s.std, 4) + "," +
                           fmt(m.mean, 2) + "\n";
            table += " " + pm(s50) + " |";
        }
        for (const RunSpec& baseline : losses) {
            if (baseline.name == "fl") continue;
            std::vector<double> d50, d;
            const auto fl50 = values(l.name, "fl", test_ap50), fl = values(l.name, "fl", test_ap);
            const auto b50 = values(l.name, baseline.name, test_ap50), b = values(l.name, baseline.name, test_ap);
            for (auto [seed, v] : fl50)
                if (b50.count(seed)) d50.push_back(v - b50.at(seed));
            for (auto [seed, v] : fl)
                if (b.count(seed)) d.push_back(v - b.at(seed));
            const Stats m50 = stats(d50), m = stats(d);
            margins_csv += head + baseline.name + "," + std::to_string(d50.size()) + "," + signed_fmt(m50.mean, 4) +
                           "," + fmt(m50.std, 4) + "," + signed_fmt(m.mean, 4) + "," + fmt(m.std, 4) + "\n";
            table += " " + pm(m50, true) + " |";
        }
        table += "\n";
    }
    write_text_file((out / "sweep_summary.csv").string(), summary_csv);
    write_text_file((out / "sweep_margins.csv").string(), margins_csv);

    // Where FL's loss goes at each level (the paper's Figure 4), from seed 0's FL run. A sweep
    // continued from a record of its runs (outcome.json, config.json, log.jsonl: no weights)
    // keeps the analysis it made then.
    std::string loss_lines;
    for (const Level& l : all) {
        const fs::path run_dir = out / "runs" / (l.name + "_fl_s0"), level_dir = out / "levels" / l.name;
        const fs::path summary = level_dir / "loss_summary.txt";
        std::string line;
        if (fs::exists(run_dir / "checkpoint.safetensors")) {
            std::printf("== where the loss goes at %s (%d val images)\n", l.name.c_str(), o.analysis_images);
            line = write_loss_analysis(run_dir.string(), l.data_dir, level_dir.string(), o.analysis_images);
            write_text_file(summary.string(), line);
        } else {
            FOCAL_CHECK(fs::exists(summary), "[experiments] ", run_dir.string(),
                        " has no weights and there is no earlier loss analysis (", summary.string(), ")");
            std::ifstream in(summary);
            std::stringstream text;
            text << in.rdbuf();
            line = text.str();
            std::printf("== where the loss goes at %s: kept from an earlier call (%s)\n", l.name.c_str(),
                        summary.c_str());
        }
        loss_lines += "- **" + l.name + "**: " + line + "\n";
    }

    const bool plot =
        o.plot && fs::exists(o.python) && run_python(o.python, {"-c", "import matplotlib, numpy"}, "experiments") == 0;
    if (plot) {
        std::fflush(stdout);
        const int status = run_python(o.python, {tool_script("plot_sweep.py"), out.string()}, "experiments");
        FOCAL_CHECK(status == 0, "[experiments] tools/plot_sweep.py failed with status ", status,
                    "; the CSV files are written, --no-plot skips the PNGs");
    }

    const detector::TrainConfig recipe = detector::demo_recipe("", "", sweep.epochs, o.seed);
    const std::time_t t = std::time(nullptr);
    char date[32];
    std::strftime(date, sizeof date, "%Y-%m-%d %H:%M", std::localtime(&t));
    std::ostringstream r;
    r << "# focal experiments --sweep imbalance: FL vs CE vs OHEM as the easy negatives grow\n\n"
      << "Written on " << date << ". " << cells.size() << " runs (" << losses.size() << " losses x " << all.size()
      << " levels x " << sweep.seeds << " seeds), " << fmt(run_minutes, 1)
      << " minutes of training and testing summed over the runs (including any reused); this call took "
      << fmt((seconds_now() - start) / 60, 1) << " minutes.\n\n"
      << "Every run: the demo recipe (" << recipe.optimizer << " lr " << recipe.lr << ", weight decay "
      << recipe.weight_decay << ", " << recipe.schedule << " schedule, warm-up " << recipe.warmup_iters
      << " iterations, batch " << (o.batch > 0 ? o.batch : recipe.batch) << "), " << sweep.epochs << " epoch(s)"
      << (o.max_iters > 0 ? " of at most " + std::to_string(o.max_iters) + " iterations" : "")
      << ", the prior bias, training seeds " << o.seed << ".." << o.seed + uint64_t(sweep.seeds) - 1
      << ". Data: " << o.images << " synthetic images per image size (60 % train, 20 % val, 20 % test); the " << large
      << " px set holds the " << small << " px set's objects (the same count and pixel-size distributions, max_object "
      << small / 2
      << ") in four times the background; its placed boxes are ~13 % larger in mean area, as fewer large figures are "
      << "given up for overlap or for leaving the picture. AP50: VOC AP at IoU .5 (all-point), AP: COCO AP over IoU "
         ".5:.95, on "
      << "the test split, final weights; mean ± sample std over seeds; margins are paired by seed.\n\n"
      << "## Test AP50 by level\n\n"
      << table << "\n"
      << figure(out, "sweep_margins.png", "FL's margin against negatives per positive") << "\n"
      << figure(out, "sweep_ap_over_epochs.png", "val AP50 over training, per level and loss") << "\n"
      << "## Where the loss goes (Figure 4), per level\n\n"
      << figure(out, "sweep_loss_cdf.png", "loss CDFs per level") << "\n"
      << loss_lines << "\n"
      << "## Files\n\n"
      << "`sweep_levels.csv` (anchors, positives, negatives per level), `sweep_runs.csv` (every run), "
      << "`sweep_summary.csv` (mean and std), `sweep_margins.csv` (FL minus each baseline), "
      << "`sweep_ap_over_epochs.csv`, `levels/<level>/analysis/` (loss distributions), `runs/` (the runs; a "
      << "second call reuses finished ones and resumes an interrupted one).\n";
    write_text_file((out / "report.md").string(), r.str());
    std::printf("focal experiments --sweep imbalance: %s written in %.1f minutes\n", (out / "report.md").c_str(),
                (seconds_now() - start) / 60);
}

}  // namespace focal::cli::experiments
