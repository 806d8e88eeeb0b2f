// The seam between the fused focal op (sigmoid_focal_fused.cpp) and its CUDA kernel
// (sigmoid_focal_fused.cu, or the stub that throws in a CPU-only build). Plain C types
// only, so that nvcc compiles it without the engine's headers.
#pragma once
#include <cstdint>

namespace focal::losses::detail {

// loss[i] = w FL(x[i], t[i]) and grad[i] = grad_scale w dFL/dx(x[i], t[i]) for i < n, with
// w = weight ? weight[i / weight_div] : 1. Pointers are device memory; grad may be null.
struct FocalKernelArgs {
    const float* x;
    const float* t;
    const float* weight;
    int64_t weight_div;
    int64_t n;
    float alpha, gamma, grad_scale;
    float* loss;
    float* grad;
};

void sigmoid_focal_cuda(const FocalKernelArgs& args);  // launches on the default stream

}  // namespace focal::losses::detail
