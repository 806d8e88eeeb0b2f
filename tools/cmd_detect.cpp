// `focal detect`: draw a trained run's detections on images.
#include <cstdio>

#include "commands.h"
#include "detector/inference.h"
#include "detector/trainer.h"
#include "device_flag.h"
#include "flag_checks.h"

namespace focal::cli {

void add_detect(CLI::App& app) {
    auto run = std::make_shared<std::string>();
    auto images = std::make_shared<std::vector<std::string>>();
    auto out = std::make_shared<std::string>();
    auto weights = std::make_shared<std::string>("best");
    auto min_score = std::make_shared<float>(0.3f);
    auto coco_results = std::make_shared<std::string>();
    auto device = std::make_shared<std::string>("cpu");
    CLI::App* cmd = app.add_subcommand("detect", "Draw a trained run's detections (boxes, classes, scores) on images");
    cmd->add_option("--run", *run, "run directory")->required();
    cmd->add_option("images", *images, "image files (JPEG, PNG, ...)")->required()->check(CLI::ExistingFile);
    cmd->add_option("--out", *out, "folder for the pictures and detections.json")->required();
    cmd->add_option("--weights", *weights, "best or last")->check(CLI::IsMember({"best", "last"}));
    cmd->add_option("--min-score", *min_score, "draw detections scoring at least this")->check(fraction());
    cmd->add_option("--coco-results", *coco_results,
                    "also write every detection to this file in COCO's results format "
                    "(image_id from numeric file names, else 1..N; category_id = label + 1)");
    add_device_flag(cmd, *device);
    cmd->callback([=] {
        const Device on = open_device(*device);
        detector::LoadedRun loaded = detector::load_run(*run, *weights, on);
        std::vector<std::string> written =
            detector::detect_files(*loaded.model, loaded.class_names, *images, *out, *min_score, {}, *coco_results);
        for (const std::string& w : written) std::printf("%s\n", w.c_str());
        std::printf("%zu pictures and detections.json in %s\n", written.size(), out->c_str());
    });
}

}  // namespace focal::cli
