#include "engine/dist/gradient_reducer.h"

#include <algorithm>

#include "engine/error.h"

namespace focal::dist {

GradientReducer::GradientReducer(Collective& collective, std::vector<Tensor> params, std::size_t bucket_bytes)
    : collective_(collective), params_(params.rbegin(), params.rend()) {
    FOCAL_CHECK(!params_.empty(), "[dist] no parameters to reduce");
    int64_t total = 0;
    for (const Tensor& p : params_) {
        FOCAL_CHECK(p.dtype() == DType::F32 && p.device() == params_[0].device(),
                    "[dist] gradients must be float32 on one device");
        offsets_.push_back(total);
        total += p.numel();
    }
    const int64_t elements = total + static_cast<int64_t>(params_.size());  // + one flag per parameter
    const int64_t per_bucket = std::max<int64_t>(1, static_cast<int64_t>(bucket_bytes / sizeof(float)));
    for (int64_t start = 0; start < elements; start += per_bucket) bucket_starts_.push_back(start);
    flat_ = Tensor::zeros({elements}, DType::F32, params_[0].device());
}

void GradientReducer::average() {
    const int64_t flags = flat_.numel() - static_cast<int64_t>(params_.size());
    std::vector<float> had(params_.size(), 0.0f);
    for (size_t i = 0; i < params_.size(); ++i) {
        Tensor slot = flat_.narrow(0, offsets_[i], params_[i].numel());
        const Tensor g = params_[i].grad();
        if (g.defined()) slot.copy_(g.reshape({-1})), had[i] = 1.0f;
        else slot.zero_();
    }
    flat_.narrow(0, flags, static_cast<int64_t>(had.size()))
        .copy_(Tensor::from_vector(had, {static_cast<int64_t>(had.size())}, flat_.device()));
    for (size_t b = 0; b < bucket_starts_.size(); ++b) {
        const int64_t end = b + 1 < bucket_starts_.size() ? bucket_starts_[b + 1] : flat_.numel();
        Tensor bucket = flat_.narrow(0, bucket_starts_[b], end - bucket_starts_[b]);
        collective_.all_reduce_sum(bucket);
    }
    // Unpacking and dividing by the number of ranks in one pass over the sums.
    const float inverse_ranks = 1.0f / static_cast<float>(collective_.size());
    const std::vector<float> any = flat_.narrow(0, flags, static_cast<int64_t>(had.size())).to_vector<float>();
    for (size_t i = 0; i < params_.size(); ++i) {
        if (any[i] == 0.0f) continue;  // no rank had a gradient here
        params_[i].set_grad(flat_.narrow(0, offsets_[i], params_[i].numel()).reshape(params_[i].shape()) *
                            inverse_ranks);
    }
}

}  // namespace focal::dist
