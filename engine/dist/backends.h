// The implementations behind make_collective (engine/dist/collective.h). Each is defined in
// its own file when the build has its library, and in engine/dist/missing_backends.cpp,
// as a clear error, when it does not.
#pragma once
#include <memory>

#include "engine/dist/collective.h"

namespace focal::dist {

std::unique_ptr<Collective> make_mpi_collective(const LaunchInfo& launch);
std::unique_ptr<Collective> make_nccl_collective(const LaunchInfo& launch);

}  // namespace focal::dist
