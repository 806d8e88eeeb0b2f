// Averages parameter gradients over the ranks after backward, as PyTorch's
// DistributedDataParallel does (Li et al. 2020, "PyTorch Distributed", sec. 3.2): the
// gradients are packed into one flat buffer, last parameter first (the order backward
// produces them), all-reduced bucket by bucket, and unpacked.
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
    void average();  // every parameter's .grad() becomes the mean over the ranks
    std::size_t buckets() const { return bucket_starts_.size(); }
    int64_t elements() const { return flat_.numel(); }

private:
    Collective& collective_;
    std::vector<Tensor> params_;    // in packing order (reversed)
    std::vector<int64_t> offsets_;  // of each parameter's gradient in flat_
    std::vector<int64_t> bucket_starts_;
    Tensor flat_;
};

}  // namespace focal::dist
