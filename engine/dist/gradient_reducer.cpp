#include "engine/dist/gradient_reducer.h"

#include <algorithm>

#include "engine/error.h"

namespace focal::dist {

GradientReducer::GradientReducer(Collective& collective, std::vector<Tensor> params, std::size_t bucket_bytes)
    : collective_(collective), params_(params.rbegin(), params.rend()) {
    FOCAL_CHECK(!params_.empty(), "[dist] no parameters to reduce");
    std::vector<int64_t> offsets;
    int64_t gradients = 0;
    for (const Tensor& p : params_) {
        FOCAL_CHECK(p.dtype() == DType::F32 && p.device() == params_[0].device(),
                    "[dist] gradients must be float32 on one device");
        offsets.push_back(gradients);
        gradients += p.numel();
    }
    const auto count = static_cast<int64_t>(params_.size());
    flat_ = Tensor::zeros({gradients + count}, DType::F32, params_[0].device());  // + one flag per parameter
    flags_ = flat_.narrow(0, gradients, count);
    const int64_t per_bucket = std::max<int64_t>(1, static_cast<int64_t>(bucket_bytes / sizeof(float)));
    for (int64_t start = 0; start < gradients; start += per_bucket)
        buckets_.push_back(flat_.narrow(0, start, std::min(per_bucket, gradients - start)));
    unpacked_at_start_.assign(buckets_.size(), 0);
    for (std::size_t i = 0; i < params_.size(); ++i) {
        const int64_t n = params_[i].numel();
        const auto first = static_cast<std::size_t>(offsets[i] / per_bucket);
        const std::size_t end = n == 0 ? first : static_cast<std::size_t>((offsets[i] + n - 1) / per_bucket + 1);
        bucket_span_.emplace_back(first, end);
        for (std::size_t b = first; b < end; ++b) ++unpacked_at_start_[b];
        // Backward writes each gradient straight into its slot (PyTorch DDP's
        // gradient_as_bucket_view): no pack copy, and the averaged gradient is the slot itself.
        slots_.push_back(flat_.narrow(0, offsets[i], n).view(params_[i].shape()));
        params_[i].set_grad_buffer(slots_[i]);
    }
    unpacked_per_bucket_ = unpacked_at_start_;
    had_gradient_.assign(params_.size(), 0.0f);
    packed_.assign(params_.size(), false);
    set_overlap(true);
}

GradientReducer::~GradientReducer() {
    for (const Tensor& p : params_) p.set_grad_buffer(Tensor()), p.set_grad_ready_hook({});
}

void GradientReducer::set_overlap(bool on) {
    for (std::size_t i = 0; i < params_.size(); ++i)
        params_[i].set_grad_ready_hook(on ? std::function<void()>([this, i] { gradient_ready(i); }) : nullptr);
}

void GradientReducer::gradient_ready(std::size_t i) {
    FOCAL_CHECK(!packed_[i], "[dist] a second backward pass before the gradients were averaged: data-parallel ",
                "training all-reduces each step's gradients during its one backward pass");
    pack(i);
    // Synchronised batch norm (BatchNormSync) all-reduces during backward too. Buckets started
    // between its calls would be ordered by which parameters each rank's backward has reached,
    // which differs when one rank's batch gives some parameter no gradient (a box head without
    // positives), and the ranks' collectives would no longer match: they wait for average().
    if (BatchNormSync::current() == nullptr) start_ready_buckets();
}

void GradientReducer::pack(std::size_t i) {
    const Tensor g = params_[i].grad();
    if (!g.defined()) slots_[i].zero_();
    else if (g.impl() != slots_[i].impl()) slots_[i].copy_(g);  // not written by backward into its slot
    had_gradient_[i] = g.defined() ? 1.0f : 0.0f;
    packed_[i] = true;
    for (std::size_t b = bucket_span_[i].first; b < bucket_span_[i].second; ++b) --unpacked_per_bucket_[b];
}

void GradientReducer::start_ready_buckets() {
    while (next_bucket_ < buckets_.size() && unpacked_per_bucket_[next_bucket_] == 0)
        collective_.start_all_reduce_sum(buckets_[next_bucket_++]);
}

void GradientReducer::average() {
    started_during_backward_ = next_bucket_;
    for (std::size_t i = 0; i < params_.size(); ++i)
        if (!packed_[i]) pack(i);
    start_ready_buckets();  // all the rest
    flags_.copy_(Tensor::from_vector(had_gradient_, {static_cast<int64_t>(had_gradient_.size())}, flat_.device()));
    collective_.start_all_reduce_sum(flags_);
    collective_.wait_all();
    // The sums become means in place, in one pass; each gradient is then its slot.
    flat_.narrow(0, 0, flat_.numel() - flags_.numel()).mul_(1.0f / static_cast<float>(collective_.size()));
    const std::vector<float> any = flags_.to_vector<float>();
    for (std::size_t i = 0; i < params_.size(); ++i)
        if (any[i] != 0.0f) params_[i].set_grad(slots_[i]);  // else no rank had a gradient here
    // Ready for the next step's backward.
    std::fill(packed_.begin(), packed_.end(), false);
    unpacked_per_bucket_ = unpacked_at_start_;
    next_bucket_ = 0;
}

}  // namespace focal::dist
