// Winograd F(m x m, 3 x 3) transforms on the CPU (Lavin & Gray 2016, "Fast Algorithms for
// Convolutional Neural Networks", eq. 8):  Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
// for F(2x2, 3x3) (a = 4, eq. 7) and F(4x4, 3x3) (a = 6, interpolation points 0, ±1, ±2, ∞).
// Each 2-D transform is two 1-D passes (along rows, then along columns) run on kLanes
// consecutive tiles at once, one tile per vector lane. Parallel loops write disjoint
// outputs, so results are independent of the thread count.
#include "engine/cpu/winograd_kernels.h"

#include <algorithm>
#include <array>
#include <xmmintrin.h>

#include <cstring>
#include <vector>

#include "engine/error.h"
#include "engine/parallel.h"

namespace focal::cpu {

namespace {

template <size_t R, size_t K>
using Mat = std::array<std::array<float, K>, R>;

template <size_t R, size_t K>
constexpr Mat<K, R> transpose(const Mat<R, K>& a) {
    Mat<K, R> t{};
    for (size_t r = 0; r < R; ++r)
        for (size_t k = 0; k < K; ++k) t[k][r] = a[r][k];
    return t;
}

struct F2 {  // F(2x2, 3x3)
    static constexpr int m = 2, a = 4;
    static constexpr Mat<4, 4> BT{{{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}}};
    static constexpr Mat<4, 3> G{{{1, 0, 0}, {.5f, .5f, .5f}, {.5f, -.5f, .5f}, {0, 0, 1}}};
    static constexpr Mat<2, 4> AT{{{1, 1, 1, 0}, {0, 1, -1, -1}}};
};

struct F4 {  // F(4x4, 3x3)
    static constexpr int m = 4, a = 6;
    static constexpr Mat<6, 6> BT{{{4, 0, -5, 0, 1, 0},
                                   {0, -4, -4, 1, 1, 0},
                                   {0, 4, -4, -1, 1, 0},
                                   {0, -2, -1, 2, 1, 0},
                                   {0, 2, -1, -2, 1, 0},
                                   {0, 4, 0, -5, 0, 1}}};
    static constexpr Mat<6, 3> G{{{1 / 4.f, 0, 0},
                                  {-1 / 6.f, -1 / 6.f, -1 / 6.f},
                                  {-1 / 6.f, 1 / 6.f, -1 / 6.f},
                                  {1 / 24.f, 1 / 12.f, 1 / 6.f},
                                  {1 / 24.f, -1 / 12.f, 1 / 6.f},
                                  {0, 0, 1}}};
    static constexpr Mat<4, 6> AT{{{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}}};
};

constexpr int kLanes = 16;  // tiles transformed together, one per vector lane
using Lanes = float __attribute__((vector_size(4 * kLanes)));                // kLanes tiles' values
using LanesUnaligned = float __attribute__((vector_size(4 * kLanes), aligned(4)));

// out[r * out_stride] = sum_k A[r][k] * in[k * in_stride], on whole vectors of tiles.
// Inlined with A a constant, so zero coefficients cost nothing and ±1 cost no multiply.
template <size_t R, size_t K>
[[gnu::always_inline]] inline void apply(const Mat<R, K>& A, const Lanes* in, int in_stride, Lanes* out,
                                         int out_stride) {
#pragma GCC unroll 8
    for (size_t r = 0; r < R; ++r) {
        Lanes acc{};
        bool first = true;
#pragma GCC unroll 8
        for (size_t k = 0; k < K; ++k) {
            const float c = A[r][k];
            if (c == 0.0f) continue;
            acc = first ? c * in[k * in_stride] : acc + c * in[k * in_stride];
            first = false;
        }
        out[r * out_stride] = acc;
    }
}

// Where tile t starts: image n, top-left (row, col) of its window in the input (input
// transforms: th*m - pad, tw*m - pad) or in the output (output transforms: th*m, tw*m).
struct TileOrigin {
    int64_t n, row, col;
};
std::vector<TileOrigin> tile_origins(const WinogradGeometry& g, int64_t pad_h, int64_t pad_w) {
    std::vector<TileOrigin> origins(g.tiles());
    for (int64_t t = 0; t < g.tiles(); ++t) {
        const int64_t tw = t % g.tiles_w, th = (t / g.tiles_w) % g.tiles_h, n = t / (g.tiles_w * g.tiles_h);
        origins[t] = {n, th * g.tile - pad_h, tw * g.tile - pad_w};
    }
    return origins;
}

// Lanes [t0, t0 + kLanes) of a transform-domain row: 64-byte aligned (tile_stride() is a
// multiple of kLanes, buffers are 64-byte aligned). Stores bypass the cache: V and dM are
// larger than it and are next read by the gemms, so a normal store would only add a read
// of each line before writing it. The parallel regions end with a fence.
inline void load_lanes(const float* row, int64_t t0, Lanes& v) {
    __builtin_prefetch(row + t0 + 8 * kLanes);  // a row is read front to back, one block at a time
    v = *reinterpret_cast<const Lanes*>(row + t0);
}
inline void store_lanes(const Lanes& v, float* row, int64_t t0) {
    const float* f = reinterpret_cast<const float*>(&v);
    for (int q = 0; q < kLanes; q += 4) _mm_stream_ps(row + t0 + q, _mm_load_ps(f + q));
}

// The blocks of kLanes consecutive tiles: [t0, t0 + count) for block b.
inline int64_t num_blocks(int64_t T) { return (T + kLanes - 1) / kLanes; }

// U[p = i*a + j][oc] = (G w_oc G^T)[i][j] for each 3x3 kernel w_oc, kFilterBlock kernels at
// a time so that U is written in contiguous runs.
constexpr int64_t kFilterBlock = 64;

template <class F>
void filter(const WinogradGeometry& g, int64_t out_channels, const float* w, float* u) {
    constexpr int a = F::a;
    const int64_t OC = out_channels * g.conv.channels;
    parallel_for((OC + kFilterBlock - 1) / kFilterBlock, 1, [&](int64_t begin, int64_t end) {
        float block[a * a][kFilterBlock];
        for (int64_t b = begin; b < end; ++b) {
            const int64_t oc0 = b * kFilterBlock, count = std::min(kFilterBlock, OC - oc0);
            for (int64_t q = 0; q < count; ++q) {
                const float* k = w + (oc0 + q) * 9;
                float t[a][3];  // G w
                for (int i = 0; i < a; ++i)
                    for (int c = 0; c < 3; ++c)
                        t[i][c] = F::G[i][0] * k[c] + F::G[i][1] * k[3 + c] + F::G[i][2] * k[6 + c];
                for (int i = 0; i < a; ++i)
                    for (int j = 0; j < a; ++j)
                        block[i * a + j][q] = t[i][0] * F::G[j][0] + t[i][1] * F::G[j][1] + t[i][2] * F::G[j][2];
            }
            for (int p = 0; p < a * a; ++p) std::memcpy(u + p * OC + oc0, block[p], count * sizeof(float));
        }
    });
}

// Its adjoint: dw_oc = G^T dU_oc G.
template <class F>
void filter_backward(const WinogradGeometry& g, int64_t out_channels, const float* du, float* dw) {
    constexpr int a = F::a;
    const int64_t OC = out_channels * g.conv.channels;
    parallel_for((OC + kFilterBlock - 1) / kFilterBlock, 1, [&](int64_t begin, int64_t end) {
        float block[a * a][kFilterBlock];
        for (int64_t b = begin; b < end; ++b) {
            const int64_t oc0 = b * kFilterBlock, count = std::min(kFilterBlock, OC - oc0);
            for (int p = 0; p < a * a; ++p) std::memcpy(block[p], du + p * OC + oc0, count * sizeof(float));
            for (int64_t q = 0; q < count; ++q) {
                float s[3][a];  // G^T dU
                for (int r = 0; r < 3; ++r)
                    for (int j = 0; j < a; ++j) {
                        float acc = 0;
                        for (int i = 0; i < a; ++i) acc += F::G[i][r] * block[i * a + j][q];
                        s[r][j] = acc;
                    }
                for (int r = 0; r < 3; ++r)
                    for (int c = 0; c < 3; ++c) {
                        float acc = 0;
                        for (int j = 0; j < a; ++j) acc += s[r][j] * F::G[j][c];
                        dw[(oc0 + q) * 9 + r * 3 + c] = acc;
                    }
            }
        }
    });
}

// V_t = B^T d_t B for every tile t and channel c: V (a*a, C, T), d_t the zero-padded a x a
// input window. Parallel over channels, tiles in order within one: each row of V is then
// written front to back, and each input plane read front to back.
template <class F>
void input(const WinogradGeometry& g, const float* x, float* v) {
    constexpr int a = F::a;
    const Conv2dGeometry& c = g.conv;
    const int64_t T = g.tiles(), TS = g.tile_stride(), C = c.channels, H = c.height, W = c.width;
    const std::vector<TileOrigin> origins = tile_origins(g, c.pad_h, c.pad_w);
    parallel_for(C, 1, [&](int64_t begin, int64_t end) {
        Lanes d[a * a], h[a * a], out[a * a];
        for (int64_t ch = begin; ch < end; ++ch) {
            for (int64_t b = 0; b < num_blocks(T); ++b) {
                const int64_t t0 = b * kLanes, count = std::min<int64_t>(kLanes, T - t0);
                for (int64_t l = 0; l < kLanes; ++l) {
                    if (l >= count) {  // past the last tile: zeros, so V's extra columns are zero
                        for (int i = 0; i < a * a; ++i) d[i][l] = 0.0f;
                        continue;
                    }
                    const TileOrigin& o = origins[t0 + l];
                    const float* src = x + (o.n * C + ch) * H * W;
                    if (o.row >= 0 && o.col >= 0 && o.row + a <= H && o.col + a <= W) {
                        for (int r = 0; r < a; ++r)
                            for (int k = 0; k < a; ++k) d[r * a + k][l] = src[(o.row + r) * W + o.col + k];
                    } else {
                        for (int r = 0; r < a; ++r)
                            for (int k = 0; k < a; ++k) {
                                const int64_t ih = o.row + r, iw = o.col + k;
                                d[r * a + k][l] = ih >= 0 && ih < H && iw >= 0 && iw < W ? src[ih * W + iw] : 0.0f;
                            }
                    }
                }
                for (int r = 0; r < a; ++r) apply(F::BT, d + r * a, 1, h + r * a, 1);  // along each row
                for (int j = 0; j < a; ++j) apply(F::BT, h + j, a, out + j, a);        // along each column
                for (int p = 0; p < a * a; ++p) store_lanes(out[p], v + (p * C + ch) * TS, t0);
            }
        }
        _mm_sfence();
    });
}

// dx = sum over tiles of B dV_t B^T, added back onto the overlapping input windows.
// Parallel over channels: each channel's planes are summed by one thread in a fixed order.
template <class F>
void input_backward(const WinogradGeometry& g, const float* dv, float* dx) {
    constexpr int a = F::a;
    constexpr Mat<a, a> B = transpose(F::BT);
    const Conv2dGeometry& c = g.conv;
    const int64_t T = g.tiles(), TS = g.tile_stride(), C = c.channels, H = c.height, W = c.width;
    const std::vector<TileOrigin> origins = tile_origins(g, c.pad_h, c.pad_w);
    parallel_for(C, 1, [&](int64_t begin, int64_t end) {
        Lanes in[a * a], h[a * a], d[a * a];
        for (int64_t ch = begin; ch < end; ++ch) {
            for (int64_t n = 0; n < c.batch; ++n) std::memset(dx + (n * C + ch) * H * W, 0, H * W * sizeof(float));
            for (int64_t b = 0; b < num_blocks(T); ++b) {
                const int64_t t0 = b * kLanes, count = std::min<int64_t>(kLanes, T - t0);
                for (int p = 0; p < a * a; ++p) load_lanes(dv + (p * C + ch) * TS, t0, in[p]);
                for (int j = 0; j < a; ++j) apply(B, in + j, a, h + j, a);          // along each column
                for (int r = 0; r < a; ++r) apply(B, h + r * a, 1, d + r * a, 1);  // along each row
                for (int64_t l = 0; l < count; ++l) {
                    const TileOrigin& o = origins[t0 + l];
                    float* dst = dx + (o.n * C + ch) * H * W;
                    if (o.row >= 0 && o.col >= 0 && o.row + a <= H && o.col + a <= W) {
                        for (int r = 0; r < a; ++r)
                            for (int k = 0; k < a; ++k) dst[(o.row + r) * W + o.col + k] += d[r * a + k][l];
                    } else {
                        for (int r = 0; r < a; ++r)
                            for (int k = 0; k < a; ++k) {
                                const int64_t ih = o.row + r, iw = o.col + k;
                                if (ih >= 0 && ih < H && iw >= 0 && iw < W) dst[ih * W + iw] += d[r * a + k][l];
                            }
                    }
                }
            }
        }
    });
}

// y_t = A^T M_t A (+ bias), clipped where the tile hangs over the output's edge.
// Parallel over output channels, tiles in order within one (rows of M read front to back).
template <class F>
void output(const WinogradGeometry& g, int64_t out_channels, const float* mm, const float* bias, float* y) {
    constexpr int m = F::m, a = F::a;
    const Conv2dGeometry& c = g.conv;
    const int64_t T = g.tiles(), TS = g.tile_stride(), O = out_channels, OH = c.out_h, OW = c.out_w;
    const std::vector<TileOrigin> origins = tile_origins(g, 0, 0);
    parallel_for(O, 1, [&](int64_t begin, int64_t end) {
        Lanes in[a * a], s[m * a], out[m * m];
        for (int64_t oc = begin; oc < end; ++oc) {
            for (int64_t b = 0; b < num_blocks(T); ++b) {
                const int64_t t0 = b * kLanes, count = std::min<int64_t>(kLanes, T - t0);
                for (int p = 0; p < a * a; ++p) load_lanes(mm + (p * O + oc) * TS, t0, in[p]);
                for (int j = 0; j < a; ++j) apply(F::AT, in + j, a, s + j, a);          // along each column
                for (int r = 0; r < m; ++r) apply(F::AT, s + r * a, 1, out + r * m, 1);  // along each row
                const float bo = bias ? bias[oc] : 0.0f;
                for (int64_t l = 0; l < count; ++l) {
                    const TileOrigin& o = origins[t0 + l];
                    float* dst = y + (o.n * O + oc) * OH * OW;
                    for (int r = 0; r < m && o.row + r < OH; ++r)
                        for (int k = 0; k < m && o.col + k < OW; ++k)
                            dst[(o.row + r) * OW + o.col + k] = out[r * m + k][l] + bo;
                }
            }
        }
    });
}

// dM_t = A dy_t A^T, dy_t the m x m output tile (0 where it hangs over the edge).
// Parallel over output channels, as output().
template <class F>
void output_backward(const WinogradGeometry& g, int64_t out_channels, const float* dy, float* dm) {
    constexpr int m = F::m, a = F::a;
    constexpr Mat<a, m> A = transpose(F::AT);
    const Conv2dGeometry& c = g.conv;
    const int64_t T = g.tiles(), TS = g.tile_stride(), O = out_channels, OH = c.out_h, OW = c.out_w;
    const std::vector<TileOrigin> origins = tile_origins(g, 0, 0);
    parallel_for(O, 1, [&](int64_t begin, int64_t end) {
        Lanes e[m * m], h[m * a], out[a * a];
        for (int64_t oc = begin; oc < end; ++oc) {
            for (int64_t b = 0; b < num_blocks(T); ++b) {
                const int64_t t0 = b * kLanes, count = std::min<int64_t>(kLanes, T - t0);
                for (int i = 0; i < m * m; ++i) e[i] = Lanes{};
                for (int64_t l = 0; l < count; ++l) {
                    const TileOrigin& o = origins[t0 + l];
                    const float* src = dy + (o.n * O + oc) * OH * OW;
                    for (int r = 0; r < m && o.row + r < OH; ++r)
                        for (int k = 0; k < m && o.col + k < OW; ++k) e[r * m + k][l] = src[(o.row + r) * OW + o.col + k];
                }
                for (int r = 0; r < m; ++r) apply(A, e + r * m, 1, h + r * a, 1);  // along each row
                for (int j = 0; j < a; ++j) apply(A, h + j, a, out + j, a);        // along each column
                for (int p = 0; p < a * a; ++p) store_lanes(out[p], dm + (p * O + oc) * TS, t0);
            }
        }
        _mm_sfence();
    });
}

template <class Body>
void with_variant(const WinogradGeometry& g, Body&& body) {
    if (g.tile == 2) return body(F2{});
    if (g.tile == 4) return body(F4{});
    fail("[winograd] tile size ", g.tile, " is not supported (2 or 4)");
}

}  // namespace

void winograd_filter(const WinogradGeometry& g, int64_t out_channels, const float* w, float* u) {
    with_variant(g, [&](auto f) { filter<decltype(f)>(g, out_channels, w, u); });
}
void winograd_filter_backward(const WinogradGeometry& g, int64_t out_channels, const float* du, float* dw) {
    with_variant(g, [&](auto f) { filter_backward<decltype(f)>(g, out_channels, du, dw); });
}
void winograd_input(const WinogradGeometry& g, const float* x, float* v) {
    with_variant(g, [&](auto f) { input<decltype(f)>(g, x, v); });
}
void winograd_input_backward(const WinogradGeometry& g, const float* dv, float* dx) {
    with_variant(g, [&](auto f) { input_backward<decltype(f)>(g, dv, dx); });
}
void winograd_output(const WinogradGeometry& g, int64_t out_channels, const float* m, const float* bias,
                     float* y) {
    with_variant(g, [&](auto f) { output<decltype(f)>(g, out_channels, m, bias, y); });
}
void winograd_output_backward(const WinogradGeometry& g, int64_t out_channels, const float* dy, float* dm) {
    with_variant(g, [&](auto f) { output_backward<decltype(f)>(g, out_channels, dy, dm); });
}

}  // namespace focal::cpu
