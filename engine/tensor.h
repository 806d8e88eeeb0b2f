// Tensor: a shape, strides and an offset over shared storage on one device, plus the
// autograd links. A Tensor is a cheap handle (a shared pointer); views share storage.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <memory>
#include <span>
#include <vector>

#include "engine/shape.h"

namespace focal {

struct Node;
class Generator;

// Owns one device allocation; freed through the backend that made it.
struct Storage {
    void* data = nullptr;
    size_t bytes = 0;
    Device device = Device::CPU;
    Storage(size_t bytes, Device device);
    ~Storage();
    Storage(const Storage&) = delete;
    Storage& operator=(const Storage&) = delete;
};

struct TensorImpl;

class Tensor {
public:
    Tensor() = default;  // undefined; defined() is false
    explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

    // ---- creation (seeded where random; the same seed gives the same numbers anywhere)
    static Tensor empty(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
    static Tensor zeros(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
    static Tensor ones(const Shape& shape, DType dtype = DType::F32, Device device = Device::CPU);
    static Tensor full(const Shape& shape, float value, DType dtype = DType::F32, Device device = Device::CPU);
    static Tensor arange(int64_t start, int64_t end, int64_t step = 1, DType dtype = DType::F32);
    static Tensor rand(const Shape& shape, Generator& gen);          // U[0, 1)
    static Tensor randn(const Shape& shape, Generator& gen);         // N(0, 1)
    static Tensor scalar(float value, Device device = Device::CPU);  // shape ()
    static Tensor from_vector(std::span<const float> values, const Shape& shape, Device device = Device::CPU);
    static Tensor from_vector(std::span<const int32_t> values, const Shape& shape, Device device = Device::CPU);
    template <class T>
    std::vector<T> to_vector() const;  // T = float or int32_t; copies to host, row-major

    // ---- metadata
    bool defined() const { return impl_ != nullptr; }
    const Shape& shape() const;
    const Strides& strides() const;
    int64_t offset() const;
    int64_t dim() const { return static_cast<int64_t>(shape().size()); }
    int64_t size(int64_t d) const;  // negative d counts from the end
    int64_t numel() const { return focal::numel(shape()); }
    DType dtype() const;
    Device device() const;
    bool is_contiguous() const;
    bool same_storage(const Tensor& other) const;
    float item() const;  // the value of a one-element tensor

    // Raw pointer at the tensor's offset (host memory only).
    template <class T>
    T* data() const;
    void* raw_data() const;  // at the offset, any device

    // ---- views: no copy, share storage, differentiable
    Tensor reshape(const Shape& shape) const;  // a view when strides allow, else a copy
    Tensor view(const Shape& shape) const;     // a view or an error
    Tensor permute(const std::vector<int64_t>& dims) const;
    Tensor transpose(int64_t a, int64_t b) const;
    Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
    Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
    Tensor select(int64_t dim, int64_t index) const;  // drops dim
    Tensor expand(const Shape& shape) const;
    Tensor unsqueeze(int64_t dim) const;
    Tensor squeeze(int64_t dim) const;
    Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
    Tensor contiguous() const;  // itself when already contiguous
    Tensor clone() const;       // a fresh contiguous copy (differentiable)
    Tensor to(Device device) const;
    Tensor to(DType dtype) const;  // not differentiable

    // ---- in-place (never recorded; refused on tensors that are part of a graph)
    Tensor& fill_(float value);
    Tensor& zero_() { return fill_(0.0f); }
    Tensor& copy_(const Tensor& src);                       // src broadcast to this shape
    Tensor& add_(const Tensor& other, float alpha = 1.0f);  // this += alpha * other
    Tensor& mul_(float factor);

    // ---- autograd
    bool requires_grad() const;
    Tensor& requires_grad_(bool on = true);  // leaves only
    bool is_leaf() const;
    Tensor grad() const;  // undefined until a backward pass reaches this leaf
    void set_grad(const Tensor& grad) const;
    void zero_grad() const;  // drops the gradient (like PyTorch's set_to_none)
    // Where backward writes this leaf's next gradient instead of a fresh tensor: a view into
    // data-parallel training's flat buffer (engine/dist/gradient_reducer.h), so the gradient
    // needs no second copy before the all-reduce. Undefined (the default): a fresh tensor.
    void set_grad_buffer(const Tensor& buffer) const;
    // Called once per backward pass, right after this leaf's gradient for that pass is final
    // (every op that feeds it has run), while backward goes on with the rest of the graph:
    // data-parallel training starts the all-reduce of a bucket there (engine/dist/
    // gradient_reducer.h), as PyTorch DDP does from its autograd hooks. Not called when no
    // gradient reached the leaf. An empty function (the default) removes it.
    void set_grad_ready_hook(std::function<void()> hook) const;
    const std::shared_ptr<Node>& grad_fn() const;
    void backward() const;                    // from a one-element tensor, seed 1
    void backward(const Tensor& grad) const;  // with a given output gradient
    Tensor detached() const;                  // shares storage, no graph

    TensorImpl* impl() const { return impl_.get(); }
    const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

private:
    std::shared_ptr<TensorImpl> impl_;
};

struct TensorImpl {
    std::shared_ptr<Storage> storage;
    Shape shape;
    Strides strides;
    int64_t offset = 0;
    DType dtype = DType::F32;
    bool requires_grad = false;        // set by the user on leaves, by record() on op outputs
    Tensor grad;                       // accumulated by backward() on leaves
    Tensor grad_buffer;                // if defined, backward's first gradient is written here
    std::function<void()> grad_ready;  // if set, called when backward has made `grad` final
    std::shared_ptr<Node> grad_fn;     // the op that made this tensor; null on leaves
};

// Operators (defined with the element-wise ops).
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, float s);
Tensor operator+(float s, const Tensor& a);
Tensor operator-(const Tensor& a, float s);
Tensor operator-(float s, const Tensor& a);
Tensor operator*(const Tensor& a, float s);
Tensor operator*(float s, const Tensor& a);
Tensor operator/(const Tensor& a, float s);

std::ostream& operator<<(std::ostream& out, const Tensor& t);

}  // namespace focal
