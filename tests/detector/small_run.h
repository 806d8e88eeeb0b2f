// A small training run for the detector tests: a 48-image, 64 px shapes set written once per
// process, the demo preset on it for a few steps, scratch run folders, a file's bytes.
#pragma once
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "data/shapes.h"
#include "detector/train_config.h"

namespace focal::test {

inline std::filesystem::path shapes_dir() {
    static const std::filesystem::path dir = [] {
        const std::filesystem::path d =
            std::filesystem::temp_directory_path() / ("focal_shapes_" + std::to_string(::getpid()));
        data::ShapesOptions options;
        options.images = 48;
        options.size = 64;
        options.seed = 3;
        data::write_shapes_dataset(d.string(), options);
        return d;
    }();
    return dir;
}

// 2 epochs of 4 steps of 4 images, evaluated on the test split, every step logged.
inline detector::TrainConfig small_config(const std::string& out) {
    detector::TrainConfig c;
    c.data = shapes_dir().string();
    c.split = "trainval";
    c.val_split = "test";
    c.preset = "demo";
    c.image_size = 64;
    c.batch = 4;
    c.epochs = 2;
    c.max_iters = 4;
    c.warmup_iters = 2;
    c.workers = 1;
    c.out = out;
    c.progress = false;
    c.log_every = 1;
    return c;
}

// An empty scratch folder for run `name` (removed first if a previous test left it).
inline std::filesystem::path run_dir(const std::string& name) {
    const std::filesystem::path d =
        shapes_dir().parent_path() / ("focal_run_" + name + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(d);
    return d;
}

inline std::string file_bytes(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace focal::test
