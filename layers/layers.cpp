#include "layers/layers.h"

namespace focal {

Conv2d::Conv2d(const Conv2dSpec& s, Generator& gen) : spec(s) {
    FOCAL_CHECK(s.in_channels > 0 && s.out_channels > 0 && s.kernel > 0, "[Conv2d] invalid channels ", s.in_channels,
                " -> ", s.out_channels, " or kernel ", s.kernel);
    weight = Tensor::empty({s.out_channels, s.in_channels, s.kernel, s.kernel});
    init::kaiming_normal_(weight, gen);
    register_parameter("weight", &weight);
    if (s.bias) {
        bias = Tensor::zeros({s.out_channels});
        register_parameter("bias", &bias);
    }
}

Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight, bias, {spec.stride, spec.padding, spec.dilation}); }

BatchNorm2d::BatchNorm2d(int64_t channels, float momentum_, float eps_) : momentum(momentum_), eps(eps_) {
    weight = Tensor::ones({channels});
    bias = Tensor::zeros({channels});
    running_mean = Tensor::zeros({channels});
    running_var = Tensor::ones({channels});
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
    register_buffer("running_mean", &running_mean);
    register_buffer("running_var", &running_var);
}

Tensor BatchNorm2d::forward(const Tensor& x) {
    return batch_norm(x, weight, bias, running_mean, running_var, is_training() && !frozen_, momentum, eps);
}

void BatchNorm2d::freeze() {
    frozen_ = true;
    weight.requires_grad_(false);
    bias.requires_grad_(false);
}

GroupNorm::GroupNorm(int64_t groups_, int64_t channels, float eps_) : groups(groups_), eps(eps_) {
    FOCAL_CHECK(groups > 0 && channels % groups == 0, "[GroupNorm] ", channels, " channels do not split into ", groups,
                " groups");
    weight = Tensor::ones({channels});
    bias = Tensor::zeros({channels});
    register_parameter("weight", &weight);
    register_parameter("bias", &bias);
}

Tensor GroupNorm::forward(const Tensor& x) { return group_norm(x, groups, weight, bias, eps); }

Linear::Linear(int64_t in_features, int64_t out_features, Generator& gen, bool with_bias) {
    weight = Tensor::empty({out_features, in_features});
    init::kaiming_uniform_(weight, gen);
    register_parameter("weight", &weight);
    if (with_bias) {
        bias = Tensor::zeros({out_features});
        register_parameter("bias", &bias);
    }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

Sequential::Sequential(std::vector<std::shared_ptr<Layer>> layers) {
    for (auto& layer : layers) push_back(std::move(layer));
}

void Sequential::push_back(std::shared_ptr<Layer> layer) {
    register_module(std::to_string(layers_.size()), layer);
    layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
    Tensor y = x;
    for (auto& layer : layers_) y = layer->forward(y);
    return y;
}

}  // namespace focal
