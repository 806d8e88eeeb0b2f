// Small helpers every floor uses: a monotonic clock in seconds, joining names, and splitting a
// CSV line.
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

// The cells of one CSV line as focal writes them: commas separate cells except inside double
// quotes, which are dropped ("a,\"b, c\",d" -> a | b, c | d). No escaped quotes.
inline std::vector<std::string> split_csv_line(const std::string& line) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (char ch : line) {
        if (ch == '"') quoted = !quoted;
        else if (ch == ',' && !quoted) cells.emplace_back();
        else cells.back() += ch;
    }
    return cells;
}

}  // namespace focal
