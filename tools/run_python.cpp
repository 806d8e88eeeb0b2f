#include "run_python.h"

#include <spawn.h>
#include <sys/wait.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "engine/error.h"

extern char** environ;

namespace focal::cli {

int run_python(const std::string& python, const std::vector<std::string>& args, const std::string& op) {
    std::vector<char*> argv;
    argv.push_back(const_cast<char*>(python.c_str()));
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int error = posix_spawn(&pid, python.c_str(), nullptr, nullptr, argv.data(), environ);
    FOCAL_CHECK(error == 0, "[", op, "] cannot run ", python, " (", std::strerror(error),
                "); install python3 and python3-matplotlib (apt install python3-matplotlib) or pass --python PATH; ",
                "the CSV files are written");
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        FOCAL_CHECK(errno == EINTR, "[", op, "] waiting for ", python, " failed: ", std::strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

std::string tool_script(const std::string& name) {
    return (std::filesystem::path(FOCAL_SOURCE_DIR) / "tools" / name).string();
}

}  // namespace focal::cli
