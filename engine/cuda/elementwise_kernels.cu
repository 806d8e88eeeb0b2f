// Element-wise kernels: one thread per output element over strided operands. The
// per-element math is the CPU's (engine/kernels/elementwise_math.h).
#include "engine/cuda/cuda_kernels.h"
#include "engine/cuda/kernel_common.cuh"
#include "engine/kernels/elementwise_math.h"

namespace focal::cuda {
namespace {

template <UnaryOp OP>
__global__ void unary_kernel(Geometry<2> g, UnaryParams p, const float* x, float* y) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[2];
        g.offsets(i, off);
        y[off[0]] = math::unary(OP, p, x[off[1]]);
    }
}

template <BinaryOp OP>
__global__ void binary_kernel(Geometry<3> g, const float* a, const float* b, float* y) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[3];
        g.offsets(i, off);
        y[off[0]] = math::binary(OP, a[off[1]], b[off[2]]);
    }
}

__global__ void where_kernel(Geometry<4> g, const float* m, const float* a, const float* b, float* y) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[4];
        g.offsets(i, off);
        y[off[0]] = m[off[1]] != 0.0f ? a[off[2]] : b[off[3]];
    }
}

template <class From, class To>
__global__ void copy_kernel(Geometry<2> g, const From* src, To* dst) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[2];
        g.offsets(i, off);
        dst[off[0]] = static_cast<To>(src[off[1]]);
    }
}

template <class T>
__global__ void fill_kernel(Geometry<1> g, T value, T* dst) {
    FOCAL_GRID_LOOP(i, g.numel) {
        int64_t off[1];
        g.offsets(i, off);
        dst[off[0]] = value;
    }
}

}  // namespace

void copy(const View& src, const View& dst) {
    auto g = geometry<2>(dst.shape, {&dst, &src});
    if (g.numel == 0) return;
    const int blocks = blocks_for(g.numel);
    if (src.dtype == DType::F32 && dst.dtype == DType::F32)
        copy_kernel<<<blocks, kThreads, 0, stream()>>>(g, src.f32(), dst.f32());
    else if (src.dtype == DType::I32 && dst.dtype == DType::I32)
        copy_kernel<<<blocks, kThreads, 0, stream()>>>(g, src.i32(), dst.i32());
    else if (src.dtype == DType::I32) copy_kernel<<<blocks, kThreads, 0, stream()>>>(g, src.i32(), dst.f32());
    else copy_kernel<<<blocks, kThreads, 0, stream()>>>(g, src.f32(), dst.i32());
    after_launch("copy");
}

void fill(const View& dst, float value) {
    auto g = geometry<1>(dst.shape, {&dst});
    if (g.numel == 0) return;
    if (dst.dtype == DType::I32)
        fill_kernel<<<blocks_for(g.numel), kThreads, 0, stream()>>>(g, static_cast<int32_t>(value), dst.i32());
    else fill_kernel<<<blocks_for(g.numel), kThreads, 0, stream()>>>(g, value, dst.f32());
    after_launch("fill");
}

void unary(UnaryOp op, UnaryParams p, const View& x, const View& out) {
    auto g = geometry<2>(out.shape, {&out, &x});
    if (g.numel == 0) return;
    const int blocks = blocks_for(g.numel);
    switch (op) {
#define FOCAL_UNARY(name) \
    case UnaryOp::name: unary_kernel<UnaryOp::name><<<blocks, kThreads, 0, stream()>>>(g, p, x.f32(), out.f32()); break;
        FOCAL_UNARY_OPS(FOCAL_UNARY)
#undef FOCAL_UNARY
    }
    after_launch("unary");
}

void binary(BinaryOp op, const View& a, const View& b, const View& out) {
    auto g = geometry<3>(out.shape, {&out, &a, &b});
    if (g.numel == 0) return;
    const int blocks = blocks_for(g.numel);
    switch (op) {
#define FOCAL_BINARY(name)                                                                                \
    case BinaryOp::name:                                                                                  \
        binary_kernel<BinaryOp::name><<<blocks, kThreads, 0, stream()>>>(g, a.f32(), b.f32(), out.f32()); \
        break;
        FOCAL_BINARY_OPS(FOCAL_BINARY)
#undef FOCAL_BINARY
    }
    after_launch("binary");
}

void where(const View& mask, const View& a, const View& b, const View& out) {
    auto g = geometry<4>(out.shape, {&out, &mask, &a, &b});
    if (g.numel == 0) return;
    where_kernel<<<blocks_for(g.numel), kThreads, 0, stream()>>>(g, mask.f32(), a.f32(), b.f32(), out.f32());
    after_launch("where");
}

}  // namespace focal::cuda
