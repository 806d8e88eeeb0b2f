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
    // Backward writes each gradient straight into its slot (PyTorch DDP's
    // gradient_as_bucket_view): no pack copy, and the averaged gradient is the slot itself.
    for (size_t i = 0; i < params_.size(); ++i) {
        slots_.push_back(flat_.narrow(0, offsets_[i], params_[i].numel()).view(params_[i].shape()));
        params_[i].set_grad_buffer(slots_[i]);
    }
}

GradientReducer::~GradientReducer() {
    for (const Tensor& p : params_) p.set_grad_buffer(Tensor());
}

void GradientReducer::average() {
    const int64_t flags = flat_.numel() - static_cast<int64_t>(params_.size());
    std::vector<float> had(params_.size(), 0.0f);
    for (size_t i = 0; i < params_.size(); ++i) {
        const Tensor g = params_[i].grad();
        if (!g.defined()) slots_[i].zero_();
        else if (g.impl() != slots_[i].impl()) slots_[i].copy_(g);  // not written by backward into its slot
        had[i] = g.defined() ? 1.0f : 0.0f;
    }
    flat_.narrow(0, flags, static_cast<int64_t>(had.size()))
        .copy_(Tensor::from_vector(had, {static_cast<int64_t>(had.size())}, flat_.device()));
    for (size_t b = 0; b < bucket_starts_.size(); ++b) {
        const int64_t end = b + 1 < bucket_starts_.size() ? bucket_starts_[b + 1] : flat_.numel();
        Tensor bucket = flat_.narrow(0, bucket_starts_[b], end - bucket_starts_[b]);
        collective_.all_reduce_sum(bucket);
    }
    // The sums become means in place, in one pass; each gradient is then its slot.
    flat_.narrow(0, 0, flags).mul_(1.0f / static_cast<float>(collective_.size()));
    const std::vector<float> any = flat_.narrow(0, flags, static_cast<int64_t>(had.size())).to_vector<float>();
    for (size_t i = 0; i < params_.size(); ++i)
        if (any[i] != 0.0f) params_[i].set_grad(slots_[i]);  // else no rank had a gradient here
}

}  // namespace focal::dist
