// Scratch memory reused across calls: conv2d's im2col columns and its gemm output are
// large (tens of MB at batch 8) and needed only for the duration of one forward or
// backward, so each lives in a numbered slot that grows to the largest size asked of it
// and is then reused, never reallocated.
#pragma once
#include "engine/tensor.h"

namespace focal {

// A contiguous (shape) tensor over slot `slot` of this thread's workspace on `device`.
// Its contents are undefined, and it is valid only until the next request for the same
// slot on the same thread: use it as scratch, never return it.
Tensor workspace(int slot, const Shape& shape, Device device);

}  // namespace focal
