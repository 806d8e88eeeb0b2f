// `focal train`'s command line as a user meets it: every setting of the table has its flag
// in --help, an out-of-range value is one short line naming the flag, and nothing is
// created before every setting, the loss and the dataset have been checked.
#include <doctest/doctest.h>

#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "detector/train_config.h"

namespace fs = std::filesystem;

namespace {

const std::string kFocal = std::string(FOCAL_BINARY_DIR) + "/focal";

// Runs focal with `args`; its exit status, and stdout + stderr in `output`.
int run_focal(const std::string& args, std::string& output) {
    const fs::path log = fs::path(FOCAL_BINARY_DIR) / "test_cli.log";
    const int status = std::system((kFocal + " " + args + " > " + log.string() + " 2>&1").c_str());
    std::ifstream in(log);
    std::stringstream s;
    s << in.rdbuf();
    output = s.str();
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("focal train --help names every setting's flag") {
    std::string help;
    REQUIRE(run_focal("train --help", help) == 0);
    for (const focal::detector::SettingInfo& s : focal::detector::train_settings()) {
        if (s.flag.empty()) continue;  // set through a hand-written flag, checked below
        const std::string flag = s.flag[0] == '!' ? s.flag.substr(1) : s.flag;
        CHECK_MESSAGE(help.find(flag) != std::string::npos, flag);
    }
    for (const char* flag : {"--zoom", "--model", "--loss-param", "--box-param", "--gamma", "--alpha"})
        CHECK_MESSAGE(help.find(flag) != std::string::npos, flag);
}

TEST_CASE("an out-of-range number is one short line naming the flag, and creates nothing") {
    const fs::path out = fs::path(FOCAL_BINARY_DIR) / "test_cli_run";
    fs::remove_all(out);
    int checked = 0;
    for (const focal::detector::SettingInfo& s : focal::detector::train_settings()) {
        if (s.flag.empty() || s.flag[0] == '!' || s.rule == "any value" || s.rule == "not empty") continue;
        std::string output;
        CAPTURE(s.flag);
        CHECK(run_focal("train --data nowhere --out " + out.string() + " " + s.flag + " -1", output) == 1);
        CAPTURE(output);
        CHECK(output == "focal: error: [train] " + s.flag + " must be " + s.rule + ", got -1\n");
        CHECK(!fs::exists(out));
        ++checked;
    }
    CHECK(checked >= 15);
}

TEST_CASE("a rejected loss parameter or optimizer leaves no run folder behind") {
    const fs::path dir = fs::path(FOCAL_BINARY_DIR) / "test_cli_data";
    std::string output;
    if (!fs::exists(dir / "classes.txt"))
        REQUIRE(run_focal("make-shapes --out " + dir.string() + " --images 10 --size 64", output) == 0);
    const fs::path out = fs::path(FOCAL_BINARY_DIR) / "test_cli_run";
    fs::remove_all(out);
    const std::string base = "train --data " + dir.string() + " --out " + out.string();
    CHECK(run_focal(base + " --loss-param bogus=1", output) == 1);
    CHECK(output.find("bogus") != std::string::npos);
    CHECK(std::count(output.begin(), output.end(), '\n') == 1);
    CHECK(!fs::exists(out));
    CHECK(run_focal(base + " --optimizer adam", output) == 1);
    CHECK(output == "focal: error: [optim] unknown optimizer 'adam'; known: sgd, adamw\n");
    CHECK(!fs::exists(out));
    CHECK(run_focal(base + " --cls-loss nope", output) == 1);
    CHECK(!fs::exists(out));
}
