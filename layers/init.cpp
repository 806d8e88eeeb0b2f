#include "layers/init.h"

#include <cmath>

namespace focal::init {

int64_t fan_in(const Tensor& weight) {
    FOCAL_CHECK(weight.dim() >= 2, "[init] fan_in needs a weight of rank >= 2, got ", shape_str(weight.shape()));
    return weight.numel() / weight.size(0);
}

void normal_(Tensor& t, Generator& gen, float mean, float std) {
    NoGradGuard no_grad;
    t.copy_(Tensor::randn(t.shape(), gen) * std + mean);
}

void uniform_(Tensor& t, Generator& gen, float lo, float hi) {
    NoGradGuard no_grad;
    t.copy_(Tensor::rand(t.shape(), gen) * (hi - lo) + lo);
}

void constant_(Tensor& t, float value) {
    NoGradGuard no_grad;
    t.fill_(value);
}

void kaiming_normal_(Tensor& t, Generator& gen) {
    normal_(t, gen, 0.0f, std::sqrt(2.0f / static_cast<float>(fan_in(t))));
}

void kaiming_uniform_(Tensor& t, Generator& gen) {
    const float bound = std::sqrt(6.0f / static_cast<float>(fan_in(t)));
    uniform_(t, gen, -bound, bound);
}

}  // namespace focal::init
