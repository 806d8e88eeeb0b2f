// The CPU backend: OpenBLAS for gemm, OpenMP-parallel strided loops for everything else.
// Element-wise math comes from engine/kernels/elementwise_math.h, shared with CUDA.
#include <cblas.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "engine/backend.h"
#include "engine/cpu/channel_kernels.h"
#include "engine/cpu/conv_kernels.h"
#include "engine/cpu/cpu_allocator.h"
#include "engine/cpu/strided_loop.h"
#include "engine/cpu/winograd_kernels.h"
#include "engine/error.h"
#include "engine/kernels/elementwise_math.h"
#include "engine/parallel.h"

namespace focal::cpu {
namespace {

constexpr int64_t kGrain = 32768;        // elements per thread below which loops stay serial
constexpr int64_t kReduceBlock = 32768;  // fixed partial-sum block: results don't depend on threads

template <size_t N>
StridedLayout<N> layout_of(const Shape& shape, std::array<const View*, N> views) {
    std::array<const Strides*, N> strides;
    for (size_t k = 0; k < N; ++k) strides[k] = &views[k]->strides;
    return coalesce<N>(shape, strides);
}

// Runs body(offsets, count, inner_strides) over `shape` for N operands, in parallel.
template <size_t N, class Body>
void elementwise(const Shape& shape, std::array<const View*, N> views, Body&& body) {
    StridedLayout<N> layout = layout_of<N>(shape, views);
    parallel_for(numel(shape), kGrain, [&](int64_t begin, int64_t end) { strided_for<N>(layout, begin, end, body); });
}

template <UnaryOp OP>
void unary_kernel(UnaryParams p, const View& x, const View& out) {
    const float* xs = x.f32();
    float* ys = out.f32();
    elementwise<2>(out.shape, {&out, &x}, [&](auto off, int64_t n, auto st) {
        float* y = ys + off[0];
        const float* a = xs + off[1];
        if (st[0] == 1 && st[1] == 1) {
            for (int64_t i = 0; i < n; ++i) y[i] = math::unary(OP, p, a[i]);
        } else {
            for (int64_t i = 0; i < n; ++i) y[i * st[0]] = math::unary(OP, p, a[i * st[1]]);
        }
    });
}

template <BinaryOp OP>
void binary_kernel(const View& a, const View& b, const View& out) {
    const float* as = a.f32();
    const float* bs = b.f32();
    float* ys = out.f32();
    elementwise<3>(out.shape, {&out, &a, &b}, [&](auto off, int64_t n, auto st) {
        float* y = ys + off[0];
        const float* pa = as + off[1];
        const float* pb = bs + off[2];
        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {
            for (int64_t i = 0; i < n; ++i) y[i] = math::binary(OP, pa[i], pb[i]);
        } else if (st[0] == 1 && st[1] == 1 && st[2] == 0) {  // tensor op scalar-like
            const float s = pb[0];
            for (int64_t i = 0; i < n; ++i) y[i] = math::binary(OP, pa[i], s);
        } else {
            for (int64_t i = 0; i < n; ++i) y[i * st[0]] = math::binary(OP, pa[i * st[1]], pb[i * st[2]]);
        }
    });
}

template <class T>
const T* as(const View& v) {
    return static_cast<const T*>(v.data);
}

// Checks every index lies in [0, size) before any kernel writes.
void check_indices(const View& index, int64_t size, const char* op) {
    const int32_t* idx = index.i32();
    for (int64_t i = 0, n = index.numel(); i < n; ++i)
        FOCAL_CHECK(idx[i] >= 0 && idx[i] < size, "[", op, "] index ", idx[i], " is out of range for a dim of size ",
                    size);
}

class CpuBackend final : public Backend {
public:
    Device device() const override { return Device::CPU; }

    void* allocate(size_t bytes) override { return cached_allocate(bytes); }
    void deallocate(void* ptr, size_t bytes) override { cached_deallocate(ptr, bytes); }
    void copy_from_host(void* dst, const void* src, size_t bytes) override {
        if (bytes) std::memcpy(dst, src, bytes);
    }
    void copy_to_host(void* dst, const void* src, size_t bytes) override {
        if (bytes) std::memcpy(dst, src, bytes);
    }

    void copy(const View& src, const View& dst) override {
        if (src.dtype == DType::F32 && dst.dtype == DType::F32) return copy_as<float, float>(src, dst);
        if (src.dtype == DType::I32 && dst.dtype == DType::I32) return copy_as<int32_t, int32_t>(src, dst);
        if (src.dtype == DType::I32) return copy_as<int32_t, float>(src, dst);
        copy_as<float, int32_t>(src, dst);
    }

    void fill(const View& dst, float value) override {
        if (dst.dtype == DType::I32) return fill_as<int32_t>(dst, static_cast<int32_t>(value));
        fill_as<float>(dst, value);
    }

    void unary(UnaryOp op, UnaryParams p, const View& x, const View& out) override {
        switch (op) {
#define FOCAL_UNARY(name) \
    case UnaryOp::name: return unary_kernel<UnaryOp::name>(p, x, out);
            FOCAL_UNARY_OPS(FOCAL_UNARY)
#undef FOCAL_UNARY
        }
    }

    void binary(BinaryOp op, const View& a, const View& b, const View& out) override {
        switch (op) {
#define FOCAL_BINARY(name) \
    case BinaryOp::name: return binary_kernel<BinaryOp::name>(a, b, out);
            FOCAL_BINARY_OPS(FOCAL_BINARY)
#undef FOCAL_BINARY
        }
    }

    void where(const View& mask, const View& a, const View& b, const View& out) override {
        const float *m = mask.f32(), *pa = a.f32(), *pb = b.f32();
        float* y = out.f32();
        elementwise<4>(out.shape, {&out, &mask, &a, &b}, [&](auto off, int64_t n, auto st) {
            for (int64_t i = 0; i < n; ++i)
                y[off[0] + i * st[0]] = m[off[1] + i * st[1]] != 0.0f ? pa[off[2] + i * st[2]] : pb[off[3] + i * st[3]];
        });
    }

    void reduce(ReduceOp op, const View& x, const View& out) override;
    void argmax(const View& x, const View& out) override;

    void gemm(int64_t batch, int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a, const GemmOperand& b,
              float beta, float* c, int64_t c_batch_stride) override {
        auto one = [&](int64_t i) {
            cblas_sgemm(CblasRowMajor, a.transposed ? CblasTrans : CblasNoTrans,
                        b.transposed ? CblasTrans : CblasNoTrans, static_cast<int>(m), static_cast<int>(n),
                        static_cast<int>(k), alpha, a.data + i * a.batch_stride, static_cast<int>(a.ld),
                        b.data + i * b.batch_stride, static_cast<int>(b.ld), beta, c + i * c_batch_stride,
                        static_cast<int>(n));
        };
        // Enough items to go round: one single-threaded sgemm per item on each thread (inside
        // an OpenMP region OpenBLAS runs on the calling thread), which saves waking the pool
        // once per item. OpenBLAS never splits k across threads, so C is the same either way.
        if (batch >= num_threads() && batch > 1) {
            parallel_for(batch, 1, [&](int64_t begin, int64_t end) {
                for (int64_t i = begin; i < end; ++i) one(i);
            });
        } else {
            for (int64_t i = 0; i < batch; ++i) one(i);
        }
    }

    void index_select(const View& x, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(x.shape, dim);
        check_indices(index, s.size, "index_select");
        const int64_t count = index.numel();
        const int32_t* idx = index.i32();
        const float* src = x.f32();
        float* dst = out.f32();
        parallel_for(s.outer * count, std::max<int64_t>(1, kGrain / s.inner), [&](int64_t b, int64_t e) {
            for (int64_t r = b; r < e; ++r) {
                int64_t o = r / count, j = r % count;
                std::memcpy(dst + r * s.inner, src + (o * s.size + idx[j]) * s.inner, s.inner * sizeof(float));
            }
        });
    }

    void index_add(const View& src, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(out.shape, dim);
        check_indices(index, s.size, "index_add");
        const int64_t count = index.numel();
        const int32_t* idx = index.i32();
        const float* from = src.f32();
        float* to = out.f32();
        parallel_for(s.outer, 1, [&](int64_t b, int64_t e) {  // outer rows are disjoint
            for (int64_t o = b; o < e; ++o)
                for (int64_t j = 0; j < count; ++j) {
                    float* row = to + (o * s.size + idx[j]) * s.inner;
                    const float* add = from + (o * count + j) * s.inner;
                    for (int64_t i = 0; i < s.inner; ++i) row[i] += add[i];
                }
        });
    }

    void gather(const View& x, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(x.shape, dim);
        DimSplit t = split_at(index.shape, dim);
        check_indices(index, s.size, "gather");
        const int32_t* idx = index.i32();
        const float* src = x.f32();
        float* dst = out.f32();
        parallel_for(t.outer, 1, [&](int64_t b, int64_t e) {
            for (int64_t o = b; o < e; ++o)
                for (int64_t j = 0; j < t.size; ++j)
                    for (int64_t i = 0; i < t.inner; ++i) {
                        int64_t at = (o * t.size + j) * t.inner + i;
                        dst[at] = src[(o * s.size + idx[at]) * s.inner + i];
                    }
        });
    }

    void scatter_add(const View& src, int64_t dim, const View& index, const View& out) override {
        DimSplit s = split_at(out.shape, dim);
        DimSplit t = split_at(index.shape, dim);
        check_indices(index, s.size, "scatter_add");
        const int32_t* idx = index.i32();
        const float* from = src.f32();
        float* to = out.f32();
        parallel_for(t.outer, 1, [&](int64_t b, int64_t e) {  // outer rows are disjoint
            for (int64_t o = b; o < e; ++o)
                for (int64_t j = 0; j < t.size; ++j)
                    for (int64_t i = 0; i < t.inner; ++i) {
                        int64_t at = (o * t.size + j) * t.inner + i;
                        to[(o * s.size + idx[at]) * s.inner + i] += from[at];
                    }
        });
    }

    void im2col(const Conv2dGeometry& g, const float* x, float* cols) override { cpu::im2col(g, x, cols); }
    void col2im(const Conv2dGeometry& g, const float* cols, float* dx) override { cpu::col2im(g, cols, dx); }
    bool has_winograd() const override { return true; }
    void winograd_filter(const WinogradGeometry& g, int64_t o, const float* w, float* u) override {
        cpu::winograd_filter(g, o, w, u);
    }
    void winograd_filter_backward(const WinogradGeometry& g, int64_t o, const float* du, float* dw) override {
        cpu::winograd_filter_backward(g, o, du, dw);
    }
    void winograd_input(const WinogradGeometry& g, const float* x, float* v) override { cpu::winograd_input(g, x, v); }
    void winograd_input_backward(const WinogradGeometry& g, const float* dv, float* dx) override {
        cpu::winograd_input_backward(g, dv, dx);
    }
    void winograd_output(const WinogradGeometry& g, int64_t o, const float* m, const float* bias, float* y) override {
        cpu::winograd_output(g, o, m, bias, y);
    }
    void winograd_output_backward(const WinogradGeometry& g, int64_t o, const float* dy, float* dm) override {
        cpu::winograd_output_backward(g, o, dy, dm);
    }
    void max_pool2d(const Conv2dGeometry& g, const float* x, float* y, int32_t* argmax) override {
        cpu::max_pool2d(g, x, y, argmax);
    }
    void max_pool2d_backward(const Conv2dGeometry& g, const float* dy, const int32_t* argmax, float* dx) override {
        cpu::max_pool2d_backward(g, dy, argmax, dx);
    }
    void avg_pool2d(const Conv2dGeometry& g, const float* x, float* y) override { cpu::avg_pool2d(g, x, y); }
    void avg_pool2d_backward(const Conv2dGeometry& g, const float* dy, float* dx) override {
        cpu::avg_pool2d_backward(g, dy, dx);
    }

    void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var) override {
        cpu::channel_stats(x, n, c, l, mean, var);
    }
    void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l,
                      float* sum_a, float* sum_ab) override {
        cpu::channel_sums(a, b, b_center, n, c, l, sum_a, sum_ab);
    }
    void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r, int64_t n,
                        int64_t c, int64_t l, float* out) override {
        cpu::channel_affine(a, p, b, q, r, n, c, l, out);
    }

private:
    template <class From, class To>
    void copy_as(const View& src, const View& dst) {
        const From* s = as<From>(src);
        To* d = static_cast<To*>(dst.data);
        elementwise<2>(dst.shape, {&dst, &src}, [&](auto off, int64_t n, auto st) {
            if (st[0] == 1 && st[1] == 1) {
                for (int64_t i = 0; i < n; ++i) d[off[0] + i] = static_cast<To>(s[off[1] + i]);
            } else {
                for (int64_t i = 0; i < n; ++i) d[off[0] + i * st[0]] = static_cast<To>(s[off[1] + i * st[1]]);
            }
        });
    }

    template <class T>
    void fill_as(const View& dst, T value) {
        T* d = static_cast<T*>(dst.data);
        elementwise<1>(dst.shape, {&dst}, [&](auto off, int64_t n, auto st) {
            for (int64_t i = 0; i < n; ++i) d[off[0] + i * st[0]] = value;
        });
    }
};

// Reduces the strided run x[base + i * stride], i < n, into a double (sum) or float (max/min).
template <ReduceOp OP>
struct Accumulator {
    double sum = 0;
    float extreme =
        OP == ReduceOp::Max ? -std::numeric_limits<float>::infinity() : std::numeric_limits<float>::infinity();
    void add(const float* p, int64_t n, int64_t stride) {
        for (int64_t i = 0; i < n; ++i) {
            float v = p[i * stride];
            if constexpr (OP == ReduceOp::Sum) {
                sum += v;
            } else if constexpr (OP == ReduceOp::Max) {
                if (v > extreme || v != v) extreme = v;  // NaN wins, as in PyTorch
            } else {
                if (v < extreme || v != v) extreme = v;
            }
        }
    }
    void merge(const Accumulator& o) {
        sum += o.sum;
        if constexpr (OP == ReduceOp::Max) {
            if (o.extreme > extreme || o.extreme != o.extreme) extreme = o.extreme;
        } else if constexpr (OP == ReduceOp::Min) {
            if (o.extreme < extreme || o.extreme != o.extreme) extreme = o.extreme;
        }
    }
    float value() const { return OP == ReduceOp::Sum ? static_cast<float>(sum) : extreme; }
};

template <ReduceOp OP>
void reduce_kernel(const View& x, const View& out) {
    const size_t out_rank = out.shape.size();
    // The reduced dims form the tail of x's shape; walk them as their own strided layout.
    Shape red_shape(x.shape.begin() + out_rank, x.shape.end());
    Strides red_strides(x.strides.begin() + out_rank, x.strides.end());
    StridedLayout<1> inner = coalesce<1>(red_shape, {&red_strides});
    const int64_t outputs = out.numel(), per_output = numel(red_shape);
    Shape out_shape = out.shape;
    Strides out_strides(x.strides.begin(), x.strides.begin() + out_rank);
    StridedLayout<1> outer = coalesce<1>(out_shape, {&out_strides});
    const float* xs = x.f32();
    float* ys = out.f32();

    auto reduce_range = [&](int64_t base, int64_t begin, int64_t end) {
        Accumulator<OP> acc;
        strided_for<1>(inner, begin, end, [&](auto off, int64_t n, auto st) { acc.add(xs + base + off[0], n, st[0]); });
        return acc;
    };
    if (outputs >= 4 * num_threads() || per_output <= kReduceBlock) {
        // Many outputs: one thread reduces each output entirely.
        parallel_for(outputs, std::max<int64_t>(1, kGrain / std::max<int64_t>(per_output, 1)),
                     [&](int64_t b, int64_t e) {
            int64_t o = b;  // outputs are contiguous, in the order walked
            strided_for<1>(outer, b, e, [&](auto off, int64_t n, auto st) {
                for (int64_t i = 0; i < n; ++i) ys[o++] = reduce_range(off[0] + i * st[0], 0, per_output).value();
            });
        });
        return;
    }
    // Few outputs, long reductions: fixed-size blocks in parallel, merged in order.
    const int64_t blocks = (per_output + kReduceBlock - 1) / kReduceBlock;
    std::vector<Accumulator<OP>> partial(blocks);
    for (int64_t o = 0; o < outputs; ++o) {
        int64_t base = 0;
        strided_for<1>(outer, o, o + 1, [&](auto off, int64_t, auto) { base = off[0]; });
        parallel_for(blocks, 1, [&](int64_t b, int64_t e) {
            for (int64_t blk = b; blk < e; ++blk)
                partial[blk] = reduce_range(base, blk * kReduceBlock, std::min(per_output, (blk + 1) * kReduceBlock));
        });
        Accumulator<OP> total;
        for (const auto& p : partial) total.merge(p);
        ys[o] = total.value();
    }
}

void CpuBackend::reduce(ReduceOp op, const View& x, const View& out) {
    switch (op) {
        case ReduceOp::Sum: return reduce_kernel<ReduceOp::Sum>(x, out);
        case ReduceOp::Max: return reduce_kernel<ReduceOp::Max>(x, out);
        case ReduceOp::Min: return reduce_kernel<ReduceOp::Min>(x, out);
    }
}

void CpuBackend::argmax(const View& x, const View& out) {
    const int64_t rows = x.shape[0], n = x.shape[1];
    const float* xs = x.f32();
    int32_t* ys = out.i32();
    parallel_for(rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(n, 1)), [&](int64_t b, int64_t e) {
        for (int64_t r = b; r < e; ++r) {
            const float* row = xs + r * x.strides[0];
            int32_t best = 0;
            for (int64_t j = 1; j < n; ++j)
                if (row[j * x.strides[1]] > row[best * x.strides[1]]) best = static_cast<int32_t>(j);
            ys[r] = best;
        }
    });
}

}  // namespace

Backend& cpu_backend() {
    static CpuBackend instance;
    return instance;
}

}  // namespace focal::cpu
