// Threading: one knob for OpenMP loops and OpenBLAS, and a deterministic parallel_for.
#pragma once
#include <cstdint>

namespace focal {

void set_num_threads(int n);  // OpenMP and OpenBLAS both; n >= 1
int num_threads();

// Splits [0, n) into chunks of at least `grain` and runs fn(begin, end) on each, on
// several threads when n > grain. Chunk boundaries depend only on n, grain and the thread
// count, so a loop whose chunks write disjoint outputs is bitwise reproducible.
template <class Fn>
void parallel_for(int64_t n, int64_t grain, Fn&& fn);

}  // namespace focal

#include <omp.h>

#include <algorithm>

template <class Fn>
void focal::parallel_for(int64_t n, int64_t grain, Fn&& fn) {
    if (n <= 0) return;
    int threads = static_cast<int>(std::min<int64_t>(num_threads(), (n + grain - 1) / grain));
    if (threads <= 1 || omp_in_parallel()) {
        fn(int64_t{0}, n);
        return;
    }
#pragma omp parallel num_threads(threads)
    {
        int t = omp_get_thread_num();
        int64_t chunk = (n + threads - 1) / threads;
        int64_t begin = std::min<int64_t>(n, t * chunk);
        int64_t end = std::min<int64_t>(n, begin + chunk);
        if (begin < end) fn(begin, end);
    }
}
