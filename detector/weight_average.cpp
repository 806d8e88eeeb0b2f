#include "detector/weight_average.h"

#include <cmath>
#include <map>

namespace focal::detector {

namespace {
const std::string kPrefix = "ema.";

NamedTensors copy_of(const NamedTensors& state) {
    NamedTensors copy;
    for (const auto& [name, t] : state) copy.emplace_back(name, t.detached().clone());
    return copy;
}
}  // namespace

WeightAverage::WeightAverage(const Module& model, float decay, int64_t ramp)
    : decay_(decay), ramp_(ramp), average_(copy_of(model.state())) {
    FOCAL_CHECK(decay >= 0 && decay < 1, "[ema] the decay must be in [0, 1), got ", decay);
    FOCAL_CHECK(ramp > 0, "[ema] the ramp must be > 0 steps, got ", ramp);
}

float WeightAverage::decay_at(int64_t step) const {
    return static_cast<float>(decay_ * (1.0 - std::exp(-static_cast<double>(step) / static_cast<double>(ramp_))));
}

void WeightAverage::update(const Module& model, int64_t step) {
    NoGradGuard no_grad;
    const float d = decay_at(step);
    const NamedTensors current = model.state();
    FOCAL_CHECK(current.size() == average_.size(), "[ema] the model has ", current.size(), " tensors, the average ",
                average_.size());
    for (size_t i = 0; i < current.size(); ++i) {
        Tensor& average = average_[i].second;
        const Tensor& weights = current[i].second;
        if (average.dtype() != DType::F32) average.copy_(weights);  // counters and the like: the latest
        else average.mul_(d).add_(weights.detached(), 1 - d);
    }
}

NamedTensors WeightAverage::checkpoint_state() const {
    NamedTensors out;
    for (const auto& [name, t] : average_) out.emplace_back(kPrefix + name, t);
    return out;
}

void WeightAverage::load_checkpoint_state(const NamedTensors& saved, const std::string& origin) {
    std::map<std::string, Tensor> by_name;
    for (const auto& [name, t] : saved)
        if (name.rfind(kPrefix, 0) == 0) by_name.emplace(name.substr(kPrefix.size()), t);
    for (auto& [name, average] : average_) {
        const auto it = by_name.find(name);
        FOCAL_CHECK(it != by_name.end(), "[ema] ", origin, " holds no '", kPrefix, name,
                    "': the run was not trained with --ema, or with another model");
        FOCAL_CHECK(it->second.shape() == average.shape(), "[ema] ", origin, ": '", kPrefix, name, "' has shape ",
                    shape_str(it->second.shape()), ", the model's is ", shape_str(average.shape()));
        average.copy_(it->second.to(average.device()));
    }
}

SwappedWeights::SwappedWeights(Module& model, const NamedTensors& weights)
    : model_(model), own_(copy_of(model.state())) {
    model_.load_state(weights, false, "the averaged weights");
}

SwappedWeights::~SwappedWeights() {
    try {
        model_.load_state(own_, false, "the training weights");
    } catch (...) {  // same names and shapes as taken in the constructor: cannot fail
    }
}

}  // namespace focal::detector
