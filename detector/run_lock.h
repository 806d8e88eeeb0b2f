// One `focal train` per run folder: the process that writes a run holds an exclusive lock on
// <run>/train.lock (flock, released by the kernel when the process ends, also on kill -9),
// so a second `focal train --out` on the same folder refuses instead of mixing its files in.
#pragma once
#include <string>

namespace focal::detector {

class RunLock {
public:
    // Creates `dir` if needed and locks it; throws Error naming the folder (and the pid the
    // lock file records) when another process holds it.
    explicit RunLock(const std::string& dir);
    ~RunLock();
    RunLock(const RunLock&) = delete;
    RunLock& operator=(const RunLock&) = delete;

private:
    int fd_ = -1;
};

}  // namespace focal::detector
