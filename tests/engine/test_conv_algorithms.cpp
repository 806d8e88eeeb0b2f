// conv2d's algorithms: im2col (whole batch, per image, 1x1 without columns) against a
// direct convolution written out in loops; Winograd F(2x2, 3x3) and F(4x4, 3x3) against
// im2col on many shapes (values and all three gradients); finite-difference gradient
// checks of each path; bitwise reproducibility across runs and thread counts; the errors
// of a forced algorithm that does not fit the shape.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "engine/cpu/cpu_isa.h"
#include "gradcheck.h"

using namespace focal;
using focal::testing::gradcheck;
using In = std::vector<Tensor>;

namespace {

struct Case {
    int64_t n, c, h, w, o, padding;
    bool bias;
};

struct Result {
    std::vector<float> y, dx, dw, db;
};

// Forward with `algorithm`, then backward of sum(y * r) for a fixed random r.
Result run(const Case& s, Conv2dAlgorithm algorithm, uint64_t seed = 5) {
    Generator gen(seed);
    Tensor x = Tensor::randn({s.n, s.c, s.h, s.w}, gen).requires_grad_();
    Tensor w = (Tensor::randn({s.o, s.c, 3, 3}, gen) * 0.3f).requires_grad_();
    Tensor b = s.bias ? Tensor::randn({s.o}, gen).requires_grad_() : Tensor();
    Tensor y = conv2d(x, w, b, {1, s.padding, 1, algorithm});
    sum(y * Tensor::randn(y.shape(), gen)).backward();
    return {y.to_vector<float>(), x.grad().to_vector<float>(), w.grad().to_vector<float>(),
            s.bias ? b.grad().to_vector<float>() : std::vector<float>{}};
}

// Largest |a - b| relative to the largest |b|: Winograd's rounding error scales with the
// magnitude of the whole tile sum, not with each output.
double relative_error(const std::vector<float>& a, const std::vector<float>& b) {
    REQUIRE(a.size() == b.size());
    double worst = 0, scale = 1e-12;
    for (size_t i = 0; i < a.size(); ++i) {
        worst = std::max(worst, std::abs(double(a[i]) - b[i]));
        scale = std::max(scale, std::abs(double(b[i])));
    }
    return worst / scale;
}

std::string describe(const Case& s) {
    std::ostringstream out;
    out << "x (" << s.n << ", " << s.c << ", " << s.h << ", " << s.w << "), O " << s.o << ", padding " << s.padding
        << (s.bias ? ", bias" : "");
    return out.str();
}

const Case kCases[] = {
    {1, 1, 3, 3, 1, 0, false},      // a single output pixel
    {1, 1, 1, 1, 2, 1, true},       // a 1x1 image, all padding but the centre
    {2, 3, 5, 7, 4, 1, true},       // odd sizes: edge tiles hang over
    {3, 5, 8, 6, 7, 0, false},      // no padding
    {1, 4, 9, 11, 3, 2, true},      // padding 2: output larger than the input
    {2, 17, 13, 13, 19, 1, false},  // channels not multiples of anything
    {1, 3, 6, 37, 5, 1, true},      // more tiles across than one lane block (16)
    {2, 8, 70, 66, 6, 1, false},    // several lane blocks and odd tile counts
    {4, 2, 2, 2, 3, 1, true},       // 2x2 images, batch 4
    {1, 2, 4, 4, 2, 2, false},      // padding 2 on a small image
};

// The direct convolution and its gradients for L = sum(y * r), in double:
// y[n,o,i,j] = b[o] + sum_{c,p,q} x[n, c, i*s - pad + p*d, j*s - pad + q*d] w[o,c,p,q].
struct Direct {
    std::vector<double> y, dx, dw, db;
};
Direct direct_conv(const Tensor& x, const Tensor& w, const Tensor& b, const Tensor& r, Conv2dOptions opt) {
    const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), O = w.size(0), K = w.size(2),
                  KW = w.size(3);
    const int64_t OH = conv_out_size(H, K, opt.stride, opt.padding, opt.dilation),
                  OW = conv_out_size(W, KW, opt.stride, opt.padding, opt.dilation);
    const std::vector<float> xs = x.to_vector<float>(), ws = w.to_vector<float>(), rs = r.to_vector<float>();
    Direct d{std::vector<double>(N * O * OH * OW), std::vector<double>(xs.size()), std::vector<double>(ws.size()),
             std::vector<double>(O)};
    for (int64_t n = 0; n < N; ++n)
        for (int64_t o = 0; o < O; ++o)
            for (int64_t i = 0; i < OH; ++i)
                for (int64_t j = 0; j < OW; ++j) {
                    const int64_t at = ((n * O + o) * OH + i) * OW + j;
                    double acc = b.defined() ? b.to_vector<float>()[o] : 0.0;
                    for (int64_t c = 0; c < C; ++c)
                        for (int64_t p = 0; p < K; ++p)
                            for (int64_t q = 0; q < KW; ++q) {
                                const int64_t ih = i * opt.stride - opt.padding + p * opt.dilation,
                                              iw = j * opt.stride - opt.padding + q * opt.dilation;
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                                const int64_t xi = ((n * C + c) * H + ih) * W + iw, wi = ((o * C + c) * K + p) * KW + q;
                                acc += double(xs[xi]) * ws[wi];
                                d.dx[xi] += double(rs[at]) * ws[wi];
                                d.dw[wi] += double(rs[at]) * xs[xi];
                            }
                    d.y[at] = acc;
                    d.db[o] += rs[at];
                }
    return d;
}

double relative_error(const std::vector<float>& a, const std::vector<double>& b) {
    return relative_error(a, std::vector<float>(b.begin(), b.end()));
}

}  // namespace

TEST_CASE("im2col paths equal a direct convolution: values and gradients") {
    struct Conv {
        int64_t n, c, h, w, o, k, stride, padding, dilation;
        bool bias;
    };
    const Conv convs[] = {
        {2, 3, 6, 5, 4, 3, 2, 1, 1, true},     // whole-batch gemm (small output plane)
        {1, 2, 7, 7, 3, 3, 1, 2, 2, false},    // dilation 2
        {2, 3, 33, 35, 5, 3, 2, 1, 1, true},   // per image: stride 2, odd sizes
        {3, 5, 17, 16, 6, 3, 1, 1, 1, false},  // per image, 3x3 stride 1 (forced im2col)
        {2, 7, 16, 20, 3, 1, 1, 0, 1, true},   // per image, 1x1: x[n] is its own column matrix
        {1, 4, 40, 33, 2, 1, 2, 0, 1, false},  // 1x1 stride 2: needs columns
        {2, 3, 19, 18, 4, 5, 1, 2, 1, true},   // 5x5, per image
        {1, 2, 5, 5, 3, 1, 1, 1, 1, true},     // 1x1 with padding: needs columns
        {2, 40, 16, 16, 3, 3, 1, 1, 1, true},  // a large plane, but fewer pixels than rows: whole batch
    };
    for (const Conv& s : convs) {
        Generator gen(17);
        Tensor x = Tensor::randn({s.n, s.c, s.h, s.w}, gen).requires_grad_();
        Tensor w = Tensor::randn({s.o, s.c, s.k, s.k}, gen).requires_grad_();
        Tensor b = s.bias ? Tensor::randn({s.o}, gen).requires_grad_() : Tensor();
        const Conv2dOptions opt{s.stride, s.padding, s.dilation, Conv2dAlgorithm::Im2col};
        Tensor y = conv2d(x, w, b, opt);
        Tensor r = Tensor::randn(y.shape(), gen);
        sum(y * r).backward();
        const Direct want = direct_conv(x.detached(), w.detached(), s.bias ? b.detached() : Tensor(), r, opt);
        INFO("x (", s.n, ", ", s.c, ", ", s.h, ", ", s.w, "), w (", s.o, ", ", s.c, ", ", s.k, ", ", s.k, "), stride ",
             s.stride, ", padding ", s.padding, ", dilation ", s.dilation);
        CHECK(relative_error(y.to_vector<float>(), want.y) <= 1e-6);
        CHECK(relative_error(x.grad().to_vector<float>(), want.dx) <= 1e-6);
        CHECK(relative_error(w.grad().to_vector<float>(), want.dw) <= 1e-6);
        if (s.bias) CHECK(relative_error(b.grad().to_vector<float>(), want.db) <= 1e-6);
        // Auto picks the same path or Winograd; either way the same convolution.
        Tensor y_auto =
            conv2d(x.detached(), w.detached(), s.bias ? b.detached() : Tensor(), {s.stride, s.padding, s.dilation});
        CHECK(relative_error(y_auto.to_vector<float>(), want.y) <= 2e-5);
    }
}

TEST_CASE("Winograd F(2x2, 3x3) and F(4x4, 3x3) equal im2col: values and gradients") {
    for (const Case& s : kCases) {
        const Result ref = run(s, Conv2dAlgorithm::Im2col);
        for (auto [algorithm, tol] :
             {std::pair{Conv2dAlgorithm::Winograd2, 2e-6}, std::pair{Conv2dAlgorithm::Winograd4, 2e-5}}) {
            const Result got = run(s, algorithm);
            const char* tile = algorithm == Conv2dAlgorithm::Winograd2 ? ", F(2x2, 3x3)" : ", F(4x4, 3x3)";
            INFO(describe(s), tile);  // not the binding itself: clang 14 cannot capture one
            CHECK(relative_error(got.y, ref.y) <= tol);
            CHECK(relative_error(got.dx, ref.dx) <= tol);
            CHECK(relative_error(got.dw, ref.dw) <= tol);
            if (s.bias) CHECK(relative_error(got.db, ref.db) <= tol);
        }
    }
}

TEST_CASE("the Winograd kernels of every instruction set this CPU runs agree with im2col") {
    using cpu::CpuIsa;
    const std::vector<CpuIsa> isas = cpu::supported_cpu_isas();
    REQUIRE(!isas.empty());
    CHECK(isas.front() == CpuIsa::Baseline);
    const CpuIsa saved = cpu::cpu_isa();
    if (!std::getenv("FOCAL_CPU_ISA")) CHECK(saved == isas.back());  // the best one, unless chosen by hand
    MESSAGE("Winograd kernel variants on this CPU: ", isas.size(), ", in use: ", std::string(cpu::cpu_isa_name(saved)));
    for (CpuIsa isa : isas) {
        cpu::set_cpu_isa(isa);
        for (const Case& s : kCases) {
            cpu::set_cpu_isa(CpuIsa::Baseline);
            const Result ref = run(s, Conv2dAlgorithm::Im2col);
            cpu::set_cpu_isa(isa);
            for (auto [algorithm, tol] :
                 {std::pair{Conv2dAlgorithm::Winograd2, 2e-6}, std::pair{Conv2dAlgorithm::Winograd4, 2e-5}}) {
                const Result got = run(s, algorithm);
                INFO(cpu::cpu_isa_name(isa), ", ", describe(s));
                CHECK(relative_error(got.y, ref.y) <= tol);
                CHECK(relative_error(got.dx, ref.dx) <= tol);
                CHECK(relative_error(got.dw, ref.dw) <= tol);
            }
        }
    }
    cpu::set_cpu_isa(saved);
    for (CpuIsa isa : {CpuIsa::Baseline, CpuIsa::Avx2, CpuIsa::Avx512})
        CHECK(cpu::cpu_isa_from_name(cpu::cpu_isa_name(isa)) == isa);
    CHECK_THROWS_WITH_AS(cpu::cpu_isa_from_name("avx-512"), doctest::Contains("unknown instruction set 'avx-512'"),
                         Error);
    if (isas.back() != CpuIsa::Avx512)
        CHECK_THROWS_WITH_AS(cpu::set_cpu_isa(CpuIsa::Avx512), doctest::Contains("cannot run the avx512 kernels"),
                             Error);
}

TEST_CASE("Auto uses Winograd for 3x3 stride-1 convs, im2col elsewhere, and agrees with both") {
    const Case s{2, 6, 20, 18, 5, 1, true};
    const Result ref = run(s, Conv2dAlgorithm::Im2col), got = run(s, Conv2dAlgorithm::Auto);
    CHECK(relative_error(got.y, ref.y) <= 2e-5);
    CHECK(relative_error(got.dw, ref.dw) <= 2e-5);
    CHECK(got.y != ref.y);  // a different algorithm: not bitwise the im2col result
    Generator gen(3);
    Tensor x = Tensor::randn({1, 2, 7, 7}, gen), w = Tensor::randn({3, 2, 3, 3}, gen);
    CHECK(conv2d(x, w, {}, {2, 1, 1}).to_vector<float>() ==
          conv2d(x, w, {}, {2, 1, 1, Conv2dAlgorithm::Im2col}).to_vector<float>());
}

TEST_CASE("a forced Winograd conv that does not fit the shape is an error") {
    Tensor x = Tensor::zeros({1, 2, 7, 7});
    CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({3, 2, 3, 3}), {}, {2, 1, 1, Conv2dAlgorithm::Winograd2}),
                         "[conv2d] Winograd needs a 3x3 kernel, stride 1 and dilation 1; got kernel 3x3, stride 2, "
                         "dilation 1",
                         Error);
    CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({3, 2, 1, 1}), {}, {1, 0, 1, Conv2dAlgorithm::Winograd4}),
                         doctest::Contains("got kernel 1x1"), Error);
    CHECK_THROWS_WITH_AS(conv2d(x, Tensor::zeros({3, 2, 3, 3}), {}, {1, 2, 2, Conv2dAlgorithm::Winograd4}),
                         doctest::Contains("dilation 2"), Error);
}

TEST_CASE("gradcheck: conv2d through im2col one image at a time") {
    Generator gen(9);
    auto randn = [&](const Shape& s) { return Tensor::randn(s, gen); };
    const testing::GradcheckOptions opt{5e-2, 1e-3, 1e-2};  // linear in each input: see below
    CHECK(gradcheck(
        "3x3 stride 2, 16x16 output",
        [](const In& in) {
        return conv2d(in[0], in[1], in[2], {2, 1, 1});
        },
        {randn({2, 2, 32, 31}), randn({2, 2, 3, 3}), randn({2})}, opt));
    CHECK(gradcheck(
        "1x1 on 16x16", [](const In& in) { return conv2d(in[0], in[1], in[2]); },
        {randn({2, 3, 16, 16}), randn({2, 3, 1, 1}), randn({2})}, opt));
}

TEST_CASE("gradcheck: conv2d through Winograd") {
    Generator gen(8);
    auto randn = [&](const Shape& s) { return Tensor::randn(s, gen); };
    // conv2d is linear in each input, so central differences have no truncation error at any
    // step: a large step keeps float32 rounding (larger in F(4x4, 3x3)'s transforms) small
    // next to the difference.
    const testing::GradcheckOptions opt{5e-2, 1e-3, 1e-2};
    for (Conv2dAlgorithm algorithm : {Conv2dAlgorithm::Winograd2, Conv2dAlgorithm::Winograd4}) {
        INFO((algorithm == Conv2dAlgorithm::Winograd2 ? "F(2x2, 3x3)" : "F(4x4, 3x3)"));
        CHECK(gradcheck(
            "pad 1 + bias",
            [=](const In& in) {
            return conv2d(in[0], in[1], in[2], {1, 1, 1, algorithm});
            },
            {randn({2, 3, 5, 6}), randn({4, 3, 3, 3}), randn({4})}, opt));
        CHECK(gradcheck(
            "pad 0, odd size",
            [=](const In& in) {
            return conv2d(in[0], in[1], {}, {1, 0, 1, algorithm});
            },
            {randn({1, 2, 7, 5}), randn({3, 2, 3, 3})}, opt));
        CHECK(gradcheck(
            "pad 2",
            [=](const In& in) {
            return conv2d(in[0], in[1], {}, {1, 2, 1, algorithm});
            },
            {randn({1, 2, 4, 3}), randn({2, 2, 3, 3})}, opt));
        CHECK(gradcheck(
            "permuted input",
            [=](const In& in) {
            return conv2d(in[0].permute({0, 1, 3, 2}), in[1], in[2], {1, 1, 1, algorithm});
            },
            {randn({2, 2, 4, 5}), randn({2, 2, 3, 3}), randn({2})}, opt));
    }
}

TEST_CASE("conv2d is bitwise identical across runs and thread counts, on every path") {
    const Case s{3, 9, 23, 35, 11, 1, true};  // 23x35 outputs: im2col runs one image at a time
    const int saved = num_threads();
    for (Conv2dAlgorithm algorithm :
         {Conv2dAlgorithm::Winograd2, Conv2dAlgorithm::Winograd4, Conv2dAlgorithm::Im2col}) {
        set_num_threads(2);
        const Result a = run(s, algorithm), b = run(s, algorithm);
        set_num_threads(1);
        const Result one = run(s, algorithm);
        set_num_threads(saved);
        for (const Result* r : {&b, &one}) {
            CHECK(r->y == a.y);
            CHECK(r->dx == a.dx);
            CHECK(r->dw == a.dw);
            CHECK(r->db == a.db);
        }
    }
}
