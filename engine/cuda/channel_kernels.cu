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

// Element k of channel ch's values, k = i * l + j over (N, L).
__device__ float channel_value(const float* x, int64_t c, int64_t l, int64_t ch, int64_t k) {
    return x[((k / l) * c + ch) * l + k % l];
}

// mean[ch] and biased var[ch], the second pass around the (float) mean as on the CPU.
__global__ void channel_stats_kernel(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var) {
    __shared__ double shared[kThreads];
    const int64_t count = n * l;
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        double total = 0;
        for (int64_t k = threadIdx.x; k < count; k += blockDim.x) total += channel_value(x, c, l, ch, k);
        const double m = group_reduce<kThreads>(total, shared, Plus()) / static_cast<double>(count);
        const float mf = static_cast<float>(m);
        double squares = 0;
        for (int64_t k = threadIdx.x; k < count; k += blockDim.x)
            squares += math::squared_deviation(channel_value(x, c, l, ch, k), mf);
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
    const int64_t count = n * l;
    for (int64_t ch = blockIdx.x; ch < c; ch += gridDim.x) {
        const float center = b_center ? b_center[ch] : 0.0f;
        double sa = 0, sab = 0;
        for (int64_t k = threadIdx.x; k < count; k += blockDim.x) {
            const float va = channel_value(a, c, l, ch, k);
            sa += va;
            sab += math::centered_product(va, channel_value(b, c, l, ch, k), center);
        }
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
