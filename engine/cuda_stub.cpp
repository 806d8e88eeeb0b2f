// Linked instead of engine/cuda/ when focal is built without CUDA: asking for the cuda
// device fails with an error that says why and what to do.
#include "engine/backend.h"
#include "engine/error.h"

namespace focal::cuda {

Backend& cuda_backend() {
    fail("[cuda] this focal was built without CUDA (nvcc was not found at build time, or "
         "-DFOCAL_CUDA=OFF was given); rebuild with the CUDA toolkit or use --device cpu");
}

bool device_present() { return false; }

}  // namespace focal::cuda
