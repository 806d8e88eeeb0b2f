// The fused sigmoid focal loss on CUDA: one thread per element runs the same per-element
// math as the CPU loop (losses/focal_math.h). Tested for parity with the CPU in
// tests/losses/test_fused_focal.cpp (skipped without a GPU).
#include <cuda_runtime.h>

#include <algorithm>

#include "engine/cuda/cuda_context.h"
#include "engine/error.h"
#include "losses/focal_kernel.h"
#include "losses/focal_math.h"

namespace focal::losses::detail {
namespace {

constexpr int kThreads = 256;

__global__ void sigmoid_focal_kernel(FocalKernelArgs a) {
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < a.n; i += int64_t(blockDim.x) * gridDim.x) {
        const math::LossGrad lg = math::sigmoid_focal(a.x[i], a.t[i], a.alpha, a.gamma);
        const float w = a.weight ? a.weight[i / a.weight_div] : 1.0f;
        a.loss[i] = w * lg.loss;
        if (a.grad) a.grad[i] = a.grad_scale * w * lg.grad;
    }
}

}  // namespace

void sigmoid_focal_cuda(const FocalKernelArgs& args) {
    if (args.n == 0) return;
    const int blocks = static_cast<int>(std::min<int64_t>((args.n + kThreads - 1) / kThreads, 65535));
    sigmoid_focal_kernel<<<blocks, kThreads, 0, cuda::stream()>>>(args);  // queued behind the backend's kernels
    cuda::after_launch("sigmoid_focal_loss_fused");
}

}  // namespace focal::losses::detail
