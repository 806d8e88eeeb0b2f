// CPU per-channel kernels behind batch_norm (see Backend for their contracts).
#pragma once
#include <cstdint>

namespace focal::cpu {

void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var);
void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l, float* sum_a,
                  float* sum_ab);
void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r, int64_t n,
                    int64_t c, int64_t l, float* out);

}  // namespace focal::cpu
