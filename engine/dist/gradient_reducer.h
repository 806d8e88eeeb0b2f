// Averages parameter gradients over the ranks, as PyTorch's DistributedDataParallel does
// (Li et al. 2020, "PyTorch Distributed", sec. 3.2): the gradients live in one flat buffer,
// last parameter first (the order backward produces them), which is all-reduced bucket by
// bucket and scaled by 1 / ranks in place. Each parameter names its slot as its gradient
// buffer (Tensor::set_grad_buffer), so backward writes the gradient there instead of into a
// fresh tensor, and the averaged gradient is the slot itself: no pack or unpack copies (DDP's
// gradient_as_bucket_view). A gradient set some other way is copied into its slot first.
//
//   flat = [ grad(p_last) | ... | grad(p_0) | had_grad(p_last) ... had_grad(p_0) ]
//          |- bucket 0 -|- bucket 1 -| ...    |------ flags, reduced last ------|
//
// Overlap with backward (DDP's, sec. 3.2.3): each parameter's grad-ready hook
// (Tensor::set_grad_ready_hook) fires as soon as backward has made its gradient final, and a
// bucket whose parameters are all final starts its all-reduce there, while backward goes on
// with the earlier layers. Every rank starts the buckets in index order, as collectives must
// be started (a bucket waits for the ones before it), so a rank whose backward did not reach
// some parameter (a box head without positives) starts that bucket and the ones after it in
// average(), after backward, which packs what is left and waits for everything. Under
// synchronised batch norm, whose backward makes collectives of its own, every bucket starts
// in average(): their order among those calls could differ from rank to rank.
//
// A parameter no gradient reached packs zeros; its flag counts the ranks where one did, and
// afterwards it has a gradient on every rank exactly when it had one on some rank, so the
// optimizer skips the same parameters a single process over the whole batch would.
#pragma once
#include <cstddef>
#include <utility>
#include <vector>

#include "engine/dist/collective.h"

namespace focal::dist {

class GradientReducer {
public:
    GradientReducer(Collective& collective, std::vector<Tensor> params, std::size_t bucket_bytes = 4u << 20);
    ~GradientReducer();  // the parameters get fresh gradients, and no hooks, again
    GradientReducer(const GradientReducer&) = delete;
    GradientReducer& operator=(const GradientReducer&) = delete;

    // One backward pass, then average(): every parameter's .grad() becomes the mean over
    // the ranks. A second backward before average() fails: the first one's buckets may be
    // on their way already.
    void average();
    // On (the default): buckets start from the hooks during backward. Off: all of them in
    // average(), for measuring what the overlap gains (bench/bench_data_parallel.cpp).
    void set_overlap(bool on);

    std::size_t buckets() const { return buckets_.size(); }
    std::size_t started_during_backward() const { return started_during_backward_; }  // in the last average()
    int64_t elements() const { return flat_.numel(); }

private:
    void gradient_ready(std::size_t i);  // the hook of parameter i
    void pack(std::size_t i);            // its gradient (or zeros) into its slot, its flag
    void start_ready_buckets();          // in order, as far as every parameter of a bucket is packed

    Collective& collective_;
    std::vector<Tensor> params_;                                    // in packing order (reversed)
    std::vector<Tensor> slots_;                                     // views of flat_, each in its parameter's shape
    std::vector<std::pair<std::size_t, std::size_t>> bucket_span_;  // of each parameter: [first, last + 1)
    std::vector<Tensor> buckets_;                                   // views of flat_'s gradient part
    std::vector<int> unpacked_per_bucket_, unpacked_at_start_;      // parameters each bucket waits for
    std::vector<float> had_gradient_;                               // per parameter: 1 or 0, once packed
    std::vector<bool> packed_;
    std::size_t next_bucket_ = 0;  // the first bucket not started in this step
    std::size_t started_during_backward_ = 0;
    Tensor flat_, flags_;
};

}  // namespace focal::dist
