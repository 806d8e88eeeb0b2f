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

// One term of channel_sums' centred sum, a * (b - center). Batch norm's backward needs
// sum dy * (x - mean); computed as sum(dy * x) - mean * sum(dy) in float it would cancel
// wherever |mean| is large against the spread of x.
FOCAL_HD float centered_product(float a, float b, float center) { return mul_rn(a, b - center); }

}  // namespace focal::math
