// For programs (the focal CLI, the benchmarks), never the library: when OpenBLAS fell back
// to its generic kernels on a CPU that supports better ones (engine/blas_info.h) and the
// user has not chosen a core, restart this program once with OPENBLAS_CORETYPE set. A
// user's own OPENBLAS_CORETYPE is always respected; FOCAL_NO_BLAS_REEXEC=1 turns this off.
#pragma once
#include <unistd.h>

#include <cstdlib>

#include "engine/blas_info.h"

namespace focal::cli {

inline void use_best_blas_core(char** argv) {
    if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("FOCAL_NO_BLAS_REEXEC")) return;
    if (!blas_core_is_fallback()) return;
    ::setenv("OPENBLAS_CORETYPE", blas_core_for_cpu().c_str(), 1);
    ::execv("/proc/self/exe", argv);  // returns only on failure: carry on with the generic core
}

}  // namespace focal::cli
