// Tensor storage, creation, metadata, in-place updates and printing.
// The differentiable views (reshape, permute, ...) live in ops/shape.cpp.
#include "engine/tensor.h"

#include <cmath>
#include <cstring>
#include <iomanip>
#include <ostream>

#include "engine/autograd.h"
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"
#include "engine/random.h"

namespace focal {

using detail::view_of;

Storage::Storage(size_t bytes_, Device device_) : bytes(bytes_), device(device_) {
    data = backend(device).allocate(bytes);
}
Storage::~Storage() { backend(device).deallocate(data, bytes); }

// ---------------------------------------------------------------- creation

Tensor Tensor::empty(const Shape& shape, DType dtype, Device device) {
    for (int64_t s : shape) FOCAL_CHECK(s >= 0, "[empty] negative size in shape ", shape_str(shape));
    auto impl = std::make_shared<TensorImpl>();
    impl->storage = std::make_shared<Storage>(focal::numel(shape) * dtype_size(dtype), device);
    impl->shape = shape;
    impl->strides = contiguous_strides(shape);
    impl->dtype = dtype;
    return Tensor(std::move(impl));
}

Tensor Tensor::full(const Shape& shape, float value, DType dtype, Device device) {
    Tensor t = empty(shape, dtype, device);
    backend(device).fill(view_of(t), value);
    return t;
}
Tensor Tensor::zeros(const Shape& shape, DType dtype, Device device) { return full(shape, 0, dtype, device); }
Tensor Tensor::ones(const Shape& shape, DType dtype, Device device) { return full(shape, 1, dtype, device); }
Tensor Tensor::scalar(float value, Device device) { return full({}, value, DType::F32, device); }

Tensor Tensor::arange(int64_t start, int64_t end, int64_t step, DType dtype) {
    FOCAL_CHECK(step != 0, "[arange] step must not be 0");
    int64_t n = std::max<int64_t>(0, (end - start + step - (step > 0 ? 1 : -1)) / step);
    Tensor t = empty({n}, dtype);
    for (int64_t i = 0; i < n; ++i) {
        if (dtype == DType::F32) t.data<float>()[i] = static_cast<float>(start + i * step);
        else t.data<int32_t>()[i] = static_cast<int32_t>(start + i * step);
    }
    return t;
}

Tensor Tensor::rand(const Shape& shape, Generator& gen) {
    Tensor t = empty(shape);
    float* p = t.data<float>();
    const uint64_t first = gen.advance(t.numel());
    for (int64_t i = 0, n = t.numel(); i < n; ++i) p[i] = gen.uniform(first + i);
    return t;
}

Tensor Tensor::randn(const Shape& shape, Generator& gen) {
    Tensor t = empty(shape);
    float* p = t.data<float>();
    const uint64_t first = gen.advance(2 * t.numel());
    for (int64_t i = 0, n = t.numel(); i < n; ++i) {
        // Box-Muller on two uniforms; 1 - u keeps log away from 0.
        double u1 = 1.0 - gen.uniform(first + 2 * i), u2 = gen.uniform(first + 2 * i + 1);
        p[i] = static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2));
    }
    return t;
}

namespace {
template <class T>
Tensor from_host(std::span<const T> values, const Shape& shape, DType dtype, Device device) {
    FOCAL_CHECK(static_cast<int64_t>(values.size()) == numel(shape), "[from_vector] ", values.size(),
                " values do not fill shape ", shape_str(shape));
    Tensor t = Tensor::empty(shape, dtype, device);
    backend(device).copy_from_host(t.raw_data(), values.data(), values.size() * sizeof(T));
    return t;
}
}  // namespace

Tensor Tensor::from_vector(std::span<const float> values, const Shape& shape, Device device) {
    return from_host(values, shape, DType::F32, device);
}
Tensor Tensor::from_vector(std::span<const int32_t> values, const Shape& shape, Device device) {
    return from_host(values, shape, DType::I32, device);
}

template <class T>
std::vector<T> Tensor::to_vector() const {
    constexpr DType want = std::is_same_v<T, float> ? DType::F32 : DType::I32;
    FOCAL_CHECK(dtype() == want, "[to_vector] tensor is ", dtype_name(dtype()), ", asked for ", dtype_name(want));
    Tensor c = contiguous();
    std::vector<T> out(c.numel());
    backend(device()).copy_to_host(out.data(), c.raw_data(), out.size() * sizeof(T));
    return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;

// ---------------------------------------------------------------- metadata

const Shape& Tensor::shape() const { return impl_->shape; }
const Strides& Tensor::strides() const { return impl_->strides; }
int64_t Tensor::offset() const { return impl_->offset; }
DType Tensor::dtype() const { return impl_->dtype; }
Device Tensor::device() const { return impl_->storage->device; }
int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }

bool Tensor::is_contiguous() const {
    int64_t expected = 1;
    for (size_t i = shape().size(); i-- > 0;) {
        if (shape()[i] == 1) continue;
        if (strides()[i] != expected) return false;
        expected *= shape()[i];
    }
    return true;
}

bool Tensor::same_storage(const Tensor& other) const {
    return defined() && other.defined() && impl_->storage == other.impl_->storage;
}

void* Tensor::raw_data() const {
    return static_cast<char*>(impl_->storage->data) + impl_->offset * dtype_size(dtype());
}

template <class T>
T* Tensor::data() const {
    FOCAL_CHECK(device() == Device::CPU, "[data] tensor is on ", device_name(device()),
                "; call .to(Device::CPU) first");
    constexpr DType want = std::is_same_v<T, float> ? DType::F32 : DType::I32;
    FOCAL_CHECK(dtype() == want, "[data] tensor is ", dtype_name(dtype()), ", asked for ", dtype_name(want));
    return static_cast<T*>(raw_data());
}
template float* Tensor::data<float>() const;
template int32_t* Tensor::data<int32_t>() const;

float Tensor::item() const {
    FOCAL_CHECK(numel() == 1, "[item] tensor of shape ", shape_str(shape()), " has ", numel(), " elements, not one");
    if (dtype() == DType::I32) return static_cast<float>(to_vector<int32_t>()[0]);
    return to_vector<float>()[0];
}

Tensor Tensor::to(DType target) const {
    if (target == dtype()) return *this;
    Tensor out = empty(shape(), target, device());
    backend(device()).copy(view_of(*this), view_of(out));
    return out;
}

// ---------------------------------------------------------------- in-place

namespace {
void check_writable(const Tensor& t, const char* op) {
    FOCAL_CHECK(t.defined(), "[", op, "] on an undefined tensor");
    FOCAL_CHECK(!(grad_enabled() && t.requires_grad()), "[", op,
                "] in-place update of a tensor that requires grad; wrap it in NoGradGuard");
}
}  // namespace

Tensor& Tensor::fill_(float value) {
    check_writable(*this, "fill_");
    backend(device()).fill(view_of(*this), value);
    return *this;
}

Tensor& Tensor::copy_(const Tensor& src) {
    check_writable(*this, "copy_");
    detail::check_same_device(*this, src, "copy_");
    backend(device()).copy(detail::broadcast_view(src, shape()), view_of(*this));
    return *this;
}

Tensor& Tensor::add_(const Tensor& other, float alpha) {
    check_writable(*this, "add_");
    detail::check_f32(*this, "add_");
    detail::check_same_device(*this, other, "add_");
    Tensor scaled = alpha == 1.0f ? other : mul_scalar(other.detached(), alpha);
    View self = view_of(*this);
    backend(device()).binary(BinaryOp::Add, self, detail::broadcast_view(scaled, shape()), self);
    return *this;
}

Tensor& Tensor::mul_(float factor) {
    check_writable(*this, "mul_");
    detail::check_f32(*this, "mul_");
    View self = view_of(*this);
    backend(device()).unary(UnaryOp::MulScalar, {factor, 0}, self, self);
    return *this;
}

// ---------------------------------------------------------------- autograd accessors

bool Tensor::requires_grad() const { return impl_->requires_grad; }
bool Tensor::is_leaf() const { return impl_->grad_fn == nullptr; }
const std::shared_ptr<Node>& Tensor::grad_fn() const { return impl_->grad_fn; }
Tensor Tensor::grad() const { return impl_->grad; }
void Tensor::set_grad(const Tensor& grad) const { impl_->grad = grad; }
void Tensor::zero_grad() const { impl_->grad = Tensor(); }
void Tensor::set_grad_buffer(const Tensor& buffer) const {
    FOCAL_CHECK(!buffer.defined() || (buffer.shape() == shape() && buffer.dtype() == dtype() &&
                                      buffer.device() == device() && buffer.is_contiguous()),
                "[set_grad_buffer] a gradient buffer must be contiguous with the tensor's shape, dtype and device");
    impl_->grad_buffer = buffer;
}
void Tensor::set_grad_ready_hook(std::function<void()> hook) const { impl_->grad_ready = std::move(hook); }

Tensor& Tensor::requires_grad_(bool on) {
    if (!is_leaf())
        fail("[requires_grad_] only leaf tensors can be marked; this one comes from ", impl_->grad_fn->name);
    FOCAL_CHECK(!on || dtype() == DType::F32, "[requires_grad_] only float32 tensors can require grad");
    impl_->requires_grad = on;
    return *this;
}

Tensor Tensor::detached() const { return detail::make_view(*this, shape(), strides(), offset()); }

void Tensor::backward() const {
    FOCAL_CHECK(numel() == 1, "[backward] needs a one-element output or an explicit gradient; got shape ",
                shape_str(shape()));
    backward(Tensor::ones(shape(), DType::F32, device()));
}
void Tensor::backward(const Tensor& grad) const { run_backward(*this, grad); }

// ---------------------------------------------------------------- printing

std::ostream& operator<<(std::ostream& out, const Tensor& t) {
    if (!t.defined()) return out << "tensor(undefined)";
    Tensor host = t.to(Device::CPU).to(DType::F32).contiguous();
    const float* p = host.data<float>();
    const Shape& shape = host.shape();
    const int64_t edge = 3;  // elements shown at each end of a long dim
    auto print = [&](auto&& self, size_t d, int64_t base) -> void {
        if (d == shape.size()) {
            out << std::fixed << std::setprecision(4) << p[base];
            return;
        }
        int64_t n = shape[d], stride = host.strides()[d];
        out << "[";
        for (int64_t i = 0; i < n; ++i) {
            if (n > 2 * edge + 1 && i == edge) {
                out << "..., ";
                i = n - edge - 1;
                continue;
            }
            self(self, d + 1, base + i * stride);
            if (i + 1 < n) out << (d + 1 == shape.size() ? ", " : ",\n" + std::string(d + 8, ' '));
        }
        out << "]";
    };
    out << "tensor(";
    print(print, 0, 0);
    out << ", shape=" << shape_str(shape);
    if (t.dtype() != DType::F32) out << ", dtype=" << dtype_name(t.dtype());
    if (t.device() != Device::CPU) out << ", device=" << device_name(t.device());
    if (t.requires_grad()) out << ", requires_grad";
    return out << ")";
}

}  // namespace focal
