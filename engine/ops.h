// The differentiable ops. Each is defined with its gradient beside it under engine/ops/:
//   elementwise.cpp  unary and binary math, comparisons, where
//   reduce.cpp       sum, mean, max, min, argmax, sum_to
//   linalg.cpp       matmul (2-D and batched, through gemm with transpose flags)
//   shape.cpp        reshape, permute, slice, expand, cat, stack (views where possible)
//   index.cpp        index_select, gather
// Binary ops broadcast like NumPy. Comparisons return float32 masks (1 or 0), no gradient.
#pragma once
#include <vector>

#include "engine/tensor.h"

namespace focal {

// ---- element-wise, unary
Tensor neg(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);  // no gradient
Tensor pow(const Tensor& x, float exponent);
Tensor clamp(const Tensor& x, float lo, float hi);
Tensor relu(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor softplus(const Tensor& x);     // log(1 + e^x), finite for any finite x
Tensor log_sigmoid(const Tensor& x);  // log(sigmoid(x)) = -softplus(-x), exact at +-100
Tensor add_scalar(const Tensor& x, float s);
Tensor mul_scalar(const Tensor& x, float s);
Tensor rsub_scalar(float s, const Tensor& x);  // s - x

// ---- element-wise, binary (broadcasting)
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);  // ties split the gradient evenly
Tensor minimum(const Tensor& a, const Tensor& b);
Tensor where(const Tensor& mask, const Tensor& a, const Tensor& b);  // mask != 0 ? a : b

// ---- comparisons (float32 0/1 masks, not differentiable)
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, float s);
Tensor lt(const Tensor& a, float s);

// ---- reductions; an empty `dims` reduces over all dims
Tensor sum(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor mean(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor max(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor min(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);  // int32, first max wins
Tensor sum_to(const Tensor& x, const Shape& shape);                 // undoes broadcasting to `shape`

// ---- linear algebra
// (..., M, K) @ (..., K, N) -> (..., M, N); batch dims broadcast; both at least 2-D.
Tensor matmul(const Tensor& a, const Tensor& b);

// ---- shape (free-function forms of the Tensor view methods, plus joins)
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim);

// ---- indexing with int32 indices
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index 1-D
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);        // out[..j..] = x[..index..]

}  // namespace focal
