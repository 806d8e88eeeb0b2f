#include "layers/checkpoint.h"

namespace focal {

void save_checkpoint(const CheckpointPaths& paths, const Module& model, const Optimizer* optimizer,
                     const Metadata& progress) {
    if (optimizer) save_safetensors(paths.optimizer, optimizer->state(), progress);
    save_safetensors(paths.model, model.state(), {{"format", "pt"}, {"producer", "focal"}});
}

Metadata load_checkpoint(const CheckpointPaths& paths, Module& model, Optimizer* optimizer) {
    SafetensorsFile weights = load_safetensors(paths.model);
    SafetensorsFile state;
    if (optimizer) state = load_safetensors(paths.optimizer);  // read both before changing anything
    model.load_state(weights.tensors, false, paths.model);
    if (!optimizer) return {};
    optimizer->load_state(state, paths.optimizer);
    return state.metadata;
}

}  // namespace focal
