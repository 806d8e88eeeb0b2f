// `focal inspect`: what a dataset (VOC, COCO or YOLO) holds, and what is wrong with it.
#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "data/dataset_stats.h"
#include "detector/anchor_fit.h"
#include "detector/matcher.h"
#include "detector/retinanet.h"
#include "engine/error.h"
#include "engine/serialize.h"
#include "flag_checks.h"

namespace focal::cli {
namespace {

struct InspectOptions {
    std::string data, json;
    data::DatasetOptions dataset;
    bool no_image_check = false, strict = false;
    int show = 20;
    bool anchors = false;         // also the anchor fit (detector/anchor_fit.h)
    std::string preset = "tiny";  // whose anchors and input size
    int64_t image_size = 0;       // 0: the preset's
};

// Candidate anchor sizes (base size / stride) of the fit; the presets use 4 (RetinaNet's).
const std::vector<float> kAnchorSizes = {2, 2.5f, 3, 3.5f, 4, 5, 6};

// Which anchor size matches the dataset's boxes best at the model's input size.
nlohmann::json print_anchor_fit(const data::Dataset& ds, const InspectOptions& opt) {
    detector::RetinaNetConfig model = detector::retinanet_preset(opt.preset, int64_t(ds.classes().size()));
    const int64_t size = opt.image_size > 0 ? opt.image_size : model.image_size;
    const detector::LetterboxedBoxes boxes = detector::letterboxed_boxes(ds, size);
    const float positive_iou = detector::MatcherConfig{}.positive_iou;
    std::vector<float> candidates = kAnchorSizes;
    if (std::find(candidates.begin(), candidates.end(), model.anchors.size_per_stride) == candidates.end())
        candidates.push_back(model.anchors.size_per_stride);
    const auto sweep = detector::anchor_size_sweep(boxes.boxes, model.anchors, size, positive_iou, candidates);
    const auto& a = model.anchors;
    std::printf("anchor fit: the '%s' preset's anchors (%lld per location, strides %lld..%lld) against %zu "
                "non-difficult boxes letterboxed to %lld px%s\n",
                opt.preset.c_str(), (long long)a.per_location(), (long long)a.strides.front(),
                (long long)a.strides.back(), boxes.boxes.size(), (long long)size,
                boxes.unsized_images ? " (images of unknown size left out)" : "");
    std::printf("  %-11s %-14s %12s %14s %16s\n", "size/stride", "anchor sides", "recall@0.5", "mean best IoU",
                "anchors>=0.5/box");
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& c : sweep) {
        const float smallest = c.size_per_stride * float(a.strides.front()) * a.scales.front();
        const float largest = c.size_per_stride * float(a.strides.back()) * a.scales.back();
        char sides[32];
        std::snprintf(sides, sizeof sides, "%.0f-%.0f px", smallest, largest);
        std::printf("  %-11g %-14s %12.3f %14.3f %16.1f%s\n", c.size_per_stride, sides, c.recall, c.mean_best_iou,
                    c.positives_per_box, c.size_per_stride == a.size_per_stride ? "   (the preset)" : "");
        rows.push_back({{"size_per_stride", c.size_per_stride},
                        {"recall", c.recall},
                        {"mean_best_iou", c.mean_best_iou},
                        {"positives_per_box", c.positives_per_box}});
    }
    const auto& best = detector::best_anchor_size(sweep);
    std::printf("best recall (then IoU): size/stride %g, i.e. --model '{\"anchors\": {\"size_per_stride\": %g}}'\n",
                best.size_per_stride, best.size_per_stride);
    return {{"preset", opt.preset},
            {"image_size", size},
            {"boxes", boxes.boxes.size()},
            {"unsized_images", boxes.unsized_images},
            {"positive_iou", positive_iou},
            {"candidates", rows},
            {"best_size_per_stride", best.size_per_stride}};
}

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

void write_json(const data::Dataset& ds, const data::DatasetStats& s, const nlohmann::json& anchor_fit,
                const std::string& path) {
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
    if (!anchor_fit.is_null()) j["anchor_fit"] = anchor_fit;
    write_file_atomically(path, j.dump(2) + "\n");
}

void run_inspect(const InspectOptions& opt) {
    data::DatasetOptions dataset = opt.dataset;
    dataset.skip_bad = true;  // report every problem, not just the first
    dataset.check_images = !opt.no_image_check;
    const data::Dataset ds = data::Dataset::open(opt.data, dataset);
    const data::DatasetStats stats = data::summarize(ds);
    print_report(ds, stats, opt);
    const nlohmann::json anchor_fit = opt.anchors ? print_anchor_fit(ds, opt) : nlohmann::json();
    if (!opt.json.empty()) write_json(ds, stats, anchor_fit, opt.json);
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
    cmd->add_flag("--anchors", opt->anchors,
                  "also measure how well anchors of each size match the boxes at the model's input size, "
                  "and suggest the best");
    cmd->add_option("--preset", opt->preset, "with --anchors: the model whose anchors to fit")->capture_default_str();
    cmd->add_option("--image-size", opt->image_size, "with --anchors: the input size (default: the preset's)")
        ->check(non_negative());
    cmd->add_flag("--strict", opt->strict, "exit with status 1 if any problem is found");
    cmd->callback([opt] { run_inspect(*opt); });
}

}  // namespace focal::cli
