// For programs (the focal CLI, the benchmarks), never the library: settings that the
// OpenMP and OpenBLAS runtimes read only when they load, so a program that wants them must
// restart itself once with them in its environment. A value the user set is always kept;
// FOCAL_NO_REEXEC=1 turns the restart off.
//  - GOMP_SPINCOUNT: how long an idle OpenMP thread spins before it sleeps, chosen by what
//    the other processes on the machine were doing in the 100 ms before start:
//    - a quiet machine: 100000. Sleeping at once (OMP_WAIT_POLICY=passive) pays a futex
//      wake-up on each of the thousands of small parallel loops of a step: on 2 cores, 150
//      demo training steps took 23-27 s passive against 15-16 s with this spin (and
//      libgomp's default), `focal eval` 9.1 s against 4.5 s, and a `tiny` train step 859
//      against 722 ms. Spinning without end (OMP_WAIT_POLICY=active) is the other extreme:
//      it steals the cores from the data loader's threads.
//    - others using half a core or more: 1000. A thread that spins for a sibling the
//      scheduler has put aside holds the core that sibling needs. With one core of two kept
//      busy, a `tiny` train step on 2 threads took 3,649 ms at 100000 against 984 ms at 1000
//      (quiet: 489 and 480 ms), one-image inference 434 against 65 ms (bench/contention.sh).
//      On a quiet machine 1000 would cost the demo preset's small loops 1.6-2x, hence the
//      probe. The choice is made once: a load that starts later is not seen.
//    Either way the results are the same bits: the wait policy changes no arithmetic.
//  - OPENBLAS_CORETYPE: when OpenBLAS fell back to its generic kernels on a CPU that
//    supports better ones (engine/blas_info.h).
#pragma once
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "engine/blas_info.h"

namespace focal::cli {

// CPU time the whole machine spent busy over `window`, in cores (0 = idle, 2 = two cores
// fully busy), from /proc/stat; -1 where it cannot be read. This process sleeps meanwhile,
// so what it measures is the others' load.
inline double machine_busy_cores(std::chrono::milliseconds window) {
    const auto sample = [](double& busy, double& total) {
        std::ifstream in("/proc/stat");
        std::string cpu;
        double user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
        if (!(in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal) || cpu != "cpu")
            return false;
        busy = user + nice + system + irq + softirq + steal;
        total = busy + idle + iowait;
        return true;
    };
    double busy0 = 0, total0 = 0, busy1 = 0, total1 = 0;
    if (!sample(busy0, total0)) return -1;
    std::this_thread::sleep_for(window);
    if (!sample(busy1, total1) || total1 <= total0) return -1;
    const long cores = ::sysconf(_SC_NPROCESSORS_ONLN);
    return (busy1 - busy0) / (total1 - total0) * static_cast<double>(cores > 0 ? cores : 1);
}

inline void tune_runtime(char** argv) {
    if (std::getenv("FOCAL_NO_REEXEC")) return;
    bool changed = false;
    if (!std::getenv("OMP_WAIT_POLICY") && !std::getenv("GOMP_SPINCOUNT")) {
        const bool shared = machine_busy_cores(std::chrono::milliseconds(100)) >= 0.5;
        ::setenv("GOMP_SPINCOUNT", shared ? "1000" : "100000", 1);
        changed = true;
    }
    if (!std::getenv("OPENBLAS_CORETYPE") && blas_core_is_fallback()) {
        ::setenv("OPENBLAS_CORETYPE", blas_core_for_cpu().c_str(), 1);
        changed = true;
    }
    if (changed) ::execv("/proc/self/exe", argv);  // returns only on failure: carry on as we are
}

}  // namespace focal::cli
