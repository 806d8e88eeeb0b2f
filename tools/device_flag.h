// --device on the commands that run a model (eval, detect, demo, experiments; train has it
// in its settings table, detector/train_config.h). A name other than cpu or cuda is a usage
// error; the device is opened (engine/device.h) before the command reads or writes
// anything, so a missing GPU is one line: "focal: error: [cuda] no CUDA device is available
// (...); use --device cpu".
#pragma once
#include <string>

#include <CLI/CLI.hpp>

#include "engine/device.h"

namespace focal::cli {

inline CLI::Option* add_device_flag(CLI::App* cmd, std::string& device) {
    return cmd
        ->add_option("--device", device, "cpu or cuda (the model runs there; data, NMS and metrics stay on the CPU)")
        ->check(CLI::IsMember({"cpu", "cuda"}))
        ->capture_default_str();
}

}  // namespace focal::cli
