// The algorithms behind conv2d; engine/ops/conv.cpp validates the arguments and picks one.
#pragma once
#include "engine/backend.h"
#include "engine/tensor.h"

namespace focal::detail {

// Workspace slots the conv paths share (engine/workspace.h); a conv's forward and its
// backward each use them only for their own duration.
enum ConvSlot { kConvSlotA = 0, kConvSlotB = 1, kConvSlotC = 2, kConvSlotD = 3 };

// im2col + gemm, any geometry (engine/ops/conv.cpp): one gemm over the whole batch, or one
// per image (better for large images; 1x1 stride-1 convs skip im2col there).
Tensor conv2d_im2col(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dGeometry& g);
Tensor conv2d_im2col_per_image(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dGeometry& g);

// Winograd F(m x m, 3x3), for 3x3 stride-1 dilation-1 convs (engine/ops/conv_winograd.cpp).
Tensor conv2d_winograd(const Tensor& x, const Tensor& weight, const Tensor& bias, const WinogradGeometry& g);

}  // namespace focal::detail
