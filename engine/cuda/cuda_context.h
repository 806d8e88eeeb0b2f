// What every CUDA file shares: the backend's one stream and cuBLAS handle, the checks that
// turn a CUDA status into a focal::Error, and after_launch, which every kernel launcher
// calls. Work is queued on the stream and runs asynchronously: a fault inside a kernel
// surfaces at the next synchronising call, whatever op that is. FOCAL_CUDA_SYNC=1 waits
// after every op instead, so the error names the op that caused it.
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "engine/error.h"

namespace focal::cuda {

#define FOCAL_CUDA_CHECK(call)                                                  \
    do {                                                                        \
        cudaError_t status_ = (call);                                           \
        if (status_ != cudaSuccess) ::focal::cuda::fail_status(#call, status_); \
    } while (0)

#define FOCAL_CUBLAS_CHECK(call)                                                          \
    do {                                                                                  \
        cublasStatus_t status_ = (call);                                                  \
        if (status_ != CUBLAS_STATUS_SUCCESS)                                             \
            ::focal::fail("[cuda] ", #call, " failed: ", cublasGetStatusString(status_)); \
    } while (0)

// The stream every kernel, copy and gemm of the backend runs on, in order. A blocking
// stream: it also waits for (and is waited on by) work on the legacy default stream.
cudaStream_t stream();
cublasHandle_t blas();  // cuBLAS, bound to stream()
bool sync_every_op();   // FOCAL_CUDA_SYNC=1

// Throws "[cuda] <call> failed (in <op scope>): <CUDA's message>", adding the hint about
// FOCAL_CUDA_SYNC where the fault may belong to an earlier op.
[[noreturn]] void fail_status(const char* call, cudaError_t status);

// After queueing the kernels of backend op `op`: reports a launch error; with
// FOCAL_CUDA_SYNC=1, waits for them and reports a fault naming `op`.
void after_launch(const char* op);

// Waits for the stream (copies to the host need their data).
void synchronize(const char* op);

}  // namespace focal::cuda
