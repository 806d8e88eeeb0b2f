// `focal demo`: the README's main command. Generates the synthetic shapes set, trains the
// `demo` RetinaNet on it with focal loss, scores the held-out test split, draws detections
// on a few test images and plots the loss components and mAP over epochs.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "commands.h"
#include "data/shapes.h"
#include "data/voc.h"
#include "detector/demo_recipe.h"
#include "detector/inference.h"
#include "detector/trainer.h"
#include "device_flag.h"
#include "flag_checks.h"

namespace focal::cli {
namespace fs = std::filesystem;

namespace {

struct DemoOptions {
    std::string out = "runs/demo";
    int images = 6000;
    int epochs = 6;
    int threads = 0;
    uint64_t seed = 0;
    bool keep = false;  // reuse an existing run folder's data
    std::string device = "cpu";
};

void run_demo(const DemoOptions& opt) {
    const Device device = open_device(opt.device);
    const fs::path root(opt.out), data_dir = root / "data", run = root / "run";
    FOCAL_CHECK(!fs::exists(run / "checkpoint.safetensors"), "[demo] ", run.string(),
                " already holds a trained demo; remove it or pass another --out");
    std::printf("== 1/4 synthetic data: %d images of 128 px in %s\n", opt.images, data_dir.string().c_str());
    std::fflush(stdout);  // before the trainer's progress on stderr
    if (!fs::exists(data_dir / "classes.txt"))
        data::write_shapes_dataset(data_dir.string(), detector::demo_shapes(opt.images, opt.seed));
    std::printf("== 2/4 training the demo RetinaNet with focal loss (%d epochs)\n", opt.epochs);
    std::fflush(stdout);
    detector::TrainConfig c = detector::demo_recipe(data_dir.string(), run.string(), opt.epochs, opt.seed);
    c.threads = opt.threads;
    c.device = opt.device;
    detector::TrainResult trained = detector::train(c);

    std::printf("== 3/4 scoring the held-out test split\n");
    detector::LoadedRun loaded = detector::load_run(run.string(), "best", device);
    detector::EvalOptions eo;
    eo.data = c.data, eo.split = "test", eo.run_dir = run.string();
    detector::EvalResult test = detector::evaluate(*loaded.model, loaded.class_names, eo);
    std::printf("%s", detector::format_voc_metrics(test.metrics, loaded.class_names).c_str());

    std::printf("== 4/4 pictures\n");
    data::DatasetOptions vo;
    vo.split = "test";
    const data::Dataset ds = data::Dataset::open(c.data, vo);
    std::vector<std::string> paths;
    for (size_t i = 0; i < std::min<size_t>(ds.size(), 12); ++i) paths.push_back(ds.image_path(i));
    detector::detect_files(*loaded.model, loaded.class_names, paths, (root / "detections").string(), 0.3f);
    const std::string plot =
        "/usr/bin/python3 " FOCAL_SOURCE_DIR "/tools/plot_run.py " + run.string() + " --out " + root.string() + " 2>&1";
    const bool plotted = std::system(plot.c_str()) == 0;
    std::printf("\nfocal demo: test mAP@0.5 = %.3f (VOC07 11-point), %.3f (area); best val %.3f\n",
                test.metrics.map_11point, test.metrics.map_area, trained.best_map);
    std::printf("results in %s:\n  run/            config.json, log.jsonl, checkpoints, metrics.json (test)\n"
                "  detections/     %zu test images with their detections drawn\n",
                root.string().c_str(), paths.size());
    if (plotted)
        std::printf("  loss.png        loss components over iterations\n  map.png         val mAP over epochs\n");
    else std::printf("  (no plots: /usr/bin/python3 with matplotlib is needed: apt-get install python3-matplotlib)\n");
}

}  // namespace

void add_demo(CLI::App& app) {
    auto opt = std::make_shared<DemoOptions>();
    CLI::App* cmd =
        app.add_subcommand("demo", "Generate the synthetic set, train, evaluate, draw and plot (runs/demo)");
    cmd->add_option("--out", opt->out, "output folder");
    cmd->add_option("--images", opt->images, "synthetic images to generate")->check(positive());
    cmd->add_option("--epochs", opt->epochs, "training epochs")->check(positive());
    cmd->add_option("--threads", opt->threads, "compute threads (default: all cores)")->check(non_negative());
    cmd->add_option("--seed", opt->seed, "random seed");
    add_device_flag(cmd, opt->device);
    cmd->callback([opt] { run_demo(*opt); });
}

}  // namespace focal::cli
