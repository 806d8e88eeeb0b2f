// Learning-rate schedules: a linear warm-up from warmup_factor * base, then step or cosine
// decay (Goyal et al. 2017 for the warm-up; Loshchilov & Hutter 2017 for the cosine).
#pragma once
#include <cstdint>
#include <vector>

namespace focal {

struct LrSchedule {
    enum class Decay { Constant, Step, Cosine };
    float base_lr = 0.01f;
    int64_t warmup_steps = 0;
    float warmup_factor = 0.001f;  // lr at step 0, relative to base_lr
    Decay decay = Decay::Constant;
    std::vector<int64_t> milestones;  // Step: multiply by gamma at each
    float gamma = 0.1f;
    int64_t total_steps = 1;  // Cosine: reaches min_lr here
    float min_lr = 0.0f;

    float at(int64_t step) const;  // the learning rate for 0-based step `step`
};

}  // namespace focal
