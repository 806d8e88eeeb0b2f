// Views (reshape, permute, slice, expand, ...) and joins (cat, stack), with gradients.
// A view shares storage with its base; its backward maps the gradient back to the base's
// geometry: reshape back, permute by the inverse, scatter into a slice, sum an expansion.
#include <numeric>
#include <optional>

#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

using detail::make_view;
using detail::view_of;

Tensor detail::make_view(const Tensor& t, Shape shape, Strides strides, int64_t offset) {
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = t.impl()->storage;
    impl->shape = std::move(shape);
    impl->strides = std::move(strides);
    impl->offset = offset;
    impl->dtype = t.dtype();
    return Tensor(std::move(impl));
}

View detail::broadcast_view(const Tensor& t, const Shape& shape) {
    FOCAL_CHECK(t.dim() <= static_cast<int64_t>(shape.size()), "[broadcast] cannot broadcast ", shape_str(t.shape()),
                " to ", shape_str(shape));
    View v = view_of(t);
    const size_t lead = shape.size() - t.shape().size();
    v.shape = shape;
    v.strides.assign(shape.size(), 0);
    for (size_t d = lead; d < shape.size(); ++d) {
        int64_t have = t.shape()[d - lead];
        FOCAL_CHECK(have == shape[d] || have == 1, "[broadcast] cannot broadcast ", shape_str(t.shape()), " to ",
                    shape_str(shape));
        v.strides[d] = have == 1 ? 0 : t.strides()[d - lead];
    }
    return v;
}

namespace {

// Resolves one -1 entry and checks the element count.
Shape infer_shape(Shape shape, int64_t count, const Shape& from) {
    int64_t known = 1, infer_at = -1;
    for (size_t i = 0; i < shape.size(); ++i) {
        if (shape[i] == -1) {
            FOCAL_CHECK(infer_at < 0, "[reshape] only one dim can be -1, got ", shape_str(shape));
            infer_at = static_cast<int64_t>(i);
        } else {
            FOCAL_CHECK(shape[i] >= 0, "[reshape] invalid size in ", shape_str(shape));
            known *= shape[i];
        }
    }
    if (infer_at >= 0) {
        FOCAL_CHECK(known > 0 && count % known == 0, "[reshape] cannot reshape ", shape_str(from), " to ",
                    shape_str(shape));
        shape[infer_at] = count / known;
    }
    FOCAL_CHECK(numel(shape) == count, "[reshape] cannot reshape ", shape_str(from), " (", count, " elements) to ",
                shape_str(shape));
    return shape;
}

// Strides that view (shape, strides) as new_shape without copying, if any exist: each run
// of dims that is contiguous in memory can be split or merged freely (as in PyTorch).
std::optional<Strides> view_strides(const Shape& shape, const Strides& strides, const Shape& to) {
    Strides out(to.size());
    if (numel(shape) == 0 || shape.empty()) return contiguous_strides(to);
    int64_t view_d = static_cast<int64_t>(to.size()) - 1;
    int64_t chunk_stride = strides.back(), tensor_numel = 1, view_numel = 1;
    for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        tensor_numel *= shape[d];
        bool chunk_ends = d == 0 || (shape[d - 1] != 1 && strides[d - 1] != tensor_numel * chunk_stride);
        if (!chunk_ends) continue;
        while (view_d >= 0 && (view_numel < tensor_numel || to[view_d] == 1)) {
            out[view_d] = view_numel * chunk_stride;
            view_numel *= to[view_d];
            --view_d;
        }
        if (view_numel != tensor_numel) return std::nullopt;
        if (d > 0) {
            chunk_stride = strides[d - 1];
            tensor_numel = view_numel = 1;
        }
    }
    if (view_d != -1) return std::nullopt;
    return out;
}

Tensor copy_of(const Tensor& x) {
    Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
    detail::backend_of(x).copy(view_of(x), view_of(y));
    return y;
}

}  // namespace

Tensor Tensor::view(const Shape& requested) const {
    Shape shape = infer_shape(requested, numel(), this->shape());
    std::optional<Strides> strides = view_strides(this->shape(), this->strides(), shape);
    FOCAL_CHECK(strides.has_value(), "[view] cannot view ", shape_str(this->shape()), " with strides ",
                shape_str(this->strides()), " as ", shape_str(shape), " without a copy; use reshape");
    Tensor y = make_view(*this, shape, *strides, offset());
    return record(y, "view", {*this}, [from = this->shape()](Grads& g, const Tensor& dy) { g[0] += dy.reshape(from); });
}

Tensor Tensor::reshape(const Shape& requested) const {
    Shape shape = infer_shape(requested, numel(), this->shape());
    if (view_strides(this->shape(), this->strides(), shape)) return view(shape);
    return contiguous().view(shape);
}

Tensor Tensor::permute(const std::vector<int64_t>& dims) const {
    FOCAL_CHECK(static_cast<int64_t>(dims.size()) == dim(), "[permute] got ", dims.size(),
                " dims for a tensor of rank ", dim());
    Shape shape(dims.size());
    Strides strides(dims.size());
    std::vector<int64_t> inverse(dims.size(), -1);
    for (size_t i = 0; i < dims.size(); ++i) {
        int64_t d = wrap_dim(dims[i], dim(), "permute");
        FOCAL_CHECK(inverse[d] < 0, "[permute] dim ", d, " appears twice");
        inverse[d] = static_cast<int64_t>(i);
        shape[i] = this->shape()[d];
        strides[i] = this->strides()[d];
    }
    Tensor y = make_view(*this, shape, strides, offset());
    return record(y, "permute", {*this}, [inverse](Grads& g, const Tensor& dy) { g[0] += dy.permute(inverse); });
}

Tensor Tensor::transpose(int64_t a, int64_t b) const {
    std::vector<int64_t> dims(dim());
    std::iota(dims.begin(), dims.end(), 0);
    std::swap(dims[wrap_dim(a, dim(), "transpose")], dims[wrap_dim(b, dim(), "transpose")]);
    return permute(dims);
}

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
    d = wrap_dim(d, dim(), "slice");
    FOCAL_CHECK(step > 0, "[slice] step must be positive, got ", step);
    const int64_t n = shape()[d];
    if (start < 0) start += n;
    if (end < 0) end += n;
    start = std::clamp<int64_t>(start, 0, n);
    end = std::clamp<int64_t>(end, start, n);
    Shape shape = this->shape();
    Strides strides = this->strides();
    shape[d] = (end - start + step - 1) / step;
    strides[d] *= step;
    Tensor y = make_view(*this, shape, strides, offset() + start * this->strides()[d]);
    return record(y, "slice", {*this}, [from = this->shape(), d, start, end, step](Grads& g, const Tensor& dy) {
        Tensor full = Tensor::zeros(from, DType::F32, dy.device());
        full.slice(d, start, end, step).copy_(dy);  // the gradient lands where the slice was
        g[0] += full;
    });
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
    FOCAL_CHECK(length >= 0 && start >= 0 && start + length <= size(d), "[narrow] range [", start, ", ", start + length,
                ") is outside dim ", d, " of size ", size(d));
    return slice(d, start, start + length);
}

Tensor Tensor::select(int64_t d, int64_t index) const {
    d = wrap_dim(d, dim(), "select");
    FOCAL_CHECK(index >= -size(d) && index < size(d), "[select] index ", index, " is out of range for dim ", d,
                " of size ", size(d));
    if (index < 0) index += size(d);
    return slice(d, index, index + 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& shape) const {
    View v = detail::broadcast_view(*this, shape);
    Tensor y = make_view(*this, shape, v.strides, offset());
    return record(y, "expand", {*this}, [](Grads& g, const Tensor& dy) {
        g[0] += dy;  // summed down to the input's shape by Grads
    });
}

Tensor Tensor::unsqueeze(int64_t d) const {
    d = wrap_dim(d, dim() + 1, "unsqueeze");
    Shape shape = this->shape();
    shape.insert(shape.begin() + d, 1);
    return view(shape);
}

Tensor Tensor::squeeze(int64_t d) const {
    d = wrap_dim(d, dim(), "squeeze");
    FOCAL_CHECK(shape()[d] == 1, "[squeeze] dim ", d, " has size ", shape()[d], ", not 1");
    Shape shape = this->shape();
    shape.erase(shape.begin() + d);
    return view(shape);
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
    if (dim() == 0) return reshape({1});
    start_dim = wrap_dim(start_dim, dim(), "flatten");
    end_dim = wrap_dim(end_dim, dim(), "flatten");
    Shape shape(this->shape().begin(), this->shape().begin() + start_dim);
    int64_t merged = 1;
    for (int64_t d = start_dim; d <= end_dim; ++d) merged *= this->shape()[d];
    shape.push_back(merged);
    shape.insert(shape.end(), this->shape().begin() + end_dim + 1, this->shape().end());
    return reshape(shape);
}

Tensor Tensor::contiguous() const {
    if (is_contiguous()) return *this;
    return clone();
}

Tensor Tensor::clone() const {
    Tensor y = copy_of(*this);
    return record(y, "clone", {*this}, [](Grads& g, const Tensor& dy) { g[0] += dy; });
}

Tensor Tensor::to(Device target) const {
    if (target == device()) return *this;
    Tensor src = contiguous();
    Tensor y = Tensor::empty(shape(), dtype(), target);
    const size_t bytes = numel() * dtype_size(dtype());
    if (target == Device::CPU) backend(device()).copy_to_host(y.raw_data(), src.raw_data(), bytes);
    else backend(target).copy_from_host(y.raw_data(), src.raw_data(), bytes);
    return record(y, "to", {*this}, [from = device()](Grads& g, const Tensor& dy) { g[0] += dy.to(from); });
}

Tensor cat(const std::vector<Tensor>& tensors, int64_t dim) {
    FOCAL_CHECK(!tensors.empty(), "[cat] needs at least one tensor");
    const Tensor& first = tensors.front();
    dim = wrap_dim(dim, first.dim(), "cat");
    Shape shape = first.shape();
    shape[dim] = 0;
    for (const Tensor& t : tensors) {
        FOCAL_CHECK(t.dim() == first.dim() && t.dtype() == first.dtype(), "[cat] tensors of shapes ",
                    shape_str(first.shape()), " and ", shape_str(t.shape()), " (or dtypes) differ");
        detail::check_same_device(first, t, "cat");
        for (int64_t d = 0; d < t.dim(); ++d)
            FOCAL_CHECK(d == dim || t.shape()[d] == first.shape()[d], "[cat] shapes ", shape_str(first.shape()),
                        " and ", shape_str(t.shape()), " differ outside dim ", dim);
        shape[dim] += t.shape()[dim];
    }
    Tensor y = Tensor::empty(shape, first.dtype(), first.device());
    std::vector<int64_t> starts;
    int64_t at = 0;
    for (const Tensor& t : tensors) {
        starts.push_back(at);
        Tensor part = y.detached().slice(dim, at, at + t.shape()[dim]);
        detail::backend_of(t).copy(view_of(t), view_of(part));
        at += t.shape()[dim];
    }
    return record(y, "cat", tensors, [starts, dim](Grads& g, const Tensor& dy) {
        for (size_t i = 0; i < starts.size(); ++i) {
            if (!g.needs(i)) continue;
            int64_t end = i + 1 < starts.size() ? starts[i + 1] : dy.shape()[dim];
            g[i] += dy.slice(dim, starts[i], end);
        }
    });
}

Tensor stack(const std::vector<Tensor>& tensors, int64_t dim) {
    FOCAL_CHECK(!tensors.empty(), "[stack] needs at least one tensor");
    dim = wrap_dim(dim, tensors.front().dim() + 1, "stack");
    std::vector<Tensor> expanded;
    for (const Tensor& t : tensors) {
        FOCAL_CHECK(t.shape() == tensors.front().shape(), "[stack] shapes ", shape_str(tensors.front().shape()),
                    " and ", shape_str(t.shape()), " differ");
        expanded.push_back(t.unsqueeze(dim));
    }
    return cat(expanded, dim);
}

}  // namespace focal
