// The basic layers, each a thin Module around an op of engine/nn.h.
#pragma once
#include <memory>
#include <vector>

#include "layers/init.h"
#include "layers/module.h"

namespace focal {

struct Conv2dSpec {
    int64_t in_channels, out_channels, kernel;
    int64_t stride = 1;
    int64_t padding = 0;
    int64_t dilation = 1;
    bool bias = true;
};

// weight (O, C, k, k) Kaiming-normal (fan in), bias zero.
class Conv2d : public Layer {
public:
    Conv2d(const Conv2dSpec& spec, Generator& gen);
    Tensor forward(const Tensor& x) override;
    Tensor weight, bias;
    const Conv2dSpec spec;
};

// weight 1, bias 0, running_mean 0, running_var 1.
class BatchNorm2d : public Layer {
public:
    explicit BatchNorm2d(int64_t channels, float momentum = 0.1f, float eps = 1e-5f);
    Tensor forward(const Tensor& x) override;
    // From now on a fixed per-channel affine map, in training too: the running statistics are
    // used and no longer updated, weight and bias stop requiring gradients (torchvision's
    // FrozenBatchNorm2d, what detection models put in an ImageNet-trained backbone: their
    // batches are too small for good statistics).
    void freeze();
    bool frozen() const { return frozen_; }
    Tensor weight, bias, running_mean, running_var;
    const float momentum, eps;

private:
    bool frozen_ = false;
};

class GroupNorm : public Layer {
public:
    GroupNorm(int64_t groups, int64_t channels, float eps = 1e-5f);
    Tensor forward(const Tensor& x) override;
    Tensor weight, bias;
    const int64_t groups;
    const float eps;
};

// weight (out, in) Kaiming-uniform, bias zero.
class Linear : public Layer {
public:
    Linear(int64_t in_features, int64_t out_features, Generator& gen, bool with_bias = true);
    Tensor forward(const Tensor& x) override;
    Tensor weight, bias;
};

class ReLU : public Layer {
public:
    Tensor forward(const Tensor& x) override { return relu(x); }
};

class MaxPool2d : public Layer {
public:
    MaxPool2d(int64_t kernel, int64_t stride = 0, int64_t padding = 0)
        : kernel_(kernel), stride_(stride), padding_(padding) {}
    Tensor forward(const Tensor& x) override { return max_pool2d(x, kernel_, stride_, padding_); }

private:
    int64_t kernel_, stride_, padding_;
};

class Upsample : public Layer {  // nearest, by 2
public:
    Tensor forward(const Tensor& x) override { return upsample_nearest2x(x); }
};

// Runs its layers in order; they are named "0", "1", ... as in PyTorch.
class Sequential : public Layer {
public:
    Sequential() = default;
    explicit Sequential(std::vector<std::shared_ptr<Layer>> layers);
    void push_back(std::shared_ptr<Layer> layer);
    Tensor forward(const Tensor& x) override;
    size_t size() const { return layers_.size(); }
    Layer& operator[](size_t i) { return *layers_.at(i); }

private:
    std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace focal
