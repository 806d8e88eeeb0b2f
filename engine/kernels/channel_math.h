// Per-element math of the per-channel kernels behind batch_norm (Backend::channel_stats,
// channel_sums, channel_affine), shared by the CPU and CUDA backends. The products round
// on their own (mul_rn), so the GPU gives the CPU's bits.
#pragma once
#include "engine/kernels/host_device.h"

namespace focal::math {

// out = a * p + r, and out = a * p + b * q + r: batch_norm's forward (x * scale + shift) and
// its input gradient (dy * scale + x * q + r), with p, q, r the channel's constants.
FOCAL_HD float channel_affine(float a, float p, float r) { return mul_rn(a, p) + r; }
FOCAL_HD float channel_affine(float a, float p, float b, float q, float r) { return mul_rn(a, p) + mul_rn(b, q) + r; }

// One term of channel_stats' second pass: the squared deviation from the (float) mean.
FOCAL_HD float squared_deviation(float v, float mean) { return mul_rn(v - mean, v - mean); }

}  // namespace focal::math
