// Collectives over MPI (built when CMake finds MPI). Every call is non-blocking underneath
// (MPI_Iallreduce, ...) and waited for by polling MPI_Test against a deadline, so a peer that
// died or hangs ends in an Error naming the call instead of an endless wait; MPI's own
// errors are returned (MPI_ERRORS_RETURN) and thrown the same way. After such an error the
// process does not call MPI_Finalize, which would wait for the dead peer: it exits non-zero
// and the launcher (mpirun, srun) ends the other ranks.
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstdlib>
#include <exception>
#include <thread>
#include <vector>

#include "engine/dist/backends.h"
#include "engine/error.h"
#include "engine/util.h"

namespace focal::dist {

namespace {

class Mpi final : public Collective {
public:
    explicit Mpi(const LaunchInfo& launch) {
        int initialized = 0;
        MPI_Initialized(&initialized);
        FOCAL_CHECK(!initialized, "[dist] MPI is already initialised in this process: one collective per process");
        // OpenMPI's non-blocking all-reduce (coll/libnbc) chooses a binomial tree (a reduce, then
        // a broadcast) for few ranks: on 2 ranks over TCP, 21.5 MB of gradients took ~1.9x its
        // blocking MPI_Allreduce. The ring (Patarasuk & Yuan 2009; NCCL's and Horovod's choice for
        // large buffers), bandwidth-optimal, matches it (bench/bench_data_parallel.cpp). Set
        // before MPI_Init, which reads it; a user's own setting wins; other MPIs ignore it.
        setenv("OMPI_MCA_coll_libnbc_iallreduce_algorithm", "1", /*overwrite=*/0);
        int provided = 0;
        // Only the thread that trains calls MPI (the loader's threads never do).
        check(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
        check(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
        check(MPI_Comm_rank(MPI_COMM_WORLD, &rank_), "MPI_Comm_rank");
        check(MPI_Comm_size(MPI_COMM_WORLD, &size_), "MPI_Comm_size");
        FOCAL_CHECK(size_ == launch.size && rank_ == launch.rank, "[dist] ", launch.launcher, " says rank ",
                    launch.rank, " of ", launch.size, " but MPI says rank ", rank_, " of ", size_,
                    " (a launcher of another MPI than the one focal was built with?)");
    }
    ~Mpi() override {
        if (!failed_ && std::uncaught_exceptions() == 0) MPI_Finalize();
    }

    int rank() const override { return rank_; }
    int size() const override { return size_; }
    std::string name() const override { return "mpi"; }

    void all_reduce_sum(Tensor& t) override {
        start_all_reduce_sum(t);
        wait_all();
    }

    void start_all_reduce_sum(Tensor& t) override {
        float* data = host_floats(t, "all_reduce");
        for (int64_t done = 0, n = t.numel(); done < n;) {  // MPI counts are ints
            const int count = static_cast<int>(std::min<int64_t>(n - done, INT_MAX));
            MPI_Request& r = started_.emplace_back();
            check(MPI_Iallreduce(MPI_IN_PLACE, data + done, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &r),
                  "MPI_Iallreduce");
            done += count;
        }
        // MPI moves a non-blocking collective's bytes only inside MPI calls (no progress
        // thread): testing the started ones here moves them on while backward computes.
        int all_done = 0;
        check(MPI_Testall(static_cast<int>(started_.size()), started_.data(), &all_done, MPI_STATUSES_IGNORE),
              "MPI_Testall");
    }

    void wait_all() override {
        for (MPI_Request& r : started_) wait(r, "all_reduce");
        started_.clear();
    }

    void broadcast(Tensor& t, int root) override {
        float* data = host_floats(t, "broadcast");
        for (int64_t done = 0, n = t.numel(); done < n;) {
            const int count = static_cast<int>(std::min<int64_t>(n - done, INT_MAX));
            MPI_Request r;
            check(MPI_Ibcast(data + done, count, MPI_FLOAT, root, MPI_COMM_WORLD, &r), "MPI_Ibcast");
            wait(r, "broadcast");
            done += count;
        }
    }

    void all_reduce_sum(std::span<double> values) override {
        MPI_Request r;
        check(MPI_Iallreduce(MPI_IN_PLACE, values.data(), static_cast<int>(values.size()), MPI_DOUBLE, MPI_SUM,
                             MPI_COMM_WORLD, &r),
              "MPI_Iallreduce");
        wait(r, "all_reduce");
    }

    std::vector<double> all_gather(std::span<const double> values) override {
        std::vector<double> out(values.size() * size_);
        MPI_Request r;
        check(MPI_Iallgather(values.data(), static_cast<int>(values.size()), MPI_DOUBLE, out.data(),
                             static_cast<int>(values.size()), MPI_DOUBLE, MPI_COMM_WORLD, &r),
              "MPI_Iallgather");
        wait(r, "all_gather");
        return out;
    }

    std::vector<std::string> all_gather(const std::string& bytes) override {
        int length = static_cast<int>(bytes.size());
        std::vector<int> lengths(size_), offsets(size_);
        MPI_Request r;
        check(MPI_Iallgather(&length, 1, MPI_INT, lengths.data(), 1, MPI_INT, MPI_COMM_WORLD, &r), "MPI_Iallgather");
        wait(r, "all_gather");
        int total = 0;
        for (int i = 0; i < size_; ++i) offsets[i] = total, total += lengths[i];
        std::string all(static_cast<size_t>(total), '\0');
        check(MPI_Iallgatherv(bytes.data(), length, MPI_CHAR, all.data(), lengths.data(), offsets.data(), MPI_CHAR,
                              MPI_COMM_WORLD, &r),
              "MPI_Iallgatherv");
        wait(r, "all_gather");
        std::vector<std::string> out;
        for (int i = 0; i < size_; ++i) out.push_back(all.substr(offsets[i], lengths[i]));
        return out;
    }

    void barrier() override {
        MPI_Request r;
        check(MPI_Ibarrier(MPI_COMM_WORLD, &r), "MPI_Ibarrier");
        wait(r, "barrier");
    }

private:
    float* host_floats(Tensor& t, const char* what) {
        FOCAL_CHECK(t.device() == Device::CPU, "[dist] ", what,
                    ": MPI carries CPU tensors; CUDA tensors go through "
                    "NCCL (--device cuda chooses it)");
        FOCAL_CHECK(t.dtype() == DType::F32 && t.is_contiguous(), "[dist] ", what,
                    " needs a contiguous float32 tensor, got ", shape_str(t.shape()));
        return t.data<float>();
    }

    void check(int code, const char* call) {
        if (code == MPI_SUCCESS) return;
        failed_ = true;
        char message[MPI_MAX_ERROR_STRING];
        int length = 0;
        MPI_Error_string(code, message, &length);
        fail("[dist] rank ", rank_, " of ", size_, ": ", call, " failed: ", std::string(message, length),
             " (has another rank died?)");
    }

    // Polls the request: busy for the first 50 ms (a step's collectives are shorter),
    // then every 200 us, so a rank waiting for a slower one leaves the cores to it.
    void wait(MPI_Request& request, const char* what) {
        const double start = seconds_now();
        for (int done = 0;;) {
            check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), "MPI_Test");
            if (done) return;
            const double waited = seconds_now() - start;
            if (waited > timeout_) {
                failed_ = true;
                fail("[dist] rank ", rank_, " of ", size_, ": ", what, " waited ", static_cast<int>(waited),
                     " s for the other ranks (--dist-timeout ", timeout_, "); a rank has died or stopped");
            }
            if (waited > 0.05) std::this_thread::sleep_for(std::chrono::microseconds(200));
        }
    }

    int rank_ = 0, size_ = 1;
    bool failed_ = false;
    std::vector<MPI_Request> started_;  // by start_all_reduce_sum, until wait_all (null once done)
};

}  // namespace

std::unique_ptr<Collective> make_mpi_collective(const LaunchInfo& launch) { return std::make_unique<Mpi>(launch); }

}  // namespace focal::dist
