// Which vector instruction set the CPU kernels run with. focal is built for x86-64-v2 (SSE4.2)
// so that one binary runs on any x86-64 machine; its hottest kernels (the Winograd
// transforms) are compiled again for AVX2 + FMA and for AVX-512, and the best the CPU
// supports is chosen when first needed, as PyTorch picks its ATEN_CPU_CAPABILITY.
// FOCAL_CPU_ISA=baseline|avx2|avx512 in the environment, or set_cpu_isa(), picks one by hand
// (the tests run every variant the machine supports against im2col); a value that names no
// variant, or one this CPU lacks, fails at the first kernel call.
#pragma once
#include <string>
#include <vector>

namespace focal::cpu {

enum class CpuIsa { Baseline, Avx2, Avx512 };

CpuIsa cpu_isa();                                   // the variant in use
std::vector<CpuIsa> supported_cpu_isas();           // those this build and this CPU can run, baseline first
void set_cpu_isa(CpuIsa isa);                       // fails for a variant this CPU or build lacks
const char* cpu_isa_name(CpuIsa isa);               // "baseline", "avx2", "avx512"
CpuIsa cpu_isa_from_name(const std::string& name);  // the inverse; fails for any other name

// The compiler's target strings for the variants (#pragma GCC target); GCC on x86-64 only.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FOCAL_CPU_ISA_VARIANTS 1
#else
#define FOCAL_CPU_ISA_VARIANTS 0
#endif

}  // namespace focal::cpu
