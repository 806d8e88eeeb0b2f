#include "detector/evaluate.h"

#include <cmath>
#include <filesystem>

#include "data/loader.h"
#include "engine/serialize.h"
#include "engine/util.h"

namespace focal::detector {

using nlohmann::json;

json metrics_json(const VocMetrics& m, const std::vector<std::string>& names) {
    json per_class = json::object();
    for (size_t k = 0; k < m.per_class.size(); ++k) {
        const ClassAP& c = m.per_class[k];
        auto value = [](double v) { return std::isnan(v) ? json(nullptr) : json(v); };
        per_class[k < names.size() ? names[k] : std::to_string(k)] = {{"ap50_voc07", value(c.ap_11point)},
                                                                      {"ap50_area", value(c.ap_area)},
                                                                      {"ap_coco", value(c.ap_coco)},
                                                                      {"positives", c.positives},
                                                                      {"detections", c.detections}};
    }
    return {{"map50_voc07", m.map_11point},
            {"map50_area", m.map_area},
            {"map_coco", m.map_coco},
            {"classes_counted", m.classes_counted},
            {"per_class", per_class},
            {"metric", "VOC AP at IoU 0.5: 'voc07' = 11-point interpolation, 'area' = VOC2010+ all-point; "
                       "difficult objects ignored; boxes in the original images' pixels"}};
}

EvalResult evaluate(RetinaNet& model, const std::vector<std::string>& class_names, const EvalOptions& o) {
    const double start = seconds_now();
    data::DatasetOptions vo;
    vo.format = o.format;
    vo.split = o.split;
    vo.year = o.year;
    vo.classes = join(class_names);  // the model's class order, whatever the folder says
    const data::Dataset ds = data::Dataset::open(o.data, vo);
    data::LoaderOptions lo;
    lo.batch_size = o.batch;
    lo.image_size = static_cast<int>(model.config.image_size);
    lo.shuffle = false;
    lo.augment = false;
    lo.workers = o.workers;
    lo.max_items = static_cast<size_t>(std::max<int64_t>(o.max_images, 0));
    data::Loader loader(ds, lo);
    const Device device = model.parameters().front().device();
    VocEvaluator evaluator(static_cast<int>(model.config.num_classes));
    CocoEvaluator coco(static_cast<int>(model.config.num_classes));
    const std::vector<std::int64_t> image_ids = data::coco_image_ids(ds);
    json results = json::array();
    EvalResult result;
    loader.start_epoch(0);
    for (data::Batch b; loader.next(b);) {
        std::vector<Placement> placements;
        for (int i = 0; i < b.n; ++i)
            placements.push_back({b.frames[i], b.original_sizes[i][0], b.original_sizes[i][1]});
        const Tensor images = Tensor::from_vector(b.images, {b.n, 3, b.h, b.w}, device);
        const std::vector<std::vector<Detection>> dets = predict(model, images, placements, o.inference);
        for (int i = 0; i < b.n; ++i) {
            std::vector<GroundTruth> truth;  // as annotated, in the original image's pixels
            std::vector<CocoTruth> coco_truth;
            for (const data::Object& obj : ds.annotation(b.indices[i]).objects) {
                truth.push_back({obj.box, obj.label, obj.difficult});
                coco_truth.push_back({obj.box, obj.label, obj.difficult, obj.area});
            }
            evaluator.add_image(truth, dets[i]);
            coco.add_image(coco_truth, dets[i]);
            if (!o.coco_results.empty())
                for (json& r : coco_results(image_ids[b.indices[i]], dets[i], ds.category_ids())) results.push_back(r);
        }
        result.images += b.n;
    }
    result.metrics = evaluator.compute();
    result.coco = coco.compute();
    result.errors = analyse_errors(evaluator);
    if (!o.coco_results.empty()) write_file_atomically(o.coco_results, results.dump() + "\n");
    result.seconds = seconds_now() - start;
    if (!o.run_dir.empty()) {
        json j = metrics_json(result.metrics, class_names);
        j["split"] = o.split;
        j["coco"] = coco_metrics_json(result.coco, class_names);
        j["images"] = result.images;
        const ErrorBreakdown& e = result.errors;
        j["errors"] = {{"ap50", e.ap50},
                       {"without_localization", e.without_localization},
                       {"without_confusion", e.without_confusion},
                       {"without_background", e.without_background},
                       {"top_fp_localization", e.top_localization},
                       {"top_fp_confusion", e.top_confusion},
                       {"top_fp_background", e.top_background},
                       {"positives", e.positives}};
        if (o.epoch >= 0) j["epoch"] = o.epoch;
        write_file_atomically((std::filesystem::path(o.run_dir) / "metrics.json").string(), j.dump(2) + "\n");
    }
    return result;
}

}  // namespace focal::detector
