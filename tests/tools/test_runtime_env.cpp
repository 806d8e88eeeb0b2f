// tools/runtime_env.h's load probe, which picks how long idle OpenMP threads spin: a
// machine with a core kept busy must read as busy. (A quiet reading cannot be asserted
// here: CI runs test suites side by side.)
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "../../tools/runtime_env.h"

TEST_CASE("machine_busy_cores sees a core kept busy") {
    std::atomic<bool> stop{false};
    std::thread spinner([&] {
        volatile unsigned long n = 0;
        while (!stop.load(std::memory_order_relaxed)) n = n + 1;
    });
    const double busy = focal::cli::machine_busy_cores(std::chrono::milliseconds(200));
    stop = true;
    spinner.join();
    CAPTURE(busy);
    CHECK(busy >= 0.5);  // the threshold tune_runtime uses for "shared"
    CHECK(busy <= static_cast<double>(std::thread::hardware_concurrency()) + 0.01);
}
