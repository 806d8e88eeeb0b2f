// Indexing with int32 indices: index_select (rows by a list) and gather (per-element),
// whose gradients scatter-add back into a zero tensor of the input's shape.
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

using detail::view_of;

namespace {
void check_index(const Tensor& index, const Tensor& x, const char* op) {
    FOCAL_CHECK(index.defined() && index.dtype() == DType::I32, "[", op, "] index must be int32");
    detail::check_same_device(index, x, op);
}
}  // namespace

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
    detail::check_f32(x, "index_select");
    check_index(index, x, "index_select");
    FOCAL_CHECK(index.dim() == 1, "[index_select] index must be 1-D, got shape ", shape_str(index.shape()));
    dim = wrap_dim(dim, x.dim(), "index_select");
    Tensor src = x.detached().contiguous(), idx = index.contiguous();
    Shape shape = x.shape();
    shape[dim] = index.numel();
    Tensor y = Tensor::empty(shape, DType::F32, x.device());
    detail::backend_of(x).index_select(view_of(src), dim, view_of(idx), view_of(y));
    return record(y, "index_select", {x}, [idx, dim, from = x.shape()](Grads& g, const Tensor& dy) {
        Tensor dx = Tensor::zeros(from, DType::F32, dy.device());
        detail::backend_of(dy).index_add(view_of(dy.contiguous()), dim, view_of(idx), view_of(dx));
        g[0] += dx;  // repeated indices accumulate
    });
}

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
    detail::check_f32(x, "gather");
    check_index(index, x, "gather");
    FOCAL_CHECK(index.dim() == x.dim(), "[gather] index has rank ", index.dim(), ", input has rank ", x.dim());
    dim = wrap_dim(dim, x.dim(), "gather");
    for (int64_t d = 0; d < x.dim(); ++d)
        FOCAL_CHECK(d == dim || index.shape()[d] == x.shape()[d], "[gather] index shape ", shape_str(index.shape()),
                    " must match input shape ", shape_str(x.shape()), " outside dim ", dim);
    Tensor src = x.detached().contiguous(), idx = index.contiguous();
    Tensor y = Tensor::empty(index.shape(), DType::F32, x.device());
    detail::backend_of(x).gather(view_of(src), dim, view_of(idx), view_of(y));
    return record(y, "gather", {x}, [idx, dim, from = x.shape()](Grads& g, const Tensor& dy) {
        Tensor dx = Tensor::zeros(from, DType::F32, dy.device());
        detail::backend_of(dy).scatter_add(view_of(dy.contiguous()), dim, view_of(idx), view_of(dx));
        g[0] += dx;
    });
}

}  // namespace focal
