// Subcommands of the `focal` command line. Each lives in its own cmd_<name>.cpp and
// registers itself on the CLI11 app; its callback throws focal::Error on failure and
// main() turns that into a message and a non-zero exit status.
#pragma once
#include <CLI/CLI.hpp>

namespace focal::cli {

// Thrown by a command to end `focal` with this exit status after it has said why (e.g.
// 128 + SIGTERM when training was stopped by a signal and checkpointed).
struct ExitStatus {
    int code;
};

void add_demo(CLI::App& app);         // cmd_demo.cpp
void add_make_shapes(CLI::App& app);  // cmd_make_shapes.cpp
void add_inspect(CLI::App& app);      // cmd_inspect.cpp
void add_convert(CLI::App& app);      // cmd_convert.cpp
void add_train(CLI::App& app);        // cmd_train.cpp
void add_eval(CLI::App& app);         // cmd_train.cpp
void add_detect(CLI::App& app);       // cmd_detect.cpp
void add_export(CLI::App& app);       // cmd_export.cpp
void add_losses(CLI::App& app);       // cmd_losses.cpp
void add_curves(CLI::App& app);       // cmd_curves.cpp
void add_experiments(CLI::App& app);  // cmd_experiments.cpp

}  // namespace focal::cli
