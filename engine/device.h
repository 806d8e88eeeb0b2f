// The device a flag names (--device cpu|cuda on every command that runs a model), read and
// opened in one place, so each command fails the same way before it starts any work.
#pragma once
#include <string>

#include "engine/shape.h"

namespace focal {

// "cpu" or "cuda"; anything else throws "[device] unknown device 'gpu'; known: cpu, cuda".
Device parse_device(const std::string& name);

// parse_device, then the device's backend started, so that a missing device is one error
// here rather than a failure inside the first op. For cuda, each way it can be missing
// says which it is:
//   a build without CUDA      "[cuda] this focal was built without CUDA ..."
//   no NVIDIA driver          "[cuda] no NVIDIA driver is installed (libcuda.so.1 cannot be loaded) ..."
//   a driver, but no usable   "[cuda] no CUDA device is available (<CUDA's reason: no device, a
//   GPU                        driver older than the runtime, ...>); use --device cpu"
Device open_device(const std::string& name);

}  // namespace focal
