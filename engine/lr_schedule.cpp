#include "engine/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace focal {

float LrSchedule::at(int64_t step) const {
    float lr = base_lr;
    switch (decay) {
        case Decay::Constant: break;
        case Decay::Step:
            for (int64_t m : milestones)
                if (step >= m) lr *= gamma;
            break;
        case Decay::Cosine: {
            const double t = std::clamp(static_cast<double>(step) / std::max<int64_t>(total_steps, 1), 0.0, 1.0);
            lr = static_cast<float>(min_lr + 0.5 * (base_lr - min_lr) * (1 + std::cos(M_PI * t)));
            break;
        }
    }
    if (step < warmup_steps) {  // linear from warmup_factor to 1
        const float alpha = static_cast<float>(step) / static_cast<float>(warmup_steps);
        lr *= warmup_factor * (1 - alpha) + alpha;
    }
    return lr;
}

}  // namespace focal
