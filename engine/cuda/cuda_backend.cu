// The CUDA backend: cudaMalloc'd memory, cuBLAS for gemm, and simple strided kernels whose
// per-element math is the same __host__ __device__ code the CPU backend runs
// (engine/kernels/elementwise_math.h). Every CUDA and cuBLAS call is checked.
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <mutex>

#include "engine/backend.h"
#include "engine/cpu/strided_loop.h"
#include "engine/error.h"
#include "engine/kernels/elementwise_math.h"

namespace focal::cuda {
namespace {

#define FOCAL_CUDA_CHECK(call)                                                                  \
    do {                                                                                        \
        cudaError_t status_ = (call);                                                           \
        if (status_ != cudaSuccess) fail("[cuda] ", #call, " failed: ", cudaGetErrorString(status_)); \
    } while (0)

#define FOCAL_CUBLAS_CHECK(call)                                                                \
    do {                                                                                        \
        cublasStatus_t status_ = (call);                                                        \
        if (status_ != CUBLAS_STATUS_SUCCESS)                                                   \
            fail("[cuda] ", #call, " failed: ", cublasGetStatusString(status_));                \
    } while (0)

constexpr int kMaxDims = 8;
constexpr int kThreads = 256;

// Shape and per-operand strides of a coalesced element-wise launch, passed by value.
template <int N>
struct Geometry {
    int rank = 0;
    int64_t numel = 1;
    int64_t shape[kMaxDims];
    int64_t strides[N][kMaxDims];

    __device__ void offsets(int64_t linear, int64_t (&out)[N]) const {
        for (int k = 0; k < N; ++k) out[k] = 0;
        for (int d = rank - 1; d >= 0; --d) {
            int64_t i = linear % shape[d];
            linear /= shape[d];
            for (int k = 0; k < N; ++k) out[k] += i * strides[k][d];
        }
    }
};

template <int N>
Geometry<N> geometry(const Shape& shape, std::array<const View*, N> views) {
    std::array<const Strides*, N> strides;
    for (int k = 0; k < N; ++k) strides[k] = &views[k]->strides;
    cpu::StridedLayout<N> layout = cpu::coalesce<N>(shape, strides);
    FOCAL_CHECK(layout.shape.size() <= kMaxDims, "[cuda] tensors of more than ", kMaxDims,
          " non-mergeable dims are not supported");
    Geometry<N> g;
    g.rank = static_cast<int>(layout.shape.size());
    g.numel = numel(shape);
    for (int d = 0; d < g.rank; ++d) {
        g.shape[d] = layout.shape[d];
        for (int k = 0; k < N; ++k) g.strides[k][d] = layout.strides[k][d];
    }
    return g;
}

int blocks_for(int64_t n) { return static_cast<int>(std::min<int64_t>((n + kThreads - 1) / kThreads, 65535)); }

#define FOCAL_GRID_LOOP(i, n) \
    for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < (n); i += int64_t(blockDim.x) * gridDim.x)

template <UnaryOp OP>
__global__ void unary_kernel(Geometry<2> g, UnaryParams p, const float* x, float* y) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[2];
        g.offsets(i, off);
        y[off[0]] = math::unary(OP, p, x[off[1]]);
    }
}

template <BinaryOp OP>
__global__ void binary_kernel(Geometry<3> g, const float* a, const float* b, float* y) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[3];
        g.offsets(i, off);
        y[off[0]] = math::binary(OP, a[off[1]], b[off[2]]);
    }
}

__global__ void where_kernel(Geometry<4> g, const float* m, const float* a, const float* b, float* y) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[4];
        g.offsets(i, off);
        y[off[0]] = m[off[1]] != 0.0f ? a[off[2]] : b[off[3]];
    }
}

template <class From, class To>
__global__ void copy_kernel(Geometry<2> g, const From* src, To* dst) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[2];
        g.offsets(i, off);
        dst[off[0]] = static_cast<To>(src[off[1]]);
    }
}

template <class T>
__global__ void fill_kernel(Geometry<1> g, T value, T* dst) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[1];
        g.offsets(i, off);
        dst[off[0]] = value;
    }
}

// One thread per output; each walks its reduced elements in order (deterministic).
__global__ void reduce_kernel(ReduceOp op, Geometry<1> outer, Geometry<1> inner, const float* x, float* y) {
    FOCAL_GRID_LOOP(o, outer.numel) {
        int64_t base[1];
        outer.offsets(o, base);
        double sum = 0;
        float extreme = op == ReduceOp::Max ? -INFINITY : INFINITY;
        for (int64_t j = 0; j < inner.numel; ++j) {
            int64_t off[1];
            inner.offsets(j, off);
            float v = x[base[0] + off[0]];
            if (op == ReduceOp::Sum) sum += v;
            else if (op == ReduceOp::Max) extreme = (v > extreme || v != v) ? v : extreme;
            else extreme = (v < extreme || v != v) ? v : extreme;
        }
        y[o] = op == ReduceOp::Sum ? static_cast<float>(sum) : extreme;
    }
}

__global__ void argmax_kernel(int64_t rows, int64_t n, int64_t rs, int64_t cs, const float* x, int32_t* y) {
    FOCAL_GRID_LOOP(r, rows) {
        int32_t best = 0;
        for (int64_t j = 1; j < n; ++j)
            if (x[r * rs + j * cs] > x[r * rs + best * cs]) best = static_cast<int32_t>(j);
        y[r] = best;
    }
}

// Indexing kernels over x viewed as (outer, size, inner); bad indices set *error.
__global__ void index_select_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count,
                                    const int32_t* idx, const float* x, float* y, int* error) {
    FOCAL_GRID_LOOP(t, outer * count * inner) {
        int64_t i = t % inner, j = (t / inner) % count, o = t / (inner * count);
        int32_t k = idx[j];
        if (k < 0 || k >= size) { *error = 1; continue; }
        y[t] = x[(o * size + k) * inner + i];
    }
}

__global__ void index_add_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count,
                                 const int32_t* idx, const float* src, float* out, int* error) {
    FOCAL_GRID_LOOP(t, outer * inner) {  // one thread per (o, i): adds in index order
        int64_t i = t % inner, o = t / inner;
        for (int64_t j = 0; j < count; ++j) {
            int32_t k = idx[j];
            if (k < 0 || k >= size) { *error = 1; continue; }
            out[(o * size + k) * inner + i] += src[(o * count + j) * inner + i];
        }
    }
}

__global__ void gather_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count,
                              const int32_t* idx, const float* x, float* y, int* error) {
    FOCAL_GRID_LOOP(t, outer * count * inner) {
        int64_t i = t % inner, o = t / (inner * count);
        int32_t k = idx[t];
        if (k < 0 || k >= size) { *error = 1; continue; }
        y[t] = x[(o * size + k) * inner + i];
    }
}

__global__ void scatter_add_kernel(int64_t outer, int64_t size, int64_t inner, int64_t count,
                                   const int32_t* idx, const float* src, float* out, int* error) {
    FOCAL_GRID_LOOP(t, outer * inner) {
        int64_t i = t % inner, o = t / inner;
        for (int64_t j = 0; j < count; ++j) {
            int64_t at = (o * count + j) * inner + i;
            int32_t k = idx[at];
            if (k < 0 || k >= size) { *error = 1; continue; }
            out[(o * size + k) * inner + i] += src[at];
        }
    }
}

class CudaBackend final : public Backend {
public:
    CudaBackend() { FOCAL_CUDA_CHECK(cudaMalloc(&error_flag_, sizeof(int))); }
    Device device() const override { return Device::CUDA; }

    void* allocate(size_t bytes) override {
        void* ptr = nullptr;
        if (bytes) FOCAL_CUDA_CHECK(cudaMalloc(&ptr, bytes));
        return ptr;
    }
    void deallocate(void* ptr, size_t) override {
        if (ptr) cudaFree(ptr);  // not checked: runs in destructors, and a failure here is not actionable
    }
    void copy_from_host(void* dst, const void* src, size_t bytes) override {
        if (bytes) FOCAL_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice));
    }
    void copy_to_host(void* dst, const void* src, size_t bytes) override {
        if (bytes) FOCAL_CUDA_CHECK(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost));
    }

    void copy(const View& src, const View& dst) override {
        auto g = geometry<2>(dst.shape, {&dst, &src});
        if (g.numel == 0) return;
        if (src.dtype == DType::F32 && dst.dtype == DType::F32)
            copy_kernel<<<blocks_for(g.numel), kThreads>>>(g, src.f32(), dst.f32());
        else if (src.dtype == DType::I32 && dst.dtype == DType::I32)
            copy_kernel<<<blocks_for(g.numel), kThreads>>>(g, src.i32(), dst.i32());
        else if (src.dtype == DType::I32)
            copy_kernel<<<blocks_for(g.numel), kThreads>>>(g, src.i32(), dst.f32());
        else
            copy_kernel<<<blocks_for(g.numel), kThreads>>>(g, src.f32(), dst.i32());
        FOCAL_CUDA_CHECK(cudaGetLastError());
    }

    void fill(const View& dst, float value) override {
        auto g = geometry<1>(dst.shape, {&dst});
        if (g.numel == 0) return;
        if (dst.dtype == DType::I32)
            fill_kernel<<<blocks_for(g.numel), kThreads>>>(g, static_cast<int32_t>(value), dst.i32());
        else
            fill_kernel<<<blocks_for(g.numel), kThreads>>>(g, value, dst.f32());
        FOCAL_CUDA_CHECK(cudaGetLastError());
    }

    void unary(UnaryOp op, UnaryParams p, const View& x, const View& out) override {
        auto g = geometry<2>(out.shape, {&out, &x});
        if (g.numel == 0) return;
        switch (op) {
#define FOCAL_UNARY(name) \
    case UnaryOp::name: unary_kernel<UnaryOp::name><<<blocks_for(g.numel), kThreads>>>(g, p, x.f32(), out.f32()); break;
            FOCAL_UNARY_OPS(FOCAL_UNARY)
#undef FOCAL_UNARY
        }
        FOCAL_CUDA_CHECK(cudaGetLastError());
    }

    void binary(BinaryOp op, const View& a, const View& b, const View& out) override {
        auto g = geometry<3>(out.shape, {&out, &a, &b});
        if (g.numel == 0) return;
        switch (op) {
#define FOCAL_BINARY(name) \
    case BinaryOp::name: binary_kernel<BinaryOp::name><<<blocks_for(g.numel), kThreads>>>(g, a.f32(), b.f32(), out.f32()); break;
            FOCAL_BINARY_OPS(FOCAL_BINARY)
#undef FOCAL_BINARY
        }
        FOCAL_CUDA_CHECK(cudaGetLastError());
    }

    void where(const View& mask, const View& a, const View& b, const View& out) override {
        auto g = geometry<4>(out.shape, {&out, &mask, &a, &b});
        if (g.numel == 0) return;
        where_kernel<<<blocks_for(g.numel), kThreads>>>(g, mask.f32(), a.f32(), b.f32(), out.f32());
        FOCAL_CUDA_CHECK(cudaGetLastError());
    }

    void reduce(ReduceOp op, const View& x, const View& out) override {
        const size_t r = out.shape.size();
        View outer{x.data, out.shape, Strides(x.strides.begin(), x.strides.begin() + r), x.dtype};
        View inner{x.data, Shape(x.shape.begin() + r, x.shape.end()),
                   Strides(x.strides.begin() + r, x.strides.end()), x.dtype};
        auto go = geometry<1>(outer.shape, {&outer});
        auto gi = geometry<1>(inner.shape, {&inner});
        if (go.numel == 0) return;
        reduce_kernel<<<blocks_for(go.numel), kThreads>>>(op, go, gi, x.f32(), out.f32());
        FOCAL_CUDA_CHECK(cudaGetLastError());
    }

    void argmax(const View& x, const View& out) override {
        const int64_t rows = x.shape[0];
        if (rows == 0) return;
        argmax_kernel<<<blocks_for(rows), kThreads>>>(rows, x.shape[1], x.strides[0], x.strides[1], x.f32(), out.i32());
        FOCAL_CUDA_CHECK(cudaGetLastError());
    }

    void gemm(int64_t batch, int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
              const GemmOperand& b, float beta, float* c, int64_t c_batch_stride) override {
        // Row-major C = A B is column-major C^T = B^T A^T: swap the operands, keep the flags.
        FOCAL_CUBLAS_CHECK(cublasSgemmStridedBatched(
            handle(), b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
            static_cast<int>(n), static_cast<int>(m), static_cast<int>(k), &alpha, b.data,
            static_cast<int>(b.ld), b.batch_stride, a.data, static_cast<int>(a.ld), a.batch_stride,
            &beta, c, static_cast<int>(n), c_batch_stride, static_cast<int>(batch)));
    }

    void index_select(const View& x, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(x.shape, dim);
        int64_t count = index.numel();
        launch_indexed("index_select", s.outer * count * s.inner, [&](int* err) {
            index_select_kernel<<<blocks_for(s.outer * count * s.inner), kThreads>>>(
                s.outer, s.size, s.inner, count, index.i32(), x.f32(), out.f32(), err);
        });
    }
    void index_add(const View& src, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(out.shape, dim);
        int64_t count = index.numel();
        launch_indexed("index_add", s.outer * s.inner, [&](int* err) {
            index_add_kernel<<<blocks_for(s.outer * s.inner), kThreads>>>(
                s.outer, s.size, s.inner, count, index.i32(), src.f32(), out.f32(), err);
        });
    }
    void gather(const View& x, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(x.shape, dim), t = split_at(index.shape, dim);
        launch_indexed("gather", t.outer * t.size * t.inner, [&](int* err) {
            gather_kernel<<<blocks_for(t.outer * t.size * t.inner), kThreads>>>(
                t.outer, s.size, t.inner, t.size, index.i32(), x.f32(), out.f32(), err);
        });
    }
    void scatter_add(const View& src, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(out.shape, dim), t = split_at(index.shape, dim);
        launch_indexed("scatter_add", t.outer * t.inner, [&](int* err) {
            scatter_add_kernel<<<blocks_for(t.outer * t.inner), kThreads>>>(
                t.outer, s.size, t.inner, t.size, index.i32(), src.f32(), out.f32(), err);
        });
    }

private:
    cublasHandle_t handle() {
        std::call_once(handle_once_, [this] { FOCAL_CUBLAS_CHECK(cublasCreate(&handle_)); });
        return handle_;
    }

    // Runs an indexing kernel and turns an out-of-range index it saw into an Error.
    template <class Launch>
    void launch_indexed(const char* op, int64_t work, Launch&& launch) {
        if (work == 0) return;
        FOCAL_CUDA_CHECK(cudaMemset(error_flag_, 0, sizeof(int)));
        launch(error_flag_);
        FOCAL_CUDA_CHECK(cudaGetLastError());
        int error = 0;
        FOCAL_CUDA_CHECK(cudaMemcpy(&error, error_flag_, sizeof(int), cudaMemcpyDeviceToHost));
        FOCAL_CHECK(error == 0, "[", op, "] an index is out of range");
    }

    cublasHandle_t handle_ = nullptr;
    std::once_flag handle_once_;
    int* error_flag_ = nullptr;
};

}  // namespace

bool device_present() {
    static const bool present = [] {
        int count = 0;
        return cudaGetDeviceCount(&count) == cudaSuccess && count > 0;
    }();
    return present;
}

Backend& cuda_backend() {
    if (!device_present()) {
        int count = 0;
        cudaError_t status = cudaGetDeviceCount(&count);
        fail("[cuda] no CUDA device is available (",
             status == cudaSuccess ? "no devices found" : cudaGetErrorString(status), "); use --device cpu");
    }
    static CudaBackend instance;
    return instance;
}

}  // namespace focal::cuda
