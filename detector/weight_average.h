// An exponential moving average of a model's weights (Polyak & Juditsky 1992; the "model
// EMA" of YOLOv5 and timm), evaluated and saved as the model when training with --ema:
//
//   d_t = decay * (1 - exp(-t / ramp))          t = optimizer steps done
//   ema = d_t * ema + (1 - d_t) * weights       after every step, for every float tensor
//                                               of the state (parameters and the batch
//                                               norms' running statistics)
//
// The ramp makes the average follow the weights closely early on, when they move fast, and
// average over ~1 / (1 - decay) steps later. The averaged weights often generalise better
// than the last ones at no training cost: one pass over the parameters per step.
#pragma once
#include <string>

#include "engine/serialize.h"
#include "layers/module.h"

namespace focal::detector {

class WeightAverage {
public:
    // Starts as a copy of the model's state.
    WeightAverage(const Module& model, float decay, int64_t ramp);

    float decay_at(int64_t step) const;              // d_t above
    void update(const Module& model, int64_t step);  // after optimizer step `step` (1-based)

    // The averaged state, under the model's names, and as kept in a checkpoint: the same
    // tensors under "ema." + name (layers/checkpoint.h's extra state).
    const NamedTensors& state() const { return average_; }
    NamedTensors checkpoint_state() const;
    // Restores from a checkpoint's tensors ("ema." names); fails naming a missing key.
    void load_checkpoint_state(const NamedTensors& saved, const std::string& origin);

private:
    float decay_;
    int64_t ramp_;
    NamedTensors average_;
};

// Puts `weights` into `model` for as long as it lives (an evaluation of the average), then
// puts the model's own weights back, also when the evaluation throws.
class SwappedWeights {
public:
    SwappedWeights(Module& model, const NamedTensors& weights);
    ~SwappedWeights();
    SwappedWeights(const SwappedWeights&) = delete;
    SwappedWeights& operator=(const SwappedWeights&) = delete;

private:
    Module& model_;
    NamedTensors own_;
};

}  // namespace focal::detector
