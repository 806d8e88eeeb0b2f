#include "detector/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include "engine/error.h"

namespace focal::detector {

RunLock::RunLock(const std::string& dir) {
    std::filesystem::create_directories(dir);
    const std::string path = (std::filesystem::path(dir) / "train.lock").string();
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    FOCAL_CHECK(fd_ >= 0, "[train] cannot open ", path, ": ", std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        char holder[32] = {0};
        if (::pread(fd_, holder, sizeof holder - 1, 0) < 0) holder[0] = 0;
        ::close(fd_);
        fd_ = -1;
        FOCAL_CHECK(error != EWOULDBLOCK, "[train] ", dir, " is being written by another focal train (pid ",
                    holder[0] ? holder : "unknown", "); wait for it to finish, or choose another --out");
        fail("[train] cannot lock ", path, ": ", std::strerror(error));
    }
    // The pid, for the message a second process prints (only that message needs it).
    const std::string pid = std::to_string(::getpid());
    const bool noted = ::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, pid.data(), pid.size(), 0) == ssize_t(pid.size());
    (void)noted;
}

RunLock::~RunLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace focal::detector
