// CPU kernels behind conv2d and the pools (see Backend for their contracts).
#pragma once
#include <cstdint>

#include "engine/backend.h"

namespace focal::cpu {

void im2col(const Conv2dGeometry& g, const float* x, float* cols);
void col2im(const Conv2dGeometry& g, const float* cols, float* dx);
void max_pool2d(const Conv2dGeometry& g, const float* x, float* y, int32_t* argmax);
void max_pool2d_backward(const Conv2dGeometry& g, const float* dy, const int32_t* argmax, float* dx);
void avg_pool2d(const Conv2dGeometry& g, const float* x, float* y);
void avg_pool2d_backward(const Conv2dGeometry& g, const float* dy, float* dx);

}  // namespace focal::cpu
