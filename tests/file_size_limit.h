// A full disk, simulated: while a FileSizeLimit lives, writing past `bytes` in any file fails
// with EFBIG ("File too large") instead of raising SIGXFSZ, which would kill the test.
//
//   { FileSizeLimit limit(100); CHECK_THROWS_WITH_AS(save(...), doctest::Contains("File too large"), Error); }
//
// It lowers this process's soft RLIMIT_FSIZE and restores it (and SIGXFSZ's handler) on
// destruction, rather than forking a child: the suites run OpenMP, which is not fork-safe, and
// the trainer test needs it. Nothing else in a suite writes files meanwhile.
#pragma once
#include <sys/resource.h>

#include <csignal>

namespace focal::testing {

class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        ok_ = ::getrlimit(RLIMIT_FSIZE, &saved_) == 0;
        old_handler_ = std::signal(SIGXFSZ, SIG_IGN);
        rlimit lowered = saved_;
        lowered.rlim_cur = bytes;
        ok_ = ok_ && ::setrlimit(RLIMIT_FSIZE, &lowered) == 0;
    }
    ~FileSizeLimit() {
        ::setrlimit(RLIMIT_FSIZE, &saved_);
        std::signal(SIGXFSZ, old_handler_);
    }
    bool active() const { return ok_; }  // false where the limit could not be set: skip
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;

private:
    rlimit saved_{};
    void (*old_handler_)(int) = nullptr;
    bool ok_ = false;
};

}  // namespace focal::testing
