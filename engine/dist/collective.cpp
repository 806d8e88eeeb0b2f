#include "engine/dist/collective.h"

#include <cstdlib>
#include <cstring>

#include "engine/dist/backends.h"
#include "engine/error.h"

namespace focal::dist {

namespace {

// The integer in environment variable `name`, or `fallback` when it is unset.
int env_int(const char* name, int fallback) {
    const char* value = std::getenv(name);
    if (value == nullptr || *value == '\0') return fallback;
    char* end = nullptr;
    const long v = std::strtol(value, &end, 10);
    FOCAL_CHECK(*end == '\0' && v >= 0, "[dist] environment variable ", name, "='", value, "' is not a count");
    return static_cast<int>(v);
}

// The world of one process: every collective leaves the values as they are.
class SingleProcess final : public Collective {
public:
    int rank() const override { return 0; }
    int size() const override { return 1; }
    std::string name() const override { return "single process"; }
    void all_reduce_sum(Tensor&) override {}
    void broadcast(Tensor&, int) override {}
    void all_reduce_sum(std::span<double>) override {}
    std::vector<double> all_gather(std::span<const double> values) override { return {values.begin(), values.end()}; }
    std::vector<std::string> all_gather(const std::string& bytes) override { return {bytes}; }
    void barrier() override {}
};

thread_local Collective* g_batch_norm_sync = nullptr;

}  // namespace

LaunchInfo launch_info() {
    LaunchInfo info;
    if (std::getenv("OMPI_COMM_WORLD_SIZE")) {
        info = {env_int("OMPI_COMM_WORLD_RANK", 0), env_int("OMPI_COMM_WORLD_SIZE", 1),
                env_int("OMPI_COMM_WORLD_LOCAL_RANK", 0), "mpirun"};
    } else if (std::getenv("SLURM_STEP_NUM_TASKS") && std::getenv("SLURM_PROCID")) {
        // srun sets SLURM_STEP_NUM_TASKS; a batch script outside srun has no step of tasks.
        info = {env_int("SLURM_PROCID", 0), env_int("SLURM_STEP_NUM_TASKS", 1), env_int("SLURM_LOCALID", 0), "srun"};
    } else if (std::getenv("PMI_SIZE")) {
        info = {env_int("PMI_RANK", 0), env_int("PMI_SIZE", 1), env_int("MPI_LOCALRANKID", 0), "pmi"};
    }
    FOCAL_CHECK(info.size >= 1 && info.rank < info.size, "[dist] the launcher (", info.launcher, ") says rank ",
                info.rank, " of ", info.size);
    return info;
}

void Collective::all_reduce_average(Tensor& t) {
    all_reduce_sum(t);
    if (size() > 1) t.mul_(1.0f / static_cast<float>(size()));
}

std::unique_ptr<Collective> make_collective(Device device) {
    const LaunchInfo launch = launch_info();
    if (launch.size == 1) return std::make_unique<SingleProcess>();
    return device == Device::CUDA ? make_nccl_collective(launch) : make_mpi_collective(launch);
}

BatchNormSync::BatchNormSync(Collective* collective) : previous_(g_batch_norm_sync) {
    g_batch_norm_sync = collective != nullptr && collective->size() > 1 ? collective : nullptr;
}
BatchNormSync::~BatchNormSync() { g_batch_norm_sync = previous_; }
Collective* BatchNormSync::current() { return g_batch_norm_sync; }

std::uint64_t fingerprint(std::string_view bytes, std::uint64_t seed) {
    std::uint64_t h = seed;
    for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
    return h;
}

std::uint64_t fingerprint(const std::vector<std::pair<std::string, Tensor>>& tensors) {
    std::uint64_t h = fingerprint("");
    for (const auto& [name, t] : tensors) {
        h = fingerprint(name + shape_str(t.shape()), h);
        if (t.dtype() == DType::F32) {
            const std::vector<float> v = t.to_vector<float>();
            h = fingerprint({reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)}, h);
        } else {
            const std::vector<int32_t> v = t.to_vector<int32_t>();
            h = fingerprint({reinterpret_cast<const char*>(v.data()), v.size() * sizeof(int32_t)}, h);
        }
    }
    return h;
}

}  // namespace focal::dist
