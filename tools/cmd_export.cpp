// `focal export --run RUN --onnx FILE`: the trained network as ONNX, for ONNX Runtime,
// TensorRT, OpenVINO and the like. focal loads the run (so a bad run is focal's error) and
// writes what a consumer needs beside the network (anchors, normalisation, box coding); the
// network itself goes through the PyTorch mirror of tools/focal_torch.py and torch.onnx.export
// (tools/export_onnx.py), and python3-onnx's checker.
#include <unistd.h>

#include <cstdio>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "data/transforms.h"
#include "detector/trainer.h"
#include "run_python.h"

namespace focal::cli {

namespace fs = std::filesystem;

namespace {

struct ExportOptions {
    std::string run, onnx, weights = "best", python = "/usr/bin/python3";
    int opset = 13;
    bool force = false;
};

// The anchors of the run's input size, (A, 4) x1 y1 x2 y2 in input pixels, and the rest of
// what decoding needs as metadata ("focal.*" keys, JSON values), for tools/export_onnx.py.
void write_extras(const detector::LoadedRun& loaded, const std::string& weights_file, const fs::path& path) {
    const int64_t size = loaded.model_config.image_size;
    const std::vector<data::Box>& anchors = loaded.model->anchors(size, size);
    std::vector<float> corners;
    corners.reserve(anchors.size() * 4);
    for (const data::Box& b : anchors) corners.insert(corners.end(), {b.x1, b.y1, b.x2, b.y2});
    const detector::BoxCoder& coder = loaded.model->coder;
    const nlohmann::json box_coder = {{"weights", coder.weights}, {"clamp", coder.clamp}};
    Metadata metadata{
        {"focal.classes", nlohmann::json(loaded.class_names).dump()},
        {"focal.image_size", std::to_string(size)},
        {"focal.input", "RGB, letterboxed: the longer side scaled to image_size, centred on a square of "
                        "focal.pad_rgb; then (x / 255 - focal.mean) / focal.std per channel, NCHW"},
        {"focal.pad_rgb", nlohmann::json(data::kMeanRgb).dump()},
        {"focal.mean", nlohmann::json(data::kImageNetMean).dump()},
        {"focal.std", nlohmann::json(data::kImageNetStd).dump()},
        {"focal.scores", loaded.model_config.softmax ? "softmax over K + 1 logits, background last" : "sigmoid"},
        {"focal.box_coder", box_coder.dump()},
        {"focal.decode", "cx = ax + dx / wx * aw, cy = ay + dy / wy * ah, w = aw exp(min(dw / ww, clamp)), "
                         "h = ah exp(min(dh / wh, clamp)), with (ax, ay, aw, ah) the anchor's centre and size"},
        {"focal.weights", fs::path(weights_file).filename().string()},
    };
    save_safetensors(path.string(),
                     {{"anchors", Tensor::from_vector(corners, {static_cast<int64_t>(anchors.size()), 4})}}, metadata);
}

void run_export(const ExportOptions& o) {
    FOCAL_CHECK(o.force || !fs::exists(o.onnx), "[export] ", o.onnx, " exists; --force replaces it");
    const detector::LoadedRun loaded = detector::load_run(o.run, o.weights);  // a bad run fails here
    const std::string weights_file = detector::run_weights_file(o.run, o.weights);
    const fs::path out_dir = fs::absolute(o.onnx).parent_path();
    FOCAL_CHECK(fs::is_directory(out_dir), "[export] ", out_dir.string(), " is not a folder");
    const fs::path extras = out_dir / (".focal-export-" + std::to_string(::getpid()) + ".safetensors");
    write_extras(loaded, weights_file, extras);
    std::fflush(stdout);
    int status = 0;
    try {
        status = run_python(o.python,
                            {tool_script("export_onnx.py"), (fs::path(o.run) / "config.json").string(), weights_file,
                             extras.string(), o.onnx, "--opset", std::to_string(o.opset)},
                            "export");
    } catch (...) {
        fs::remove(extras);
        throw;
    }
    fs::remove(extras);
    FOCAL_CHECK(status == 0, "[export] ", tool_script("export_onnx.py"), " failed with status ", status,
                status == 3 ? " (apt install python3-torch python3-onnx)" : "", "; nothing was written to ", o.onnx);
}

}  // namespace

void add_export(CLI::App& app) {
    auto o = std::make_shared<ExportOptions>();
    CLI::App* cmd = app.add_subcommand(
        "export", "Write a trained run's network as ONNX (images in; class logits, box deltas and anchors out)");
    cmd->add_option("--run", o->run, "run directory")->required();
    cmd->add_option("--onnx", o->onnx, "the .onnx file to write")->required();
    cmd->add_option("--weights", o->weights, "best, last or epoch<E> (a snapshot)");
    cmd->add_option("--opset", o->opset, "ONNX opset (torch.onnx.export's opset_version)")->check(CLI::Range(9, 17));
    cmd->add_option("--python", o->python, "python with Debian's python3-torch and python3-onnx");
    cmd->add_flag("--force", o->force, "replace an existing --onnx file");
    cmd->footer("The consumer letterboxes and normalises the image (metadata focal.input), applies the scores'\n"
                "activation (focal.scores), decodes box_deltas against anchors (focal.decode, focal.box_coder),\n"
                "maps the boxes back to the original image and runs per-class NMS: README, 'Export to ONNX'.");
    cmd->callback([o] { run_export(*o); });
}

}  // namespace focal::cli
