// Two small helpers every floor uses: a monotonic clock in seconds and joining names.
#pragma once
#include <chrono>
#include <string>
#include <vector>

namespace focal {

// Seconds on a monotonic clock (only differences mean anything).
inline double seconds_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// "a, b, c" for join({"a", "b", "c"}, ", ").
inline std::string join(const std::vector<std::string>& items, const std::string& separator = ",") {
    std::string out;
    for (const std::string& item : items) out += (out.empty() ? "" : separator) + item;
    return out;
}

}  // namespace focal
