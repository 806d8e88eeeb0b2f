#include "engine/device.h"

#include <dlfcn.h>

#include "engine/backend.h"
#include "engine/error.h"

namespace focal {

namespace {

// Whether the NVIDIA driver's library loads at all. Without it the CUDA runtime reports
// "CUDA driver version is insufficient for CUDA runtime version", which on a machine
// without a GPU (or a container started without the driver) misleads.
bool driver_library_loads() {
    void* handle = ::dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (handle) ::dlclose(handle);
    return handle != nullptr;
}

}  // namespace

Device parse_device(const std::string& name) {
    if (name == "cpu") return Device::CPU;
    if (name == "cuda") return Device::CUDA;
    fail("[device] unknown device '", name, "'; known: cpu, cuda");
}

Device open_device(const std::string& name) {
    const Device device = parse_device(name);
#ifdef FOCAL_WITH_CUDA
    FOCAL_CHECK(device == Device::CPU || cuda_available() || driver_library_loads(),
                "[cuda] no NVIDIA driver is installed (libcuda.so.1 cannot be loaded), so no GPU can be used; "
                "use --device cpu");
#endif
    (void)backend(device);  // a CPU-only build, or a driver present but unusable: its own error
    return device;
}

}  // namespace focal
