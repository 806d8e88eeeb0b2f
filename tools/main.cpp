// focal: one binary, subcommands (see README.md and docs/design.md).
#include <cstdio>
#include <exception>

#include "commands.h"
#include "engine/error.h"
#include "runtime_env.h"

int main(int argc, char** argv) {
    focal::cli::tune_runtime(argv);
    CLI::App app{"focal: a from-scratch deep-learning engine and a RetinaNet-style detector"};
    app.require_subcommand(1);
    app.set_version_flag("--version", "focal 0.1");
    // A bad flag is one line, like every other error: "focal: error: --batch: must be > 0, got -1".
    app.failure_message(
        [](const CLI::App*, const CLI::Error& e) { return "focal: error: " + std::string(e.what()) + "\n"; });
    focal::cli::add_demo(app);
    focal::cli::add_make_shapes(app);
    focal::cli::add_inspect(app);
    focal::cli::add_convert(app);
    focal::cli::add_train(app);
    focal::cli::add_eval(app);
    focal::cli::add_detect(app);
    focal::cli::add_export(app);
    focal::cli::add_losses(app);
    focal::cli::add_curves(app);
    focal::cli::add_experiments(app);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int status = app.exit(e);  // prints --help, --version, or the one-line error
        return status == 0 ? 0 : 2;      // a usage error exits 2, as getopt and argparse do
    } catch (const focal::cli::ExitStatus& e) {
        return e.code;
    } catch (const focal::Error& e) {
        std::fprintf(stderr, "focal: error: %s\n", e.what());
        return 1;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "focal: unexpected error: %s\n", e.what());
        return 1;
    }
    return 0;
}
