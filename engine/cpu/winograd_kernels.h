// CPU Winograd transforms behind conv2d's 3x3 stride-1 path (see Backend for the contracts).
#pragma once
#include "engine/backend.h"

namespace focal::cpu {

void winograd_filter(const WinogradGeometry& g, int64_t out_channels, const float* w, float* u);
void winograd_filter_backward(const WinogradGeometry& g, int64_t out_channels, const float* du, float* dw);
void winograd_input(const WinogradGeometry& g, const float* x, float* v);
void winograd_input_backward(const WinogradGeometry& g, const float* dv, float* dx);
void winograd_output(const WinogradGeometry& g, int64_t out_channels, const float* m, const float* bias, float* y);
void winograd_output_backward(const WinogradGeometry& g, int64_t out_channels, const float* dy, float* dm);

}  // namespace focal::cpu
