// linear and dropout.
#include "engine/nn.h"
#include "engine/ops.h"
#include "engine/ops/op_helpers.h"

namespace focal {

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
    FOCAL_CHECK(weight.defined() && weight.dim() == 2, "[linear] weight must be (out, in)");
    FOCAL_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1), "[linear] input ", shape_str(x.shape()),
                " does not end in the weight's ", weight.size(1), " input features");
    Tensor x2 = x.dim() == 1 ? x.unsqueeze(0) : x;
    Tensor y = matmul(x2, weight.transpose(0, 1));  // W^T read through a transpose flag
    if (bias.defined()) y = y + bias;
    return x.dim() == 1 ? y.squeeze(0) : y;
}

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
    FOCAL_CHECK(p >= 0.0f && p < 1.0f, "[dropout] p must be in [0, 1), got ", p);
    if (!training || p == 0.0f) return x;
    const float keep = 1.0f - p;
    Tensor mask = lt(Tensor::rand(x.shape(), gen), keep).to(x.device());
    return x * (mask * (1.0f / keep));  // E[y] = x
}

}  // namespace focal
