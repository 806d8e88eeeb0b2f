#include "engine/serialize.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "engine/error.h"

namespace focal {

namespace {

constexpr uint64_t kMaxHeader = 100ull << 20;  // a larger header is a corrupt length
constexpr uint64_t kMaxElements = 1ull << 48;  // per tensor, counting a 0 dim as 1: strides stay in int64

const char* dtype_code(DType d) { return d == DType::F32 ? "F32" : "I32"; }

// Writes all of `data`; throws naming `path` (the file the caller meant) and the cause.
void write_all(int fd, const char* data, size_t size, const std::string& path) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) fail("[checkpoint] cannot write ", path, ": ", std::strerror(errno));
        if (n == 0) fail("[checkpoint] cannot write ", path, ": no bytes written");
        data += n;
        size -= static_cast<size_t>(n);
    }
}

}  // namespace

const Tensor& SafetensorsFile::at(const std::string& name) const {
    for (const auto& [key, t] : tensors)
        if (key == name) return t;
    fail("[checkpoint] missing key '", name, "'");
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
    namespace fs = std::filesystem;
    fs::path target(path);
    fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
    std::string temp_name = ".";  // built by appends: GCC 12 warns falsely on chained + here
    temp_name.append(target.filename().string()).append(".tmp.").append(std::to_string(::getpid()));
    std::string temp = (dir / temp_name).string();
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("[checkpoint] cannot create ", temp, ": ", std::strerror(errno));
    try {
        write_all(fd, bytes.data(), bytes.size(), path);
        if (::fsync(fd) != 0) fail("[checkpoint] cannot write ", path, ": fsync failed: ", std::strerror(errno));
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    if (::close(fd) != 0) {  // NFS and some FUSE file systems report a failed write only here
        const int err = errno;
        ::unlink(temp.c_str());
        fail("[checkpoint] cannot write ", path, ": close failed: ", std::strerror(err));
    }
    if (::rename(temp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(temp.c_str());
        fail("[checkpoint] cannot rename ", temp, " to ", path, ": ", std::strerror(err));
    }
    int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {  // make the rename itself durable
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
}

std::string safetensors_bytes(const NamedTensors& tensors, const Metadata& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::vector<Tensor> host;
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        FOCAL_CHECK(t.defined(), "[checkpoint] tensor '", name, "' is undefined");
        FOCAL_CHECK(name != "__metadata__" && !header.contains(name), "[checkpoint] duplicate or reserved key '", name,
                    "'");
        host.push_back(t.detached().to(Device::CPU).contiguous());
        const uint64_t bytes = t.numel() * dtype_size(t.dtype());
        header[name] = {{"dtype", dtype_code(t.dtype())},
                        {"shape", t.shape()},
                        {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string json;
    try {
        json = header.dump();
    } catch (const nlohmann::json::exception& e) {  // a name or metadata that is not UTF-8
        fail("[checkpoint] cannot write the header: ", e.what());
    }
    json.append((8 - json.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
    std::string bytes(8, '\0');
    const uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);  // little-endian
    bytes += json;
    bytes.reserve(bytes.size() + offset);
    for (const Tensor& t : host)
        bytes.append(static_cast<const char*>(t.raw_data()), t.numel() * dtype_size(t.dtype()));
    return bytes;
}

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
    std::string bytes;
    try {
        bytes = safetensors_bytes(tensors, metadata);
    } catch (const Error& e) {
        fail(e.what(), " (writing ", path, ")");
    }
    write_file_atomically(path, bytes);
}

SafetensorsFile load_safetensors(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    FOCAL_CHECK(in.good(), "[checkpoint] cannot open ", path);
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    FOCAL_CHECK(!in.bad(), "[checkpoint] cannot read ", path);
    return parse_safetensors(bytes, path);
}

SafetensorsFile parse_safetensors(std::string_view bytes, const std::string& path) {
    FOCAL_CHECK(bytes.size() >= 8, "[checkpoint] ", path, ": file is ", bytes.size(),
                " bytes, too short for a safetensors header");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    FOCAL_CHECK(n <= kMaxHeader && n <= bytes.size() - 8, "[checkpoint] ", path, ": header length ", n,
                " does not fit in the file of ", bytes.size(), " bytes (truncated or corrupt)");
    nlohmann::ordered_json header;  // ordered: tensors come back in file order
    try {
        header = nlohmann::ordered_json::parse(bytes.substr(8, n));
    } catch (const nlohmann::json::exception& e) {
        fail("[checkpoint] ", path, ": header is not valid JSON: ", e.what());
    }
    FOCAL_CHECK(header.is_object(), "[checkpoint] ", path, ": header is not a JSON object");
    const uint64_t data_size = bytes.size() - 8 - n;
    const char* data = bytes.data() + 8 + n;

    SafetensorsFile file;
    std::vector<std::pair<uint64_t, uint64_t>> spans;
    try {
        for (auto it = header.begin(); it != header.end(); ++it) {
            const std::string& key = it.key();
            if (key == "__metadata__") {
                FOCAL_CHECK(it->is_object(), "[checkpoint] ", path, ": __metadata__ is not an object");
                for (auto m = it->begin(); m != it->end(); ++m) {
                    FOCAL_CHECK(m->is_string(), "[checkpoint] ", path, ": metadata '", m.key(), "' is not a string");
                    file.metadata[m.key()] = m->get<std::string>();
                }
                continue;
            }
            const nlohmann::ordered_json& entry = *it;
            FOCAL_CHECK(entry.is_object() && entry.contains("dtype") && entry.contains("shape") &&
                            entry.contains("data_offsets"),
                        "[checkpoint] ", path, ": key '", key, "' lacks dtype, shape or data_offsets");
            FOCAL_CHECK(entry["dtype"].is_string(), "[checkpoint] ", path, ": key '", key,
                        "' has a dtype that is not a string");
            const std::string dtype = entry["dtype"].get<std::string>();
            FOCAL_CHECK(dtype == "F32" || dtype == "I32", "[checkpoint] ", path, ": key '", key, "' has dtype ", dtype,
                        "; focal reads F32 and I32");
            const DType dt = dtype == "F32" ? DType::F32 : DType::I32;
            FOCAL_CHECK(entry["shape"].is_array(), "[checkpoint] ", path, ": key '", key,
                        "' has a shape that is not a list");
            // numel * 4 must equal the span. Every non-zero dim is bounded as well, so a shape
            // with a 0 in it cannot hide dims whose product (the strides) overflows int64.
            Shape shape;
            uint64_t count = 1, nonzero = 1;
            for (const auto& d : entry["shape"]) {
                FOCAL_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0, "[checkpoint] ", path, ": key '", key,
                            "' has an invalid shape");
                const uint64_t dim = d.get<uint64_t>();
                FOCAL_CHECK(dim == 0 || nonzero <= kMaxElements / dim, "[checkpoint] ", path, ": key '", key,
                            "' has a shape larger than the file");
                nonzero *= std::max<uint64_t>(dim, 1);
                count *= dim;
                shape.push_back(static_cast<int64_t>(dim));
            }
            const auto& offsets = entry["data_offsets"];
            FOCAL_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                            offsets[1].is_number_unsigned(),
                        "[checkpoint] ", path, ": key '", key, "' has invalid data_offsets");
            const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
            FOCAL_CHECK(begin <= end && end <= data_size, "[checkpoint] ", path, ": key '", key, "' spans bytes [",
                        begin, ", ", end, ") outside the ", data_size, " bytes of data");
            FOCAL_CHECK(count * dtype_size(dt) == end - begin, "[checkpoint] ", path, ": key '", key, "' has shape ",
                        shape_str(shape), " (", count * dtype_size(dt), " bytes) but spans ", end - begin, " bytes");
            spans.emplace_back(begin, end);
            Tensor t = Tensor::empty(shape, dt);
            if (end > begin) std::memcpy(t.raw_data(), data + begin, end - begin);
            file.tensors.emplace_back(key, t);
        }
    } catch (const nlohmann::json::exception& e) {
        fail("[checkpoint] ", path, ": malformed header: ", e.what());
    }
    // Non-empty spans must not overlap: each starts at or after the furthest end before it.
    std::sort(spans.begin(), spans.end());
    uint64_t furthest = 0;
    for (const auto& [begin, end] : spans) {
        if (begin == end) continue;
        FOCAL_CHECK(begin >= furthest, "[checkpoint] ", path, ": tensors overlap at bytes ", begin, "..", furthest);
        furthest = end;
    }
    return file;
}

}  // namespace focal
