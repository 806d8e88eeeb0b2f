#include "engine/cpu/cpu_isa.h"

#include <atomic>
#include <cstdlib>

#include "engine/error.h"

namespace focal::cpu {

namespace {

constexpr CpuIsa kAllIsas[] = {CpuIsa::Baseline, CpuIsa::Avx2, CpuIsa::Avx512};

bool cpu_supports(CpuIsa isa) {
#if FOCAL_CPU_ISA_VARIANTS
    __builtin_cpu_init();
    // The features the variants are compiled with (winograd_kernels.cpp's target strings).
    const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                      __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c");
    switch (isa) {
        case CpuIsa::Baseline: return true;
        case CpuIsa::Avx2: return avx2;
        case CpuIsa::Avx512:
            return avx2 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                   __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
    }
    return false;
#else
    return isa == CpuIsa::Baseline;
#endif
}

CpuIsa check_supported(CpuIsa isa) {
    FOCAL_CHECK(cpu_supports(isa), "[cpu] this ", FOCAL_CPU_ISA_VARIANTS ? "CPU" : "build", " cannot run the ",
                cpu_isa_name(isa), " kernels");
    return isa;
}

// The variant named in FOCAL_CPU_ISA, else the best supported one. A name that is not a
// variant, or one this CPU cannot run, fails (at the first kernel call, naming the value),
// rather than quietly timing or testing something else than asked.
CpuIsa initial_isa() {
    const char* name = std::getenv("FOCAL_CPU_ISA");
    if (!name || !*name) return supported_cpu_isas().back();
    return check_supported(cpu_isa_from_name(name));
}

std::atomic<int>& current() {
    static std::atomic<int> isa{static_cast<int>(initial_isa())};
    return isa;
}

}  // namespace

const char* cpu_isa_name(CpuIsa isa) {
    switch (isa) {
        case CpuIsa::Baseline: return "baseline";
        case CpuIsa::Avx2: return "avx2";
        case CpuIsa::Avx512: return "avx512";
    }
    return "unknown";
}

CpuIsa cpu_isa_from_name(const std::string& name) {
    for (CpuIsa isa : kAllIsas)
        if (name == cpu_isa_name(isa)) return isa;
    fail("[cpu] unknown instruction set '", name, "' (FOCAL_CPU_ISA): baseline, avx2 or avx512");
}

std::vector<CpuIsa> supported_cpu_isas() {
    std::vector<CpuIsa> out;
    for (CpuIsa isa : kAllIsas)
        if (cpu_supports(isa)) out.push_back(isa);
    return out;
}

CpuIsa cpu_isa() { return static_cast<CpuIsa>(current().load(std::memory_order_relaxed)); }

void set_cpu_isa(CpuIsa isa) { current().store(static_cast<int>(check_supported(isa)), std::memory_order_relaxed); }

}  // namespace focal::cpu
