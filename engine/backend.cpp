#include "engine/backend.h"

namespace focal {
namespace cpu {
Backend& cpu_backend();
}
namespace cuda {
Backend& cuda_backend();  // engine/cuda/cuda_backend.cu, or engine/cuda_stub.cpp
bool device_present();
}  // namespace cuda

Backend& backend(Device device) {
    return device == Device::CPU ? cpu::cpu_backend() : cuda::cuda_backend();
}

bool cuda_available() { return cuda::device_present(); }

}  // namespace focal
