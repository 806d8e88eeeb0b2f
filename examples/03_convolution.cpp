// Chapter 3 (docs/learn/03-convolution.md): a 3x3 convolution two ways, against conv2d.
//
//   im2col + gemm: copy every 3x3xC window into a column, then one matrix product
//     W (O, C*9) @ cols (C*9, OH*OW). 9*C multiplies per output.
//   Winograd F(2x2, 3x3) (Lavin & Gray 2016): per 2x2 output tile, transform the 4x4 input
//     patch (V = B^T d B) and the filter (U = G g G^T), multiply element-wise (16 products
//     per channel), transform back (Y = A^T M A). 16*C multiplies per 4 outputs = 4*C each.
// The transforms of B and A only add and subtract; G's halves are paid once per filter.
// Both must equal focal's conv2d (engine/ops/conv.cpp, engine/ops/conv_winograd.cpp) to 1e-4,
// and the multiply counts, counted in the loops below, must be 9C and 4C per output.
#include <cmath>
#include <cstdio>
#include <vector>

#include "engine/engine.h"

using namespace focal;

constexpr int C = 4, O = 8, H = 8, W = 8, P = 1;  // one image, 3x3 kernel, stride 1, padding 1
constexpr int OH = H, OW = W;                     // (H + 2P - 3) / 1 + 1

double max_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0;
    for (size_t i = 0; i < a.size(); ++i) d = std::max(d, double(std::abs(a[i] - b[i])));
    return d;
}

int main() {
    Generator gen(3);
    Tensor x = Tensor::randn({1, C, H, W}, gen), w = Tensor::randn({O, C, 3, 3}, gen);
    const std::vector<float> X = x.to_vector<float>(), Wt = w.to_vector<float>();
    auto pixel = [&](int c, int i, int j) {  // zero outside the image: the padding
        return (i < 0 || i >= H || j < 0 || j >= W) ? 0.0f : X[(c * H + i) * W + j];
    };

    // ---- im2col + gemm
    const int K = C * 9, L = OH * OW;
    std::vector<float> cols(size_t(K) * L), y1(size_t(O) * L, 0.0f);
    for (int c = 0; c < C; ++c)
        for (int u = 0; u < 3; ++u)
            for (int v = 0; v < 3; ++v)
                for (int i = 0; i < OH; ++i)
                    for (int j = 0; j < OW; ++j)
                        cols[size_t((c * 9 + u * 3 + v)) * L + i * OW + j] = pixel(c, i + u - P, j + v - P);
    long long mults_im2col = 0;
    for (int o = 0; o < O; ++o)  // the gemm; conv2d hands this product to sgemm
        for (int k = 0; k < K; ++k)
            for (int l = 0; l < L; ++l)
                y1[size_t(o) * L + l] += Wt[size_t(o) * K + k] * cols[size_t(k) * L + l], ++mults_im2col;

    // ---- Winograd F(2x2, 3x3)
    const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    const float Bt[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
    const float At[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
    std::vector<float> U(size_t(O) * C * 16);  // U = G g G^T, once per filter (not counted: amortised)
    for (int o = 0; o < O; ++o)
        for (int c = 0; c < C; ++c)
            for (int a = 0; a < 4; ++a)
                for (int b = 0; b < 4; ++b) {
                    float s = 0;
                    for (int u = 0; u < 3; ++u)
                        for (int v = 0; v < 3; ++v) s += G[a][u] * Wt[((o * C + c) * 3 + u) * 3 + v] * G[b][v];
                    U[(size_t(o) * C + c) * 16 + a * 4 + b] = s;
                }
    std::vector<float> y2(size_t(O) * L, 0.0f);
    long long mults_winograd = 0;
    for (int ti = 0; ti < OH / 2; ++ti)
        for (int tj = 0; tj < OW / 2; ++tj) {
            // V = B^T d B for each channel's 4x4 patch d. B holds only 0 and +-1: a real kernel
            // (engine/cpu/winograd_kernels.cpp) writes these as additions, so they are not counted.
            float V[C][16];
            for (int c = 0; c < C; ++c)
                for (int a = 0; a < 4; ++a)
                    for (int b = 0; b < 4; ++b) {
                        float s = 0;
                        for (int u = 0; u < 4; ++u)
                            for (int v = 0; v < 4; ++v)
                                s += Bt[a][u] * pixel(c, 2 * ti + u - P, 2 * tj + v - P) * Bt[b][v];
                        V[c][a * 4 + b] = s;
                    }
            for (int o = 0; o < O; ++o) {
                float M[16] = {};  // the element-wise products, summed over channels
                for (int c = 0; c < C; ++c)
                    for (int e = 0; e < 16; ++e) M[e] += U[(size_t(o) * C + c) * 16 + e] * V[c][e], ++mults_winograd;
                for (int r = 0; r < 2; ++r)  // Y = A^T M A: additions only (A holds 0, 1, -1)
                    for (int s = 0; s < 2; ++s) {
                        float acc = 0;
                        for (int a = 0; a < 4; ++a)
                            for (int b = 0; b < 4; ++b) acc += At[r][a] * M[a * 4 + b] * At[s][b];
                        y2[size_t(o) * L + (2 * ti + r) * OW + 2 * tj + s] = acc;
                    }
            }
        }

    // ---- focal's conv2d, each algorithm forced, and Auto (what the layers use)
    bool ok = true;
    const long long outputs = static_cast<long long>(O) * L;
    std::printf("3x3 conv, %d -> %d channels, %dx%d, padding 1: %lld outputs\n", C, O, H, W, outputs);
    std::printf("  im2col + gemm : %6lld multiplies = %.1f per output (9C = %d)\n", mults_im2col,
                double(mults_im2col) / outputs, 9 * C);
    std::printf("  Winograd F(2x2, 3x3): %6lld multiplies = %.1f per output (4C = %d), %.2fx fewer\n", mults_winograd,
                double(mults_winograd) / outputs, 4 * C, double(mults_im2col) / mults_winograd);
    ok = ok && mults_im2col == 9LL * C * outputs && mults_winograd == 4LL * C * outputs;
    const std::pair<const char*, Conv2dAlgorithm> algorithms[] = {{"Im2col", Conv2dAlgorithm::Im2col},
                                                                  {"Winograd2", Conv2dAlgorithm::Winograd2},
                                                                  {"Winograd4", Conv2dAlgorithm::Winograd4},
                                                                  {"Auto", Conv2dAlgorithm::Auto}};
    for (const auto& [name, algorithm] : algorithms) {
        Conv2dOptions opt;
        opt.padding = P;
        opt.algorithm = algorithm;
        const std::vector<float> ref = conv2d(x, w, {}, opt).to_vector<float>();
        const double d1 = max_diff(y1, ref), d2 = max_diff(y2, ref);
        std::printf("  conv2d(%-9s) vs ours: im2col max |diff| %.1e, Winograd max |diff| %.1e\n", name, d1, d2);
        ok = ok && d1 <= 1e-4 && d2 <= 1e-4;
    }
    std::printf("%s: both hand-written convolutions equal conv2d; multiplies 9C vs 4C per output\n",
                ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
