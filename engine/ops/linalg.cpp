// matmul: (..., M, K) @ (..., K, N) -> (..., M, N) through the backend's gemm. A transposed
// operand (e.g. b.transpose(-1, -2) in the backward pass) is passed with a transpose flag
// and its own leading dimension, never copied; only layouts gemm cannot express are.
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

namespace {

struct Operand {
    GemmOperand gemm;
    Tensor keep_alive;  // a contiguous copy, when the layout needed one
};

// Can the batch dims [0, rank-2) be walked with one stride? (size-1 dims don't matter)
bool single_batch_stride(const View& v, int64_t* stride) {
    *stride = 0;
    bool first = true;
    int64_t expected = 0;
    for (int64_t d = static_cast<int64_t>(v.shape.size()) - 3; d >= 0; --d) {
        if (v.shape[d] == 1) continue;
        if (first) {
            *stride = v.strides[d];
            first = false;
        } else if (v.strides[d] != expected) {
            return false;
        }
        expected = v.strides[d] * v.shape[d];
    }
    return true;
}

// t broadcast to (batch..., rows, cols), described for gemm.
Operand gemm_operand(const Tensor& t, const Shape& full_shape) {
    View v = detail::broadcast_view(t, full_shape);
    const size_t r = full_shape.size() - 2;
    const int64_t rows = full_shape[r], cols = full_shape[r + 1];
    const int64_t rs = v.strides[r], cs = v.strides[r + 1];
    int64_t batch_stride = 0;
    if (single_batch_stride(v, &batch_stride)) {
        const float* data = v.f32();
        if ((cols == 1 || cs == 1) && (rows == 1 || rs >= std::max<int64_t>(cols, 1)))
            return {{data, rows == 1 ? std::max<int64_t>(cols, 1) : rs, false, batch_stride}, {}};
        if ((rows == 1 || rs == 1) && (cols == 1 || cs >= std::max<int64_t>(rows, 1)))
            return {{data, cols == 1 ? std::max<int64_t>(rows, 1) : cs, true, batch_stride}, {}};
    }
    // Anything else (overlapping rows, scattered batches): one contiguous copy.
    Tensor copy = t.detached().expand(full_shape).contiguous();
    const float* data = static_cast<const float*>(copy.raw_data());
    return {{data, std::max<int64_t>(cols, 1), false, rows * cols}, copy};
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
    OpScope scope("matmul");
    detail::check_f32(a, "matmul");
    detail::check_f32(b, "matmul");
    detail::check_same_device(a, b, "matmul");
    FOCAL_CHECK(a.dim() >= 2 && b.dim() >= 2, "[matmul] needs 2-D or batched operands, got shapes ",
                shape_str(a.shape()), " and ", shape_str(b.shape()));
    const int64_t m = a.size(-2), k = a.size(-1), n = b.size(-1);
    FOCAL_CHECK(b.size(-2) == k, "[matmul] shapes ", shape_str(a.shape()), " and ", shape_str(b.shape()),
                " do not match: ", k, " columns against ", b.size(-2), " rows");
    Shape batch = broadcast_shapes(Shape(a.shape().begin(), a.shape().end() - 2),
                                   Shape(b.shape().begin(), b.shape().end() - 2), "matmul");
    Shape a_shape = batch, b_shape = batch, y_shape = batch;
    a_shape.insert(a_shape.end(), {m, k});
    b_shape.insert(b_shape.end(), {k, n});
    y_shape.insert(y_shape.end(), {m, n});

    Tensor y = Tensor::empty(y_shape, DType::F32, a.device());
    Backend& be = detail::backend_of(a);
    const int64_t batches = numel(batch);
    if (k == 0) {
        be.fill(detail::view_of(y), 0.0f);
    } else if (batches > 0 && m > 0 && n > 0) {
        Operand A = gemm_operand(a, a_shape), B = gemm_operand(b, b_shape);
        be.gemm(batches, m, n, k, 1.0f, A.gemm, B.gemm, 0.0f, static_cast<float*>(y.raw_data()), m * n);
    }
    return record(y, "matmul", {a, b}, [a = a.detached(), b = b.detached()](Grads& g, const Tensor& dy) {
        if (g.needs(0)) g[0] += matmul(dy, b.transpose(-1, -2));  // dA = dY B^T
        if (g.needs(1)) g[1] += matmul(a.transpose(-1, -2), dy);  // dB = A^T dY
    });
}

}  // namespace focal
