// The per-channel kernels behind batch_norm on (N, C, L) buffers. channel_stats and
// channel_sums cut each channel's N*L values into `parts` runs of k = i * L + j (as many as
// keep the GPU busy: a block per channel left most of it idle on large images), each block
// sums its run in double in a fixed strided share per thread and a fixed tree, and one
// thread per channel adds the runs' sums in order, so a run gives the same bits as the
// last. channel_affine is one thread per element. The per-element math is the CPU's
// (engine/kernels/channel_math.h).
#include <climits>

#include "engine/cuda/cuda_allocator.h"
#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"
#include "engine/kernels/channel_math.h"

namespace focal::cuda {
namespace {

struct Plus {
    __device__ double operator()(double a, double b) const { return a + b; }
};

// Visits this thread's share of values k in [begin, end) of channel ch: k = begin +
// threadIdx.x, + blockDim.x, ..., as offsets (i * c + ch) * l + j of (i, j) = (k / l, k % l),
// stepping (i, j) rather than dividing k: a 64-bit division per value is slow on a GPU.
template <class Visit>
__device__ void for_channel_values(int64_t begin, int64_t end, int64_t c, int64_t l, int64_t ch, Visit&& visit) {
    const int64_t first = begin + threadIdx.x;
    if (first >= end) return;
    const int64_t step_i = blockDim.x / l, step_j = blockDim.x % l;
    int64_t i = first / l, j = first % l;
    for (int64_t k = first; k < end; k += blockDim.x) {
        visit((i * c + ch) * l + j);
        i += step_i, j += step_j;
        if (j >= l) j -= l, ++i;
    }
}

// The terms summed per value at offset `at` of channel ch, into one or two sums.
struct ValueTerm {  // x
    const float* x;
    __device__ void operator()(int64_t, int64_t at, double& s0, double&) const { s0 += x[at]; }
};
struct SquaredDeviationTerm {  // (x - mean[ch])^2, around the float mean as on the CPU
    const float* x;
    const float* mean;
    __device__ void operator()(int64_t ch, int64_t at, double& s0, double&) const {
        s0 += math::squared_deviation(x[at], mean[ch]);
    }
};
struct ProductTerms {  // a, and a * (b - center[ch])
    const float *a, *b, *center;
    __device__ void operator()(int64_t ch, int64_t at, double& s0, double& s1) const {
        s0 += a[at];
        s1 += math::centered_product(a[at], b[at], center ? center[ch] : 0.0f);
    }
};

// Block (ch, part) sums run `part` of channel ch, values [part * per_part, + per_part), into
// partial[(ch * parts + part) * 2 + {0, 1}].
template <class Term>
__global__ void channel_partials_kernel(Term term, int64_t c, int64_t l, int64_t count, int64_t per_part,
                                        double* partial) {
    __shared__ double shared[kThreads];
    const int64_t begin = blockIdx.y * per_part, end = begin + per_part < count ? begin + per_part : count;
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        double s0 = 0, s1 = 0;
        for_channel_values(begin, end, c, l, ch, [&](int64_t at) { term(ch, at, s0, s1); });
        s0 = group_reduce<kThreads>(s0, shared, Plus());
        s1 = group_reduce<kThreads>(s1, shared, Plus());
        if (threadIdx.x == 0) {
            double* out = partial + (ch * gridDim.y + blockIdx.y) * 2;
            out[0] = s0, out[1] = s1;
        }
    }
}

// out0[ch] = (the runs' first sums, in order) / divisor; out1 likewise from the second, when
// given.
__global__ void channel_finish_kernel(const double* partial, int64_t c, int parts, double divisor, float* out0,
                                      float* out1) {
    FOCAL_GRID_LOOP(ch, c) {
        double s0 = 0, s1 = 0;
        for (int part = 0; part < parts; ++part) {
            s0 += partial[(ch * parts + part) * 2];
            s1 += partial[(ch * parts + part) * 2 + 1];
        }
        out0[ch] = static_cast<float>(s0 / divisor);
        if (out1) out1[ch] = static_cast<float>(s1 / divisor);
    }
}

// Runs of at least 32 values per thread, at most 256 runs per channel.
struct ChannelSplit {
    int64_t count, per_part;
    int parts;
};
ChannelSplit channel_split(int64_t n, int64_t l) {
    const int64_t count = n * l, least = int64_t{32} * kThreads;
    const int64_t parts = std::min<int64_t>(256, std::max<int64_t>(1, count / least));
    return {count, (count + parts - 1) / parts, static_cast<int>(parts)};
}

// Both passes of one sum over every channel: partials, then the in-order finish.
template <class Term>
void channel_reduce(const Term& term, int64_t c, int64_t l, const ChannelSplit& split, double divisor, float* out0,
                    float* out1) {
    DeviceBuffer partial(static_cast<size_t>(c) * split.parts * 2 * sizeof(double));
    const dim3 grid(static_cast<unsigned>(std::min<int64_t>(c, INT_MAX)), static_cast<unsigned>(split.parts));
    channel_partials_kernel<<<grid, kThreads, 0, stream()>>>(term, c, l, split.count, split.per_part,
                                                             partial.as<double>());
    after_launch("channel partial sums");
    channel_finish_kernel<<<blocks_for(c), kThreads, 0, stream()>>>(partial.as<double>(), c, split.parts, divisor, out0,
                                                                    out1);
    after_launch("channel sums");
}

__global__ void channel_affine_kernel(const float* a, const float* p, const float* b, const float* q, const float* r,
                                      int64_t c, int64_t l, int64_t total, float* out) {
    FOCAL_GRID_LOOP(t, total) {
        const int64_t ch = (t / l) % c;
        const float rc = r ? r[ch] : 0.0f;
        out[t] =
            b ? math::channel_affine(a[t], p[ch], b[t], q ? q[ch] : 0.0f, rc) : math::channel_affine(a[t], p[ch], rc);
    }
}

}  // namespace

void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var) {
    if (c == 0) return;
    const ChannelSplit split = channel_split(n, l);
    const double count = static_cast<double>(split.count);
    channel_reduce(ValueTerm{x}, c, l, split, count, mean, nullptr);
    channel_reduce(SquaredDeviationTerm{x, mean}, c, l, split, count, var, nullptr);
}

void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l, float* sum_a,
                  float* sum_ab) {
    if (c == 0) return;
    channel_reduce(ProductTerms{a, b, b_center}, c, l, channel_split(n, l), 1.0, sum_a, sum_ab);
}

void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r, int64_t n,
                    int64_t c, int64_t l, float* out) {
    const int64_t total = n * c * l;
    if (total == 0) return;
    channel_affine_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(a, p, b, q, r, c, l, total, out);
    after_launch("channel_affine");
}

}  // namespace focal::cuda
