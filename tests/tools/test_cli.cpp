// `focal train`'s command line as a user meets it: every setting of the table has its flag
// in --help, an out-of-range value is one short line naming the flag, and nothing is
// created before every setting, the loss and the dataset have been checked.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "detector/train_config.h"
#include "run_focal.h"

namespace fs = std::filesystem;

namespace {

using focal::test::kFocal;
using focal::test::read_text;

// Runs focal with `args`; its exit status, and stdout + stderr in `output`.
int run_focal(const std::string& args, std::string& output) {
    return focal::test::run_focal(args, output, fs::path(FOCAL_BINARY_DIR) / "test_cli.log");
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

TEST_CASE("every command: a numeric flag out of range is one short line naming the flag, exit 2") {
    const std::string readme = std::string(FOCAL_SOURCE_DIR) + "/README.md";  // an existing file
    const std::vector<std::pair<std::string, std::string>> cases{
        {"make-shapes --out x", "--images -1"},
        {"make-shapes --out x", "--size 10"},
        {"make-shapes --out x", "--quality 0"},
        {"make-shapes --out x", "--threads -1"},
        {"make-shapes --out x", "--max-objects -1"},
        {"demo", "--epochs 0"},
        {"demo", "--images -1"},
        {"demo", "--threads -1"},
        {"eval --run x", "--batch 0"},
        {"eval --run x", "--max-images -1"},
        {"eval --run x", "--threads -1"},
        {"detect --run x --out y " + readme, "--min-score 2"},
        {"inspect --data x", "--show -1"},
        {"inspect --data x", "--year -1"},
        {"curves --out x", "--points 1"},
        {"experiments", "--epochs 0"},
        {"experiments", "--batch -1"},
        {"experiments", "--images 5"},
        {"experiments", "--ablation-epochs 0"},
        {"experiments", "--threads -1"},
        {"make-shapes --out x", "--images abc"},
    };
    for (const auto& [command, flag_value] : cases) {
        std::string output;
        const std::string line = command + " " + flag_value;  // clang 14 cannot capture a structured binding
        CAPTURE(line);
        CHECK(run_focal(command + " " + flag_value, output) == 2);
        CAPTURE(output);
        const std::string flag = flag_value.substr(0, flag_value.find(' '));
        CHECK(output.rfind("focal: error: " + flag + ": must be ", 0) == 0);
        CHECK(std::count(output.begin(), output.end(), '\n') == 1);
        CHECK(output.size() < 120);
    }
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

TEST_CASE("--recipe: a file of settings under the command line; recipes/ load; a bad file is named") {
    const fs::path dir = fs::path(FOCAL_BINARY_DIR) / "test_cli_data";
    std::string output;
    if (!fs::exists(dir / "classes.txt"))
        REQUIRE(run_focal("make-shapes --out " + dir.string() + " --images 10 --size 64", output) == 0);
    const fs::path out = fs::path(FOCAL_BINARY_DIR) / "test_cli_recipe", recipe = out.string() + ".json";
    std::ofstream(recipe) << R"({"preset": "demo", "lr": 0.003, "epochs": 5, "augment": false, "min_zoom": 0.4,
        "model": {"head_norm_groups": 8}, "cls_params": {"gamma": 1, "alpha": 0.5}})";
    fs::remove_all(out);
    const std::string train = "train --data " + dir.string() + " --split all --val-split '' --image-size 64" +
                              " --max-iters 1 --batch 2 --workers 0 --quiet --out " + out.string();
    REQUIRE(run_focal(train + " --recipe " + recipe.string() + " --epochs 1 --gamma 3 --model " +
                          "'{\"head_channels\": 16}'",
                      output) == 0);
    const nlohmann::json c = nlohmann::json::parse(read_text(out / "config.json"));
    const nlohmann::json& t = c.contains("train") ? c.at("train") : c;
    CHECK(t.at("lr") == doctest::Approx(0.003));  // the recipe's
    CHECK(t.at("augment") == false);
    CHECK(t.at("min_zoom") == doctest::Approx(0.4));
    CHECK(t.at("epochs") == 1);                                                   // the command line's
    CHECK(t.at("cls_params") == nlohmann::json{{"alpha", 0.5}, {"gamma", 3.0}});  // merged key by key
    CHECK(t.at("model") == nlohmann::json{{"head_channels", 16}, {"head_norm_groups", 8}});

    // Every recipe shipped in recipes/ is a valid set of settings (checked before any data is read).
    for (const auto& shipped : fs::directory_iterator(fs::path(FOCAL_SOURCE_DIR) / "recipes")) {
        CAPTURE(shipped.path());
        fs::remove_all(out);
        CHECK(run_focal("train --recipe " + shipped.path().string() + " --data nowhere --out " + out.string(),
                        output) == 1);
        CHECK(output.find("nowhere") != std::string::npos);  // it got as far as the dataset
    }

    std::ofstream(recipe) << R"({"lr": 0.1, "learning_rate": 0.1})";
    CHECK(run_focal(train + " --recipe " + recipe.string(), output) == 1);
    CHECK(output == "focal: error: [train] --recipe " + recipe.string() +
                        ": [config] unknown training setting 'learning_rate'\n");
    std::ofstream(recipe) << "{ not json";
    CHECK(run_focal(train + " --recipe " + recipe.string(), output) == 1);
    CHECK(output == "focal: error: [train] --recipe " + recipe.string() + ": not valid JSON\n");
    CHECK(run_focal(train + " --recipe " + out.string() + "-missing.json", output) == 1);
    CHECK(output.find("-missing.json: cannot open") != std::string::npos);
}

TEST_CASE("recipes/voc.json: a smoke run of README's VOC recipe on a few images of the VOC sample") {
    const fs::path voc = focal::test::voc_sample();
    if (voc.empty()) {
        MESSAGE("skipped: the VOC sample (../shared/data/VOCdevkit) is absent");
        return;
    }
    const fs::path out = fs::path(FOCAL_BINARY_DIR) / "test_cli_voc_recipe";
    fs::remove_all(out);
    std::string output;
    REQUIRE_MESSAGE(run_focal("train --recipe " FOCAL_SOURCE_DIR "/recipes/voc.json --data " + voc.string() +
                                  " --out " + out.string() +
                                  " --max-images 16 --epochs 1 --max-iters 2 --eval-every 1 --workers 1 --quiet",
                              output) == 0,
                    output);
    const nlohmann::json recipe = nlohmann::json::parse(read_text(FOCAL_SOURCE_DIR "/recipes/voc.json"));
    const nlohmann::json config = nlohmann::json::parse(read_text(out / "config.json"));
    const nlohmann::json& t = config.contains("train") ? config.at("train") : config;
    for (const auto& [key, value] : recipe.items()) {
        const std::string setting = key;  // clang 14 cannot capture a structured binding
        CAPTURE(setting);
        if (key == "epochs" || key == "eval_every") continue;  // the command line's
        if (value.is_number_float())
            CHECK(t.at(key).get<double>() == doctest::Approx(value.get<double>()).epsilon(1e-6));  // stored as float
        else CHECK(t.at(key) == value);
    }
    CHECK(read_text(out / "log.jsonl").find("\"map50_voc07\"") != std::string::npos);  // validated
    REQUIRE(run_focal("eval --run " + out.string() + " --split val --max-images 16", output) == 0);
    CHECK(output.find("mAP") != std::string::npos);
}

namespace {

// Starts focal with `args` in the background, its output into `log`; the child's pid.
pid_t spawn_focal(const std::vector<std::string>& args, const fs::path& log) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        ::dup2(fd, 1), ::dup2(fd, 2);
        std::vector<char*> argv{const_cast<char*>(kFocal.c_str())};
        for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        ::execv(kFocal.c_str(), argv.data());
        ::_exit(127);
    }
    return pid;
}

// How many times `needle` stands in `file`.
size_t count_in(const fs::path& file, const std::string& needle) {
    const std::string text = read_text(file);
    size_t n = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
    return n;
}

// Waits (up to a minute) until `file` holds `needle` more than `before` times: a line that the
// process just started wrote, not one an earlier run left in the same log.
bool wait_for(const fs::path& file, const std::string& needle, size_t before = 0) {
    for (int i = 0; i < 600; ++i) {
        if (count_in(file, needle) > before) return true;
        ::usleep(100 * 1000);
    }
    return false;
}

int wait_status(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST_CASE(
    "SIGTERM during focal train: a checkpoint, exit 143, and --resume ends bitwise where an uninterrupted run does") {
    const fs::path dir = fs::path(FOCAL_BINARY_DIR) / "test_cli_data";
    std::string output;
    if (!fs::exists(dir / "classes.txt"))
        REQUIRE(run_focal("make-shapes --out " + dir.string() + " --images 10 --size 64", output) == 0);
    const fs::path whole = fs::path(FOCAL_BINARY_DIR) / "test_cli_whole",
                   parts = fs::path(FOCAL_BINARY_DIR) / "test_cli_parts";
    fs::remove_all(whole), fs::remove_all(parts);
    const std::vector<std::string> args{"train", "--data",      dir.string(), "--split",      "all", "--val-split",
                                        "",      "--preset",    "demo",       "--image-size", "64",  "--batch",
                                        "2",     "--epochs",    "3",          "--workers",    "1",   "--threads",
                                        "1",     "--log-every", "1",          "--quiet"};
    const auto with = [&](std::vector<std::string> a, std::initializer_list<std::string> more) {
        a.insert(a.end(), more);
        return a;
    };
    REQUIRE(wait_status(spawn_focal(with(args, {"--out", whole.string()}), whole.string() + ".log")) == 0);

    // One SIGTERM once training has begun: the step ends, a checkpoint is written, exit 128 + 15.
    const fs::path log = parts.string() + ".log";
    pid_t pid = spawn_focal(with(args, {"--out", parts.string()}), log);
    REQUIRE(wait_for(parts / "log.jsonl", "\"type\":\"step\""));
    ::kill(pid, SIGTERM);
    CHECK(wait_status(pid) == 128 + SIGTERM);
    CHECK(read_text(log).find("run the same command with --resume") != std::string::npos);
    CHECK(read_text(parts / "log.jsonl").find("\"type\":\"stopped\"") != std::string::npos);
    // Two signals at once, after an epoch: the second exits at once; what is on disk still resumes.
    const size_t epochs_before = count_in(parts / "log.jsonl", "\"type\":\"epoch\"");
    pid = spawn_focal(with(args, {"--out", parts.string(), "--resume"}), log);
    REQUIRE(wait_for(parts / "log.jsonl", "\"type\":\"epoch\"", epochs_before));
    ::kill(pid, SIGTERM), ::kill(pid, SIGTERM);
    CHECK(wait_status(pid) == 128 + SIGTERM);
    REQUIRE(wait_status(spawn_focal(with(args, {"--out", parts.string(), "--resume"}), log)) == 0);
    CHECK(read_text(parts / "checkpoint.safetensors") == read_text(whole / "checkpoint.safetensors"));
    CHECK(read_text(parts / "optimizer.safetensors") == read_text(whole / "optimizer.safetensors"));
}
