// Running the plot scripts (tools/*.py) from the focal command line.
#pragma once
#include <string>
#include <vector>

namespace focal::cli {

// Runs `python ARGS...` without a shell and returns its exit status (128 + signal when
// killed). Throws focal::Error, prefixed with `op`, when python cannot be started at all.
int run_python(const std::string& python, const std::vector<std::string>& args, const std::string& op);

// FOCAL_SOURCE_DIR/tools/<name>: the plot scripts live beside the command's sources.
std::string tool_script(const std::string& name);

}  // namespace focal::cli
