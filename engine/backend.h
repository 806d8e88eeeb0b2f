// The backend seam (docs/design.md, "The backend seam"): a short, fixed list of kernels that every device
// implements. Ops in engine/ops/ are written against this interface only, so they run on
// every backend; engine/cpu implements it with OpenBLAS + OpenMP, engine/cuda with cuBLAS.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/shape.h"

namespace focal {

// A strided window on device memory, as kernels see it. `data` already includes the
// tensor's offset. All operands of one kernel call are described in the output's shape:
// a broadcast operand simply has stride 0 along the broadcast dims.
struct View {
    void* data = nullptr;
    Shape shape;
    Strides strides;
    DType dtype = DType::F32;

    int64_t numel() const { return focal::numel(shape); }
    float* f32() const { return static_cast<float*>(data); }
    int32_t* i32() const { return static_cast<int32_t*>(data); }
};

// The element-wise ops, listed once: the enums below and each backend's dispatch expand
// these lists. Their math lives in engine/kernels/elementwise_math.h, shared by CPU and CUDA.
// Step: 1 where x > 0, else 0. AddScalar, MulScalar, RSubScalar, Pow: x + a, x * a, a - x,
// x ^ a. Clamp: min(max(x, a), b). InRange: 1 where a <= x <= b, else 0.
// A list of names, wrapped by hand:
// clang-format off
#define FOCAL_UNARY_OPS(X)                                                                              \
    X(Neg) X(Exp) X(Log) X(Sqrt) X(Abs) X(Sign) X(Relu) X(Step) X(Sigmoid) X(Tanh) X(Softplus)         \
    X(LogSigmoid) X(AddScalar) X(MulScalar) X(RSubScalar) X(Pow) X(Clamp) X(InRange)
// clang-format on
#define FOCAL_BINARY_OPS(X) X(Add) X(Sub) X(Mul) X(Div) X(Maximum) X(Minimum) X(Eq) X(Ne) X(Lt) X(Le) X(Gt) X(Ge)

#define FOCAL_ENUM_ENTRY(name) name,
enum class UnaryOp : uint8_t { FOCAL_UNARY_OPS(FOCAL_ENUM_ENTRY) };
enum class BinaryOp : uint8_t { FOCAL_BINARY_OPS(FOCAL_ENUM_ENTRY) };
#undef FOCAL_ENUM_ENTRY
enum class ReduceOp : uint8_t { Sum, Max, Min };

struct UnaryParams {
    float a = 0, b = 0;
};

// One operand of a (batched) matrix product: a matrix stored row-major with leading
// dimension `ld`, read transposed when `transposed`; consecutive batch items `batch_stride`
// apart (0 for a broadcast operand).
struct GemmOperand {
    const float* data;
    int64_t ld;
    bool transposed;
    int64_t batch_stride;
};

// The window layout of one 2-D convolution or pooling over an (N, C, H, W) input.
struct Conv2dGeometry {
    int64_t batch = 1, channels = 1, height = 1, width = 1;
    int64_t kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
    int64_t pad_h = 0, pad_w = 0, dilation_h = 1, dilation_w = 1;
    int64_t out_h = 1, out_w = 1;
    // im2col's column layout: (C*kh*kw, N*OH*OW) by default; (N, C*kh*kw, OH*OW) when set.
    bool cols_per_image = false;
    int64_t out_plane() const { return out_h * out_w; }
};

// Winograd F(m x m, 3 x 3) tiling of a 3x3, stride-1, dilation-1 convolution (Lavin & Gray
// 2016): output tile (th, tw) of image n holds the m x m outputs starting at (th*m, tw*m) and
// reads the a x a input patch starting at (th*m - pad, tw*m - pad), a = m + 2. Tiles are
// numbered t = (n * tiles_h + th) * tiles_w + tw; edge tiles hang over the border.
struct WinogradGeometry {
    Conv2dGeometry conv;
    int64_t tile = 2;  // m: 2 or 4
    int64_t tiles_h = 1, tiles_w = 1;
    int64_t alpha() const { return tile + 2; }
    int64_t tiles() const { return conv.batch * tiles_h * tiles_w; }
    // Row length of the transform-domain buffers: tiles() rounded up to 16, so that every
    // row starts on a 64-byte boundary. The extra columns of V and dM hold zeros.
    int64_t tile_stride() const { return (tiles() + 15) / 16 * 16; }
};

// A contiguous shape seen as (outer, size, inner) around `dim`: how the indexing kernels
// walk their operands.
struct DimSplit {
    int64_t outer = 1, size = 1, inner = 1;
};
inline DimSplit split_at(const Shape& shape, int64_t dim) {
    DimSplit s;
    for (int64_t d = 0; d < dim; ++d) s.outer *= shape[d];
    s.size = shape[dim];
    for (size_t d = static_cast<size_t>(dim) + 1; d < shape.size(); ++d) s.inner *= shape[d];
    return s;
}

class Backend {
public:
    virtual ~Backend() = default;
    virtual Device device() const = 0;

    // Memory.
    virtual void* allocate(size_t bytes) = 0;
    virtual void deallocate(void* ptr, size_t bytes) = 0;
    virtual void copy_from_host(void* dst, const void* src, size_t bytes) = 0;
    virtual void copy_to_host(void* dst, const void* src, size_t bytes) = 0;

    // dst[i] = src[i] over dst's shape (strided both sides; converts between dtypes).
    virtual void copy(const View& src, const View& dst) = 0;
    virtual void fill(const View& dst, float value) = 0;

    // out = f(x), out = f(a, b), out = mask != 0 ? a : b; out contiguous, inputs strided.
    virtual void unary(UnaryOp op, UnaryParams params, const View& x, const View& out) = 0;
    virtual void binary(BinaryOp op, const View& a, const View& b, const View& out) = 0;
    virtual void where(const View& mask, const View& a, const View& b, const View& out) = 0;

    // x has shape out.shape ++ (reduced dims); out[i] = reduce over x[i, ...]. out contiguous.
    virtual void reduce(ReduceOp op, const View& x, const View& out) = 0;
    // out[i] = index of the max of x[i, :] (x is (rows, n) strided; out int32, first max wins).
    virtual void argmax(const View& x, const View& out) = 0;

    // C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], C row-major (m, n) with ldc = n.
    virtual void gemm(int64_t batch, int64_t m, int64_t n, int64_t k, float alpha, const GemmOperand& a,
                      const GemmOperand& b, float beta, float* c, int64_t c_batch_stride) = 0;

    // Indexing along one dim, with x viewed as (outer, size, inner) and int32 indices:
    // index_select: out(outer, len(index), inner) = x[:, index, :]
    // index_add:    out[:, index[j], :] += src[:, j, :]   (out contiguous, accumulates)
    // gather:       out[o, j, i] = x[o, index[o, j, i], i];  scatter_add is its adjoint.
    virtual void index_select(const View& x, int64_t dim, const View& index, const View& out) = 0;
    virtual void index_add(const View& src, int64_t dim, const View& index, const View& out) = 0;
    virtual void gather(const View& x, int64_t dim, const View& index, const View& out) = 0;
    virtual void scatter_add(const View& src, int64_t dim, const View& index, const View& out) = 0;

    // Convolution and pooling kernels, all on contiguous buffers. A backend that lacks one
    // inherits a version that throws "[cuda] im2col is not implemented ...".
    // im2col: x (N, C, H, W) -> cols (C*kh*kw, N*OH*OW), or (N, C*kh*kw, OH*OW) when
    // g.cols_per_image; zero where the window leaves x.
    // col2im: its adjoint; sums cols back into dx (N, C, H, W), overwriting it.
    virtual void im2col(const Conv2dGeometry& g, const float* x, float* cols);
    virtual void col2im(const Conv2dGeometry& g, const float* cols, float* dx);
    // Pooling: y (N, C, OH, OW). max_pool2d records the flat index (in its H*W plane) of
    // each window's maximum; padding never wins. avg_pool2d counts padding (PyTorch's default).
    virtual void max_pool2d(const Conv2dGeometry& g, const float* x, float* y, int32_t* argmax);
    virtual void max_pool2d_backward(const Conv2dGeometry& g, const float* dy, const int32_t* argmax, float* dx);
    virtual void avg_pool2d(const Conv2dGeometry& g, const float* x, float* y);
    virtual void avg_pool2d_backward(const Conv2dGeometry& g, const float* dy, float* dx);

    // Winograd transforms, with a = m + 2, T = g.tile_stride() and position p = i * a + j in
    // the a x a transform domain; conv2d then runs a*a gemms M[p] (O, T) = U[p] (O, C) @ V[p] (C, T).
    // winograd_filter: w (O, C, 3, 3) -> U (a*a, O, C), U_oc = G w_oc G^T.
    // winograd_input:  x (N, C, H, W) -> V (a*a, C, T), V_t = B^T d_t B, d_t the zero-padded tile.
    // winograd_output: M (a*a, O, T) -> y (N, O, OH, OW), y_t = A^T M_t A (+ bias[o]; bias may be null).
    // The *_backward kernels are the adjoints, and overwrite their output:
    // dw_oc = G^T dU_oc G;  dx = sum over tiles of B dV_t B^T;  dM_t = A dy_t A^T.
    // A backend without them answers has_winograd() == false and conv2d never calls them.
    virtual bool has_winograd() const { return false; }
    virtual void winograd_filter(const WinogradGeometry& g, int64_t out_channels, const float* w, float* u);
    virtual void winograd_filter_backward(const WinogradGeometry& g, int64_t out_channels, const float* du, float* dw);
    virtual void winograd_input(const WinogradGeometry& g, const float* x, float* v);
    virtual void winograd_input_backward(const WinogradGeometry& g, const float* dv, float* dx);
    virtual void winograd_output(const WinogradGeometry& g, int64_t out_channels, const float* m, const float* bias,
                                 float* y);
    virtual void winograd_output_backward(const WinogradGeometry& g, int64_t out_channels, const float* dy, float* dm);

    // Per-channel kernels behind batch_norm, on contiguous (N, C, L) buffers; sums in double.
    // channel_stats: mean[c] and biased variance var[c] over (N, L), two passes.
    // channel_sums:  sum_a[c] = sum of a, sum_ab[c] = sum of a * (b - b_center[c]) (b_center
    //                may be null: no centring).
    // channel_affine: out = a * p[c] + b * q[c] + r[c] (b and q may be null).
    virtual void channel_stats(const float* x, int64_t n, int64_t c, int64_t l, float* mean, float* var);
    virtual void channel_sums(const float* a, const float* b, const float* b_center, int64_t n, int64_t c, int64_t l,
                              float* sum_a, float* sum_ab);
    virtual void channel_affine(const float* a, const float* p, const float* b, const float* q, const float* r,
                                int64_t n, int64_t c, int64_t l, float* out);
};

// Names the op running on this thread, for the errors a backend raises without knowing
// which op asked: out of device memory, a device fault. Ops open one on entry, and each
// backward step opens "<op> backward"; scopes nest, and current() lists them outermost
// first: "conv2d backward > sum". Outside every scope current() is "".
class OpScope {
public:
    explicit OpScope(const char* name, const char* suffix = "");
    ~OpScope();
    OpScope(const OpScope&) = delete;
    OpScope& operator=(const OpScope&) = delete;
    static std::string current();

private:
    const char* name_;
    const char* suffix_;
    const OpScope* outer_;
};

Backend& backend(Device device);  // throws a clear error for cuda in a CPU-only build
bool cuda_available();            // built with CUDA and a device is present

}  // namespace focal
