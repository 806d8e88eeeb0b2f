// For programs (the focal CLI, the benchmarks), never the library: settings that the
// OpenMP and OpenBLAS runtimes read only when they load, so a program that wants them must
// restart itself once with them in its environment. A value the user set is always kept;
// FOCAL_NO_REEXEC=1 turns the restart off.
//  - GOMP_SPINCOUNT=100000: an idle OpenMP thread spins briefly, then sleeps. Sleeping at
//    once (OMP_WAIT_POLICY=passive) pays a futex wake-up on each of the thousands of small
//    parallel loops of a step: on 2 cores, 150 demo training steps took 23-27 s passive
//    against 15-16 s with this spin (and libgomp's default), `focal eval` 9.1 s against 4.5 s,
//    and a `tiny` train step 859 against 722 ms. Spinning without end (OMP_WAIT_POLICY=active)
//    is the other extreme: it steals the cores from the data loader's threads.
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
    if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
        ::setenv("GOMP_SPINCOUNT", "100000", 1);
        changed = true;
    }
    if (!std::getenv("OPENBLAS_CORETYPE") && blas_core_is_fallback()) {
        ::setenv("OPENBLAS_CORETYPE", blas_core_for_cpu().c_str(), 1);
        changed = true;
    }
    if (changed) ::execv("/proc/self/exe", argv);  // returns only on failure: carry on as we are
}

}  // namespace focal::cli
