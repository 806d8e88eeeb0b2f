// Module: named parameters, buffers and children, as in PyTorch's nn.Module.
//
// A module owns its tensors as members and registers pointers to them, so names are
// dotted paths exactly like a PyTorch state_dict ("stages.1.blocks.0.conv1.weight"); a
// PyTorch model of the same architecture loads focal's checkpoints key for key.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine.h"
#include "engine/serialize.h"

namespace focal {

class Module {
public:
    Module() = default;
    virtual ~Module() = default;
    Module(const Module&) = delete;
    Module& operator=(const Module&) = delete;

    NamedTensors named_parameters() const;  // trainable leaves, recursively
    // The parameters that still require gradients: all of them unless some were frozen
    // (Backbone::freeze_stages); what an optimizer and the gradient all-reduce are given.
    NamedTensors named_trainable_parameters() const;
    NamedTensors named_buffers() const;  // running statistics and other state
    NamedTensors state() const;          // parameters then buffers: what a checkpoint holds
    std::vector<Tensor> parameters() const;
    int64_t num_parameters() const;

    // Copies values from `source` (name -> tensor) into this module's state. Every key of
    // state() must be present with the same shape; fails naming the first key that is not.
    // Extra keys in `source` are an error too unless allow_extra.
    void load_state(const NamedTensors& source, bool allow_extra = false, const std::string& origin = "state");

    void train(bool on = true);
    void eval() { train(false); }
    bool is_training() const { return training_; }
    void to(Device device);  // moves every parameter and buffer
    void zero_grad();
    // Calls fn on this module and then on every descendant, depth first (torch's Module.apply).
    void apply(const std::function<void(Module&)>& fn);

protected:
    void register_parameter(std::string name, Tensor* slot);  // *slot must be a defined leaf
    void register_buffer(std::string name, Tensor* slot);
    template <class M>
    std::shared_ptr<M> register_module(std::string name, std::shared_ptr<M> child) {
        children_.emplace_back(std::move(name), child);
        return child;
    }

private:
    void collect(const std::string& prefix, bool params, bool buffers,
                 std::vector<std::pair<std::string, Tensor*>>& out) const;

    std::vector<std::pair<std::string, Tensor*>> params_, buffers_;
    std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
    bool training_ = true;
};

// Children under names, with no forward of its own (torch.nn.ModuleList's role), so state
// names read "lateral.0.weight". append() names each child by its position.
class ModuleList : public Module {
public:
    template <class M>
    std::shared_ptr<M> add(std::string name, std::shared_ptr<M> child) {
        ++size_;
        return register_module(std::move(name), std::move(child));
    }
    template <class M>
    std::shared_ptr<M> append(std::shared_ptr<M> child) {
        return add(std::to_string(size_), std::move(child));
    }

private:
    size_t size_ = 0;
};

// Puts a module in eval mode for a scope and restores the mode it had (inference during
// training, then back to training).
class EvalModeGuard {
public:
    explicit EvalModeGuard(Module& module) : module_(module), was_training_(module.is_training()) { module.eval(); }
    ~EvalModeGuard() { module_.train(was_training_); }
    EvalModeGuard(const EvalModeGuard&) = delete;
    EvalModeGuard& operator=(const EvalModeGuard&) = delete;

private:
    Module& module_;
    bool was_training_;
};

// A module with one input and one output: what Sequential chains.
class Layer : public Module {
public:
    virtual Tensor forward(const Tensor& x) = 0;
    Tensor operator()(const Tensor& x) { return forward(x); }
};

}  // namespace focal
