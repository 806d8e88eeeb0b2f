// bench_formats: the three dataset readers (data/dataset.h) side by side on the same images.
// The VOC 2007 sample's val split is converted to COCO and YOLO in a scratch folder (focal
// convert's code); then, for each format, the time to open the split and the loader's images/s
// with 2 workers (training pipeline and evaluation pipeline, 3x256x256, batch 8), the formats
// taking turns so they see the same machine noise, VOC's reader being the peer. Then the time
// to parse a generated COCO file of 100,000 boxes (10,000 images, 20 categories) against
// nlohmann-json's parse of the same text alone (the floor).
// First it checks that the three formats give identical batches and that the parse finds
// every box.
// Usage: bench_formats [VOCdevkit]   (default ../shared/data/VOCdevkit)
// Last line: JSON with every figure.
#include <unistd.h>

#include <filesystem>
#include <random>
#include <tuple>

#include <nlohmann/json.hpp>

#include "bench_loader_run.h"
#include "bench_util.h"
#include "data/coco.h"
#include "data/convert.h"
#include "data/loader.h"

using namespace focal;
using namespace focal::data;
namespace fs = std::filesystem;

namespace {

// Each image's (box, label, ignore) triples, sorted: YOLO lists ignore regions last.
std::vector<std::vector<std::tuple<float, float, float, float, int, int>>> objects(const Batch& b) {
    std::vector<std::vector<std::tuple<float, float, float, float, int, int>>> out(std::size_t(b.n));
    for (std::size_t i = 0; i < out.size(); ++i) {
        for (std::size_t k = 0; k < b.boxes[i].size(); ++k) {
            const Box& r = b.boxes[i][k];
            out[i].emplace_back(r.x1, r.y1, r.x2, r.y2, b.labels[i][k], b.difficult[i][k]);
        }
        std::sort(out[i].begin(), out[i].end());
    }
    return out;
}

std::string coco_text(int images, int boxes_per_image) {
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> u(0, 1);
    nlohmann::json j = {{"images", nlohmann::json::array()},
                        {"annotations", nlohmann::json::array()},
                        {"categories", nlohmann::json::array()}};
    for (int k = 1; k <= 20; ++k) j["categories"].push_back({{"id", k}, {"name", "class" + std::to_string(k)}});
    int id = 1;
    for (int i = 1; i <= images; ++i) {
        j["images"].push_back({{"id", i}, {"file_name", std::to_string(i) + ".jpg"}, {"width", 640}, {"height", 480}});
        for (int b = 0; b < boxes_per_image; ++b) {
            const double w = 4 + u(rng) * 300, h = 4 + u(rng) * 200;
            const double x = u(rng) * (640 - w), y = u(rng) * (480 - h);
            j["annotations"].push_back({{"id", id++},
                                        {"image_id", i},
                                        {"category_id", 1 + int(u(rng) * 20) % 20},
                                        {"bbox", {x, y, w, h}},
                                        {"area", w * h},
                                        {"iscrowd", u(rng) < 0.01 ? 1 : 0}});
        }
    }
    return j.dump();
}

}  // namespace

int main(int argc, char** argv) {
    const std::string devkit = argc > 1 ? argv[1] : FOCAL_SOURCE_DIR "/../shared/data/VOCdevkit";
    if (!fs::is_directory(devkit)) {
        std::fprintf(stderr, "bench_formats: no VOC data at %s (pass a VOCdevkit folder)\n", devkit.c_str());
        return 2;
    }
    const fs::path scratch = fs::temp_directory_path() / ("focal_bench_formats_" + std::to_string(::getpid()));
    fs::remove_all(scratch);
    ConvertOptions co;
    co.input.split = "val";
    co.to = "coco", co.out = (scratch / "coco").string();
    convert_dataset(devkit, co);
    co.to = "yolo", co.out = (scratch / "yolo").string();
    convert_dataset(devkit, co);

    const std::vector<std::pair<std::string, std::string>> sources = {{"voc", devkit},
                                                                      {"coco", (scratch / "coco").string()},
                                                                      {"yolo", (scratch / "yolo").string()}};
    DatasetOptions vo;
    vo.split = "val";
    std::vector<Dataset> sets;
    for (const auto& [name, path] : sources) sets.push_back(Dataset::open(path, vo));
    const int images = 240;
    LoaderOptions o;
    o.batch_size = 8;
    o.image_size = 256;
    o.seed = 1;
    o.workers = 2;
    {
        std::vector<std::unique_ptr<Loader>> owned;
        for (const Dataset& ds : sets) owned.push_back(std::make_unique<Loader>(ds, o));
        for (auto& l : owned) l->start_epoch(0);
        for (int b = 0; b < 4; ++b) {
            Batch x, y, z;
            bench::require(owned[0]->next(x) && owned[1]->next(y) && owned[2]->next(z), "batches available");
            bench::require(x.images == y.images && x.images == z.images, "the three formats give the same pixels");
            bench::require(objects(x) == objects(y) && objects(x) == objects(z),
                           "the three formats give the same boxes, labels and ignore flags");
        }
    }

    nlohmann::json results = nlohmann::json::array();
    std::printf("VOC 2007 sample val split (%zu images) as VOC, COCO and YOLO; %d images through the loader,\n"
                "3x256x256, batch 8, 2 workers; best of 5, the formats taking turns\n",
                sets[0].size(), images);
    std::printf("%-8s %12s %16s %16s\n", "format", "open ms", "train images/s", "eval images/s");
    std::vector<double> open_s(3, 1e30), train_s(3, 1e30), eval_s(3, 1e30);
    LoaderOptions eval = o;
    eval.augment = false;
    eval.shuffle = false;
    for (int r = 0; r < 5; ++r)
        for (std::size_t f = 0; f < 3; ++f) {
            double t = bench::now_seconds();
            Dataset::open(sources[f].second, vo);
            open_s[f] = std::min(open_s[f], bench::now_seconds() - t);
            t = bench::now_seconds();
            bench::run_loader(sets[f], o, images);
            train_s[f] = std::min(train_s[f], bench::now_seconds() - t);
            t = bench::now_seconds();
            bench::run_loader(sets[f], eval, images);
            eval_s[f] = std::min(eval_s[f], bench::now_seconds() - t);
        }
    for (std::size_t f = 0; f < 3; ++f) {
        std::printf("%-8s %12.1f %16.1f %16.1f   (train x%.2f of VOC's)\n", sources[f].first.c_str(), open_s[f] * 1e3,
                    images / train_s[f], images / eval_s[f], train_s[0] / train_s[f]);
        results.push_back({{"format", sources[f].first},
                           {"open_ms", open_s[f] * 1e3},
                           {"train_images_per_s", images / train_s[f]},
                           {"eval_images_per_s", images / eval_s[f]},
                           {"time_ratio_vs_voc", train_s[f] / train_s[0]}});
    }
    fs::remove_all(scratch);

    // Parsing a large COCO file.
    const std::string text = coco_text(10000, 10);
    const CocoFile parsed = parse_coco(text, "bench.json");
    std::size_t boxes = 0;
    for (const Annotation& a : parsed.images) boxes += a.objects.size();
    bench::require(boxes == 100000 && parsed.images.size() == 10000, "every box and image parsed");
    const auto json_parse_alone = [&] {
        const auto j = nlohmann::json::parse(text);
        (void)j;
    };
    const auto [ours, floor] =
        bench::best_seconds_interleaved([&] { parse_coco(text, "bench.json"); }, json_parse_alone, 3, 1);
    std::printf("COCO json, %.1f MB, 10,000 images, 100,000 boxes: parse_coco %.0f ms, nlohmann::json::parse alone "
                "%.0f ms (x%.2f)\n",
                text.size() / 1e6, ours * 1e3, floor * 1e3, ours / floor);
    const nlohmann::json summary = {{"bench", "formats"},
                                    {"loader", results},
                                    {"coco_100k_boxes_ms", ours * 1e3},
                                    {"json_parse_only_ms", floor * 1e3},
                                    {"time_ratio", ours / floor}};
    std::printf("%s\n", summary.dump().c_str());
    return 0;
}
