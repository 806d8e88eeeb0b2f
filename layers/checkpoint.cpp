#include "layers/checkpoint.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace focal {

namespace {

// The progress the optimizer file records, as one string the model file repeats: the two
// files of one checkpoint carry the same token.
std::string progress_token(const Metadata& progress) {
    std::string token;
    for (const auto& [key, value] : progress) token += key + "=" + value + ";";
    return token;
}

std::string previous_path(const CheckpointPaths& paths) { return paths.optimizer + ".previous"; }

// Keeps the current optimizer file as <optimizer>.previous (a hard link, swapped in by
// rename, so the step is atomic too).
void keep_previous(const CheckpointPaths& paths) {
    if (!std::filesystem::exists(paths.optimizer)) return;
    const std::string previous = previous_path(paths), temp = previous + ".tmp";
    std::remove(temp.c_str());
    FOCAL_CHECK(::link(paths.optimizer.c_str(), temp.c_str()) == 0, "[checkpoint] cannot link ", paths.optimizer,
                " to ", temp, ": ", std::strerror(errno));
    FOCAL_CHECK(std::rename(temp.c_str(), previous.c_str()) == 0, "[checkpoint] cannot rename ", temp, " to ", previous,
                ": ", std::strerror(errno));
}

}  // namespace

void save_checkpoint(const CheckpointPaths& paths, const Module& model, const Optimizer* optimizer,
                     const Metadata& progress, const NamedTensors& extra) {
    Metadata model_metadata{{"format", "pt"}, {"producer", "focal"}};
    if (optimizer) {
        keep_previous(paths);
        NamedTensors state = optimizer->state();
        state.insert(state.end(), extra.begin(), extra.end());
        save_safetensors(paths.optimizer, state, progress);
        model_metadata["progress"] = progress_token(progress);
    }
    save_safetensors(paths.model, model.state(), model_metadata);
}

Metadata load_checkpoint(const CheckpointPaths& paths, Module& model, Optimizer* optimizer,
                         NamedTensors* training_state) {
    SafetensorsFile weights = load_safetensors(paths.model);
    SafetensorsFile state;
    if (optimizer) {  // read both before changing anything
        state = load_safetensors(paths.optimizer);
        const auto token = weights.metadata.find("progress");
        if (token != weights.metadata.end() && token->second != progress_token(state.metadata)) {
            // Stopped between the two renames of save_checkpoint: the optimizer file is one
            // checkpoint ahead of the model; the previous one matches the model.
            const std::string previous = previous_path(paths);
            FOCAL_CHECK(std::filesystem::exists(previous), "[checkpoint] ", paths.model, " and ", paths.optimizer,
                        " are from different checkpoints (", token->second, " vs ", progress_token(state.metadata),
                        ") and there is no ", previous);
            state = load_safetensors(previous);
            FOCAL_CHECK(token->second == progress_token(state.metadata), "[checkpoint] ", paths.model,
                        " matches neither ", paths.optimizer, " nor ", previous);
        }
    }
    model.load_state(weights.tensors, false, paths.model);
    if (!optimizer) return {};
    optimizer->load_state(state, paths.optimizer);
    if (training_state) *training_state = state.tensors;
    return state.metadata;
}

}  // namespace focal
