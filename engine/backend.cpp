#include "engine/backend.h"

#include "engine/error.h"

namespace focal {
namespace cpu {
Backend& cpu_backend();
}
namespace cuda {
Backend& cuda_backend();  // engine/cuda/cuda_backend.cpp, or engine/cuda_stub.cpp
bool device_present();
}  // namespace cuda

namespace {
thread_local const OpScope* innermost_scope = nullptr;
}  // namespace

OpScope::OpScope(const char* name, const char* suffix) : name_(name), suffix_(suffix), outer_(innermost_scope) {
    innermost_scope = this;
}
OpScope::~OpScope() { innermost_scope = outer_; }

std::string OpScope::current() {
    std::string names;
    for (const OpScope* s = innermost_scope; s; s = s->outer_)
        names = std::string(s->name_) + s->suffix_ + (names.empty() ? "" : " > ") + names;
    return names;
}

Backend& backend(Device device) { return device == Device::CPU ? cpu::cpu_backend() : cuda::cuda_backend(); }

bool cuda_available() { return cuda::device_present(); }

namespace {
[[noreturn]] void missing(const Backend& b, const char* kernel) {
    fail("[", device_name(b.device()), "] ", kernel,
         " is not implemented on this backend yet; "
         "run this model with --device cpu");
}
}  // namespace

void Backend::im2col(const Conv2dGeometry&, const float*, float*) { missing(*this, "im2col"); }
void Backend::col2im(const Conv2dGeometry&, const float*, float*) { missing(*this, "col2im"); }
void Backend::winograd_filter(const WinogradGeometry&, int64_t, const float*, float*) {
    missing(*this, "winograd_filter");
}
void Backend::winograd_filter_backward(const WinogradGeometry&, int64_t, const float*, float*) {
    missing(*this, "winograd_filter_backward");
}
void Backend::winograd_input(const WinogradGeometry&, const float*, float*) { missing(*this, "winograd_input"); }
void Backend::winograd_input_backward(const WinogradGeometry&, const float*, float*) {
    missing(*this, "winograd_input_backward");
}
void Backend::winograd_output(const WinogradGeometry&, int64_t, const float*, const float*, float*) {
    missing(*this, "winograd_output");
}
void Backend::winograd_output_backward(const WinogradGeometry&, int64_t, const float*, float*) {
    missing(*this, "winograd_output_backward");
}
void Backend::max_pool2d(const Conv2dGeometry&, const float*, float*, int32_t*) { missing(*this, "max_pool2d"); }
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
void Backend::channel_sums(const float*, const float*, const float*, int64_t, int64_t, int64_t, float*, float*) {
    missing(*this, "channel_sums");
}
void Backend::channel_affine(const float*, const float*, const float*, const float*, const float*, int64_t, int64_t,
                             int64_t, float*) {
    missing(*this, "channel_affine");
}

}  // namespace focal
