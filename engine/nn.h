// Neural-network ops with gradients: convolution, pooling, upsampling, normalisation,
// linear, dropout. Layouts follow PyTorch: images (N, C, H, W), conv weights (O, C, kh, kw),
// linear weights (out, in). Defined in engine/ops/{conv,pool,norm,nn}.cpp.
#pragma once
#include <cstdint>

#include "engine/random.h"
#include "engine/tensor.h"

namespace focal {

// How conv2d computes: Auto picks by shape (Winograd for 3x3 stride-1 convs, im2col + gemm
// otherwise); the others force one algorithm (for tests and benchmarks) and throw where it
// does not apply. Winograd2/4 are F(2x2, 3x3) and F(4x4, 3x3) (Lavin & Gray 2016).
enum class Conv2dAlgorithm { Auto, Im2col, Winograd2, Winograd4 };

struct Conv2dOptions {
    int64_t stride = 1;
    int64_t padding = 0;
    int64_t dilation = 1;
    Conv2dAlgorithm algorithm = Conv2dAlgorithm::Auto;
};

// (N, C, H, W) * (O, C, kh, kw) [+ bias (O)] -> (N, O, OH, OW).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {}, Conv2dOptions opt = {});

// Pools over kernel x kernel windows; stride defaults to the kernel size (0 = kernel).
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);
Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride = 0, int64_t padding = 0);
Tensor global_avg_pool2d(const Tensor& x);  // (N, C, H, W) -> (N, C, 1, 1)

// Nearest-neighbour upsampling by 2, the FPN top-down path: (N, C, H, W) -> (N, C, 2H, 2W).
Tensor upsample_nearest2x(const Tensor& x);

// Batch normalisation over (N, H, W) per channel (Ioffe & Szegedy 2015).
// training: normalise with the batch statistics and update the running ones in place,
//   running = (1 - momentum) * running + momentum * batch (unbiased variance), as PyTorch;
// eval: normalise with the running statistics. weight/bias (C) may be undefined.
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, Tensor running_mean, Tensor running_var,
                  bool training, float momentum = 0.1f, float eps = 1e-5f);

// Group normalisation (Wu & He 2018): statistics per (n, group) over C/groups * H * W.
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias, float eps = 1e-5f);

// x (..., in) @ weight^T (in, out) [+ bias (out)] -> (..., out).
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = {});

// Zeroes each element with probability p and scales the rest by 1 / (1 - p) (training);
// identity when !training or p == 0. The mask comes from `gen`.
Tensor dropout(const Tensor& x, float p, bool training, Generator& gen);

// Output size of a conv/pool dim: floor((in + 2p - d(k - 1) - 1) / s) + 1.
int64_t conv_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t padding, int64_t dilation);

}  // namespace focal
