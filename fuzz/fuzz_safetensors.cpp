// libFuzzer target for the safetensors reader: parse_safetensors (engine/serialize.cpp), the
// code load_safetensors runs on a file's bytes. Any input must either throw focal::Error or
// keep the parser's promise; anything else (another exception, a sanitizer report, a broken
// promise) is a finding. The promise of a successful parse:
//   - every tensor is F32 or I32, on the CPU, contiguous, under a unique name;
//   - the tensors' bytes add up to at most the data after the header (spans lie inside it
//     and do not overlap);
//   - writing the result (safetensors_bytes) and parsing that again gives the same names,
//     dtypes, shapes, bytes and metadata.
#include <cstdint>
#include <cstring>
#include <set>
#include <string>

#include "alloc_bound.h"
#include "engine/error.h"
#include "engine/serialize.h"

using namespace focal;

namespace {

bool same(const SafetensorsFile& a, const SafetensorsFile& b) {
    if (a.metadata != b.metadata || a.tensors.size() != b.tensors.size()) return false;
    for (std::size_t i = 0; i < a.tensors.size(); ++i) {
        const auto& [name_a, ta] = a.tensors[i];
        const auto& [name_b, tb] = b.tensors[i];
        if (name_a != name_b || ta.dtype() != tb.dtype() || ta.shape() != tb.shape()) return false;
        const std::size_t bytes = static_cast<std::size_t>(ta.numel()) * 4;
        if (bytes > 0 && std::memcmp(ta.raw_data(), tb.raw_data(), bytes) != 0) return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    SafetensorsFile file;
    try {
        focal::fuzz::AllocationBound bound(size, 64);
        file = parse_safetensors(bytes, "fuzz.safetensors");
    } catch (const Error&) {
        return 0;
    }
    std::uint64_t header = 0;
    for (int i = 0; i < 8; ++i) header |= std::uint64_t(data[i]) << (8 * i);
    const std::uint64_t data_size = size - 8 - header;
    std::uint64_t total = 0;
    std::set<std::string> names;
    for (const auto& [name, t] : file.tensors) {
        if (t.dtype() != DType::F32 && t.dtype() != DType::I32) __builtin_trap();
        if (t.device() != Device::CPU || !t.is_contiguous() || t.numel() < 0) __builtin_trap();
        if (name == "__metadata__" || !names.insert(name).second) __builtin_trap();
        total += static_cast<std::uint64_t>(t.numel()) * 4;
        if (total > data_size) __builtin_trap();
    }
    // What we read, we write, and read back the same.
    try {
        const std::string again = safetensors_bytes(file.tensors, file.metadata);
        if (!same(file, parse_safetensors(again, "again.safetensors"))) __builtin_trap();
    } catch (const Error&) {
        __builtin_trap();
    }
    return 0;
}
