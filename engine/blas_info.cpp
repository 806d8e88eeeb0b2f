#include "engine/blas_info.h"

extern "C" char* openblas_get_corename(void);

namespace focal {

std::string blas_core() { return openblas_get_corename(); }

std::string blas_core_for_cpu() {
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512dq"))
        return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return "";
}

bool blas_core_is_fallback() {
    const std::string core = blas_core();
    const bool generic = core == "Prescott" || core == "Core2" || core == "Katmai" || core == "Banias";
    return generic && !blas_core_for_cpu().empty();
}

}  // namespace focal
