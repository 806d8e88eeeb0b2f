// For programs (the focal CLI, the benchmarks), never the library: settings that the
// OpenMP and OpenBLAS runtimes read only when they load, so a program that wants them must
// restart itself once with them in its environment. A value the user set is always kept;
// FOCAL_NO_REEXEC=1 turns the restart off.
//  - OMP_WAIT_POLICY=passive: idle OpenMP threads sleep instead of spinning. With the data
//    loader's threads (or anything else) on the same cores, spinning threads steal the time
//    of the ones that have work, and a training step ran 10-20x slower (measured on 2 cores).
//  - OPENBLAS_CORETYPE: when OpenBLAS fell back to its generic kernels on a CPU that
//    supports better ones (engine/blas_info.h).
#pragma once
#include <unistd.h>

#include <cstdlib>

#include "engine/blas_info.h"

namespace focal::cli {

inline void tune_runtime(char** argv) {
    if (std::getenv("FOCAL_NO_REEXEC")) return;
    bool changed = false;
    if (!std::getenv("OMP_WAIT_POLICY")) {
        ::setenv("OMP_WAIT_POLICY", "passive", 1);
        changed = true;
    }
    if (!std::getenv("OPENBLAS_CORETYPE") && blas_core_is_fallback()) {
        ::setenv("OPENBLAS_CORETYPE", blas_core_for_cpu().c_str(), 1);
        changed = true;
    }
    if (changed) ::execv("/proc/self/exe", argv);  // returns only on failure: carry on as we are
}

}  // namespace focal::cli
