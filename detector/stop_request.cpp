#include "detector/stop_request.h"

#include <atomic>

namespace focal::detector {

namespace {
std::atomic<int> requested{0};  // lock-free, so a signal handler may store to it
static_assert(std::atomic<int>::is_always_lock_free);
}  // namespace

void request_stop(int signal) { requested.store(signal, std::memory_order_relaxed); }
int stop_requested() { return requested.load(std::memory_order_relaxed); }
void clear_stop_request() { requested.store(0, std::memory_order_relaxed); }

}  // namespace focal::detector
