#include "detector/inference.h"

#include <filesystem>
#include <nlohmann/json.hpp>

#include "data/transforms.h"
#include "detector/draw.h"
#include "engine/serialize.h"

namespace focal::detector {

std::vector<Detection> detect(RetinaNet& model, const data::Image& image, const InferenceConfig& config) {
    const int size = static_cast<int>(model.config.image_size);
    data::Sample sample;
    sample.image = image;
    sample.source_width = image.width, sample.source_height = image.height;
    data::letterbox(sample, size);
    std::vector<float> pixels(3 * size * size);
    data::normalize_to_chw(sample.image, pixels.data());
    const Device device = model.parameters().front().device();
    const bool was_training = model.is_training();
    model.eval();
    std::vector<Detection> found;
    {
        NoGradGuard no_grad;
        HeadOutputs out = model.forward(Tensor::from_vector(pixels, {1, 3, size, size}, device));
        const std::vector<Box> anchors = make_anchors(model.config.anchors, out.level_sizes);
        found = postprocess(out, anchors, model.config.anchors, BoxCoder{}, config, model.config.softmax, size, size)[0];
    }
    model.train(was_training);
    for (Detection& d : found) {  // letterbox coordinates -> the original image's
        d.box = sample.frame.to_original(d.box);
        d.box.x1 = std::clamp(d.box.x1, 0.0f, float(image.width)), d.box.x2 = std::clamp(d.box.x2, 0.0f, float(image.width));
        d.box.y1 = std::clamp(d.box.y1, 0.0f, float(image.height)), d.box.y2 = std::clamp(d.box.y2, 0.0f, float(image.height));
    }
    return found;
}

std::vector<std::string> detect_files(RetinaNet& model, const std::vector<std::string>& names,
                                      const std::vector<std::string>& paths, const std::string& out_dir,
                                      float min_score, const InferenceConfig& config) {
    namespace fs = std::filesystem;
    fs::create_directories(out_dir);
    nlohmann::json listing = nlohmann::json::object();
    std::vector<std::string> written;
    for (const std::string& path : paths) {
        data::Image image = data::load_image(path);
        std::vector<Detection> found = detect(model, image, config);
        nlohmann::json entries = nlohmann::json::array();
        for (const Detection& d : found)
            entries.push_back({{"label", names.at(d.label)}, {"score", d.score},
                               {"box", {d.box.x1, d.box.y1, d.box.x2, d.box.y2}}});
        listing[path] = entries;
        draw_detections(image, found, names, min_score);
        const std::string out = (fs::path(out_dir) / (fs::path(path).stem().string() + ".jpg")).string();
        data::save_jpeg(image, out, 92);
        written.push_back(out);
    }
    write_file_atomically((fs::path(out_dir) / "detections.json").string(), listing.dump(2) + "\n");
    return written;
}

}  // namespace focal::detector
