// Runs the PyTorch peer (bench/torch_peer.py, Debian's python3-torch) and parses its JSON.
#pragma once
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>

namespace focal::bench {

// FOCAL_BENCH_NO_PEER=1 skips the peer (to time ours alone).
inline bool torch_available() {
    if (std::getenv("FOCAL_BENCH_NO_PEER")) return false;
    return std::system("/usr/bin/python3 -c 'import torch' >/dev/null 2>&1") == 0;
}

// `args` is appended to the peer's command line; returns its JSON, or null on failure.
inline nlohmann::json run_torch_peer(const std::string& args) {
    std::string command = "/usr/bin/python3 " FOCAL_SOURCE_DIR "/bench/torch_peer.py " + args;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (!pipe) return nullptr;
    std::string out;
    char buffer[4096];
    while (size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    if (::pclose(pipe) != 0) return nullptr;
    try {
        return nlohmann::json::parse(out);
    } catch (const nlohmann::json::exception&) {
        return nullptr;
    }
}

// Quotes a string for a POSIX shell.
inline std::string shell_quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

}  // namespace focal::bench
