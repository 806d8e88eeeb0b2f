// Data-parallel training: N processes (ranks), each with a replica of the model, each reading
// its shard of every global batch, averaging their gradients before one identical optimizer
// step (Goyal et al. 2017, "Accurate, Large Minibatch SGD", sec. 3; PyTorch's DDP). The
// trainer (detector/trainer.cpp) talks to the other ranks only through this class, which
// talks only to the collective of engine/dist/collective.h (single process, MPI or NCCL).
//
// N ranks at global batch B compute what one process at batch B computes:
//   - the loader gives rank r images [B r / N, B (r + 1) / N) of each global batch, with the
//     shuffle and augmentation of one process (keyed by seed, epoch and image, data/loader.h);
//   - the losses are divided by max(1, positives of the whole global batch) / N, so the mean
//     of the ranks' gradients is the gradient of the one-process loss (detectron2 all-reduces
//     the number of positives the same way);
//   - batch norm uses each rank's statistics unless --sync-bn (engine/dist/collective.h).
// docs/distributed.md has the launch commands and the measurements.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/dataset.h"
#include "engine/dist/collective.h"
#include "engine/dist/gradient_reducer.h"
#include "engine/optim.h"
#include "layers/module.h"

namespace focal::detector {

class DataParallel {
public:
    // The collective of this launch for `device`; fails when the global batch has fewer
    // images than there are ranks.
    DataParallel(Device device, int global_batch, double timeout_seconds);

    int rank() const { return world_->rank(); }
    int size() const { return world_->size(); }
    bool root() const { return rank() == 0; }  // rank 0 writes the run folder and prints
    dist::Collective& world() { return *world_; }

    // Fails on every rank, naming the first difference, when some rank's settings (config.json's
    // "train" object) or dataset differ from rank 0's.
    void check_agreement(const nlohmann::json& settings, const data::Dataset& dataset, std::size_t items);
    // Checks that every rank holds rank 0's parameters and optimizer state (built from the same
    // seed, loaded from the same checkpoint, or kept equal by the steps), then broadcasts rank
    // 0's parameters and buffers (batch norm's running statistics, which follow each rank's
    // batches without --sync-bn), so the replicas are bitwise equal. `when` names the point
    // for the error ("after epoch 3").
    void broadcast_state(Module& model, const Optimizer& optimizer, const std::string& when);

    // What this rank divides its losses by: max(1, the sum of every rank's `count`) / size().
    struct Divisor {
        float value = 1;
        int64_t total = 0;  // the count over the global batch
    };
    Divisor loss_divisor(int64_t count);

    // One step's losses over the global batch (the mean of the ranks' losses, which are
    // already scaled by their divisors) and its images; bad_rank is the first rank whose
    // loss is not finite, -1 when all are.
    struct StepLoss {
        double total = 0, cls = 0, box = 0;
        int64_t images = 0;
        int bad_rank = -1;
    };
    StepLoss gather_losses(double total, double cls, double box, int images);

    // Before the first backward: from then on each step's backward starts the all-reduce of
    // a bucket of gradients as soon as they are final (engine/dist/gradient_reducer.h).
    // Without it, the first average_gradients() does, and the first step's all waits for it.
    void watch_gradients(const std::vector<Tensor>& params);
    // After backward: every parameter's gradient becomes the mean over the ranks.
    void average_gradients(const std::vector<Tensor>& params);
    // Off: every bucket is all-reduced after backward (to measure the overlap; on by default).
    void set_overlap(bool on);

private:
    std::unique_ptr<dist::Collective> world_;
    std::unique_ptr<dist::GradientReducer> reducer_;
};

// A hash of the first `items` annotations (ids, sizes, boxes, labels) and the class list.
std::uint64_t dataset_fingerprint(const data::Dataset& dataset, std::size_t items);

}  // namespace focal::detector
