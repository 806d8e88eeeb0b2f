// What OpenBLAS is running on. OpenBLAS picks its kernels from the CPU's model number;
// on some virtual machines the model is hidden and it falls back to its oldest x86-64
// kernels (Prescott, SSE3), several times slower than the CPU allows. Programs can then
// restart themselves with OPENBLAS_CORETYPE set (see tools/runtime_env.h).
#pragma once
#include <string>

namespace focal {

std::string blas_core();          // e.g. "SkylakeX", "Haswell", "Prescott"
std::string blas_core_for_cpu();  // the best core the CPU's flags support, or "" if unsure
bool blas_core_is_fallback();     // running a generic core on a CPU that supports better

}  // namespace focal
