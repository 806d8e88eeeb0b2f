// What the tests of the `focal` command line share: running the built binary, reading what
// it wrote, and finding the optional inputs (the VOC sample, python3 with numpy) whose
// absence skips a test rather than failing it.
#pragma once
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace focal::test {

namespace fs = std::filesystem;

inline const std::string kFocal = std::string(FOCAL_BINARY_DIR) + "/focal";

// Runs a shell command; its exit status, or -1 when a signal ended it.
inline int shell(const std::string& command) {
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs `ENV focal ARGS` (ENV: assignments such as "LD_LIBRARY_PATH=/x", or nothing) with
// stdout and stderr into `log`; its exit status.
inline int run_focal(const std::string& args, const fs::path& log, const std::string& env = "") {
    return shell(env + " " + kFocal + " " + args + " > " + log.string() + " 2>&1");
}

inline std::string read_text(const fs::path& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// run_focal, with what it printed read back into `output`.
inline int run_focal(const std::string& args, std::string& output, const fs::path& log, const std::string& env = "") {
    const int status = run_focal(args, log, env);
    output = read_text(log);
    return status;
}

// The Pascal VOC 2007 sample beside the repository, or "" when it is absent (a user's clone).
inline fs::path voc_sample() {
    const fs::path voc = fs::path(FOCAL_SOURCE_DIR) / ".." / "shared" / "data" / "VOCdevkit";
    return fs::exists(voc / "VOC2007" / "Annotations") ? voc : fs::path();
}

// Debian's python3 (with python3-numpy, which python3-matplotlib brings), else the PATH's;
// "" when neither can import numpy, which the Python references need.
inline std::string python_with_numpy() {
    const std::string python = fs::exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    return shell(python + " -c 'import numpy' > /dev/null 2>&1") == 0 ? python : "";
}

// What a test of focal against a Python reference on the VOC sample needs: the sample,
// python3 with numpy, and an empty scratch folder `name` in the build tree. `absent` names
// what is missing (the test then skips, saying so), or is empty.
struct ReferenceInputs {
    fs::path voc;
    std::string python;
    fs::path dir;
    std::string absent;
};

inline ReferenceInputs reference_inputs(const std::string& name) {
    ReferenceInputs in;
    in.voc = voc_sample();
    if (in.voc.empty()) return in.absent = "the VOC sample (../shared/data/VOCdevkit)", in;
    in.python = python_with_numpy();
    if (in.python.empty()) return in.absent = "python3 with numpy (the reference)", in;
    in.dir = fs::path(FOCAL_BINARY_DIR) / name;
    fs::remove_all(in.dir);
    fs::create_directories(in.dir);
    return in;
}

}  // namespace focal::test
