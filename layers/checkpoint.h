// Training checkpoints: the model's parameters and buffers in one safetensors file (keys
// as a PyTorch state_dict, so PyTorch can load it) and the optimizer's state with the
// training progress (metadata) in another. Both are written atomically.
#pragma once
#include <string>

#include "engine/optim.h"
#include "engine/serialize.h"
#include "layers/module.h"

namespace focal {

struct CheckpointPaths {
    std::string model;      // e.g. run/checkpoint.safetensors
    std::string optimizer;  // e.g. run/optimizer.safetensors
};

// Writes the optimizer file first and the model file last, so a model file never
// refers to optimizer state that was not written.
void save_checkpoint(const CheckpointPaths& paths, const Module& model, const Optimizer* optimizer,
                     const Metadata& progress = {});

// Loads the model (every key present with the right shape) and, if given, the optimizer;
// returns the progress metadata saved with the optimizer (empty without one).
Metadata load_checkpoint(const CheckpointPaths& paths, Module& model, Optimizer* optimizer);

}  // namespace focal
