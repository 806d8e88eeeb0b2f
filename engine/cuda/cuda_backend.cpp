// The CUDA backend: cached device memory (cuda_allocator), one stream for everything
// (cuda_context), cuBLAS for gemm, and a kernel file per op family (cuda_kernels.h) whose
// per-element and index maths are the __host__ __device__ code in engine/kernels/ that the
// CPU backend runs too. Every CUDA and cuBLAS call is checked.
//
// Winograd: not implemented here. has_winograd() stays false, so conv2d's Auto algorithm
// takes im2col + cuBLAS on CUDA tensors, and a forced Winograd fails naming the device.
#include <climits>
#include <string>

#include "engine/backend.h"
#include "engine/cuda/cuda_allocator.h"
#include "engine/cuda/cuda_context.h"
#include "engine/cuda/cuda_kernels.h"
#include "engine/error.h"

namespace focal::cuda {
namespace {

// cuBLAS takes int sizes: a larger one is an error, not a silent wrap.
int blas_int(int64_t value, const char* what) {
    FOCAL_CHECK(value >= 0 && value <= INT_MAX, "[gemm] ", what, " = ", value,
                " is out of cuBLAS's int range (at most ", INT_MAX, ")",
                OpScope::current().empty() ? "" : " in " + OpScope::current());
    return static_cast<int>(value);
}

class CudaBackend final : public Backend {
public:
    CudaBackend() { error_flag_ = static_cast<int*>(cached_allocate(sizeof(int))); }
    Device device() const override { return Device::CUDA; }

    void* allocate(size_t bytes) override { return cached_allocate(bytes); }
    void deallocate(void* ptr, size_t bytes) override { cached_deallocate(ptr, bytes); }
    // From pageable host memory the copy returns once `src` is staged, so the caller may
    // reuse it; to the host it waits for the stream, so `dst` is ready on return.
    void copy_from_host(void* dst, const void* src, size_t bytes) override {
        if (!bytes) return;
        FOCAL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, stream()));
        after_launch("copy_from_host");
    }
    void copy_to_host(void* dst, const void* src, size_t bytes) override {
        if (!bytes) return;
        FOCAL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, stream()));
        synchronize("copy_to_host");
    }

    void copy(const View& src, const View& dst) override { cuda::copy(src, dst); }
    void fill(const View& dst, float value) override { cuda::fill(dst, value); }
    void unary(UnaryOp op, UnaryParams p, const View& x, const View& out) override { cuda::unary(op, p, x, out); }
    void binary(BinaryOp op, const View& a, const View& b, const View& out) override { cuda::binary(op, a, b, out); }
    void where(const View& mask, const View& a, const View& b, const View& out) override {
        cuda::where(mask, a, b, out);
    }
    void reduce(ReduceOp op, const View& x, const View& out) override { cuda::reduce(op, x, out); }
    void argmax(const View& x, const View& out) override { cuda::argmax(x, out); }

    void gemm(int64_t batch, int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a, const GemmOperand& b,
              float beta, float* c, int64_t c_batch_stride) override {
        if (batch == 0 || m == 0 || n == 0) return;
        // Row-major C = A B is column-major C^T = B^T A^T: swap the operands, keep the flags.
        // A leading dimension of 0 (k = 0) is still at least 1 for cuBLAS.
        FOCAL_CUBLAS_CHECK(cublasSgemmStridedBatched(blas(), b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
                                                     a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, blas_int(n, "n"),
                                                     blas_int(m, "m"), blas_int(k, "k"), &alpha, b.data,
                                                     blas_int(std::max<int64_t>(b.ld, 1), "ldb"), b.batch_stride,
                                                     a.data, blas_int(std::max<int64_t>(a.ld, 1), "lda"),
                                                     a.batch_stride, &beta, c, blas_int(n, "ldc"), c_batch_stride,
                                                     blas_int(batch, "batch")));
        after_launch("gemm");
    }

    void index_select(const View& x, int64_t dim, const View& index, const View& out) override {
        checked_indices("index_select", [&](int* err) { cuda::index_select(x, dim, index, out, err); });
    }
    void index_add(const View& src, int64_t dim, const View& index, const View& out) override {
        checked_indices("index_add", [&](int* err) { cuda::index_add(src, dim, index, out, err); });
    }
    void gather(const View& x, int64_t dim, const View& index, const View& out) override {
        checked_indices("gather", [&](int* err) { cuda::gather(x, dim, index, out, err); });
    }
    void scatter_add(const View& src, int64_t dim, const View& index, const View& out) override {
        checked_indices("scatter_add", [&](int* err) { cuda::scatter_add(src, dim, index, out, err); });
    }

    void im2col(const Conv2dGeometry& g, const float* x, float* cols) override { cuda::im2col(g, x, cols); }
    void col2im(const Conv2dGeometry& g, const float* cols, float* dx) override { cuda::col2im(g, cols, dx); }
    void max_pool2d(const Conv2dGeometry& g, const float* x, float* y, int32_t* argmax) override {
        cuda::max_pool2d(g, x, y, argmax);
    }
    void max_pool2d_backward(const Conv2dGeometry& g, const float* dy, const int32_t* argmax, float* dx) override {
        cuda::max_pool2d_backward(g, dy, argmax, dx);
    }
    void avg_pool2d(const Conv2dGeometry& g, const float* x, float* y) override { cuda::avg_pool2d(g, x, y); }
    void avg_pool2d_backward(const Conv2dGeometry& g, const float* dy, float* dx) override {
        cuda::avg_pool2d_backward(g, dy, dx);
    }

    void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var) override {
        cuda::channel_stats(x, n, c, l, mean, var);
    }
    void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l,
                      float* sum_a, float* sum_ab) override {
        cuda::channel_sums(a, b, b_center, n, c, l, sum_a, sum_ab);
    }
    void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r, int64_t n,
                        int64_t c, int64_t l, float* out) override {
        cuda::channel_affine(a, p, b, q, r, n, c, l, out);
    }

private:
    // Runs an indexing kernel and turns an out-of-range index it saw into an Error (which
    // waits for the kernel: the flag must be read back).
    template <class Launch>
    void checked_indices(const char* op, Launch&& launch) {
        FOCAL_CUDA_CHECK(cudaMemsetAsync(error_flag_, 0, sizeof(int), stream()));
        launch(error_flag_);
        int error = 0;
        copy_to_host(&error, error_flag_, sizeof(int));
        FOCAL_CHECK(error == 0, "[", op, "] an index is out of range");
    }

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
