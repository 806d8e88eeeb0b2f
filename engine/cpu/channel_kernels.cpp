// Per-channel loops over (N, C, L) buffers. Parallel over channels when there are enough of
// them, else over the images of each channel-row; either way each output element is
// computed by one thread in a fixed order, so results do not depend on the thread count.
// The per-element math is CUDA's too (engine/kernels/channel_math.h).
#include "engine/cpu/channel_kernels.h"

#include "engine/kernels/channel_math.h"
#include "engine/parallel.h"

namespace focal::cpu {

namespace {
// Sums a row with 8 independent float lanes (vectorisable, fixed order), then in double.
template <class Term>
double row_sum(int64_t l, Term term) {
    float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t j = 0;
    for (; j + 8 <= l; j += 8)
        for (int k = 0; k < 8; ++k) lanes[k] += term(j + k);
    double total = 0;
    for (; j < l; ++j) total += term(j);
    for (float lane : lanes) total += lane;
    return total;
}
}  // namespace

void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var) {
    const double count = static_cast<double>(n * l);
    parallel_for(c, 1, [&](int64_t begin, int64_t end) {
        for (int64_t ch = begin; ch < end; ++ch) {
            double total = 0;
            for (int64_t i = 0; i < n; ++i) {
                const float* row = x + (i * c + ch) * l;
                total += row_sum(l, [row](int64_t j) { return row[j]; });
            }
            const double m = total / count;
            const float mf = static_cast<float>(m);
            double squares = 0;  // second pass around the mean: no cancellation
            for (int64_t i = 0; i < n; ++i) {
                const float* row = x + (i * c + ch) * l;
                squares += row_sum(l, [row, mf](int64_t j) { return math::squared_deviation(row[j], mf); });
            }
            mean[ch] = static_cast<float>(m);
            var[ch] = static_cast<float>(squares / count);
        }
    });
}

void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l, float* sum_a,
                  float* sum_ab) {
    parallel_for(c, 1, [&](int64_t begin, int64_t end) {
        for (int64_t ch = begin; ch < end; ++ch) {
            const float center = b_center ? b_center[ch] : 0.0f;
            double sa = 0, sab = 0;
            for (int64_t i = 0; i < n; ++i) {
                const float* ra = a + (i * c + ch) * l;
                const float* rb = b + (i * c + ch) * l;
                sa += row_sum(l, [ra](int64_t j) { return ra[j]; });
                sab += row_sum(l, [ra, rb, center](int64_t j) { return math::centered_product(ra[j], rb[j], center); });
            }
            sum_a[ch] = static_cast<float>(sa);
            sum_ab[ch] = static_cast<float>(sab);
        }
    });
}

void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r, int64_t n,
                    int64_t c, int64_t l, float* out) {
    parallel_for(n * c, std::max<int64_t>(1, 32768 / std::max<int64_t>(l, 1)), [&](int64_t begin, int64_t end) {
        for (int64_t row = begin; row < end; ++row) {
            const int64_t ch = row % c;
            const float pc = p[ch], qc = q ? q[ch] : 0.0f, rc = r ? r[ch] : 0.0f;
            const float* ra = a + row * l;
            float* ro = out + row * l;
            if (b) {
                const float* rb = b + row * l;
                for (int64_t j = 0; j < l; ++j) ro[j] = math::channel_affine(ra[j], pc, rb[j], qc, rc);
            } else {
                for (int64_t j = 0; j < l; ++j) ro[j] = math::channel_affine(ra[j], pc, rc);
            }
        }
    });
}

}  // namespace focal::cpu
