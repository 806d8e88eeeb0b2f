// The per-channel kernels behind batch_norm on (N, C, L) buffers. channel_stats and
// channel_sums give each channel one block: every thread sums a fixed, strided share of
// the channel's N*L values in double, then the block merges the shares in a fixed tree, so
// a run gives the same bits as the last. channel_affine is one thread per element. The
// per-element math is the CPU's (engine/kernels/channel_math.h).
#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"
#include "engine/kernels/channel_math.h"

namespace focal::cuda {
namespace {

struct Plus {
    __device__ double operator()(double a, double b) const { return a + b; }
};

// Visits this thread's share of channel ch's values, k = threadIdx.x, + blockDim.x, ...
// below n * l, as offsets (i * c + ch) * l + j of (i, j) = (k / l, k % l), stepping (i, j)
// rather than dividing k: a 64-bit division per value is slow on a GPU.
template <class Visit>
__device__ void for_channel_values(int64_t n, int64_t c, int64_t l, int64_t ch, Visit&& visit) {
    if (n == 0 || l == 0) return;
    const int64_t step_i = blockDim.x / l, step_j = blockDim.x % l;
    int64_t i = threadIdx.x / l, j = threadIdx.x % l;
    for (; i < n; i += step_i, j += step_j) {
        if (j >= l) j -= l, ++i;
        if (i >= n) break;
        visit((i * c + ch) * l + j);
    }
}

// mean[ch] and biased var[ch], the second pass around the (float) mean as on the CPU.
__global__ void channel_stats_kernel(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var) {
    __shared__ double shared[kThreads];
    const int64_t count = n * l;
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        double total = 0;
        for_channel_values(n, c, l, ch, [&](int64_t at) { total += x[at]; });
        const double m = group_reduce<kThreads>(total, shared, Plus()) / static_cast<double>(count);
        const float mf = static_cast<float>(m);
        double squares = 0;
        for_channel_values(n, c, l, ch, [&](int64_t at) { squares += math::squared_deviation(x[at], mf); });
        squares = group_reduce<kThreads>(squares, shared, Plus());
        if (threadIdx.x == 0) {
            mean[ch] = mf;
            var[ch] = static_cast<float>(squares / static_cast<double>(count));
        }
    }
}

__global__ void channel_sums_kernel(const float* a, const float* b, const float* b_center, int64_t n, int64_t c,
                                    int64_t l, float* sum_a, float* sum_ab) {
    __shared__ double shared[kThreads];
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        const float center = b_center ? b_center[ch] : 0.0f;
        double sa = 0, sab = 0;
        for_channel_values(n, c, l, ch, [&](int64_t at) {
            sa += a[at];
            sab += math::centered_product(a[at], b[at], center);
        });
        sa = group_reduce<kThreads>(sa, shared, Plus());
        sab = group_reduce<kThreads>(sab, shared, Plus());
        if (threadIdx.x == 0) {
            sum_a[ch] = static_cast<float>(sa);
            sum_ab[ch] = static_cast<float>(sab);
        }
    }
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

int channel_blocks(int64_t c) { return static_cast<int>(std::min<int64_t>(c, 65535)); }

}  // namespace

void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var) {
    if (c == 0) return;
    channel_stats_kernel<<<channel_blocks(c), kThreads, 0, stream()>>>(x, n, c, l, mean, var);
    after_launch("channel_stats");
}

void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l, float* sum_a,
                  float* sum_ab) {
    if (c == 0) return;
    channel_sums_kernel<<<channel_blocks(c), kThreads, 0, stream()>>>(a, b, b_center, n, c, l, sum_a, sum_ab);
    after_launch("channel_sums");
}

void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r, int64_t n,
                    int64_t c, int64_t l, float* out) {
    const int64_t total = n * c * l;
    if (total == 0) return;
    channel_affine_kernel<<<blocks_for(total), kThreads, 0, stream()>>>(a, p, b, q, r, c, l, total, out);
    after_launch("channel_affine");
}

}  // namespace focal::cuda
