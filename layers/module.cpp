#include "layers/module.h"

#include <map>

namespace focal {

void Module::register_parameter(std::string name, Tensor* slot) {
    FOCAL_CHECK(slot && slot->defined(), "[module] parameter '", name, "' is undefined");
    slot->requires_grad_(true);
    params_.emplace_back(std::move(name), slot);
}

void Module::register_buffer(std::string name, Tensor* slot) {
    FOCAL_CHECK(slot && slot->defined(), "[module] buffer '", name, "' is undefined");
    buffers_.emplace_back(std::move(name), slot);
}

void Module::collect(const std::string& prefix, bool params, bool buffers,
                     std::vector<std::pair<std::string, Tensor*>>& out) const {
    if (params)
        for (const auto& [name, slot] : params_) out.emplace_back(prefix + name, slot);
    if (buffers)
        for (const auto& [name, slot] : buffers_) out.emplace_back(prefix + name, slot);
    for (const auto& [name, child] : children_) child->collect(prefix + name + ".", params, buffers, out);
}

namespace {
NamedTensors as_named(const std::vector<std::pair<std::string, Tensor*>>& slots) {
    NamedTensors out;
    out.reserve(slots.size());
    for (const auto& [name, slot] : slots) out.emplace_back(name, *slot);
    return out;
}
}  // namespace

NamedTensors Module::named_parameters() const {
    std::vector<std::pair<std::string, Tensor*>> slots;
    collect("", true, false, slots);
    return as_named(slots);
}

NamedTensors Module::named_trainable_parameters() const {
    NamedTensors out;
    for (auto& [name, t] : named_parameters())
        if (t.requires_grad()) out.emplace_back(name, t);
    return out;
}

void Module::apply(const std::function<void(Module&)>& fn) {
    fn(*this);
    for (auto& [name, child] : children_) child->apply(fn);
}

NamedTensors Module::named_buffers() const {
    std::vector<std::pair<std::string, Tensor*>> slots;
    collect("", false, true, slots);
    return as_named(slots);
}

NamedTensors Module::state() const {
    NamedTensors out = named_parameters();
    for (auto& entry : named_buffers()) out.push_back(std::move(entry));
    return out;
}

std::vector<Tensor> Module::parameters() const {
    std::vector<Tensor> out;
    for (auto& [name, t] : named_parameters()) out.push_back(t);
    return out;
}

int64_t Module::num_parameters() const {
    int64_t n = 0;
    for (const Tensor& t : parameters()) n += t.numel();
    return n;
}

void Module::load_state(const NamedTensors& source, bool allow_extra, const std::string& origin) {
    std::map<std::string, const Tensor*> by_name;
    for (const auto& [name, t] : source) by_name[name] = &t;
    std::vector<std::pair<std::string, Tensor*>> slots;
    collect("", true, true, slots);
    // Validate everything before changing anything: a failed load leaves the module as it was.
    for (const auto& [name, slot] : slots) {
        auto it = by_name.find(name);
        FOCAL_CHECK(it != by_name.end(), "[load_state] ", origin, ": missing key '", name, "'");
        FOCAL_CHECK(it->second->shape() == slot->shape(), "[load_state] ", origin, ": key '", name, "' has shape ",
                    shape_str(it->second->shape()), ", the model expects ", shape_str(slot->shape()));
        FOCAL_CHECK(it->second->dtype() == slot->dtype(), "[load_state] ", origin, ": key '", name, "' is ",
                    dtype_name(it->second->dtype()), ", the model expects ", dtype_name(slot->dtype()));
    }
    if (!allow_extra && by_name.size() > slots.size()) {
        std::map<std::string, bool> known;
        for (const auto& [name, slot] : slots) known[name] = true;
        for (const auto& [name, t] : source)
            FOCAL_CHECK(known.count(name), "[load_state] ", origin, ": unexpected key '", name, "'");
    }
    NoGradGuard no_grad;
    for (const auto& [name, slot] : slots) slot->copy_(by_name[name]->to(slot->device()));
}

void Module::train(bool on) {
    training_ = on;
    for (auto& [name, child] : children_) child->train(on);
}

void Module::to(Device device) {
    std::vector<std::pair<std::string, Tensor*>> slots;
    collect("", true, true, slots);
    NoGradGuard no_grad;
    for (auto& [name, slot] : slots) {
        if (slot->device() == device) continue;
        bool trainable = slot->requires_grad();
        *slot = slot->detached().to(device);
        if (trainable) slot->requires_grad_(true);
    }
}

void Module::zero_grad() {
    for (Tensor& t : parameters()) t.zero_grad();
}

}  // namespace focal
