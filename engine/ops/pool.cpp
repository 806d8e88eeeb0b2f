// Pooling and nearest upsampling, with gradients.
#include "engine/autograd.h"
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

using detail::f32;

namespace {

Conv2dGeometry pool_geometry(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding, const char* op) {
    detail::check_f32(x, op);
    FOCAL_CHECK(x.dim() == 4, "[", op, "] input must be (N, C, H, W), got ", shape_str(x.shape()));
    FOCAL_CHECK(kernel >= 1 && stride >= 0 && padding >= 0 && 2 * padding <= kernel, "[", op, "] invalid kernel ",
                kernel, ", stride ", stride, " or padding ", padding, " (padding may be at most half the kernel)");
    Conv2dGeometry g;
    g.batch = x.size(0), g.channels = x.size(1), g.height = x.size(2), g.width = x.size(3);
    g.kernel_h = g.kernel_w = kernel;
    g.stride_h = g.stride_w = stride == 0 ? kernel : stride;
    g.pad_h = g.pad_w = padding;
    g.out_h = conv_out_size(g.height, kernel, g.stride_h, padding, 1);
    g.out_w = conv_out_size(g.width, kernel, g.stride_w, padding, 1);
    FOCAL_CHECK(g.out_h > 0 && g.out_w > 0, "[", op, "] input ", shape_str(x.shape()), " is smaller than the ", kernel,
                "x", kernel, " window");
    return g;
}

}  // namespace

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
    OpScope scope("max_pool2d");
    Conv2dGeometry g = pool_geometry(x, kernel, stride, padding, "max_pool2d");
    Tensor xc = x.detached().contiguous();
    Tensor y = Tensor::empty({g.batch, g.channels, g.out_h, g.out_w}, DType::F32, x.device());
    Tensor argmax = Tensor::empty(y.shape(), DType::I32, x.device());
    detail::backend_of(x).max_pool2d(g, f32(xc), f32(y), static_cast<int32_t*>(argmax.raw_data()));
    return record(y, "max_pool2d", {x}, [g, argmax](Grads& grads, const Tensor& dy) {
        Tensor dx = Tensor::zeros({g.batch, g.channels, g.height, g.width}, DType::F32, dy.device());
        Tensor dyc = dy.contiguous();
        detail::backend_of(dy).max_pool2d_backward(g, f32(dyc), static_cast<const int32_t*>(argmax.raw_data()),
                                                   f32(dx));
        grads[0] += dx;  // each window's gradient goes to its maximum
    });
}

Tensor avg_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
    OpScope scope("avg_pool2d");
    Conv2dGeometry g = pool_geometry(x, kernel, stride, padding, "avg_pool2d");
    Tensor xc = x.detached().contiguous();
    Tensor y = Tensor::empty({g.batch, g.channels, g.out_h, g.out_w}, DType::F32, x.device());
    detail::backend_of(x).avg_pool2d(g, f32(xc), f32(y));
    return record(y, "avg_pool2d", {x}, [g](Grads& grads, const Tensor& dy) {
        Tensor dx = Tensor::zeros({g.batch, g.channels, g.height, g.width}, DType::F32, dy.device());
        Tensor dyc = dy.contiguous();
        detail::backend_of(dy).avg_pool2d_backward(g, f32(dyc), f32(dx));
        grads[0] += dx;  // spread evenly over each window
    });
}

Tensor global_avg_pool2d(const Tensor& x) {
    FOCAL_CHECK(x.dim() == 4, "[global_avg_pool2d] input must be (N, C, H, W), got ", shape_str(x.shape()));
    return mean(x, {2, 3}, true);
}

Tensor upsample_nearest2x(const Tensor& x) {
    FOCAL_CHECK(x.dim() == 4, "[upsample_nearest2x] input must be (N, C, H, W), got ", shape_str(x.shape()));
    const int64_t n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
    // (N, C, H, 1, W, 1) -expand-> (N, C, H, 2, W, 2) -reshape-> (N, C, 2H, 2W): each pixel
    // repeated in a 2x2 block. The gradient (expand's) sums each block back to its pixel.
    return x.reshape({n, c, h, 1, w, 1}).expand({n, c, h, 2, w, 2}).reshape({n, c, 2 * h, 2 * w});
}

}  // namespace focal
