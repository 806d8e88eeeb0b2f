// The settings table (detector/train_config.h): every setting survives config.json, and each
// range check names the flag and the value.
#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <type_traits>

#include "detector/trainer.h"

using namespace focal;
using namespace focal::detector;

namespace {

// A value unlike the default, for each kind of setting.
template <class T>
T changed(const T& value) {
    if constexpr (std::is_same_v<T, bool>) return !value;
    else if constexpr (std::is_floating_point_v<T>) return value == 0.25f ? 0.5f : 0.25f;
    else if constexpr (std::is_arithmetic_v<T>) return value + 3;
    else if constexpr (std::is_same_v<T, std::string>) return value + "-changed";
    else if constexpr (std::is_same_v<T, ParamMap>) return ParamMap{{"gamma", 1.5f}};
    else if constexpr (std::is_same_v<T, EpochList>) return EpochList{2, 5};
    else return nlohmann::json{{"head_norm_groups", 8}};
}

}  // namespace

TEST_CASE("every training setting survives config.json, and none is missing from the table's rows") {
    const TrainConfig defaults;
    TrainConfig c;
    int settings = 0;
#define FOCAL_CHANGE(type, name, value, flag, rule, help) c.name = changed(c.name), ++settings;
    FOCAL_TRAIN_SETTINGS(FOCAL_CHANGE)
#undef FOCAL_CHANGE
    const nlohmann::json j = to_json(c);
    CHECK(static_cast<int>(j.size()) == settings);
    CHECK(static_cast<int>(train_settings().size()) == settings);
    const TrainConfig back = train_config_from_json(nlohmann::json::parse(j.dump()));
#define FOCAL_COMPARE(type, name, value, flag, rule, help) \
    CHECK_MESSAGE(back.name == c.name, #name);             \
    CHECK_MESSAGE(!(back.name == defaults.name), #name " kept its default");
    FOCAL_TRAIN_SETTINGS(FOCAL_COMPARE)
#undef FOCAL_COMPARE
    // An older config.json without some keys keeps their defaults; an unknown key fails.
    CHECK(train_config_from_json({{"lr", 0.5}}).epochs == defaults.epochs);
    CHECK_THROWS_WITH_AS(train_config_from_json({{"learning_rate", 0.5}}),
                         doctest::Contains("unknown training setting 'learning_rate'"), Error);
}

TEST_CASE("range checks name the flag, the rule in words and the value") {
    TrainConfig c;
    c.data = "somewhere";
    CHECK_NOTHROW(c.validate());
    c.lr = -1;
    CHECK_THROWS_WITH_AS(c.validate(), "[train] --lr must be > 0, got -1", Error);
    c.lr = NAN;
    CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("--lr must be > 0, got nan"), Error);
    c.lr = 0.01f;
    c.crop_probability = 1.5f;
    CHECK_THROWS_WITH_AS(c.validate(), "[train] --crop-probability must be in [0, 1], got 1.5", Error);
    c.crop_probability = 0.5f;
    c.prior = 1;
    CHECK_THROWS_WITH_AS(c.validate(), "[train] --prior must be in (0, 1), got 1", Error);
    c.prior = 0.01f;
    c.min_zoom = 2, c.max_zoom = 1;
    CHECK_THROWS_WITH_AS(c.validate(), doctest::Contains("--zoom MIN MAX needs MIN <= MAX"), Error);
    c.min_zoom = 0.5f, c.max_zoom = 2;
    c.data = "";
    CHECK_THROWS_WITH_AS(c.validate(), "[train] --data must not be empty", Error);
}

TEST_CASE("optimizers by name, as losses are") {
    CHECK(optimizer_registry().size() >= 2);
    Tensor w = Tensor::zeros({2}).requires_grad_();
    CHECK(make_optimizer("adamw", {{"w", w}}, {}) != nullptr);
    CHECK_THROWS_WITH_AS(make_optimizer("adam", {{"w", w}}, {}), "[optim] unknown optimizer 'adam'; known: sgd, adamw",
                         Error);
}

TEST_CASE("config.json values of the wrong type or range are Errors naming the setting, not undefined casts") {
    using nlohmann::json;
    const std::vector<std::pair<json, std::string>> bad = {
        {{{"epochs", 1e300}}, "training setting 'epochs' must be an integer"},
        {{{"epochs", 2.5}}, "training setting 'epochs' must be an integer"},
        {{{"seed", -1}}, "training setting 'seed' must be an integer in [0, 18446744073709551615], got -1"},
        {{{"threads", 2147483648LL}}, "must be an integer in [-2147483648, 2147483647]"},
        {{{"lr", 1e300}}, "training setting 'lr' must be a finite number"},
        {{{"lr", "fast"}}, "must be a finite number, got \"fast\""},
        {{{"augment", 1}}, "training setting 'augment' must be true or false"},
        {{{"snapshot_epochs", {1, 1e20}}}, "training setting 'snapshot_epochs'[1] must be an integer"},
        {{{"cls_params", {{"gamma", "two"}}}}, "training setting 'cls_params'.gamma must be a finite number"},
        {json::array({1, 2}), "must be a JSON object, got an array"},
    };
    for (const auto& [j, message] : bad) {
        const std::string text = j.dump();  // clang 14 cannot capture a structured binding
        CAPTURE(text);
        CHECK_THROWS_WITH_AS(train_config_from_json(j), doctest::Contains(message.c_str()), Error);
    }
    // A deeply nested model patch is refused before anything copies or merges it (both recurse).
    std::string deep(100000, '[');
    deep += std::string(100000, ']');
    json j = json::object();
    j["model"] = json::parse(deep);
    CHECK_THROWS_WITH_AS(train_config_from_json(j), doctest::Contains("nests deeper than 32 levels"), Error);
    TrainConfig c;
    c.model = json::object();
    c.model["anchors"] = json::parse(deep);  // as a --model patch (cmd_train merges without copying)
    CHECK_THROWS_WITH_AS(model_config_for(c, 5, false), doctest::Contains("nests deeper than 32 levels"), Error);
}

TEST_CASE("a model configuration with a missing or mistyped key is an Error naming it") {
    using nlohmann::json;
    json m = to_json(retinanet_preset("tiny", 3));
    CHECK(to_json(retinanet_config_from_json(m)) == m);
    json missing = m;
    missing["anchors"].erase("scales");
    CHECK_THROWS_WITH_AS(retinanet_config_from_json(missing),
                         doctest::Contains("model setting 'anchors.scales' is missing"), Error);
    json wrong = m;
    wrong["fpn"]["channels"] = 1e300;
    CHECK_THROWS_WITH_AS(retinanet_config_from_json(wrong),
                         doctest::Contains("model setting 'fpn.channels' must be an integer"), Error);
    CHECK_THROWS_WITH_AS(retinanet_config_from_json(json::array()), doctest::Contains("must be an object"), Error);
}
