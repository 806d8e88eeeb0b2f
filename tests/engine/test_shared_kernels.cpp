// The __host__ __device__ bodies that the CUDA kernels run (engine/kernels/), run here on
// the CPU against the CPU backend: im2col / col2im in both column layouts, the pools
// forward and backward (a gather on the GPU, a scatter on the CPU), the batch_norm
// channel maths, and the reduction and argmax merges under every grouping the GPU's trees
// may use. Where the CPU backend computes in the same order the results must be equal to
// the bit; this is what the GPU's index maths is tested by on a machine without one.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <sstream>

#include "engine/engine.h"
#include "engine/kernels/channel_math.h"
#include "engine/kernels/reduce_math.h"
#include "engine/kernels/window_math.h"

using namespace focal;

namespace {

Backend& cpu() { return backend(Device::CPU); }

struct Window {
    int64_t n, c, h, w, kh, kw, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w;
};

Conv2dGeometry geometry_of(const Window& s, bool per_image = false) {
    Conv2dGeometry g;
    g.batch = s.n, g.channels = s.c, g.height = s.h, g.width = s.w;
    g.kernel_h = s.kh, g.kernel_w = s.kw, g.stride_h = s.stride_h, g.stride_w = s.stride_w;
    g.pad_h = s.pad_h, g.pad_w = s.pad_w, g.dilation_h = s.dil_h, g.dilation_w = s.dil_w;
    g.out_h = conv_out_size(s.h, s.kh, s.stride_h, s.pad_h, s.dil_h);
    g.out_w = conv_out_size(s.w, s.kw, s.stride_w, s.pad_w, s.dil_w);
    g.cols_per_image = per_image;
    return g;
}

std::string describe(const Conv2dGeometry& g) {
    std::ostringstream out;
    out << "x (" << g.batch << ", " << g.channels << ", " << g.height << ", " << g.width << ") kernel " << g.kernel_h
        << "x" << g.kernel_w << " stride " << g.stride_h << "," << g.stride_w << " pad " << g.pad_h << "," << g.pad_w
        << " dilation " << g.dilation_h << "," << g.dilation_w << " -> " << g.out_h << "x" << g.out_w
        << (g.cols_per_image ? " per image" : "");
    return out.str();
}

std::vector<float> random_values(int64_t n, uint64_t seed) {
    Generator gen(seed);
    return Tensor::randn({n}, gen).to_vector<float>();
}

// Small integers: many ties, for the pools' first-maximum rule.
std::vector<float> tied_values(int64_t n, uint64_t seed) {
    std::vector<float> v = random_values(n, seed);
    for (float& x : v) x = std::round(x * 1.5f);
    return v;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Convolution windows: strides, paddings (up to more than half the kernel), dilations,
// rectangular kernels, 1x1, a window as large as the padded input, and outputs of 1.
const std::vector<Window> kConvWindows = {
    {2, 3, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1},  {1, 2, 9, 9, 3, 3, 2, 2, 1, 1, 1, 1}, {2, 1, 8, 11, 3, 2, 3, 2, 2, 0, 1, 1},
    {1, 3, 10, 7, 3, 3, 1, 2, 2, 1, 2, 3}, {3, 2, 5, 5, 1, 1, 1, 1, 0, 0, 1, 1}, {2, 2, 6, 6, 1, 1, 2, 2, 0, 0, 1, 1},
    {1, 1, 4, 4, 5, 5, 1, 1, 2, 2, 1, 1},  {2, 2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1}, {1, 4, 12, 5, 2, 4, 2, 1, 1, 3, 2, 1},
    {1, 1, 1, 1, 3, 3, 1, 1, 1, 1, 1, 1},  {2, 3, 6, 9, 3, 3, 1, 1, 4, 3, 3, 2},
};

// Pooling windows (count_include_pad, so padding up to half the kernel), and dilated ones.
const std::vector<Window> kPoolWindows = {
    {2, 3, 8, 8, 2, 2, 2, 2, 0, 0, 1, 1}, {1, 2, 7, 9, 3, 3, 2, 2, 1, 1, 1, 1},   {2, 1, 5, 5, 3, 3, 1, 1, 1, 1, 1, 1},
    {1, 2, 9, 6, 3, 2, 3, 1, 1, 0, 1, 1}, {1, 1, 6, 6, 2, 2, 1, 1, 1, 1, 2, 2},   {2, 2, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1},
    {1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1}, {1, 3, 10, 10, 5, 5, 2, 3, 2, 2, 1, 1},
};

}  // namespace

TEST_CASE("window_output inverts window_input") {
    for (int64_t stride : {1, 2, 3})
        for (int64_t pad : {0, 1, 2})
            for (int64_t dilation : {1, 2})
                for (int64_t k = 0; k < 3; ++k)
                    for (int64_t in = -3; in < 12; ++in) {
                        const int64_t out = math::window_output(in, k, stride, pad, dilation, 5);
                        int64_t expected = -1;
                        for (int64_t o = 0; o < 5; ++o)
                            if (math::window_input(o, k, stride, pad, dilation) == in) expected = o;
                        CHECK(out == expected);
                    }
}

TEST_CASE("im2col: the shared entry function equals the CPU kernel, both layouts") {
    for (const Window& s : kConvWindows)
        for (bool per_image : {false, true}) {
            Conv2dGeometry g = geometry_of(s, per_image);
            INFO(describe(g));
            REQUIRE(g.out_h > 0);
            const std::vector<float> x = random_values(s.n * s.c * s.h * s.w, 1);
            const int64_t total = s.c * s.kh * s.kw * s.n * g.out_plane();
            std::vector<float> cols(total, std::nanf("")), shared(total);
            cpu().im2col(g, x.data(), cols.data());
            for (int64_t t = 0; t < total; ++t) shared[t] = math::im2col_at(g, x.data(), t);
            CHECK(same_bits(cols, shared));
        }
}

TEST_CASE("col2im: the per-pixel gather equals the CPU's scatter to the bit, both layouts") {
    for (const Window& s : kConvWindows)
        for (bool per_image : {false, true}) {
            Conv2dGeometry g = geometry_of(s, per_image);
            INFO(describe(g));
            const std::vector<float> cols = random_values(s.c * s.kh * s.kw * s.n * g.out_plane(), 2);
            const int64_t pixels = s.n * s.c * s.h * s.w;
            std::vector<float> dx(pixels, std::nanf("")), shared(pixels);
            cpu().col2im(g, cols.data(), dx.data());
            for (int64_t p = 0; p < pixels; ++p) shared[p] = math::col2im_at(g, cols.data(), p);
            CHECK(same_bits(dx, shared));
        }
}

TEST_CASE("col2im is im2col's adjoint: <im2col(x), c> = <x, col2im(c)>") {
    for (const Window& s : kConvWindows) {
        Conv2dGeometry g = geometry_of(s, true);
        INFO(describe(g));
        const std::vector<float> x = random_values(s.n * s.c * s.h * s.w, 3);
        const std::vector<float> c = random_values(s.c * s.kh * s.kw * s.n * g.out_plane(), 4);
        double lhs = 0, rhs = 0;
        for (int64_t t = 0; t < static_cast<int64_t>(c.size()); ++t)
            lhs += double(math::im2col_at(g, x.data(), t)) * c[t];
        for (int64_t p = 0; p < static_cast<int64_t>(x.size()); ++p)
            rhs += double(x[p]) * math::col2im_at(g, c.data(), p);
        CHECK(lhs == doctest::Approx(rhs).epsilon(1e-5));
    }
}

TEST_CASE("max pool: the shared window and gather equal the CPU kernels, ties, NaN and padding included") {
    for (const Window& s : kPoolWindows) {
        Conv2dGeometry g = geometry_of(s);
        INFO(describe(g));
        std::vector<float> x = tied_values(s.n * s.c * s.h * s.w, 5);
        if (x.size() > 4) x[x.size() / 2] = std::nanf("");  // a NaN wins its windows
        const int64_t plane = s.h * s.w, out_plane = g.out_plane(), outputs = s.n * s.c * out_plane;
        std::vector<float> y(outputs), y_shared(outputs);
        std::vector<int32_t> at(outputs), at_shared(outputs);
        cpu().max_pool2d(g, x.data(), y.data(), at.data());
        for (int64_t o = 0; o < outputs; ++o) {
            const int64_t nc = o / out_plane, l = o % out_plane;
            y_shared[o] = math::max_pool_window(g, x.data() + nc * plane, l / g.out_w, l % g.out_w, &at_shared[o]);
        }
        CHECK(same_bits(y, y_shared));
        CHECK(at == at_shared);

        // Backward into a dx that already holds values: both add onto it, in window order.
        const std::vector<float> dy = random_values(outputs, 6), dx0 = random_values(s.n * s.c * plane, 7);
        std::vector<float> dx = dx0, dx_shared(dx0.size());
        cpu().max_pool2d_backward(g, dy.data(), at.data(), dx.data());
        for (int64_t p = 0; p < static_cast<int64_t>(dx0.size()); ++p) {
            const int64_t nc = p / plane, q = p % plane;
            dx_shared[p] = math::max_pool_grad_pixel(g, dy.data() + nc * out_plane, at.data() + nc * out_plane, q / s.w,
                                                     q % s.w, dx0[p]);
        }
        CHECK(same_bits(dx, dx_shared));
    }
}

TEST_CASE("avg pool: the shared window and gather equal the CPU kernels to the bit") {
    for (const Window& s : kPoolWindows) {
        Conv2dGeometry g = geometry_of(s);
        INFO(describe(g));
        const std::vector<float> x = random_values(s.n * s.c * s.h * s.w, 8);
        const int64_t plane = s.h * s.w, out_plane = g.out_plane(), outputs = s.n * s.c * out_plane;
        std::vector<float> y(outputs), y_shared(outputs);
        cpu().avg_pool2d(g, x.data(), y.data());
        for (int64_t o = 0; o < outputs; ++o) {
            const int64_t nc = o / out_plane, l = o % out_plane;
            y_shared[o] = math::avg_pool_window(g, x.data() + nc * plane, l / g.out_w, l % g.out_w);
        }
        CHECK(same_bits(y, y_shared));

        const std::vector<float> dy = random_values(outputs, 9), dx0 = random_values(s.n * s.c * plane, 10);
        std::vector<float> dx = dx0, dx_shared(dx0.size());
        cpu().avg_pool2d_backward(g, dy.data(), dx.data());
        for (int64_t p = 0; p < static_cast<int64_t>(dx0.size()); ++p) {
            const int64_t nc = p / plane, q = p % plane;
            dx_shared[p] = math::avg_pool_grad_pixel(g, dy.data() + nc * out_plane, q / s.w, q % s.w, dx0[p]);
        }
        CHECK(same_bits(dx, dx_shared));
    }
}

TEST_CASE("channel_affine: the shared body equals the CPU kernel, with and without the second term") {
    const int64_t n = 3, c = 5, l = 37;
    const std::vector<float> a = random_values(n * c * l, 11), b = random_values(n * c * l, 12);
    const std::vector<float> p = random_values(c, 13), q = random_values(c, 14), r = random_values(c, 15);
    std::vector<float> out(a.size()), shared(a.size());
    cpu().channel_affine(a.data(), p.data(), b.data(), q.data(), r.data(), n, c, l, out.data());
    for (int64_t t = 0; t < n * c * l; ++t) {
        const int64_t ch = (t / l) % c;
        shared[t] = math::channel_affine(a[t], p[ch], b[t], q[ch], r[ch]);
    }
    CHECK(same_bits(out, shared));
    cpu().channel_affine(a.data(), p.data(), nullptr, nullptr, r.data(), n, c, l, out.data());
    for (int64_t t = 0; t < n * c * l; ++t) shared[t] = math::channel_affine(a[t], p[(t / l) % c], r[(t / l) % c]);
    CHECK(same_bits(out, shared));
}

TEST_CASE("channel_stats: a per-element double sum with the shared deviation matches the CPU") {
    const int64_t n = 4, c = 3, l = 29;
    std::vector<float> x = random_values(n * c * l, 16);
    for (float& v : x) v = v * 3.0f + 10.0f;  // an offset mean: the second pass matters
    std::vector<float> mean(c), var(c);
    cpu().channel_stats(x.data(), n, c, l, mean.data(), var.data());
    for (int64_t ch = 0; ch < c; ++ch) {
        double total = 0;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < l; ++j) total += x[(i * c + ch) * l + j];
        const float m = static_cast<float>(total / (n * l));
        double squares = 0;
        for (int64_t i = 0; i < n; ++i)
            for (int64_t j = 0; j < l; ++j) squares += math::squared_deviation(x[(i * c + ch) * l + j], m);
        CHECK(mean[ch] == doctest::Approx(m).epsilon(1e-6));
        CHECK(var[ch] == doctest::Approx(squares / (n * l)).epsilon(1e-5));
    }
}

namespace {

// The GPU's reduction tree on the host: `values` cut into chunks of `chunk`, each chunk
// reduced by `group` lanes (lane i folds entries i, i + group, ...) merged in a tree, then
// the chunk results reduced the same way. group is a power of two.
template <class T, class Take, class Merge>
T tree_reduce(int64_t n, int64_t group, int64_t chunk, T identity, Take take, Merge merge) {
    auto tree = [&](std::vector<T> lanes) {
        for (int64_t s = group / 2; s > 0; s /= 2)
            for (int64_t i = 0; i < s; ++i) lanes[i] = merge(lanes[i], lanes[i + s]);
        return lanes[0];
    };
    std::vector<T> partials;
    for (int64_t begin = 0; begin < std::max<int64_t>(n, 1); begin += chunk) {
        std::vector<T> lanes(group, identity);
        for (int64_t j = begin; j < std::min(n, begin + chunk); ++j)
            lanes[(j - begin) % group] = take(lanes[(j - begin) % group], j);
        partials.push_back(tree(lanes));
    }
    if (partials.size() == 1) return partials[0];
    std::vector<T> lanes(group, identity);
    for (size_t j = 0; j < partials.size(); ++j) lanes[j % group] = merge(lanes[j % group], partials[j]);
    return tree(lanes);
}

float cpu_reduce(ReduceOp op, const std::vector<float>& v) {
    Tensor x = Tensor::from_vector(v, {static_cast<int64_t>(v.size())});
    return (op == ReduceOp::Sum ? sum(x) : op == ReduceOp::Max ? max(x) : min(x)).item();
}

}  // namespace

TEST_CASE("reduce_merge: every tree grouping gives the CPU's sum, max and min") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
    std::vector<std::vector<float>> rows;
    rows.push_back(tied_values(1000, 17));  // small integers: double sums are exact in any order
    rows.push_back({-inf, -inf, -inf});
    rows.push_back({3.0f, -0.0f, 0.0f, inf, -5.0f});
    rows.push_back({1.0f, 2.0f, nan, 4.0f});
    rows.push_back({nan});
    rows.push_back({-1.0f, 7.5f, -inf, 2.0f, nan});
    rows.push_back(std::vector<float>(70000, 1.0f));  // more than one chunk
    for (const std::vector<float>& row : rows)
        for (ReduceOp op : {ReduceOp::Sum, ReduceOp::Max, ReduceOp::Min})
            for (int64_t group : {1, 2, 32, 256})
                for (int64_t chunk : {int64_t{3}, int64_t{64}, int64_t{1} << 16}) {
                    const int64_t n = static_cast<int64_t>(row.size());
                    auto take = [&](double acc, int64_t j) { return math::reduce_merge(op, acc, row[j]); };
                    auto merge = [&](double a, double b) { return math::reduce_merge(op, a, b); };
                    const float tree =
                        static_cast<float>(tree_reduce(n, group, chunk, math::reduce_identity(op), take, merge));
                    const float expected = cpu_reduce(op, row);
                    INFO("op ", int(op), " n ", n, " group ", group, " chunk ", chunk);
                    if (std::isnan(expected)) CHECK(std::isnan(tree));
                    else CHECK(same_bits({tree}, {expected}));
                }
}

TEST_CASE("argmax_merge: every tree grouping gives the CPU's first maximum, NaN and ties included") {
    const float inf = std::numeric_limits<float>::infinity(), nan = std::nanf("");
    std::vector<std::vector<float>> rows = {
        {1, 3, 3, 2},         {-inf, -inf, -inf},   {-0.0f, 0.0f, 0.0f},   {0.0f, -0.0f}, {nan, 5, 7},
        {2, nan, 7, 1},       {2, nan, nan},        {-inf, nan, -inf, -1}, {nan, nan},    {4},
        {-1, -2, -1, -3, -1}, tied_values(300, 18),
    };
    std::vector<float> with_nan = tied_values(5000, 19);
    with_nan[17] = nan;
    rows.push_back(with_nan);
    for (const std::vector<float>& row : rows) {
        const int64_t n = static_cast<int64_t>(row.size());
        const int32_t expected = argmax(Tensor::from_vector(row, {1, n}), 1).to_vector<int32_t>()[0];
        for (int64_t group : {1, 2, 32, 256})
            for (int64_t chunk : {int64_t{1}, int64_t{5}, int64_t{1} << 16}) {
                auto take = [&](math::ArgmaxCandidate best, int64_t j) {
                    return math::argmax_take(best, row[j], static_cast<int32_t>(j));
                };
                const math::ArgmaxCandidate best =
                    tree_reduce(n, group, chunk, math::argmax_none(), take, math::argmax_merge);
                INFO("row of ", n, " group ", group, " chunk ", chunk);
                CHECK(math::argmax_result(row[0], best) == expected);
            }
    }
}
