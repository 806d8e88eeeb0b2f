// Reductions and argmax on CUDA as parallel tree reductions with a fixed shape, so a run
// gives the same bits as the last:
// - each output is one task for a group of GROUP threads (32 for short runs, a whole block
//   for long ones); a thread merges a strided share of the run, then the group merges the
//   shares in a fixed tree (group_reduce);
// - a run longer than kChunk is cut into kChunk-long chunks, reduced as separate tasks
//   into double partials, which a second launch merges per output in the same way.
// The grouping depends only on the sizes, never on the GPU. Sums run in double (as on the
// CPU), and the merges are the shared ones (engine/kernels/reduce_math.h).
#include "engine/cuda/cuda_allocator.h"
#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"
#include "engine/kernels/reduce_math.h"

namespace focal::cuda {
namespace {

constexpr int64_t kChunk = int64_t{1} << 16;  // elements per partial of a long run
constexpr int64_t kLongRun = 2048;            // runs at least this long get a whole block

struct Merge {
    ReduceOp op;
    __device__ double operator()(double a, double b) const { return math::reduce_merge(op, a, b); }
};

// Runs GROUP-thread groups over `tasks`, kThreads / GROUP tasks per block per round. Each
// thread folds run(task, lane, GROUP) into its share; lane 0 hands the merged task to
// finish(task, value).
template <int GROUP, class T, class Run, class MergeFn, class Finish>
__device__ void for_each_task(int64_t tasks, T identity, Run run, MergeFn merge, Finish finish) {
    __shared__ T shared[kThreads];
    constexpr int kGroups = kThreads / GROUP;
    const int lane = threadIdx.x % GROUP;
    for (int64_t first = blockIdx.x * int64_t(kGroups); first < tasks; first += int64_t(gridDim.x) * kGroups) {
        const int64_t task = first + threadIdx.x / GROUP;
        const T share = task < tasks ? run(task, lane, identity) : identity;
        const T total = group_reduce<GROUP>(share, shared, merge);
        if (task < tasks && lane == 0) finish(task, total);
    }
}

// Task = (output o, chunk): x[o, chunk * kChunk ...) through the strided geometries. With
// one chunk per output the result is final (y); otherwise a double partial.
template <int GROUP>
__global__ void reduce_kernel(ReduceOp op, Geometry<1> outer, Geometry<1> inner, int64_t chunks, const float* x,
                              double* partial, float* y) {
    const Merge merge{op};
    auto run = [&](int64_t task, int lane, double acc) {
        int64_t base[1];
        outer.offsets(task / chunks, base);
        const int64_t begin = task % chunks * kChunk;
        const int64_t end = begin + kChunk < inner.numel ? begin + kChunk : inner.numel;
        for (int64_t j = begin + lane; j < end; j += GROUP) {
            int64_t off[1];
            inner.offsets(j, off);
            acc = merge(acc, x[base[0] + off[0]]);
        }
        return acc;
    };
    auto finish = [&](int64_t task, double total) {
        if (chunks == 1) y[task] = static_cast<float>(total);
        else partial[task] = total;
    };
    for_each_task<GROUP>(outer.numel * chunks, math::reduce_identity(op), run, merge, finish);
}

// y[o] = the merge of partial[o, 0 .. chunks).
template <int GROUP>
__global__ void merge_partials_kernel(ReduceOp op, int64_t outputs, int64_t chunks, const double* partial, float* y) {
    const Merge merge{op};
    auto run = [&](int64_t o, int lane, double acc) {
        for (int64_t j = lane; j < chunks; j += GROUP) acc = merge(acc, partial[o * chunks + j]);
        return acc;
    };
    auto finish = [&](int64_t o, double total) { y[o] = static_cast<float>(total); };
    for_each_task<GROUP>(outputs, math::reduce_identity(op), run, merge, finish);
}

// One task per row of x (rows, n), row r at x + r * rs, entries cs apart.
template <int GROUP>
__global__ void argmax_kernel(int64_t rows, int64_t n, int64_t rs, int64_t cs, const float* x, int32_t* y) {
    auto merge = [](math::ArgmaxCandidate a, math::ArgmaxCandidate b) { return math::argmax_merge(a, b); };
    auto run = [&](int64_t r, int lane, math::ArgmaxCandidate best) {
        for (int64_t j = lane; j < n; j += GROUP)
            best = math::argmax_take(best, x[r * rs + j * cs], static_cast<int32_t>(j));
        return best;
    };
    auto finish = [&](int64_t r, math::ArgmaxCandidate best) {
        y[r] = n > 0 ? math::argmax_result(x[r * rs], best) : 0;
    };
    for_each_task<GROUP>(rows, math::argmax_none(), run, merge, finish);
}

// Launches kernel<32> or kernel<kThreads> by run length, enough blocks for every task.
#define FOCAL_LAUNCH_BY_RUN(kernel, run_length, tasks, ...)                                         \
    do {                                                                                            \
        if ((run_length) >= kLongRun)                                                               \
            kernel<kThreads><<<blocks_for((tasks)*kThreads), kThreads, 0, stream()>>>(__VA_ARGS__); \
        else kernel<32><<<blocks_for((tasks)*32), kThreads, 0, stream()>>>(__VA_ARGS__);            \
    } while (0)

}  // namespace

void reduce(ReduceOp op, const View& x, const View& out) {
    const size_t r = out.shape.size();
    View outer_view{x.data, out.shape, Strides(x.strides.begin(), x.strides.begin() + r), x.dtype};
    View inner_view{x.data, Shape(x.shape.begin() + r, x.shape.end()), Strides(x.strides.begin() + r, x.strides.end()),
                    x.dtype};
    const Geometry<1> outer = geometry<1>(outer_view.shape, {&outer_view});
    const Geometry<1> inner = geometry<1>(inner_view.shape, {&inner_view});
    const int64_t outputs = outer.numel, run = inner.numel;
    if (outputs == 0) return;
    const int64_t chunks = std::max<int64_t>(1, (run + kChunk - 1) / kChunk);
    if (chunks == 1) {
        FOCAL_LAUNCH_BY_RUN(reduce_kernel, run, outputs, op, outer, inner, 1, x.f32(), nullptr, out.f32());
        after_launch("reduce");
        return;
    }
    DeviceBuffer partial(static_cast<size_t>(outputs * chunks) * sizeof(double));
    FOCAL_LAUNCH_BY_RUN(reduce_kernel, kChunk, outputs * chunks, op, outer, inner, chunks, x.f32(),
                        partial.as<double>(), out.f32());
    FOCAL_LAUNCH_BY_RUN(merge_partials_kernel, chunks, outputs, op, outputs, chunks, partial.as<double>(), out.f32());
    after_launch("reduce");
}

void argmax(const View& x, const View& out) {
    const int64_t rows = x.shape[0], n = x.shape[1];
    if (rows == 0) return;
    FOCAL_LAUNCH_BY_RUN(argmax_kernel, n, rows, rows, n, x.strides[0], x.strides[1], x.f32(), out.i32());
    after_launch("argmax");
}

}  // namespace focal::cuda
