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

const char* dtype_code(DType d) { return d == DType::F32 ? "F32" : "I32"; }

void write_all(int fd, const char* data, size_t size, const std::string& path) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) fail("[checkpoint] ", path, ": write failed: ", std::strerror(errno));
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
        write_all(fd, bytes.data(), bytes.size(), temp);
        if (::fsync(fd) != 0) fail("[checkpoint] ", temp, ": fsync failed: ", std::strerror(errno));
    } catch (...) {
        ::close(fd);
        ::unlink(temp.c_str());
        throw;
    }
    ::close(fd);
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

void save_safetensors(const std::string& path, const NamedTensors& tensors, const Metadata& metadata) {
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    std::vector<Tensor> host;
    uint64_t offset = 0;
    for (const auto& [name, t] : tensors) {
        FOCAL_CHECK(t.defined(), "[checkpoint] ", path, ": tensor '", name, "' is undefined");
        FOCAL_CHECK(name != "__metadata__" && !header.contains(name), "[checkpoint] ", path,
                    ": duplicate or reserved key '", name, "'");
        host.push_back(t.detached().to(Device::CPU).contiguous());
        const uint64_t bytes = t.numel() * dtype_size(t.dtype());
        header[name] = {{"dtype", dtype_code(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + bytes}}};
        offset += bytes;
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');  // pad so the data starts 8-byte aligned
    std::string bytes(8, '\0');
    const uint64_t n = json.size();
    for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((n >> (8 * i)) & 0xff);  // little-endian
    bytes += json;
    bytes.reserve(bytes.size() + offset);
    for (const Tensor& t : host)
        bytes.append(static_cast<const char*>(t.raw_data()), t.numel() * dtype_size(t.dtype()));
    write_file_atomically(path, bytes);
}

SafetensorsFile load_safetensors(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    FOCAL_CHECK(in.good(), "[checkpoint] cannot open ", path);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    FOCAL_CHECK(bytes.size() >= 8, "[checkpoint] ", path, ": file is ", bytes.size(),
                " bytes, too short for a safetensors header");
    uint64_t n = 0;
    for (int i = 0; i < 8; ++i) n |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * i);
    FOCAL_CHECK(n <= kMaxHeader && n <= bytes.size() - 8, "[checkpoint] ", path, ": header length ", n,
                " does not fit in the file of ", bytes.size(), " bytes (truncated or corrupt)");
    nlohmann::ordered_json header;  // ordered: tensors come back in file order
    try {
        header = nlohmann::ordered_json::parse(bytes.begin() + 8, bytes.begin() + 8 + static_cast<int64_t>(n));
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
            const std::string dtype = entry["dtype"].get<std::string>();
            FOCAL_CHECK(dtype == "F32" || dtype == "I32", "[checkpoint] ", path, ": key '", key,
                        "' has dtype ", dtype, "; focal reads F32 and I32");
            Shape shape;
            for (const auto& d : entry["shape"]) {
                FOCAL_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0, "[checkpoint] ", path, ": key '", key,
                            "' has an invalid shape");
                shape.push_back(d.get<int64_t>());
            }
            const auto& offsets = entry["data_offsets"];
            FOCAL_CHECK(offsets.is_array() && offsets.size() == 2 && offsets[0].is_number_unsigned() &&
                            offsets[1].is_number_unsigned(),
                        "[checkpoint] ", path, ": key '", key, "' has invalid data_offsets");
            const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
            FOCAL_CHECK(begin <= end && end <= data_size, "[checkpoint] ", path, ": key '", key, "' spans bytes [",
                        begin, ", ", end, ") outside the ", data_size, " bytes of data");
            const DType dt = dtype == "F32" ? DType::F32 : DType::I32;
            // numel * 4 must equal the span; guard the product against overflow first.
            uint64_t count = 1;
            for (int64_t d : shape) {
                FOCAL_CHECK(d == 0 || count <= data_size / static_cast<uint64_t>(d), "[checkpoint] ", path,
                            ": key '", key, "' has a shape larger than the file");
                count *= static_cast<uint64_t>(d);
            }
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
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i)
        FOCAL_CHECK(spans[i].first >= spans[i - 1].second || spans[i].first == spans[i].second, "[checkpoint] ", path,
                    ": tensors overlap at bytes ", spans[i].first, "..", spans[i - 1].second);
    return file;
}

}  // namespace focal
