// CPU vs CUDA parity for the backend kernels. Compiled always; without a GPU (or in a
// CPU-only build) the executable prints why and exits 77, which CTest reports as skipped,
// unless FOCAL_REQUIRE_CUDA=1 asks for the GPU, when it fails instead.
// Kernels that compute in the CPU's order (im2col, col2im, the pools, channel_affine,
// max / min, argmax) must match it to the bit; sums may differ in rounding only. Every
// kernel must give the same bits run to run.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "engine/engine.h"

using namespace focal;

namespace {

Generator gen(99);

void check_close(const Tensor& cpu, const Tensor& cuda, float tol = 1e-5f) {
    REQUIRE(cuda.device() == Device::CUDA);
    REQUIRE(cpu.shape() == cuda.shape());
    std::vector<float> a = cpu.to_vector<float>(), b = cuda.to_vector<float>();
    for (size_t i = 0; i < a.size(); ++i)
        REQUIRE_MESSAGE(std::abs(a[i] - b[i]) <= tol * (1 + std::abs(a[i])),
                        "element " << i << ": cpu " << a[i] << " cuda " << b[i]);
}

void check_same(const Tensor& cpu, const Tensor& cuda) {
    REQUIRE(cuda.device() == Device::CUDA);
    REQUIRE(cpu.shape() == cuda.shape());
    if (cpu.dtype() == DType::I32) {
        CHECK(cpu.to_vector<int32_t>() == cuda.to_vector<int32_t>());
        return;
    }
    std::vector<float> a = cpu.to_vector<float>(), b = cuda.to_vector<float>();
    CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
}

// Small integers: ties for the pools and argmax.
Tensor rounded(const Tensor& t) {
    std::vector<float> v = t.to_vector<float>();
    for (float& x : v) x = std::round(x);
    return Tensor::from_vector(v, t.shape());
}

float* f32(const Tensor& t) { return static_cast<float*>(t.raw_data()); }
int32_t* i32(const Tensor& t) { return static_cast<int32_t*>(t.raw_data()); }

// The same random values on both devices.
struct Pair {
    Tensor cpu, cuda;
};
Pair random_pair(const Shape& shape) {
    Tensor x = Tensor::randn(shape, gen);
    return {x, x.to(Device::CUDA)};
}
Pair empty_pair(const Shape& shape, DType dtype = DType::F32) {
    return {Tensor::zeros(shape, dtype), Tensor::zeros(shape, dtype, Device::CUDA)};
}

Conv2dGeometry window(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t stride, int64_t pad,
                      int64_t dilation, bool per_image = false) {
    Conv2dGeometry g;
    g.batch = n, g.channels = c, g.height = h, g.width = w;
    g.kernel_h = g.kernel_w = k, g.stride_h = g.stride_w = stride, g.pad_h = g.pad_w = pad;
    g.dilation_h = g.dilation_w = dilation;
    g.out_h = conv_out_size(h, k, stride, pad, dilation), g.out_w = conv_out_size(w, k, stride, pad, dilation);
    g.cols_per_image = per_image;
    return g;
}

const std::vector<Conv2dGeometry> kConvs = {
    window(2, 3, 9, 7, 3, 1, 1, 1), window(2, 4, 12, 12, 3, 2, 1, 1), window(1, 2, 10, 11, 3, 1, 2, 2),
    window(3, 5, 6, 6, 1, 1, 0, 1), window(2, 3, 7, 9, 5, 3, 2, 1),   window(1, 1, 1, 1, 3, 1, 1, 1),
};
const std::vector<Conv2dGeometry> kPools = {
    window(2, 3, 8, 8, 2, 2, 0, 1),
    window(2, 4, 9, 7, 3, 2, 1, 1),
    window(1, 2, 5, 5, 3, 1, 1, 1),
    window(3, 2, 10, 10, 5, 3, 2, 1),
};

}  // namespace

TEST_CASE("host <-> device copies round-trip exactly") {
    Tensor x = Tensor::randn({3, 5, 7}, gen);
    Tensor back = x.to(Device::CUDA).to(Device::CPU);
    CHECK(back.to_vector<float>() == x.to_vector<float>());
    Tensor strided = x.transpose(0, 2).to(Device::CUDA);
    CHECK(strided.contiguous().to(Device::CPU).to_vector<float>() == x.transpose(0, 2).contiguous().to_vector<float>());
    std::vector<int32_t> ints{1, -2, 3};
    CHECK(Tensor::from_vector(ints, {3}, Device::CUDA).to_vector<int32_t>() == ints);
}

TEST_CASE("unary kernels match the CPU") {
    Tensor x = Tensor::randn({4, 33}, gen) * 4.0f;
    Tensor d = x.to(Device::CUDA);
    check_close(exp(x), exp(d));
    check_close(sigmoid(x), sigmoid(d));
    check_close(tanh(x), tanh(d));
    check_close(softplus(x), softplus(d));
    check_close(log_sigmoid(x), log_sigmoid(d));
    check_close(relu(x), relu(d));
    check_close(abs(x), abs(d));
    check_close(clamp(x, -1, 2), clamp(d, -1, 2));
    check_close(pow(abs(x) + 0.1f, 1.7f), pow(abs(d) + 0.1f, 1.7f));
    check_close(log(abs(x) + 0.1f), log(abs(d) + 0.1f));
    check_close(sigmoid(x.transpose(0, 1)), sigmoid(d.transpose(0, 1)));
    Tensor extremes = Tensor::from_vector(std::vector<float>{-100, -20, 0, 20, 100}, {5});
    check_close(log_sigmoid(extremes), log_sigmoid(extremes.to(Device::CUDA)));
    check_close(softplus(extremes), softplus(extremes.to(Device::CUDA)));
}

TEST_CASE("binary kernels with broadcasting match the CPU") {
    Tensor a = Tensor::randn({2, 3, 4}, gen), b = Tensor::randn({3, 1}, gen) + 3.0f;
    Tensor da = a.to(Device::CUDA), db = b.to(Device::CUDA);
    check_close(a + b, da + db);
    check_close(a - b, da - db);
    check_close(a * b, da * db);
    check_close(a / b, da / db);
    check_close(maximum(a, b), maximum(da, db));
    check_close(gt(a, b), gt(da, db));
    check_close(where(gt(a, 0.0f), a, b), where(gt(da, 0.0f), da, db));
}

TEST_CASE("cuBLAS gemm matches OpenBLAS, transposed and batched") {
    Tensor a = Tensor::randn({3, 17, 9}, gen), b = Tensor::randn({9, 13}, gen);
    Tensor da = a.to(Device::CUDA), db = b.to(Device::CUDA);
    check_close(matmul(a, b), matmul(da, db), 1e-4f);
    check_close(matmul(a.transpose(1, 2).contiguous().transpose(1, 2), b), matmul(da, db), 1e-4f);
    Tensor c = Tensor::randn({13, 9}, gen);
    check_close(matmul(a, c.transpose(0, 1)), matmul(da, c.to(Device::CUDA).transpose(0, 1)), 1e-4f);
}

TEST_CASE("reductions, indexing and autograd on the device") {
    Tensor x = Tensor::randn({5, 6}, gen);
    Tensor d = x.to(Device::CUDA);
    check_close(sum(x, {1}), sum(d, {1}));
    check_close(max(x, {0}), max(d, {0}));
    CHECK(argmax(x, 1).to_vector<int32_t>() == argmax(d, 1).to(Device::CPU).to_vector<int32_t>());
    std::vector<int32_t> idx{4, 0, 4};
    check_close(index_select(x, 0, Tensor::from_vector(idx, {3})),
                index_select(d, 0, Tensor::from_vector(idx, {3}, Device::CUDA)));
    Tensor w = d.detached().clone().requires_grad_();
    sum(sigmoid(matmul(w, w.transpose(0, 1)))).backward();
    Tensor wc = x.clone().requires_grad_();
    sum(sigmoid(matmul(wc, wc.transpose(0, 1)))).backward();
    check_close(wc.grad(), w.grad(), 1e-4f);
}

TEST_CASE("im2col and col2im match the CPU to the bit, both column layouts") {
    Backend &cpu = backend(Device::CPU), &gpu = backend(Device::CUDA);
    for (Conv2dGeometry g : kConvs)
        for (bool per_image : {false, true}) {
            g.cols_per_image = per_image;
            const int64_t rows = g.channels * g.kernel_h * g.kernel_w, cols_n = g.batch * g.out_plane();
            Pair x = random_pair({g.batch, g.channels, g.height, g.width});
            Pair cols = empty_pair({rows, cols_n});
            cpu.im2col(g, f32(x.cpu), f32(cols.cpu));
            gpu.im2col(g, f32(x.cuda), f32(cols.cuda));
            check_same(cols.cpu, cols.cuda);
            Pair dcols = random_pair({rows, cols_n}), dx = empty_pair(x.cpu.shape());
            cpu.col2im(g, f32(dcols.cpu), f32(dx.cpu));
            gpu.col2im(g, f32(dcols.cuda), f32(dx.cuda));
            check_same(dx.cpu, dx.cuda);
        }
}

TEST_CASE("pools forward and backward match the CPU to the bit") {
    Backend &cpu = backend(Device::CPU), &gpu = backend(Device::CUDA);
    for (const Conv2dGeometry& g : kPools) {
        const Shape in{g.batch, g.channels, g.height, g.width}, out{g.batch, g.channels, g.out_h, g.out_w};
        Tensor xt = rounded(Tensor::randn(in, gen) * 2.0f);
        Pair x{xt, xt.to(Device::CUDA)};
        Pair y = empty_pair(out), at = empty_pair(out, DType::I32);
        cpu.max_pool2d(g, f32(x.cpu), f32(y.cpu), i32(at.cpu));
        gpu.max_pool2d(g, f32(x.cuda), f32(y.cuda), i32(at.cuda));
        check_same(y.cpu, y.cuda);
        check_same(at.cpu, at.cuda);
        Pair dy = random_pair(out), dx = random_pair(in);  // backward adds onto dx
        cpu.max_pool2d_backward(g, f32(dy.cpu), i32(at.cpu), f32(dx.cpu));
        gpu.max_pool2d_backward(g, f32(dy.cuda), i32(at.cuda), f32(dx.cuda));
        check_same(dx.cpu, dx.cuda);

        cpu.avg_pool2d(g, f32(x.cpu), f32(y.cpu));
        gpu.avg_pool2d(g, f32(x.cuda), f32(y.cuda));
        check_same(y.cpu, y.cuda);
        cpu.avg_pool2d_backward(g, f32(dy.cpu), f32(dx.cpu));
        gpu.avg_pool2d_backward(g, f32(dy.cuda), f32(dx.cuda));
        check_same(dx.cpu, dx.cuda);
    }
}

TEST_CASE("channel_stats, channel_sums and channel_affine match the CPU") {
    Backend &cpu = backend(Device::CPU), &gpu = backend(Device::CUDA);
    for (Shape s : {Shape{4, 3, 50}, Shape{2, 16, 1000}, Shape{64, 5, 1}, Shape{1, 2, 70000}}) {
        const int64_t n = s[0], c = s[1], l = s[2];
        Tensor xs = Tensor::randn(s, gen) * 3.0f + 5.0f;
        Pair x{xs, xs.to(Device::CUDA)}, b = random_pair(s);
        Pair mean = empty_pair({c}), var = empty_pair({c});
        cpu.channel_stats(f32(x.cpu), n, c, l, f32(mean.cpu), f32(var.cpu));
        gpu.channel_stats(f32(x.cuda), n, c, l, f32(mean.cuda), f32(var.cuda));
        check_close(mean.cpu, mean.cuda, 1e-5f);
        check_close(var.cpu, var.cuda, 1e-5f);
        Pair sa = empty_pair({c}), sab = empty_pair({c});
        cpu.channel_sums(f32(x.cpu), f32(b.cpu), nullptr, n, c, l, f32(sa.cpu), f32(sab.cpu));
        gpu.channel_sums(f32(x.cuda), f32(b.cuda), nullptr, n, c, l, f32(sa.cuda), f32(sab.cuda));
        check_close(sa.cpu, sa.cuda, 1e-5f);
        check_close(sab.cpu, sab.cuda, 1e-4f);
        cpu.channel_sums(f32(b.cpu), f32(x.cpu), f32(mean.cpu), n, c, l, f32(sa.cpu), f32(sab.cpu));  // centred
        gpu.channel_sums(f32(b.cuda), f32(x.cuda), f32(mean.cuda), n, c, l, f32(sa.cuda), f32(sab.cuda));
        check_close(sab.cpu, sab.cuda, 1e-4f);
        Pair p = random_pair({c}), q = random_pair({c}), r = random_pair({c}), out = empty_pair(s);
        cpu.channel_affine(f32(x.cpu), f32(p.cpu), f32(b.cpu), f32(q.cpu), f32(r.cpu), n, c, l, f32(out.cpu));
        gpu.channel_affine(f32(x.cuda), f32(p.cuda), f32(b.cuda), f32(q.cuda), f32(r.cuda), n, c, l, f32(out.cuda));
        check_same(out.cpu, out.cuda);
        cpu.channel_affine(f32(x.cpu), f32(p.cpu), nullptr, nullptr, f32(r.cpu), n, c, l, f32(out.cpu));
        gpu.channel_affine(f32(x.cuda), f32(p.cuda), nullptr, nullptr, f32(r.cuda), n, c, l, f32(out.cuda));
        check_same(out.cpu, out.cuda);
    }
}

TEST_CASE("reductions over more than 2^24 elements, strided ones and argmax match the CPU") {
    const int64_t big = (int64_t{1} << 24) + 4099;
    Tensor ones = Tensor::ones({big});
    Tensor d = ones.to(Device::CUDA);
    CHECK(sum(d).item() == static_cast<float>(big));  // a float accumulator would stop at 2^24
    Tensor x = Tensor::randn({big}, gen);
    Tensor dx = x.to(Device::CUDA);
    check_close(sum(x), sum(dx), 1e-5f);
    check_same(max(x), max(dx));
    check_same(min(x), min(dx));
    Tensor m = Tensor::randn({3, 1 << 22}, gen);  // a few long rows, chunked
    Tensor dm = m.to(Device::CUDA);
    check_close(sum(m, {1}), sum(dm, {1}), 1e-5f);
    check_close(sum(m.view({3, 1024, 4096}), {0, 2}), sum(dm.view({3, 1024, 4096}), {0, 2}), 1e-5f);  // strided
    check_same(max(m, {1}), max(dm, {1}));
    Tensor wide = Tensor::randn({7, 5000, 9}, gen);
    Tensor dwide = wide.to(Device::CUDA);
    check_close(sum(wide, {0, 2}), sum(dwide, {0, 2}), 1e-5f);
    check_same(min(wide, {1}), min(dwide, {1}));

    Tensor logits = rounded(Tensor::randn({1000, 81}, gen) * 2.0f);  // ties: the first maximum wins
    check_same(argmax(logits, 1), argmax(logits.to(Device::CUDA), 1));
    check_same(argmax(logits, 0), argmax(logits.to(Device::CUDA), 0));  // strided rows
    Tensor long_rows = Tensor::randn({2, 300000}, gen);
    check_same(argmax(long_rows, 1), argmax(long_rows.to(Device::CUDA), 1));
    std::vector<float> nan_rows{NAN, 1, 2, 0, NAN, 3, -INFINITY, -INFINITY, -INFINITY};
    Tensor nans = Tensor::from_vector(nan_rows, {3, 3});
    check_same(argmax(nans, 1), argmax(nans.to(Device::CUDA), 1));
}

TEST_CASE("kernels give the same bits run to run") {
    Tensor x = Tensor::randn({1 << 20}, gen).to(Device::CUDA);
    std::vector<float> first = sum(x).to_vector<float>();
    for (int run = 0; run < 3; ++run) CHECK(sum(x).to_vector<float>() == first);
    Tensor img = Tensor::randn({4, 16, 32, 32}, gen).to(Device::CUDA);
    Tensor w = Tensor::randn({16, 16, 3, 3}, gen).to(Device::CUDA);
    auto grads = [&] {
        Tensor xi = img.clone().requires_grad_(), wi = w.clone().requires_grad_();
        Tensor y = batch_norm(conv2d(xi, wi, {}, {1, 1}), {}, {}, {}, {}, true);
        sum(y * y).backward();
        return std::make_pair(xi.grad().to_vector<float>(), wi.grad().to_vector<float>());
    };
    auto reference = grads();
    for (int run = 0; run < 2; ++run) CHECK(grads() == reference);
}

TEST_CASE("conv2d + batch_norm + pools forward and backward through the ops match the CPU") {
    struct Net {
        int64_t n, c, h, w, o, stride, padding;
    };
    // 16x16 outputs take conv2d's per-image path; 8x8 ones the whole-batch path.
    for (Net s : {Net{2, 3, 16, 16, 8, 1, 1}, Net{2, 4, 8, 8, 6, 1, 1}, Net{3, 3, 17, 13, 5, 2, 0}}) {
        Tensor x = Tensor::randn({s.n, s.c, s.h, s.w}, gen), w = Tensor::randn({s.o, s.c, 3, 3}, gen) * 0.3f;
        Tensor b = Tensor::randn({s.o}, gen), gamma = Tensor::rand({s.o}, gen) + 0.5f, beta = Tensor::randn({s.o}, gen);
        auto run = [&](Device d) {
            std::vector<Tensor> leaves;
            for (const Tensor& t : {x, w, b, gamma, beta}) leaves.push_back(t.clone().to(d).requires_grad_());
            Tensor running_mean = Tensor::zeros({s.o}, DType::F32, d), running_var = Tensor::ones({s.o}, DType::F32, d);
            Tensor y = conv2d(leaves[0], leaves[1], leaves[2], {s.stride, s.padding});
            y = relu(batch_norm(y, leaves[3], leaves[4], running_mean, running_var, true));
            y = avg_pool2d(max_pool2d(y, 2, 2, 0), 3, 1, 1);
            Generator same(7);  // the same r on both devices
            Tensor r = Tensor::randn(y.shape(), same).to(d);
            sum(y * r).backward();
            std::vector<Tensor> out{y, running_mean, running_var};
            for (const Tensor& leaf : leaves) out.push_back(leaf.grad());
            return out;
        };
        std::vector<Tensor> cpu = run(Device::CPU), cuda = run(Device::CUDA);
        for (size_t i = 0; i < cpu.size(); ++i) {
            INFO("output ", i);
            check_close(cpu[i], cuda[i], 1e-3f);
        }
    }
}

TEST_CASE("device errors are focal::Errors that say what went wrong") {
    // Out of memory names the op and the bytes, and the device works afterwards.
    try {
        Tensor huge = Tensor::empty({int64_t{1} << 40}, DType::F32, Device::CUDA);  // 4 TiB
        FAIL("a 4 TiB tensor was allocated");
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK(message.find("out of memory") != std::string::npos);
        CHECK(message.find("4398046511104 bytes") != std::string::npos);
    }
    Tensor big = Tensor::ones({1 << 20}, DType::F32, Device::CUDA);
    try {
        OpScope scope("conv2d");
        (void)(big + Tensor::empty({int64_t{1} << 40}, DType::F32, Device::CUDA));
        FAIL("a 4 TiB tensor was allocated");
    } catch (const Error& e) {
        CHECK(std::string(e.what()).find("in conv2d") != std::string::npos);
    }
    CHECK(sum(big).item() == static_cast<float>(1 << 20));
    // cuBLAS sizes beyond int are refused before cuBLAS sees them (the data is never read).
    float dummy = 0;
    CHECK_THROWS_WITH_AS(backend(Device::CUDA)
                             .gemm(1, 2, 2, int64_t{1} << 32, 1.0f, {&dummy, 1, false, 0}, {&dummy, 2, false, 0}, 0.0f,
                                   &dummy, 0),
                         doctest::Contains("[gemm] k = 4294967296"), Error);
    // No Winograd on CUDA: Auto takes im2col, a forced Winograd says why it cannot run.
    Tensor x = Tensor::randn({1, 2, 20, 20}, gen).to(Device::CUDA),
           w = Tensor::randn({3, 2, 3, 3}, gen).to(Device::CUDA);
    CHECK(conv2d(x, w, {}, {1, 1}).shape() == Shape{1, 3, 20, 20});
    CHECK_THROWS_WITH_AS(conv2d(x, w, {}, {1, 1, 1, Conv2dAlgorithm::Winograd4}),
                         doctest::Contains("Winograd is not implemented on cuda"), Error);
}

int main(int argc, char** argv) {
    const char* require = std::getenv("FOCAL_REQUIRE_CUDA");
    if (!cuda_available() && require && std::string(require) == "1") {
        std::printf("FAILED: FOCAL_REQUIRE_CUDA=1 but no CUDA device is usable (%s)\n",
#ifdef FOCAL_WITH_CUDA
                    "this build has CUDA but no GPU is present"
#else
                    "focal was built without CUDA"
#endif
        );
        return 1;
    }
    if (!cuda_available()) {
#ifdef FOCAL_WITH_CUDA
        std::printf("SKIPPED: CUDA parity tests: this build has CUDA but no GPU is present\n");
#else
        std::printf("SKIPPED: CUDA parity tests: focal was built without CUDA (no nvcc)\n");
#endif
        return 77;  // CTest's SKIP_RETURN_CODE
    }
    doctest::Context context(argc, argv);
    return context.run();
}
