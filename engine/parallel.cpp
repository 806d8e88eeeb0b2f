#include "engine/parallel.h"

#include <omp.h>

#include "engine/error.h"

extern "C" void openblas_set_num_threads(int num_threads);

namespace focal {

void set_num_threads(int n) {
    FOCAL_CHECK(n >= 1, "[set_num_threads] thread count must be at least 1, got ", n);
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int num_threads() { return omp_get_max_threads(); }

}  // namespace focal
