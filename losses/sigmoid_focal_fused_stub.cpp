// Linked instead of sigmoid_focal_fused.cu when focal is built without CUDA.
#include "engine/error.h"
#include "losses/focal_kernel.h"

namespace focal::losses::detail {

void sigmoid_focal_cuda(const FocalKernelArgs&) {
    fail("[sigmoid_focal_loss_fused] this focal was built without CUDA (nvcc was not found at build time, or "
         "-DFOCAL_CUDA=OFF was given); rebuild with the CUDA toolkit or keep the tensors on the cpu");
}

}  // namespace focal::losses::detail
