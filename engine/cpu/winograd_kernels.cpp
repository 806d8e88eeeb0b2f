// Winograd F(m x m, 3 x 3) transforms on the CPU (Lavin & Gray 2016, "Fast Algorithms for
// Convolutional Neural Networks", eq. 8):  Y = A^T [ (G g G^T) ⊙ (B^T d B) ] A
// for F(2x2, 3x3) (a = 4, eq. 7) and F(4x4, 3x3) (a = 6, interpolation points 0, ±1, ±2, ∞).
// Each 2-D transform is two 1-D passes (along rows, then along columns) run on kLanes
// consecutive tiles at once, one tile per vector lane. Parallel loops write disjoint
// outputs, so results are independent of the thread count. The kernels themselves are in
// winograd_kernels.inc, compiled here once per instruction set (engine/cpu/cpu_isa.h).
#include "engine/cpu/winograd_kernels.h"

#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "engine/cpu/cpu_isa.h"
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

constexpr int kLanes = 16;                                     // tiles transformed together, one per vector lane
using Lanes = float __attribute__((vector_size(4 * kLanes)));  // kLanes tiles' values

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

// The blocks of kLanes consecutive tiles: [t0, t0 + count) for block b.
inline int64_t num_blocks(int64_t T) { return (T + kLanes - 1) / kLanes; }

// The same origins, a block of kLanes tiles at a time as 32-bit lanes, for the AVX-512
// kernels' masked gathers and scatters: the window's offset in the tensor at channel 0
// (n * image_stride + row * width + col) and its row and column. Lanes past the last tile
// have count <= l and are masked off. Only for tensors of fewer than 2^31 elements.
struct alignas(64) BlockOrigins {
    int32_t offset[kLanes], row[kLanes], col[kLanes];
    int32_t count;
};
bool fits_int32(int64_t elements) { return elements < (int64_t{1} << 31); }
std::vector<BlockOrigins> block_origins(const std::vector<TileOrigin>& origins, int64_t image_stride, int64_t width) {
    const int64_t T = static_cast<int64_t>(origins.size());
    std::vector<BlockOrigins> blocks(num_blocks(T));
    for (int64_t b = 0; b < num_blocks(T); ++b) {
        BlockOrigins& block = blocks[b];
        block = {};
        block.count = static_cast<int32_t>(std::min<int64_t>(kLanes, T - b * kLanes));
        for (int32_t l = 0; l < block.count; ++l) {
            const TileOrigin& o = origins[b * kLanes + l];
            block.offset[l] = static_cast<int32_t>(o.n * image_stride + o.row * width + o.col);
            block.row[l] = static_cast<int32_t>(o.row);
            block.col[l] = static_cast<int32_t>(o.col);
        }
    }
    return blocks;
}

// Filter kernels transformed per block (U written in contiguous runs of this many).
constexpr int64_t kFilterBlock = 64;

// One variant's kernels for one tile size.
struct WinogradKernels {
    void (*filter)(const WinogradGeometry&, int64_t, const float*, float*);
    void (*filter_backward)(const WinogradGeometry&, int64_t, const float*, float*);
    void (*input)(const WinogradGeometry&, const float*, float*);
    void (*input_backward)(const WinogradGeometry&, const float*, float*);
    void (*output)(const WinogradGeometry&, int64_t, const float*, const float*, float*);
    void (*output_backward)(const WinogradGeometry&, int64_t, const float*, float*);
};

// The kernels, once per instruction set (engine/cpu/cpu_isa.h).
namespace isa_baseline {
constexpr bool kWindowGathers = false;
#include "engine/cpu/winograd_kernels.inc"
}  // namespace isa_baseline
#if FOCAL_CPU_ISA_VARIANTS
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi,bmi2,lzcnt,movbe,popcnt")
namespace isa_avx2 {
constexpr bool kWindowGathers = false;  // AVX2's gathers are slow on many of its CPUs
#include "engine/cpu/winograd_kernels.inc"
}  // namespace isa_avx2
#pragma GCC pop_options
#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c,bmi,bmi2,lzcnt,movbe,popcnt,avx512f,avx512vl,avx512bw,avx512dq,avx512cd")
namespace isa_avx512 {
constexpr bool kWindowGathers = true;
#include "engine/cpu/winograd_kernels.inc"
}  // namespace isa_avx512
#pragma GCC pop_options
#endif

// The kernels of one variant and tile size, for the dispatch below.
const WinogradKernels& kernels_for(const WinogradGeometry& g) {
    FOCAL_CHECK(g.tile == 2 || g.tile == 4, "[winograd] tile size ", g.tile, " is not supported (2 or 4)");
    const bool f4 = g.tile == 4;
    switch (cpu_isa()) {
#if FOCAL_CPU_ISA_VARIANTS
        case CpuIsa::Avx512: return f4 ? isa_avx512::kernels<F4> : isa_avx512::kernels<F2>;
        case CpuIsa::Avx2: return f4 ? isa_avx2::kernels<F4> : isa_avx2::kernels<F2>;
#endif
        default: return f4 ? isa_baseline::kernels<F4> : isa_baseline::kernels<F2>;
    }
}

}  // namespace

void winograd_filter(const WinogradGeometry& g, int64_t out_channels, const float* w, float* u) {
    kernels_for(g).filter(g, out_channels, w, u);
}
void winograd_filter_backward(const WinogradGeometry& g, int64_t out_channels, const float* du, float* dw) {
    kernels_for(g).filter_backward(g, out_channels, du, dw);
}
void winograd_input(const WinogradGeometry& g, const float* x, float* v) { kernels_for(g).input(g, x, v); }
void winograd_input_backward(const WinogradGeometry& g, const float* dv, float* dx) {
    kernels_for(g).input_backward(g, dv, dx);
}
void winograd_output(const WinogradGeometry& g, int64_t out_channels, const float* m, const float* bias, float* y) {
    kernels_for(g).output(g, out_channels, m, bias, y);
}
void winograd_output_backward(const WinogradGeometry& g, int64_t out_channels, const float* dy, float* dm) {
    kernels_for(g).output_backward(g, out_channels, dy, dm);
}

}  // namespace focal::cpu
