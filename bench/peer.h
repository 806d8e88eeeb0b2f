// The PyTorch peer (bench/torch_peer.py, Debian's python3-torch), kept running beside the
// benchmark so that each of its cases and ours are timed in alternation, step for step.
// On a shared machine the noise comes in bursts that last seconds: two measurements taken
// a minute apart time two different machines, while alternating steps share the same ones.
//
// Protocol, one line each way (torch_peer.py --serve): the peer prints a JSON line once it
// is ready ({"cases": n, "torch": version, ...}); then "time i" runs case i once and prints
// its seconds; "done" prints a last JSON line of totals (peak RSS; on --device cuda, the peak
// device memory too) and ends the peer. On cuda the peer synchronises the device around
// each timed run, so its seconds are the GPU's work, not the launch.
//
// The peer runs under FOCAL_BENCH_PYTHON (default Debian's /usr/bin/python3, whose
// python3-torch is CPU-only); on a GPU machine, point it at a python whose torch has CUDA.
#pragma once
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "bench_util.h"

extern char** environ;

namespace focal::bench {

inline std::string peer_python() {
    const char* python = std::getenv("FOCAL_BENCH_PYTHON");
    return python && *python ? python : "/usr/bin/python3";
}

// bench/torch_peer.py in the source tree the benchmark was built from, or under
// $FOCAL_SOURCE_DIR for a build carried to another machine (scripts/gpu_check.sh).
inline std::string peer_script() {
    const char* root = std::getenv("FOCAL_SOURCE_DIR");
    return std::string(root && *root ? root : FOCAL_SOURCE_DIR) + "/bench/torch_peer.py";
}

// FOCAL_BENCH_NO_PEER=1 skips the peer (to time ours alone).
inline bool torch_available() {
    if (std::getenv("FOCAL_BENCH_NO_PEER")) return false;
    const std::string command = "'" + peer_python().append("' -c 'import torch' >/dev/null 2>&1");
    return std::system(command.c_str()) == 0;
}

class TorchPeer {
public:
    // Starts `torch_peer.py <args...> --serve`; ok() is false if torch is missing or the peer
    // did not come up (its stderr shows why).
    explicit TorchPeer(std::vector<std::string> args) {
        if (!torch_available()) return;
        int to_peer[2], from_peer[2];
        if (::pipe(to_peer) != 0) return;
        if (::pipe(from_peer) != 0) {
            ::close(to_peer[0]), ::close(to_peer[1]);
            return;
        }
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, to_peer[0], STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&actions, from_peer[1], STDOUT_FILENO);
        for (int fd : {to_peer[0], to_peer[1], from_peer[0], from_peer[1]})
            posix_spawn_file_actions_addclose(&actions, fd);
        args.insert(args.begin(), {peer_python(), peer_script()});
        args.push_back("--serve");
        std::vector<char*> argv;
        for (std::string& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        const bool spawned = posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), environ) == 0;
        posix_spawn_file_actions_destroy(&actions);
        ::close(to_peer[0]), ::close(from_peer[1]);
        to_ = ::fdopen(to_peer[1], "w");
        from_ = ::fdopen(from_peer[0], "r");
        if (!spawned) pid_ = -1;
        if (!spawned || !to_ || !from_) return;
        info_ = read_json();
        ok_ = info_.is_object() && info_.contains("cases");
    }
    ~TorchPeer() {
        if (to_) std::fclose(to_);  // end of input: a peer still waiting exits
        if (from_) std::fclose(from_);
        if (pid_ > 0) ::waitpid(pid_, nullptr, 0);
    }
    TorchPeer(const TorchPeer&) = delete;
    TorchPeer& operator=(const TorchPeer&) = delete;

    bool ok() const { return ok_; }
    // The peer's ready line: {"cases": n, "torch": "1.13.0", "threads": t, ...}.
    const nlohmann::json& info() const { return info_; }

    // Runs case i once in the peer; its seconds, as the peer's own clock measured them.
    double seconds(int i) {
        require(ok_, "the PyTorch peer stopped answering");
        std::fprintf(to_, "time %d\n", i);
        std::fflush(to_);
        const nlohmann::json reply = read_json();
        ok_ = reply.is_number();
        require(ok_, "the PyTorch peer sent no time");
        return reply.get<double>();
    }

    // Ends the peer; returns its totals ({"peak_rss_mb": ..., "peak_device_mb": ...}).
    nlohmann::json finish() {
        if (!ok_) return nullptr;
        std::fprintf(to_, "done\n");
        std::fflush(to_);
        ok_ = false;
        return read_json();
    }

private:
    nlohmann::json read_json() {
        std::string line;
        for (int c; (c = std::fgetc(from_)) != EOF && c != '\n';) line.push_back(static_cast<char>(c));
        return nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);  // discarded on bad input
    }

    pid_t pid_ = -1;
    FILE* to_ = nullptr;
    FILE* from_ = nullptr;
    bool ok_ = false;
    nlohmann::json info_;
};

// Best seconds of ours() and of the peer's case i, timed in alternation: `warmup` untimed
// rounds, then `repeats` timed ones. The best of each, because on a noisy machine noise only
// ever adds time. Without a peer, the second figure is NaN.
template <class Fn>
std::pair<double, double> best_seconds_against(Fn&& ours, TorchPeer* peer, int i, int repeats, int warmup = 2) {
    const bool with_peer = peer && peer->ok();
    for (int r = 0; r < warmup; ++r) {
        ours();
        if (with_peer) peer->seconds(i);
    }
    double best_ours = std::numeric_limits<double>::infinity(), best_peer = best_ours;
    for (int r = 0; r < repeats; ++r) {
        const double start = now_seconds();
        ours();
        best_ours = std::min(best_ours, now_seconds() - start);
        if (with_peer) best_peer = std::min(best_peer, peer->seconds(i));
    }
    return {best_ours, with_peer ? best_peer : std::numeric_limits<double>::quiet_NaN()};
}

}  // namespace focal::bench
