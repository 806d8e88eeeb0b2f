// Optimizers over named parameters. Their state (momentum buffers, Adam moments, the step
// count) is exposed as named tensors so it is saved and restored with the model.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "engine/serialize.h"
#include "engine/tensor.h"

namespace focal {

class Optimizer {
public:
    explicit Optimizer(NamedTensors params, float lr);
    virtual ~Optimizer() = default;
    virtual void step() = 0;  // one update from the parameters' .grad(); parameters without one are skipped
    void zero_grad();
    float lr() const { return lr_; }
    void set_lr(float lr) { lr_ = lr; }
    int64_t steps() const { return steps_; }
    // "<param>.<slot>" -> tensor, plus "step"; load_state validates names and shapes.
    virtual NamedTensors state() const;
    virtual void load_state(const SafetensorsFile& file, const std::string& origin);

protected:
    NamedTensors params_;
    std::vector<std::vector<Tensor>> slots_;  // per parameter, the optimizer's buffers
    std::vector<std::string> slot_names_;
    float lr_;
    int64_t steps_ = 0;
};

struct SgdOptions {
    float lr = 0.01f;
    float momentum = 0.0f;
    float weight_decay = 0.0f;  // L2, added to the gradient (PyTorch's SGD)
    bool nesterov = false;
};

// v = momentum * v + (g + wd * p);  p -= lr * (nesterov ? g + wd * p + momentum * v : v)
class SGD : public Optimizer {
public:
    SGD(NamedTensors params, SgdOptions options);
    void step() override;
    const SgdOptions options;
};

struct AdamWOptions {
    float lr = 1e-3f;
    float beta1 = 0.9f, beta2 = 0.999f;
    float eps = 1e-8f;
    float weight_decay = 0.01f;  // decoupled (Loshchilov & Hutter 2019)
};

// p -= lr * wd * p;  m, v = EMAs of g, g^2;  p -= lr * m_hat / (sqrt(v_hat) + eps)
class AdamW : public Optimizer {
public:
    AdamW(NamedTensors params, AdamWOptions options);
    void step() override;
    const AdamWOptions options;
};

// Optimizers by name, as losses are (losses/registry.h): `focal train --optimizer NAME`.
// The settings every optimizer of the list takes; each uses what applies to it.
struct OptimizerSettings {
    float lr = 0.01f;
    float momentum = 0.9f;       // SGD
    float weight_decay = 1e-4f;  // SGD: L2 in the gradient; AdamW: decoupled
};
struct OptimizerEntry {
    std::string name, description;
    std::unique_ptr<Optimizer> (*make)(NamedTensors params, const OptimizerSettings& settings);
};
const std::vector<OptimizerEntry>& optimizer_registry();
// Throws Error naming the known optimizers when `name` is not one of them.
std::unique_ptr<Optimizer> make_optimizer(const std::string& name, NamedTensors params,
                                          const OptimizerSettings& settings);

// Scales all gradients so their global L2 norm is at most max_norm; returns the norm before.
float clip_grad_norm(const std::vector<Tensor>& params, float max_norm);

}  // namespace focal
