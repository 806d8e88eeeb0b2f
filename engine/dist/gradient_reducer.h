// Averages parameter gradients over the ranks after backward, as PyTorch's
// DistributedDataParallel does (Li et al. 2020, "PyTorch Distributed", sec. 3.2): the
// gradients live in one flat buffer, last parameter first (the order backward produces
// them), which is all-reduced bucket by bucket and scaled by 1 / ranks in place. Each
// parameter names its slot as its gradient buffer (Tensor::set_grad_buffer), so backward
// writes the gradient there instead of into a fresh tensor, and the averaged gradient is
// the slot itself: no pack or unpack copies (DDP's gradient_as_bucket_view). A gradient
// set some other way is copied into its slot first.
//
//   flat = [ grad(p_last) | ... | grad(p_0) | had_grad(p_last) ... had_grad(p_0) ]
//          |-- bucket 0 --|-- bucket 1 --| ...                 (bucket_bytes each)
//
// A parameter no gradient reached (the box head of a batch without positives) packs zeros;
// its flag counts the ranks where one did, and afterwards it has a gradient on every rank
// exactly when it had one on some rank, so the optimizer skips the same parameters a single
// process over the whole batch would.
//
// The buckets are reduced after backward returns, not while it runs: the autograd engine
// (engine/autograd.h) has no hook for "this leaf's gradient is final", and on the CPU the
// compute threads already occupy every core while MPI over TCP progresses only inside MPI
// calls, so an overlap would win little there.
#pragma once
#include <cstddef>
#include <vector>

#include "engine/dist/collective.h"

namespace focal::dist {

class GradientReducer {
public:
    GradientReducer(Collective& collective, std::vector<Tensor> params, std::size_t bucket_bytes = 4u << 20);
    ~GradientReducer();  // the parameters get fresh gradients again
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;
    void average();  // every parameter's .grad() becomes the mean over the ranks
    std::size_t buckets() const { return bucket_starts_.size(); }
    int64_t elements() const { return flat_.numel(); }

private:
    Collective& collective_;
    std::vector<Tensor> params_;    // in packing order (reversed)
    std::vector<int64_t> offsets_;  // of each parameter's gradient in flat_
    std::vector<Tensor> slots_;     // views of flat_, each in its parameter's shape
    std::vector<int64_t> bucket_starts_;
    Tensor flat_;
};

}  // namespace focal::dist
