#include "detector/inference.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "detector/coco_metric.h"
#include "detector/draw.h"
#include "engine/serialize.h"

namespace focal::detector {

Box Placement::region(int64_t input_width, int64_t input_height) const {
    const Box input{0, 0, float(input_width), float(input_height)};
    if (width <= 0 || height <= 0) return input;
    return intersect(input, frame.apply({0, 0, float(width), float(height)}));
}

std::vector<std::vector<Detection>> detections_in_original(const HeadOutputs& out, const std::vector<Box>& anchors,
                                                           const std::vector<Placement>& placements,
                                                           int64_t input_width, int64_t input_height,
                                                           const InferenceConfig& config, bool softmax,
                                                           const BoxCoder& coder) {
    std::vector<Box> regions;
    for (const Placement& p : placements) regions.push_back(p.region(input_width, input_height));
    std::vector<std::vector<Detection>> found = postprocess(out, anchors, regions, config, softmax, coder);
    for (size_t i = 0; i < found.size(); ++i) {  // input coordinates -> the original image's
        const Placement& p = placements[i];
        std::vector<Detection> mapped;
        for (Detection d : found[i]) {
            d.box = p.frame.to_original(d.box);
            if (p.width > 0 && p.height > 0) d.box = data::clip(d.box, float(p.width), float(p.height));  // rounding
            if (d.box.valid()) mapped.push_back(d);
        }
        found[i] = std::move(mapped);
    }
    return found;
}

std::vector<std::vector<Detection>> predict(RetinaNet& model, const Tensor& images,
                                            const std::vector<Placement>& placements, const InferenceConfig& config) {
    FOCAL_CHECK(images.dim() == 4 && images.size(0) == static_cast<int64_t>(placements.size()), "[predict] ",
                placements.size(), " placements for images of shape ", shape_str(images.shape()));
    const int64_t height = images.size(2), width = images.size(3);
    EvalModeGuard eval_mode(model);
    NoGradGuard no_grad;
    const HeadOutputs out = model.forward(images);
    return detections_in_original(out, model.anchors(height, width), placements, width, height, config,
                                  model.config.softmax, model.coder);
}

std::vector<Detection> detect(RetinaNet& model, const data::Image& image, const InferenceConfig& config) {
    const int size = static_cast<int>(model.config.image_size);
    data::Sample sample;
    sample.image = image;
    sample.source_width = image.width, sample.source_height = image.height;
    data::letterbox(sample, size);
    std::vector<float> pixels(3 * size * size);
    data::normalize_to_chw(sample.image, pixels.data());
    const Device device = model.parameters().front().device();
    const Tensor input = Tensor::from_vector(pixels, {1, 3, size, size}, device);
    return predict(model, input, {Placement{sample.frame, image.width, image.height}}, config)[0];
}

std::vector<std::string> detect_files(RetinaNet& model, const std::vector<std::string>& names,
                                      const std::vector<std::string>& paths, const std::string& out_dir,
                                      float min_score, const InferenceConfig& config,
                                      const std::string& coco_results_path) {
    namespace fs = std::filesystem;
    fs::create_directories(out_dir);
    nlohmann::json listing = nlohmann::json::object(), results = nlohmann::json::array();
    std::vector<std::string> stems;
    for (const std::string& path : paths) stems.push_back(fs::path(path).stem().string());
    const std::vector<std::int64_t> image_ids = data::coco_image_ids(stems);
    std::vector<std::int64_t> category_ids(names.size());
    for (std::size_t k = 0; k < names.size(); ++k) category_ids[k] = std::int64_t(k) + 1;
    std::vector<std::string> written;
    for (std::size_t i = 0; i < paths.size(); ++i) {
        const std::string& path = paths[i];
        data::Image image = data::load_image(path);
        std::vector<Detection> found = detect(model, image, config);
        for (nlohmann::json& r : coco_results(image_ids[i], found, category_ids)) results.push_back(r);
        nlohmann::json entries = nlohmann::json::array();
        for (const Detection& d : found)
            entries.push_back(
                {{"label", names.at(d.label)}, {"score", d.score}, {"box", {d.box.x1, d.box.y1, d.box.x2, d.box.y2}}});
        listing[path] = entries;
        draw_detections(image, found, names, min_score);
        const std::string out = (fs::path(out_dir) / (fs::path(path).stem().string() + ".jpg")).string();
        data::save_jpeg(image, out, 92);
        written.push_back(out);
    }
    write_file_atomically((fs::path(out_dir) / "detections.json").string(), listing.dump(2) + "\n");
    if (!coco_results_path.empty()) write_file_atomically(coco_results_path, results.dump() + "\n");
    return written;
}

}  // namespace focal::detector
