// FOCAL_HD marks a function that both backends run: __host__ __device__ under nvcc, a plain
// inline function elsewhere. Headers in engine/kernels/ hold only such functions, so the
// CPU tests exercise exactly the code the GPU runs.
#pragma once

#if defined(__CUDACC__)
#define FOCAL_HD __host__ __device__ __forceinline__
#else
#define FOCAL_HD inline
#endif

namespace focal::math {

// a * b rounded on its own. nvcc fuses a * b + c into one fma by default, which rounds
// once instead of twice; shared bodies that must give the CPU's bits multiply with this.
FOCAL_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
    return __fmul_rn(a, b);
#else
    return a * b;
#endif
}

}  // namespace focal::math
