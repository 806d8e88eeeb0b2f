// safetensors files (https://huggingface.co/docs/safetensors): 8-byte little-endian header
// length N, N bytes of JSON {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
// "__metadata__": {"key": "value"}}, then the raw little-endian data the offsets index.
//
// Writing is atomic: a temp file in the same folder, fsync, rename, fsync of the folder;
// a crash leaves either the old file or the new one, never half of one. Reading validates
// everything before trusting it and names the file and the key at fault.
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engine/tensor.h"

namespace focal {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
using Metadata = std::map<std::string, std::string>;

struct SafetensorsFile {
    NamedTensors tensors;  // in file order, on the CPU
    Metadata metadata;
    const Tensor& at(const std::string& name) const;  // throws naming the missing key
};

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata = {});
SafetensorsFile load_safetensors(const std::string& path);

// The same two steps in memory: the bytes save_safetensors writes, and the parser that
// load_safetensors runs on a file's bytes (`name` labels its errors). A successful parse
// guarantees: F32/I32 tensors on the CPU whose byte sizes match their spans, spans that lie
// inside the data and do not overlap (so the tensors' bytes add up to at most the data's),
// string metadata. It allocates at most about 40 bytes per byte of input beyond the
// input itself (docs/testing.md, "Allocation bounds").
std::string safetensors_bytes(const NamedTensors& tensors, const Metadata& metadata = {});
SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& name);

// Writes `bytes` to `path` atomically (temp file + fsync + rename + fsync of the folder).
// Any failure (a full disk, a file-size limit, a read-only folder) throws Error naming
// `path` and the cause (strerror), removes the temp file and leaves `path` as it was.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace focal
