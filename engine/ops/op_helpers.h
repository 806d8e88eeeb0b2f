// Small helpers shared by the op files (not part of the public API).
#pragma once
#include "engine/autograd.h"
#include "engine/backend.h"
#include "engine/error.h"
#include "engine/tensor.h"

namespace focal::detail {

inline View view_of(const Tensor& t) { return View{t.raw_data(), t.shape(), t.strides(), t.dtype()}; }

// t's view with strides for `shape`, where t broadcasts to it (stride 0 along new dims).
View broadcast_view(const Tensor& t, const Shape& shape);

inline Backend& backend_of(const Tensor& t) { return backend(t.device()); }

// The float32 data of t, for passing to a backend kernel (t's dtype checked by the caller).
inline float* f32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }

inline void check_f32(const Tensor& t, const char* op) {
    FOCAL_CHECK(t.defined(), "[", op, "] got an undefined tensor");
    FOCAL_CHECK(t.dtype() == DType::F32, "[", op, "] expects float32, got ", dtype_name(t.dtype()));
}

inline void check_same_device(const Tensor& a, const Tensor& b, const char* op) {
    FOCAL_CHECK(a.device() == b.device(), "[", op, "] tensors are on different devices (", device_name(a.device()),
                " and ", device_name(b.device()), ")");
}

// A new tensor that views t's storage with the given geometry (graph not attached).
Tensor make_view(const Tensor& t, Shape shape, Strides strides, int64_t offset);

}  // namespace focal::detail
