// Collectives over NCCL for CUDA tensors, one GPU per rank (built when CMake finds CUDA,
// NCCL and MPI). MPI starts the ranks and carries the NCCL id, the small host values and any
// CPU tensor; NCCL carries the CUDA tensors on the backend's stream (engine/cuda/cuda_context.h).
// A wait polls the stream and NCCL's asynchronous error against the deadline, and aborts the
// communicator when it passes, so a dead peer ends in an Error, not a hang.
//
// This file has been compiled but never run: the machines focal is developed on have no GPU.
#include <nccl.h>

#include <chrono>
#include <thread>

#include "engine/cuda/cuda_context.h"
#include "engine/dist/backends.h"
#include "engine/util.h"

namespace focal::dist {

namespace {

class Nccl final : public Collective {
public:
    explicit Nccl(const LaunchInfo& launch) : host_(make_mpi_collective(launch)) {
        int devices = 0;
        FOCAL_CUDA_CHECK(cudaGetDeviceCount(&devices));
        FOCAL_CHECK(launch.local_rank < devices, "[dist] rank ", launch.rank, " is local rank ", launch.local_rank,
                    " on its machine, which has ", devices, " GPUs: start at most one rank per GPU");
        FOCAL_CUDA_CHECK(cudaSetDevice(launch.local_rank));  // before the backend's first CUDA call
        ncclUniqueId id;
        if (host_->rank() == 0) check(ncclGetUniqueId(&id), "ncclGetUniqueId");
        const std::string root_id = host_->all_gather(std::string(reinterpret_cast<const char*>(&id), sizeof id))[0];
        std::copy(root_id.begin(), root_id.end(), reinterpret_cast<char*>(&id));
        check(ncclCommInitRank(&comm_, host_->size(), id, host_->rank()), "ncclCommInitRank");
    }
    ~Nccl() override {
        if (comm_ != nullptr && !failed_ && std::uncaught_exceptions() == 0) ncclCommDestroy(comm_);
    }

    int rank() const override { return host_->rank(); }
    int size() const override { return host_->size(); }
    std::string name() const override { return "nccl"; }

    void all_reduce_sum(Tensor& t) override {
        start_all_reduce_sum(t);
        wait_all();
    }

    // Queued on the backend's stream after the kernels that wrote `t`, so the host goes on
    // queueing backward's kernels; the GPU runs it in stream order (no second stream yet).
    void start_all_reduce_sum(Tensor& t) override {
        if (t.device() == Device::CPU) return host_->start_all_reduce_sum(t);
        float* data = device_floats(t, "all_reduce");
        check(ncclAllReduce(data, data, static_cast<size_t>(t.numel()), ncclFloat, ncclSum, comm_, cuda::stream()),
              "ncclAllReduce");
        queued_ = true;
    }

    void wait_all() override {
        host_->wait_all();
        if (queued_) wait("all_reduce");
        queued_ = false;
    }

    void broadcast(Tensor& t, int root) override {
        if (t.device() == Device::CPU) return host_->broadcast(t, root);
        float* data = device_floats(t, "broadcast");
        check(ncclBroadcast(data, data, static_cast<size_t>(t.numel()), ncclFloat, root, comm_, cuda::stream()),
              "ncclBroadcast");
        wait("broadcast");
    }

    void all_reduce_sum(std::span<double> values) override { host_->all_reduce_sum(values); }
    std::vector<double> all_gather(std::span<const double> values) override { return host_->all_gather(values); }
    std::vector<std::string> all_gather(const std::string& bytes) override { return host_->all_gather(bytes); }
    void barrier() override { host_->barrier(); }

private:
    float* device_floats(Tensor& t, const char* what) {
        FOCAL_CHECK(t.dtype() == DType::F32 && t.is_contiguous(), "[dist] ", what,
                    " needs a contiguous float32 tensor, got ", shape_str(t.shape()));
        host_->set_timeout(timeout_);
        return static_cast<float*>(t.raw_data());
    }

    void check(ncclResult_t result, const char* call) {
        if (result == ncclSuccess) return;
        failed_ = true;
        fail("[dist] rank ", rank(), " of ", size(), ": ", call, " failed: ", ncclGetErrorString(result));
    }

    void wait(const char* what) {
        const double start = seconds_now();
        while (true) {
            const cudaError_t status = cudaStreamQuery(cuda::stream());
            if (status == cudaSuccess) return;
            if (status != cudaErrorNotReady) cuda::fail_status("cudaStreamQuery", status);
            ncclResult_t async = ncclSuccess;
            check(ncclCommGetAsyncError(comm_, &async), "ncclCommGetAsyncError");
            if (async != ncclSuccess) {
                ncclCommAbort(comm_);
                check(async, what);
            }
            const double waited = seconds_now() - start;
            if (waited > timeout_) {
                failed_ = true;
                ncclCommAbort(comm_);
                fail("[dist] rank ", rank(), " of ", size(), ": ", what, " waited ", static_cast<int>(waited),
                     " s for the other ranks (--dist-timeout ", timeout_, "); a rank has died or stopped");
            }
            std::this_thread::sleep_for(std::chrono::microseconds(20));
        }
    }

    std::unique_ptr<Collective> host_;  // MPI: bootstrap, host values, CPU tensors
    ncclComm_t comm_ = nullptr;
    bool failed_ = false;
    bool queued_ = false;  // an all-reduce started on the stream and not yet waited for
};

}  // namespace

std::unique_ptr<Collective> make_nccl_collective(const LaunchInfo& launch) { return std::make_unique<Nccl>(launch); }

}  // namespace focal::dist
