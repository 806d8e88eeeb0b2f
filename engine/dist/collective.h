// Collectives for data-parallel training: the one interface the trainer talks to, whatever
// carries the bytes (docs/distributed.md).
//
//   single process   no launcher, or a launcher with one rank: every call is a no-op
//   MPI              CPU tensors, ranks started by mpirun or srun (engine/dist/mpi_collective.cpp)
//   NCCL             CUDA tensors, one GPU per rank, bootstrapped over MPI (engine/dist/nccl_collective.cpp)
//
// Every rank must make the same calls in the same order with the same sizes, as in MPI. A
// call that waits longer than timeout() seconds for the other ranks throws Error naming
// the call and the rank, so a dead or stuck peer ends the run instead of hanging it.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "engine/tensor.h"

namespace focal::dist {

// Where this process stands in the job, from the launcher's environment:
//   Open MPI's mpirun: OMPI_COMM_WORLD_RANK, _SIZE, _LOCAL_RANK
//   Slurm's srun:      SLURM_PROCID, SLURM_STEP_NUM_TASKS, SLURM_LOCALID
//   MPICH / Intel MPI: PMI_RANK, PMI_SIZE (local rank: MPI_LOCALRANKID)
// Without any of them: rank 0 of 1.
struct LaunchInfo {
    int rank = 0, size = 1, local_rank = 0;
    std::string launcher;  // "mpirun", "srun", "pmi" or "" (none)
};
LaunchInfo launch_info();

class Collective {
public:
    virtual ~Collective() = default;
    virtual int rank() const = 0;
    virtual int size() const = 0;
    virtual std::string name() const = 0;  // "single process", "mpi", "nccl"

    // In place over a contiguous float32 tensor of the same shape on every rank. MPI takes
    // CPU tensors, NCCL CUDA tensors (and CPU ones, through its MPI bootstrap).
    virtual void all_reduce_sum(Tensor& t) = 0;
    void all_reduce_average(Tensor& t);  // the sum, times 1 / size()
    virtual void broadcast(Tensor& t, int root) = 0;
    // The all-reduce of `t`, started and not waited for, so that backward can go on while it
    // runs (engine/dist/gradient_reducer.h): `t` must stay untouched until wait_all(), which
    // finishes every started one. Every rank starts them in the same order. The default runs
    // it to the end at once.
    virtual void start_all_reduce_sum(Tensor& t) { all_reduce_sum(t); }
    virtual void wait_all() {}

    // Small host values, for counts, losses and checks.
    virtual void all_reduce_sum(std::span<double> values) = 0;
    // Every rank's `values` (the same count on each), rank after rank: size() * values.size().
    virtual std::vector<double> all_gather(std::span<const double> values) = 0;
    // Every rank's bytes, of any length, indexed by rank.
    virtual std::vector<std::string> all_gather(const std::string& bytes) = 0;
    virtual void barrier() = 0;

    double timeout() const { return timeout_; }
    void set_timeout(double seconds) { timeout_ = seconds; }

protected:
    double timeout_ = 600;
};

// The collective for tensors on `device` in this launch: single process without a launcher
// (or with one rank), MPI for the CPU, NCCL for CUDA. Fails clearly when the launch has
// several ranks and this build lacks what they need (MPI, or NCCL for CUDA).
std::unique_ptr<Collective> make_collective(Device device);

// Synchronised batch normalisation: while a guard holding a collective of several ranks is
// alive on this thread, batch_norm in training mode (engine/nn.h) normalises with the
// statistics of the whole global batch, all ranks together, and its backward all-reduces
// the per-channel sums it needs (PyTorch's SyncBatchNorm). nullptr (the default) keeps
// per-rank statistics.
class BatchNormSync {
public:
    explicit BatchNormSync(Collective* collective);
    ~BatchNormSync();
    BatchNormSync(const BatchNormSync&) = delete;
    BatchNormSync& operator=(const BatchNormSync&) = delete;
    static Collective* current();  // null when statistics stay per rank

private:
    Collective* previous_;
};

// 64-bit FNV-1a of bytes, for the start-up checks that ranks agree.
std::uint64_t fingerprint(std::string_view bytes, std::uint64_t seed = 14695981039346656037ull);
// Of tensors' names, shapes and values (copied to the host).
std::uint64_t fingerprint(const std::vector<std::pair<std::string, Tensor>>& tensors);

}  // namespace focal::dist
