// What make_collective (engine/dist/collective.h) says when a launch has several ranks and
// this build lacks the library they need. CMake defines FOCAL_WITH_MPI and FOCAL_WITH_NCCL
// when it builds engine/dist/mpi_collective.cpp and engine/dist/nccl_collective.cpp.
#include "engine/dist/backends.h"
#include "engine/error.h"

namespace focal::dist {

#ifndef FOCAL_WITH_MPI
std::unique_ptr<Collective> make_mpi_collective(const LaunchInfo& launch) {
    fail("[dist] this process is rank ", launch.rank, " of ", launch.size, " (", launch.launcher,
         ") but focal was built without MPI, so the ranks cannot talk: install MPI (Debian: libopenmpi-dev) "
         "and rebuild, or run a single process");
}
#endif

#ifndef FOCAL_WITH_NCCL
std::unique_ptr<Collective> make_nccl_collective(const LaunchInfo& launch) {
    fail("[dist] this process is rank ", launch.rank, " of ", launch.size, " (", launch.launcher,
         ") with --device cuda, but focal was built without NCCL",
#ifdef FOCAL_WITH_CUDA
         " (CMake did not find nccl.h and libnccl, or MPI, which starts NCCL)",
#else
         " (and without CUDA)",
#endif
         ": rebuild with them, or train on the CPU (--device cpu) over MPI");
}
#endif

}  // namespace focal::dist
