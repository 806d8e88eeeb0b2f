// Helpers for the data tests: a scratch folder that cleans up after itself, small file
// writers, and the location of the real VOC sample (absent in a fresh clone).
#pragma once
#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>

namespace focal::test {

class TempDir {
public:
    TempDir() {
        static std::atomic<int> counter{0};
        path_ = std::filesystem::temp_directory_path() /
                ("focal_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        std::filesystem::remove_all(path_);
        std::filesystem::create_directories(path_);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& path() const { return path_; }
    std::string operator/(const std::string& rel) const { return (path_ / rel).string(); }

private:
    std::filesystem::path path_;
};

inline void write_file(const std::string& path, const std::string& text) {
    std::filesystem::create_directories(std::filesystem::path(path).parent_path());
    std::ofstream(path, std::ios::binary) << text;
}

inline std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The genuine VOC 2007 sample beside the repository, or "" when it is not there.
inline std::string voc_sample() {
    const std::string path = FOCAL_SOURCE_DIR "/../shared/data/VOCdevkit";
    return std::filesystem::is_directory(path + "/VOC2007/Annotations") ? path : "";
}

}  // namespace focal::test
