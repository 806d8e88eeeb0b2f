#include "engine/backend.h"

#include "engine/error.h"

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

namespace {
[[noreturn]] void missing(const Backend& b, const char* kernel) {
    fail("[", device_name(b.device()), "] ", kernel, " is not implemented on this backend yet; "
         "run this model with --device cpu");
}
}  // namespace

void Backend::im2col(const Conv2dGeometry&, const float*, float*) { missing(*this, "im2col"); }
void Backend::col2im(const Conv2dGeometry&, const float*, float*) { missing(*this, "col2im"); }
void Backend::max_pool2d(const Conv2dGeometry&, const float*, float*, int32_t*) {
    missing(*this, "max_pool2d");
}
void Backend::max_pool2d_backward(const Conv2dGeometry&, const float*, const int32_t*, float*) {
    missing(*this, "max_pool2d_backward");
}
void Backend::avg_pool2d(const Conv2dGeometry&, const float*, float*) { missing(*this, "avg_pool2d"); }
void Backend::avg_pool2d_backward(const Conv2dGeometry&, const float*, float*) {
    missing(*this, "avg_pool2d_backward");
}

void Backend::channel_stats(const float*, int64_t, int64_t, int64_t, float*, float*) {
    missing(*this, "channel_stats");
}
void Backend::channel_sums(const float*, const float*, int64_t, int64_t, int64_t, float*, float*) {
    missing(*this, "channel_sums");
}
void Backend::channel_affine(const float*, const float*, const float*, const float*, const float*, int64_t, int64_t,
                             int64_t, float*) {
    missing(*this, "channel_affine");
}

}  // namespace focal
