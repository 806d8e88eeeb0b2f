// Training snapshots (report section 2): the same test images after early, middle and final
// epochs of the focal run, each detection marked a true positive, a false positive on the
// background (no object under it: a distractor or clutter, the hard negatives), or a false
// positive on an object (wrong class, poor box, duplicate); plus those counts over the whole
// test split, so the fading of the hard-negative false positives is measured, not only shown.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "data/shapes.h"
#include "data/voc.h"
#include "detector/error_analysis.h"
#include "detector/inference.h"
#include "experiments.h"

namespace focal::cli::experiments {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr float kShownScore = 0.3f;  // what `focal detect` draws

}  // namespace

std::vector<int> distractor_counts(const std::string& data_dir, const data::Dataset& ds) {
    std::vector<int> counts(ds.size(), -1);
    const fs::path marker = fs::path(data_dir) / "focal-shapes.txt";
    if (!fs::exists(marker)) return counts;
    data::ShapesOptions o;
    try {
        const std::vector<std::uint8_t> bytes = data::read_file(marker.string());
        o = data::parse_shapes_marker(std::string(bytes.begin(), bytes.end()), marker.string());
    } catch (const Error& e) {
        std::fprintf(stderr, "warning: %s; distractors not counted\n", e.what());
        return counts;
    }
    for (size_t i = 0; i < ds.size(); ++i) {
        const data::Annotation& a = ds.annotation(i);
        int index = -1;
        try {
            index = std::stoi(a.id);
        } catch (const std::exception&) {
            return std::vector<int>(ds.size(), -1);
        }
        const data::Scene scene = data::make_shape_scene(o, index);
        bool same = scene.annotation.objects.size() == a.objects.size();
        for (size_t j = 0; same && j < a.objects.size(); ++j)
            same = data::iou(scene.annotation.objects[j].box, a.objects[j].box) > 0.9;
        if (!same) return std::vector<int>(ds.size(), -1);
        counts[i] = scene.distractors;
    }
    return counts;
}

namespace {

enum class Kind { TruePositive, Background, OnObject, Ignored };
const char* kind_name(Kind k) {
    switch (k) {
        case Kind::TruePositive: return "tp";
        case Kind::Background: return "fp_background";
        case Kind::OnObject: return "fp_object";
        default: return "ignored";
    }
}

// VOC's greedy matching at IoU .5, best score first; a detection on a 'difficult' object is
// neither right nor wrong.
std::vector<Kind> classify(const std::vector<detector::Detection>& dets, const data::Annotation& truth) {
    std::vector<size_t> order(dets.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return dets[a].score > dets[b].score; });
    std::vector<bool> taken(truth.objects.size(), false);
    std::vector<Kind> kinds(dets.size(), Kind::Background);
    for (size_t i : order) {
        double best = 0, any = 0;
        int match = -1;
        for (size_t j = 0; j < truth.objects.size(); ++j) {
            const double o = data::iou(dets[i].box, truth.objects[j].box);
            any = std::max(any, o);
            if (truth.objects[j].label == dets[i].label && o > best) best = o, match = int(j);
        }
        if (best >= 0.5 && truth.objects[size_t(match)].difficult) kinds[i] = Kind::Ignored;
        else if (best >= 0.5 && !taken[size_t(match)]) kinds[i] = Kind::TruePositive, taken[size_t(match)] = true;
        else kinds[i] = any >= 0.1 ? Kind::OnObject : Kind::Background;
    }
    return kinds;
}

json box_json(const data::Box& b) { return {b.x1, b.y1, b.x2, b.y2}; }

}  // namespace

std::string write_snapshots(const std::string& run_dir, const std::vector<int>& epochs, const std::string& data_dir,
                            const std::string& out_dir, int images_shown, Device device) {
    const fs::path dir = fs::path(out_dir) / "snapshots";
    fs::create_directories(dir);
    data::DatasetOptions vo;
    vo.split = "test";
    const data::Dataset ds = data::Dataset::open(data_dir, vo);
    FOCAL_CHECK(ds.size() > 0, "[experiments] the test split of ", data_dir, " is empty");

    // The pictures: test images with objects and at least two distractors (the hard
    // negatives), the first ones in file order, so the choice depends on the data only.
    const std::vector<int> distractors = distractor_counts(data_dir, ds);
    std::vector<size_t> shown;
    for (int min_distractors : {2, 1, -1})
        for (size_t i = 0; i < ds.size() && int(shown.size()) < images_shown; ++i)
            if (distractors[i] >= min_distractors && !ds.annotation(i).objects.empty() &&
                std::find(shown.begin(), shown.end(), i) == shown.end())
                shown.push_back(i);

    json pictures = json::array();
    for (size_t i : shown) {
        json truth = json::array();
        for (const data::Object& o : ds.annotation(i).objects)
            truth.push_back({{"box", box_json(o.box)}, {"label", o.label}, {"difficult", o.difficult}});
        pictures.push_back({{"path", fs::absolute(ds.image_path(i)).string()},
                            {"id", ds.annotation(i).id},
                            {"distractors", distractors[i]},
                            {"truth", truth},
                            {"detections", json::object()}});
    }
    std::string csv = "epoch,test_ap50_area,test_ap50_voc07,images,tp_per_image,fp_background_per_image,"
                      "fp_object_per_image,top_fp_background,top_fp_confusion,top_fp_localization\n";
    json stats = json::array();
    std::vector<std::string> names;
    for (int epoch : epochs) {
        detector::LoadedRun loaded = detector::load_run(run_dir, "epoch" + std::to_string(epoch), device);
        names = loaded.class_names;
        detector::VocEvaluator evaluator(int(loaded.class_names.size()));
        double tp = 0, fp_background = 0, fp_object = 0;
        for (size_t i = 0; i < ds.size(); ++i) {
            const std::vector<detector::Detection> dets = detector::detect(*loaded.model, ds.load_image(i));
            std::vector<detector::GroundTruth> truth;
            for (const data::Object& o : ds.annotation(i).objects) truth.push_back({o.box, o.label, o.difficult});
            evaluator.add_image(truth, dets);
            std::vector<detector::Detection> confident;
            for (const detector::Detection& d : dets)
                if (d.score >= kShownScore) confident.push_back(d);
            const std::vector<Kind> kinds = classify(confident, ds.annotation(i));
            for (Kind k : kinds) {
                if (k == Kind::TruePositive) ++tp;
                else if (k == Kind::Background) ++fp_background;
                else if (k == Kind::OnObject) ++fp_object;
            }
            const auto at = std::find(shown.begin(), shown.end(), i);
            if (at == shown.end()) continue;
            json listed = json::array();
            for (size_t d = 0; d < confident.size(); ++d)
                listed.push_back({{"box", box_json(confident[d].box)},
                                  {"label", confident[d].label},
                                  {"score", confident[d].score},
                                  {"kind", kind_name(kinds[d])}});
            pictures[size_t(at - shown.begin())]["detections"][std::to_string(epoch)] = listed;
        }
        const detector::VocMetrics m = evaluator.compute();
        const detector::ErrorBreakdown e = detector::analyse_errors(evaluator);  // by rank: no score threshold
        const double n = double(ds.size());
        stats.push_back({{"epoch", epoch},
                         {"test_ap50_area", m.map_area},
                         {"test_ap50_voc07", m.map_11point},
                         {"tp_per_image", tp / n},
                         {"fp_background_per_image", fp_background / n},
                         {"fp_object_per_image", fp_object / n},
                         {"top_fp_background", e.top_background},
                         {"top_fp_confusion", e.top_confusion},
                         {"top_fp_localization", e.top_localization}});
        csv += std::to_string(epoch) + "," + fmt(m.map_area, 5) + "," + fmt(m.map_11point, 5) + "," +
               std::to_string(ds.size()) + "," + fmt(tp / n, 4) + "," + fmt(fp_background / n, 4) + "," +
               fmt(fp_object / n, 4) + "," + std::to_string(e.top_background) + "," + std::to_string(e.top_confusion) +
               "," + std::to_string(e.top_localization) + "\n";
        std::printf("  snapshot epoch %d: test AP50 %.3f, per image %.2f TP, %.2f FP on background, %.2f FP on objects "
                    "(score >= %.1f)\n",
                    epoch, m.map_area, tp / n, fp_background / n, fp_object / n, kShownScore);
    }
    const json out = {{"epochs", epochs},
                      {"score_threshold", kShownScore},
                      {"classes", names},
                      {"images", pictures},
                      {"stats", stats}};
    write_text_file((dir / "snapshots.json").string(), out.dump(1) + "\n");
    write_text_file((dir / "snapshots.csv").string(), csv);

    std::ostringstream summary;
    const json& first = stats.front();
    const json& last = stats.back();
    summary << "From epoch " << epochs.front() << " to epoch " << epochs.back()
            << ", false positives (score >= " << kShownScore << ") on the background went from "
            << fmt(first["fp_background_per_image"].get<double>(), 2) << " to "
            << fmt(last["fp_background_per_image"].get<double>(), 2) << " per test image, true positives from "
            << fmt(first["tp_per_image"].get<double>(), 2) << " to " << fmt(last["tp_per_image"].get<double>(), 2)
            << ", test AP50 from " << fmt(first["test_ap50_area"].get<double>()) << " to "
            << fmt(last["test_ap50_area"].get<double>()) << ". Ranked rather than thresholded: among each "
            << "class's first n detections (n = its objects, where AP is decided) the background false positives "
            << "went from " << first["top_fp_background"].get<int>() << " to " << last["top_fp_background"].get<int>()
            << " and the wrong-class ones from " << first["top_fp_confusion"].get<int>() << " to "
            << last["top_fp_confusion"].get<int>() << ".";
    return summary.str();
}

}  // namespace focal::cli::experiments
