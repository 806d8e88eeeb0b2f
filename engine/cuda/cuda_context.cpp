#include "engine/cuda/cuda_context.h"

#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/backend.h"

namespace focal::cuda {
namespace {

struct Context {
    cudaStream_t stream = nullptr;
    cublasHandle_t blas = nullptr;
    bool sync = false;

    Context() {
        const char* env = std::getenv("FOCAL_CUDA_SYNC");
        FOCAL_CHECK(!env || !*env || !std::strcmp(env, "0") || !std::strcmp(env, "1"),
                    "[cuda] FOCAL_CUDA_SYNC must be 0 or 1, got '", env, "'");
        sync = env && !std::strcmp(env, "1");
        FOCAL_CUDA_CHECK(cudaStreamCreate(&stream));
        FOCAL_CUBLAS_CHECK(cublasCreate(&blas));
        FOCAL_CUBLAS_CHECK(cublasSetStream(blas, stream));
    }
};

// Never destroyed: tensors freed by static destructors still reach the device.
Context& context() {
    static Context* c = new Context;
    return *c;
}

std::string in_scope() {
    std::string op = OpScope::current();
    return op.empty() ? "" : " (in " + op + ")";
}

// An error seen now may come from any kernel queued before: say how to find which.
const char* sync_hint() {
    return context().sync ? ""
                          : "; kernels run asynchronously, so an earlier op may be at fault: rerun with "
                            "FOCAL_CUDA_SYNC=1 to stop at the op that caused it";
}

}  // namespace

cudaStream_t stream() { return context().stream; }
cublasHandle_t blas() { return context().blas; }
bool sync_every_op() { return context().sync; }

void fail_status(const char* call, cudaError_t status) {
    fail("[cuda] ", call, " failed", in_scope(), ": ", cudaGetErrorString(status), sync_hint());
}

void after_launch(const char* op) {
    const cudaError_t launch = cudaGetLastError();
    if (launch != cudaSuccess)
        fail("[cuda] ", op, in_scope(), ": kernel launch failed: ", cudaGetErrorString(launch), sync_hint());
    if (!sync_every_op()) return;
    const cudaError_t status = cudaStreamSynchronize(stream());
    if (status != cudaSuccess) fail("[cuda] ", op, in_scope(), " failed on the device: ", cudaGetErrorString(status));
}

void synchronize(const char* op) {
    const cudaError_t status = cudaStreamSynchronize(stream());
    if (status != cudaSuccess) fail_status(op, status);
}

}  // namespace focal::cuda
