// Helpers shared by the benchmarks: wall-clock timing with warm-up, median of repeats.
#pragma once
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace focal::bench {

inline double now_seconds() {
    using clock = std::chrono::steady_clock;
    return std::chrono::duration<double>(clock::now().time_since_epoch()).count();
}

// Median seconds per call of fn over `repeats` timed calls, after `warmup` untimed ones.
template <class Fn>
double median_seconds(Fn&& fn, int repeats, int warmup = 2) {
    for (int i = 0; i < warmup; ++i) fn();
    std::vector<double> times;
    for (int i = 0; i < repeats; ++i) {
        double start = now_seconds();
        fn();
        times.push_back(now_seconds() - start);
    }
    std::sort(times.begin(), times.end());
    return times[times.size() / 2];
}

// Times a and b alternately (so both see the same machine noise). Returns the best time
// of each: on a shared, noisy machine noise only ever adds time, so the minimum is the
// steadiest estimate of what the code itself costs.
template <class A, class B>
std::pair<double, double> best_seconds_interleaved(A&& a, B&& b, int repeats, int warmup = 2) {
    for (int i = 0; i < warmup; ++i) a(), b();
    std::vector<double> ta, tb;
    for (int i = 0; i < repeats; ++i) {
        double t0 = now_seconds();
        a();
        double t1 = now_seconds();
        b();
        double t2 = now_seconds();
        ta.push_back(t1 - t0);
        tb.push_back(t2 - t1);
    }
    return {*std::min_element(ta.begin(), ta.end()), *std::min_element(tb.begin(), tb.end())};
}

// A benchmark checks its result before timing; a wrong result ends it with status 1.
inline void require(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "benchmark check failed: %s\n", what);
        std::exit(1);
    }
}

}  // namespace focal::bench
