// --ema (detector/weight_average.h): the average follows its formula, survives a checkpoint,
// is what a run evaluates and saves, and --resume continues it bit for bit.
#include <doctest/doctest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "detector/evaluate.h"
#include "detector/trainer.h"
#include "detector/weight_average.h"
#include "layers/layers.h"
#include "small_run.h"

using namespace focal;
using namespace focal::detector;
namespace fs = std::filesystem;

namespace {

// A linear layer and a batch norm: parameters and running statistics.
struct Small : Module {
    explicit Small(Generator& gen)
        : linear(std::make_shared<Linear>(3, 2, gen)), norm(std::make_shared<BatchNorm2d>(2)) {
        register_module("linear", linear);
        register_module("norm", norm);
    }
    std::shared_ptr<Linear> linear;
    std::shared_ptr<BatchNorm2d> norm;
};

std::vector<float> values(const Tensor& t) { return t.to_vector<float>(); }

}  // namespace

TEST_CASE("the average follows d_t = decay (1 - exp(-t / ramp)), for parameters and running statistics") {
    Generator gen(4);
    Small model(gen);
    const std::vector<float> w0 = values(model.linear->weight);
    WeightAverage ema(model, 0.9f, 3);
    CHECK(ema.decay_at(0) == 0.0f);
    CHECK(ema.decay_at(3) == doctest::Approx(0.9 * (1 - std::exp(-1.0))).epsilon(1e-6));
    CHECK(ema.decay_at(1000) == doctest::Approx(0.9).epsilon(1e-6));

    // Two "steps": the weights and a running mean move; the average is checked in double.
    std::vector<double> expected_w(w0.begin(), w0.end()), expected_mean(2, 0.0);
    NoGradGuard no_grad;  // moving the weights by hand, as an optimizer does
    for (int step = 1; step <= 2; ++step) {
        model.linear->weight.add_(Tensor::full(model.linear->weight.shape(), 0.5f));
        model.norm->running_mean.add_(Tensor::full({2}, 1.0f));
        ema.update(model, step);
        const double d = 0.9 * (1 - std::exp(-step / 3.0));
        const std::vector<float> w = values(model.linear->weight), m = values(model.norm->running_mean);
        for (size_t i = 0; i < w.size(); ++i) expected_w[i] = d * expected_w[i] + (1 - d) * w[i];
        for (size_t i = 0; i < m.size(); ++i) expected_mean[i] = d * expected_mean[i] + (1 - d) * m[i];
    }
    const NamedTensors& avg = ema.state();
    REQUIRE(avg.size() == model.state().size());
    const auto find = [&](const std::string& name) {
        for (const auto& [n, t] : avg)
            if (n == name) return values(t);
        FAIL("no " << name);
        return std::vector<float>{};
    };
    const std::vector<float> w = find("linear.weight"), m = find("norm.running_mean");
    for (size_t i = 0; i < w.size(); ++i) CHECK(w[i] == doctest::Approx(expected_w[i]).epsilon(1e-6));
    for (size_t i = 0; i < m.size(); ++i) CHECK(m[i] == doctest::Approx(expected_mean[i]).epsilon(1e-6));
    // It lags the weights: strictly between where they started and where they are.
    const std::vector<float> now = values(model.linear->weight);
    for (size_t i = 0; i < w.size(); ++i) {
        CHECK(w[i] > w0[i]);
        CHECK(w[i] < now[i]);
    }
}

TEST_CASE("bad settings and a checkpoint without the average fail, naming what is wrong") {
    Generator gen(4);
    Small model(gen);
    CHECK_THROWS_WITH_AS(WeightAverage(model, 1.0f, 10), doctest::Contains("[0, 1)"), Error);
    CHECK_THROWS_WITH_AS(WeightAverage(model, 0.5f, 0), doctest::Contains("ramp"), Error);
    WeightAverage ema(model, 0.5f, 10);
    WeightAverage other(model, 0.5f, 10);
    NoGradGuard no_grad;
    model.linear->weight.add_(Tensor::full(model.linear->weight.shape(), 1.0f));
    ema.update(model, 5);
    other.load_checkpoint_state(ema.checkpoint_state(), "test");
    for (size_t i = 0; i < ema.state().size(); ++i)
        CHECK(values(other.state()[i].second) == values(ema.state()[i].second));
    NamedTensors missing = ema.checkpoint_state();
    missing.pop_back();
    CHECK_THROWS_WITH_AS(other.load_checkpoint_state(missing, "opt.safetensors"),
                         doctest::Contains("opt.safetensors holds no 'ema.norm."), Error);
}

TEST_CASE("SwappedWeights puts the average in for its scope and the model's own weights back") {
    Generator gen(4);
    Small model(gen);
    const std::vector<float> own = values(model.linear->weight);
    WeightAverage ema(model, 0.5f, 1);
    NoGradGuard no_grad;
    model.linear->weight.add_(Tensor::full(model.linear->weight.shape(), 1.0f));
    ema.update(model, 1);
    const std::vector<float> moved = values(model.linear->weight);
    try {
        SwappedWeights swapped(model, ema.state());
        CHECK(values(model.linear->weight) == values(ema.state()[0].second));
        CHECK(values(model.linear->weight) != moved);
        throw std::runtime_error("an evaluation that fails");
    } catch (const std::runtime_error&) {}
    CHECK(values(model.linear->weight) == moved);
    CHECK(moved != own);
}

namespace {
// small_config with AdamW and a fast-ramping average.
TrainConfig ema_config(const fs::path& out) {
    TrainConfig c = test::small_config(out.string());
    c.log_every = 10;
    c.optimizer = "adamw";
    c.lr = 0.003f;
    c.ema = 0.9f;
    c.ema_ramp = 4;
    return c;
}
}  // namespace

TEST_CASE("a run with --ema evaluates and saves the average; --weights last loads it") {
    const fs::path out = test::run_dir("ema");
    const TrainConfig c = ema_config(out);
    train(c);
    REQUIRE(fs::exists(out / "ema.safetensors"));
    CHECK(test::file_bytes(out / "ema.safetensors") != test::file_bytes(out / "checkpoint.safetensors"));
    CHECK(run_weights_file(out.string(), "last") == (out / "ema.safetensors").string());
    // metrics.json (the last epoch's evaluation) is the average's: the loaded "last" model,
    // evaluated again, gives the same mAP.
    const nlohmann::json metrics = nlohmann::json::parse(std::ifstream(out / "metrics.json"));
    LoadedRun loaded = load_run(out.string(), "last");
    EvalOptions eo;
    eo.data = c.data, eo.split = c.val_split, eo.batch = c.batch, eo.workers = 1;
    const EvalResult again = evaluate(*loaded.model, loaded.class_names, eo);
    CHECK(again.metrics.map_11point == doctest::Approx(metrics["map50_voc07"].get<double>()).epsilon(1e-9));
    fs::remove_all(out);
}

TEST_CASE("--resume continues the average bit for bit") {
    const fs::path whole = test::run_dir("ema_whole"), parts = test::run_dir("ema_parts");
    TrainConfig c = ema_config(whole);
    c.val_split = "";
    c.epochs = 3;
    c.schedule = "constant";  // the run cut after epoch 1 must see the same learning rates
    c.warmup_iters = 0;
    train(c);
    TrainConfig first = c;
    first.out = parts.string();
    first.epochs = 1;
    train(first);
    TrainConfig rest = c;
    rest.out = parts.string();
    rest.resume = true;
    train(rest);
    CHECK(test::file_bytes(parts / "ema.safetensors") == test::file_bytes(whole / "ema.safetensors"));
    CHECK(test::file_bytes(parts / "checkpoint.safetensors") == test::file_bytes(whole / "checkpoint.safetensors"));
    fs::remove_all(whole);
    fs::remove_all(parts);
}
