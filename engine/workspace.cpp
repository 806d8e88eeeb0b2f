#include "engine/workspace.h"

#include <array>

#include "engine/error.h"
#include "engine/ops/op_helpers.h"

namespace focal {

namespace {
constexpr int kSlots = 4;
// Per thread, per device, per slot: a float32 tensor grown as needed.
thread_local std::array<std::array<Tensor, kSlots>, 2> t_slots;
}  // namespace

Tensor workspace(int slot, const Shape& shape, Device device) {
    FOCAL_CHECK(slot >= 0 && slot < kSlots, "[workspace] slot ", slot, " is out of range");
    Tensor& buffer = t_slots[static_cast<int>(device)][slot];
    const int64_t n = numel(shape);
    if (!buffer.defined() || buffer.numel() < n) buffer = Tensor::empty({n}, DType::F32, device);
    return detail::make_view(buffer, shape, contiguous_strides(shape), 0);
}

}  // namespace focal
