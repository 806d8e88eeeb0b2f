// Reductions over dims, with keepdim, and sum_to (the adjoint of broadcasting).
#include <algorithm>

#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

using detail::backend_of;
using detail::check_f32;
using detail::view_of;

namespace {

// Sorted, unique, wrapped dims; an empty list means every dim.
std::vector<int64_t> normalize_dims(std::vector<int64_t> dims, int64_t rank, const char* op) {
    if (dims.empty()) {
        for (int64_t d = 0; d < rank; ++d) dims.push_back(d);
        return dims;
    }
    for (int64_t& d : dims) d = wrap_dim(d, rank, op);
    std::sort(dims.begin(), dims.end());
    FOCAL_CHECK(std::adjacent_find(dims.begin(), dims.end()) == dims.end(), "[", op, "] a dim is repeated");
    return dims;
}

// x's shape with the reduced dims set to 1.
Shape keepdim_shape(const Shape& shape, const std::vector<int64_t>& dims) {
    Shape out = shape;
    for (int64_t d : dims) out[d] = 1;
    return out;
}

// Forward of sum/max/min: x viewed as (kept dims..., reduced dims...) without a copy.
Tensor reduce_forward(ReduceOp op, const Tensor& x, const std::vector<int64_t>& dims, bool keepdim, const char* name) {
    OpScope scope(name);
    check_f32(x, name);
    std::vector<bool> reduced(x.dim(), false);
    for (int64_t d : dims) reduced[d] = true;
    View in = view_of(x);
    in.shape.clear();
    in.strides.clear();
    Shape out_shape;
    for (int pass = 0; pass < 2; ++pass)  // kept dims first, then reduced ones
        for (int64_t d = 0; d < x.dim(); ++d)
            if (reduced[d] == (pass == 1)) {
                in.shape.push_back(x.shape()[d]);
                in.strides.push_back(x.strides()[d]);
                if (pass == 0) out_shape.push_back(x.shape()[d]);
            }
    if (op != ReduceOp::Sum)
        for (int64_t d : dims) FOCAL_CHECK(x.shape()[d] > 0, "[", name, "] cannot reduce over an empty dim ", d);
    Tensor y = Tensor::empty(out_shape, DType::F32, x.device());
    backend_of(x).reduce(op, in, view_of(y));
    return keepdim ? y.view(keepdim_shape(x.shape(), dims)) : y;
}

Tensor extreme(ReduceOp op, const Tensor& x, std::vector<int64_t> dims, bool keepdim, const char* name) {
    dims = normalize_dims(std::move(dims), x.dim(), name);
    Tensor y = reduce_forward(op, x, dims, keepdim, name);
    Shape kd = keepdim_shape(x.shape(), dims);
    return record(y, name, {x}, [x = x.detached(), y = y.detached(), kd](Grads& g, const Tensor& dy) {
        // The gradient goes to the elements equal to the extreme, shared evenly at ties.
        Tensor hits = eq(x, y.reshape(kd));
        std::vector<int64_t> reduced;
        for (int64_t d = 0; d < x.dim(); ++d)
            if (kd[d] == 1 && x.shape()[d] != 1) reduced.push_back(d);
        Tensor ties = reduced.empty() ? hits : sum(hits, reduced, true);
        g[0] += dy.reshape(kd) * hits / ties;
    });
}

}  // namespace

Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
    dims = normalize_dims(std::move(dims), x.dim(), "sum");
    Tensor y = reduce_forward(ReduceOp::Sum, x, dims, keepdim, "sum");
    Shape kd = keepdim_shape(x.shape(), dims);
    return record(y, "sum", {x}, [kd, shape = x.shape()](Grads& g, const Tensor& dy) {
        g[0] += dy.reshape(kd).expand(shape);  // every summand gets the output's gradient
    });
}

Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
    dims = normalize_dims(std::move(dims), x.dim(), "mean");
    int64_t count = 1;
    for (int64_t d : dims) count *= x.shape()[d];
    FOCAL_CHECK(count > 0, "[mean] of an empty tensor of shape ", shape_str(x.shape()));
    return sum(x, dims, keepdim) * (1.0f / static_cast<float>(count));
}

Tensor max(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
    return extreme(ReduceOp::Max, x, std::move(dims), keepdim, "max");
}

Tensor min(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
    return extreme(ReduceOp::Min, x, std::move(dims), keepdim, "min");
}

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
    check_f32(x, "argmax");
    dim = wrap_dim(dim, x.dim(), "argmax");
    FOCAL_CHECK(x.shape()[dim] > 0, "[argmax] over an empty dim ", dim);
    // Move `dim` last, keeping the other dims in order: (..., n) -> rows of length n.
    std::vector<int64_t> order;
    for (int64_t d = 0; d < x.dim(); ++d)
        if (d != dim) order.push_back(d);
    order.push_back(dim);
    Tensor moved = x.detached().permute(order);
    const int64_t n = x.shape()[dim], rows = x.numel() / n;
    Shape out_shape(moved.shape().begin(), moved.shape().end() - 1);
    Tensor rows_view = moved.reshape({rows, n});
    Tensor y = Tensor::empty(out_shape, DType::I32, x.device());
    View out = view_of(y);
    out.shape = {rows};
    out.strides = {1};
    backend_of(x).argmax(view_of(rows_view), out);
    return keepdim ? y.unsqueeze(dim) : y;
}

Tensor sum_to(const Tensor& x, const Shape& shape) {
    if (x.shape() == shape) return x;
    FOCAL_CHECK(x.dim() >= static_cast<int64_t>(shape.size()), "[sum_to] cannot sum ", shape_str(x.shape()),
                " to the larger rank of ", shape_str(shape));
    const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
    std::vector<int64_t> dims;
    for (int64_t d = 0; d < x.dim(); ++d) {
        bool leading = d < lead;
        if (!leading) {
            int64_t want = shape[d - lead];
            FOCAL_CHECK(want == x.shape()[d] || want == 1, "[sum_to] shape ", shape_str(x.shape()),
                        " does not broadcast from ", shape_str(shape));
            if (want == x.shape()[d]) continue;
        }
        dims.push_back(d);
    }
    if (dims.empty()) return x.reshape(shape);
    return sum(x, dims, true).reshape(shape);
}

}  // namespace focal
