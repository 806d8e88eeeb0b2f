#include "engine/optim.h"

#include <cmath>

#include "engine/autograd.h"
#include "engine/error.h"
#include "engine/ops.h"
#include "engine/util.h"

namespace focal {

Optimizer::Optimizer(NamedTensors params, float lr) : params_(std::move(params)), lr_(lr) {
    for (const auto& [name, p] : params_)
        FOCAL_CHECK(p.requires_grad(), "[optimizer] parameter '", name, "' does not require grad");
    slots_.resize(params_.size());
}

void Optimizer::zero_grad() {
    for (auto& [name, p] : params_) p.zero_grad();
}

NamedTensors Optimizer::state() const {
    NamedTensors out;
    for (size_t i = 0; i < params_.size(); ++i)
        for (size_t s = 0; s < slots_[i].size(); ++s)
            if (slots_[i][s].defined()) out.emplace_back(params_[i].first + "." + slot_names_[s], slots_[i][s]);
    std::vector<int32_t> step{static_cast<int32_t>(steps_)};
    out.emplace_back("step", Tensor::from_vector(step, {1}));
    return out;
}

void Optimizer::load_state(const SafetensorsFile& file, const std::string& origin) {
    std::map<std::string, Tensor> by_name(file.tensors.begin(), file.tensors.end());
    FOCAL_CHECK(by_name.count("step"), "[optimizer] ", origin, ": missing key 'step'");
    std::vector<std::vector<Tensor>> loaded(params_.size(), std::vector<Tensor>(slot_names_.size()));
    for (size_t i = 0; i < params_.size(); ++i)
        for (size_t s = 0; s < slot_names_.size(); ++s) {
            auto it = by_name.find(params_[i].first + "." + slot_names_[s]);
            if (it == by_name.end()) continue;  // a parameter that never had a gradient
            FOCAL_CHECK(it->second.shape() == params_[i].second.shape(), "[optimizer] ", origin, ": key '", it->first,
                        "' has shape ", shape_str(it->second.shape()), ", the parameter has ",
                        shape_str(params_[i].second.shape()));
            loaded[i][s] = it->second.to(params_[i].second.device()).clone();
        }
    slots_ = std::move(loaded);
    steps_ = static_cast<int64_t>(by_name["step"].item());
}

SGD::SGD(NamedTensors params, SgdOptions opt) : Optimizer(std::move(params), opt.lr), options(opt) {
    FOCAL_CHECK(opt.lr >= 0 && opt.momentum >= 0 && opt.weight_decay >= 0,
                "[sgd] negative lr, momentum or weight decay");
    FOCAL_CHECK(!opt.nesterov || opt.momentum > 0, "[sgd] nesterov needs momentum > 0");
    slot_names_ = {"momentum_buffer"};
    for (auto& s : slots_) s.resize(1);
}

void SGD::step() {
    NoGradGuard no_grad;
    for (size_t i = 0; i < params_.size(); ++i) {
        Tensor& p = params_[i].second;
        Tensor g = p.grad();
        if (!g.defined()) continue;
        if (options.weight_decay != 0) g = g + p * options.weight_decay;
        if (options.momentum != 0) {
            Tensor& v = slots_[i][0];
            if (!v.defined()) v = g.clone();  // PyTorch: the first step's buffer is the gradient
            else v.mul_(options.momentum).add_(g);
            g = options.nesterov ? g + v * options.momentum : v;
        }
        p.add_(g, -lr_);
    }
    ++steps_;
}

AdamW::AdamW(NamedTensors params, AdamWOptions opt) : Optimizer(std::move(params), opt.lr), options(opt) {
    FOCAL_CHECK(opt.lr >= 0 && opt.beta1 >= 0 && opt.beta1 < 1 && opt.beta2 >= 0 && opt.beta2 < 1 && opt.eps > 0,
                "[adamw] invalid lr, betas or eps");
    slot_names_ = {"exp_avg", "exp_avg_sq"};
    for (auto& s : slots_) s.resize(2);
}

void AdamW::step() {
    NoGradGuard no_grad;
    ++steps_;
    const float correction1 = 1 - std::pow(options.beta1, static_cast<float>(steps_));
    const float correction2 = 1 - std::pow(options.beta2, static_cast<float>(steps_));
    for (size_t i = 0; i < params_.size(); ++i) {
        Tensor& p = params_[i].second;
        Tensor g = p.grad();
        if (!g.defined()) continue;
        Tensor& m = slots_[i][0];
        Tensor& v = slots_[i][1];
        if (!m.defined()) {
            m = Tensor::zeros(p.shape(), DType::F32, p.device());
            v = Tensor::zeros(p.shape(), DType::F32, p.device());
        }
        p.mul_(1 - lr_ * options.weight_decay);  // decoupled weight decay
        m.mul_(options.beta1).add_(g, 1 - options.beta1);
        v.mul_(options.beta2).add_(g * g, 1 - options.beta2);
        Tensor denom = sqrt(v / correction2) + options.eps;
        p.add_(m / denom, -lr_ / correction1);
    }
}

const std::vector<OptimizerEntry>& optimizer_registry() {
    static const std::vector<OptimizerEntry> entries = {
        {"sgd", "SGD with momentum and L2 weight decay (PyTorch's SGD)",
         [](NamedTensors params, const OptimizerSettings& s) -> std::unique_ptr<Optimizer> {
             return std::make_unique<SGD>(std::move(params), SgdOptions{s.lr, s.momentum, s.weight_decay});
         }},
        {"adamw", "AdamW, decoupled weight decay (Loshchilov & Hutter 2019), betas .9 .999, eps 1e-8",
         [](NamedTensors params, const OptimizerSettings& s) -> std::unique_ptr<Optimizer> {
             return std::make_unique<AdamW>(std::move(params), AdamWOptions{s.lr, 0.9f, 0.999f, 1e-8f, s.weight_decay});
         }},
    };
    return entries;
}

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, NamedTensors params,
                                          const OptimizerSettings& settings) {
    std::vector<std::string> known;
    for (const OptimizerEntry& e : optimizer_registry()) {
        if (e.name == name) return e.make(std::move(params), settings);
        known.push_back(e.name);
    }
    fail("[optim] unknown optimizer '", name, "'; known: ", join(known, ", "));
}

float clip_grad_norm(const std::vector<Tensor>& params, float max_norm) {
    FOCAL_CHECK(max_norm > 0, "[clip_grad_norm] max_norm must be positive, got ", max_norm);
    NoGradGuard no_grad;
    double total = 0;
    for (const Tensor& p : params)
        if (p.grad().defined()) {
            Tensor g = p.grad();
            total += static_cast<double>(sum(g * g).item());
        }
    const float norm = static_cast<float>(std::sqrt(total));
    const float scale = max_norm / (norm + 1e-6f);
    if (scale < 1.0f)
        for (const Tensor& p : params)
            if (p.grad().defined()) p.set_grad(p.grad() * scale);
    return norm;
}

}  // namespace focal
