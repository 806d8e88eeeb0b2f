// `focal inspect`: what a dataset (VOC, COCO or YOLO) holds, and what is wrong with it.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "data/dataset_stats.h"
#include "engine/error.h"
#include "flag_checks.h"

namespace focal::cli {
namespace {

struct InspectOptions {
    std::string data, json;
    data::DatasetOptions dataset;
    bool no_image_check = false, strict = false;
    int show = 20;
};

void print_report(const data::Dataset& ds, const data::DatasetStats& s, const InspectOptions& opt) {
    std::printf("dataset %s (%s), split '%s': %d images (%d without objects), %d objects\n", ds.root().c_str(),
                data::format_name(ds.format()), ds.split().c_str(), s.images, s.empty_images, s.objects);
    std::printf("image sizes: %dx%d to %dx%d\n", s.min_image[0], s.min_image[1], s.max_image[0], s.max_image[1]);
    std::printf("classes (%s):\n", ds.class_source().c_str());
    std::printf("  %-14s %8s %10s\n", "class", "objects", "difficult");
    for (std::size_t k = 0; k < ds.classes().size(); ++k)
        std::printf("  %-14s %8d %10d\n", ds.classes()[k].c_str(), s.per_class[k], s.per_class_difficult[k]);
    std::printf("  %-14s %8d %10d   (%d truncated; at most %d objects in one image)\n", "all", s.objects, s.difficult,
                s.truncated, s.max_objects_per_image);
    const auto& q = s.size_quantiles;
    std::printf("box size sqrt(area) px: min %.0f, 25%% %.0f, median %.0f, 75%% %.0f, max %.0f\n", q[0], q[1], q[2],
                q[3], q[4]);
    std::printf("  small < 32: %d, medium < 96: %d, large: %d\n", s.small, s.medium, s.large);
    const auto& a = s.aspect_quantiles;
    std::printf("box aspect w/h: min %.2f, median %.2f, max %.2f\n", a[0], a[2], a[4]);

    std::vector<std::string> problems = ds.warnings();
    problems.insert(problems.end(), s.problems.begin(), s.problems.end());
    if (problems.empty()) {
        std::printf("problems: none found%s\n", opt.no_image_check ? " (images not read: --no-image-check)" : "");
        return;
    }
    std::printf("problems: %zu (%d images and %d objects skipped; %zu suspicious annotations)\n", problems.size(),
                ds.skipped_images(), ds.skipped_objects(), s.problems.size());
    for (std::size_t i = 0; i < problems.size() && int(i) < opt.show; ++i) std::printf("  %s\n", problems[i].c_str());
    if (int(problems.size()) > opt.show)
        std::printf("  ... and %zu more (--show N prints more)\n", problems.size() - std::size_t(opt.show));
}

void write_json(const data::Dataset& ds, const data::DatasetStats& s, const std::string& path) {
    nlohmann::json j;
    j["root"] = ds.root();
    j["format"] = data::format_name(ds.format());
    j["split"] = ds.split();
    j["classes"] = ds.classes();
    j["images"] = s.images;
    j["objects"] = s.objects;
    j["difficult"] = s.difficult;
    j["truncated"] = s.truncated;
    j["empty_images"] = s.empty_images;
    j["per_class"] = s.per_class;
    j["per_class_difficult"] = s.per_class_difficult;
    j["box_size_quantiles"] = s.size_quantiles;
    j["box_aspect_quantiles"] = s.aspect_quantiles;
    j["size_buckets"] = {{"small", s.small}, {"medium", s.medium}, {"large", s.large}};
    j["skipped_images"] = ds.skipped_images();
    j["skipped_objects"] = ds.skipped_objects();
    j["warnings"] = ds.warnings();
    j["suspicious"] = s.problems;
    std::ofstream out(path);
    out << j.dump(2) << "\n";
    check(bool(out.flush()), "[inspect] cannot write ", path);
}

void run_inspect(const InspectOptions& opt) {
    data::DatasetOptions dataset = opt.dataset;
    dataset.skip_bad = true;  // report every problem, not just the first
    dataset.check_images = !opt.no_image_check;
    const data::Dataset ds = data::Dataset::open(opt.data, dataset);
    const data::DatasetStats stats = data::summarize(ds);
    print_report(ds, stats, opt);
    if (!opt.json.empty()) write_json(ds, stats, opt.json);
    const std::size_t problems = ds.warnings().size() + stats.problems.size();
    check(!opt.strict || problems == 0, "[inspect] ", problems, " problems found (--strict)");
}

}  // namespace

void add_inspect(CLI::App& app) {
    auto opt = std::make_shared<InspectOptions>();
    CLI::App* cmd =
        app.add_subcommand("inspect", "Print what a dataset (VOC, COCO or YOLO) holds and any problems in it");
    cmd->add_option("--data", opt->data,
                    "dataset folder (VOC, COCO or YOLO; docs/data.md), a COCO .json or a data.yaml")
        ->required();
    cmd->add_option("--format", opt->dataset.format, "voc, coco or yolo (default: from the layout)")
        ->check(CLI::IsMember({"voc", "coco", "yolo"}));
    cmd->add_option("--split", opt->dataset.split, "a split name, a .txt list, or 'all'")->capture_default_str();
    cmd->add_option("--year", opt->dataset.year, "VOC<year> inside a VOCdevkit folder (default 2007)")
        ->check(non_negative());
    cmd->add_option("--classes", opt->dataset.classes,
                    "class list: voc | auto (collect the names found) | FILE | a,b,c "
                    "(default: the dataset's own: classes.txt or voc, COCO's categories, data.yaml's names)");
    cmd->add_flag("--no-image-check", opt->no_image_check, "do not read the images (faster; misses truncated files)");
    cmd->add_option("--show", opt->show, "problems to print")->capture_default_str()->check(non_negative());
    cmd->add_option("--json", opt->json, "also write the figures as JSON to this file");
    cmd->add_flag("--strict", opt->strict, "exit with status 1 if any problem is found");
    cmd->callback([opt] { run_inspect(*opt); });
}

}  // namespace focal::cli
