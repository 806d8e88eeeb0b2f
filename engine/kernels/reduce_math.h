// How partial results of a reduction merge, shared by the CPU and CUDA backends. The CUDA
// kernels reduce in a fixed tree (threads, then blocks, then chunks), so these merges must
// give the sequential loop's answer whatever the grouping: sums and extremes in double
// (every float is exact in double), and argmax as a total order on (value, index).
#pragma once
#include <math.h>
#include <stdint.h>

#include "engine/backend.h"
#include "engine/kernels/host_device.h"

namespace focal::math {

FOCAL_HD double reduce_identity(ReduceOp op) {
    return op == ReduceOp::Sum ? 0.0 : (op == ReduceOp::Max ? -INFINITY : INFINITY);
}

// A NaN wins a max or a min (PyTorch's rule), whichever side it is on.
FOCAL_HD double reduce_merge(ReduceOp op, double a, double b) {
    switch (op) {
        case ReduceOp::Sum: return a + b;
        case ReduceOp::Max: return (b > a || b != b) ? b : a;
        case ReduceOp::Min: return (b < a || b != b) ? b : a;
    }
    return a;
}

// Argmax of a row x[0..n), first maximum winning, as the CPU's loop computes it:
//   best = 0; for j >= 1: if x[j] > x[best] then best = j.
// A NaN never compares greater, so NaNs after x[0] are skipped, and a NaN at x[0] stays
// the answer. A candidate is a (value, index) pair over the non-NaN entries (index -1: none
// yet); the merge keeps the larger value, the smaller index on ties, so any grouping of the
// row gives the same candidate, and argmax_result applies the rule for x[0].
struct ArgmaxCandidate {
    float value;
    int32_t index;
};

FOCAL_HD ArgmaxCandidate argmax_none() { return {-INFINITY, -1}; }

FOCAL_HD ArgmaxCandidate argmax_merge(ArgmaxCandidate a, ArgmaxCandidate b) {
    if (a.index < 0) return b;
    if (b.index < 0) return a;
    if (b.value > a.value) return b;
    if (a.value > b.value) return a;
    return b.index < a.index ? b : a;  // equal values (0 and -0 included): the first wins
}

FOCAL_HD ArgmaxCandidate argmax_take(ArgmaxCandidate best, float value, int32_t index) {
    return value != value ? best : argmax_merge(best, {value, index});
}

FOCAL_HD int32_t argmax_result(float first, ArgmaxCandidate best) {
    return (first != first || best.index < 0) ? 0 : best.index;
}

}  // namespace focal::math
