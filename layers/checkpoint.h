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

// Writes the optimizer file first and the model file last; the model file repeats the
// progress (as a token), and the optimizer file it replaces is kept as <optimizer>.previous.
// A stop between the two writes (kill -9, a second Ctrl-C) leaves a model that matches the
// previous optimizer file, and load_checkpoint picks that one: nothing is lost or mixed.
// `extra`: more training state saved with the optimizer's (the weight average of --ema),
// under names the optimizer does not use.
void save_checkpoint(const CheckpointPaths& paths, const Module& model, const Optimizer* optimizer,
                     const Metadata& progress = {}, const NamedTensors& extra = {});

// Loads the model (every key present with the right shape) and, if given, the optimizer
// state that belongs to it (see save_checkpoint); returns the progress metadata saved with
// the optimizer (empty without one). `training_state`, if given, receives every tensor of
// that optimizer file, for the caller's `extra` state.
Metadata load_checkpoint(const CheckpointPaths& paths, Module& model, Optimizer* optimizer,
                         NamedTensors* training_state = nullptr);

}  // namespace focal
