// focal's losses against PyTorch / torchvision, values and gradients, from the numbers in
// tests/losses/golden_losses.json. They were made (in float64, on float32 inputs) by
//     /usr/bin/python3 tests/losses/make_golden.py
// which quotes the reference of each loss. Tolerance: 1e-5 relative, plus 1e-7 absolute for
// values that float32 cannot resolve further (e.g. e^-100 where the reference keeps it).
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "losses/losses.h"

using namespace focal;
using namespace focal::losses;
using json = nlohmann::json;

namespace {

constexpr double kRtol = 1e-5, kAtol = 1e-7;

const json& golden() {
    static const json data = [] {
        std::ifstream in(FOCAL_SOURCE_DIR "/tests/losses/golden_losses.json");
        REQUIRE_MESSAGE(in.good(), "cannot read tests/losses/golden_losses.json");
        return json::parse(in);
    }();
    return data;
}

Tensor input_tensor(const json& t) {
    Shape shape = t["shape"].get<Shape>();
    if (t["dtype"] == "int32") return Tensor::from_vector(t["data"].get<std::vector<int32_t>>(), shape);
    return Tensor::from_vector(t["data"].get<std::vector<float>>(), shape);
}

struct Case {
    std::map<std::string, Tensor> in;
    json params;
    Reduction reduction;
    float p(const char* key) const { return params[key].get<float>(); }
    SoftmaxOptions softmax() const {
        SoftmaxOptions opt;
        opt.ignore_index = int32_t(p("ignore_index"));
        if (!params["class_weight"].is_null()) opt.class_weight = params["class_weight"].get<std::vector<float>>();
        return opt;
    }
};

using Impl = std::function<Tensor(const Case&)>;

// Every focal implementation of each reference function in the golden file.
const std::map<std::string, std::vector<std::pair<std::string, Impl>>>& implementations() {
    // One row per implementation reads best as a table:
    // clang-format off
    static const std::map<std::string, std::vector<std::pair<std::string, Impl>>> table = {
        {"sigmoid_focal",
         {{"composed", [](const Case& c) { return sigmoid_focal_loss(c.in.at("logits"), c.in.at("targets"), c.p("alpha"), c.p("gamma"), c.reduction); }},
          {"fused", [](const Case& c) { return sigmoid_focal_loss_fused(c.in.at("logits"), c.in.at("targets"), c.p("alpha"), c.p("gamma"), c.reduction); }}}},
        {"bce", {{"bce", [](const Case& c) { return binary_cross_entropy_with_logits(c.in.at("logits"), c.in.at("targets"), c.p("alpha"), c.reduction); }}}},
        {"fl_star", {{"fl_star", [](const Case& c) { return fl_star_loss(c.in.at("logits"), c.in.at("targets"), c.p("gamma"), c.p("beta"), c.p("alpha"), c.reduction); }}}},
        {"qfl", {{"qfl", [](const Case& c) { return quality_focal_loss(c.in.at("logits"), c.in.at("targets"), c.p("beta"), c.reduction); }}}},
        {"varifocal", {{"varifocal", [](const Case& c) { return varifocal_loss(c.in.at("logits"), c.in.at("targets"), c.p("alpha"), c.p("gamma"), c.reduction); }}}},
        {"poly_focal", {{"poly_focal", [](const Case& c) { return poly1_focal_loss(c.in.at("logits"), c.in.at("targets"), c.p("epsilon"), c.p("alpha"), c.p("gamma"), c.reduction); }}}},
        {"ce", {{"ce", [](const Case& c) { return softmax_cross_entropy(c.in.at("logits"), c.in.at("labels"), c.softmax(), c.reduction); }}}},
        {"softmax_focal", {{"softmax_focal", [](const Case& c) { return softmax_focal_loss(c.in.at("logits"), c.in.at("labels"), c.p("gamma"), c.softmax(), c.reduction); }}}},
        {"smooth_l1", {{"smooth_l1", [](const Case& c) { return smooth_l1_loss(c.in.at("pred"), c.in.at("target"), c.p("beta"), c.reduction); }}}},
        {"l1", {{"l1", [](const Case& c) { return l1_loss(c.in.at("pred"), c.in.at("target"), c.reduction); }}}},
        {"giou", {{"giou", [](const Case& c) { return giou_loss(c.in.at("pred"), c.in.at("target"), c.reduction, c.p("eps")); }}}},
        // the detector's contract, through the registry (losses/loss.h)
        {"dense_focal",
         {{"registry focal", [](const Case& c) { return make_cls_loss("focal", {{"alpha", c.p("alpha")}, {"gamma", c.p("gamma")}})({c.in.at("logits"), c.in.at("labels"), c.in.at("valid"), c.p("normalizer"), c.reduction}); }},
          {"registry focal_composed", [](const Case& c) { return make_cls_loss("focal_composed", {{"alpha", c.p("alpha")}, {"gamma", c.p("gamma")}})({c.in.at("logits"), c.in.at("labels"), c.in.at("valid"), c.p("normalizer"), c.reduction}); }}}},
        {"dense_ce", {{"registry ce", [](const Case& c) { return make_cls_loss("ce", {{"alpha", c.p("alpha")}})({c.in.at("logits"), c.in.at("labels"), c.in.at("valid"), c.p("normalizer"), c.reduction}); }}}},
        {"dense_smooth_l1", {{"registry smooth_l1", [](const Case& c) { return make_box_loss("smooth_l1", {{"beta", c.p("beta")}})({c.in.at("pred"), c.in.at("target"), c.in.at("weight"), c.p("normalizer"), c.reduction}); }}}},
    };
    // clang-format on
    return table;
}

bool close(double ours, double ref) { return std::abs(ours - ref) <= kAtol + kRtol * std::abs(ref); }

// Compares one implementation on one case; returns the number of mismatching numbers.
int compare(const std::string& label, const json& c, const Impl& impl) {
    Case k;
    std::string first;
    for (const auto& [name, index] : c["inputs"].items()) {
        k.in[name] = input_tensor(golden()["tensors"][index.get<size_t>()]);
        if (first.empty() || name == "logits" || name == "pred") first = name;  // the reference's gradient input
    }
    k.in[first].requires_grad_();
    k.params = c["params"];
    k.reduction = parse_reduction(c["reduction"]);
    Tensor value = impl(k);
    REQUIRE(value.shape() == c["value"]["shape"].get<Shape>());
    sum(value).backward();

    int bad = 0;
    auto report = [&](const std::string& what, size_t i, double ours, const json& ref) {
        if (bad++ < 3) MESSAGE(label << ": " << what << "[" << i << "] = " << ours << ", reference " << ref.dump());
    };
    std::vector<float> v = value.to_vector<float>();
    for (size_t i = 0; i < v.size(); ++i)
        if (!close(v[i], c["value"]["data"][i].get<double>())) report("value", i, v[i], c["value"]["data"][i]);
    std::vector<float> g = k.in[first].grad().to_vector<float>();
    REQUIRE(g.size() == c["grad"].size());
    for (size_t i = 0; i < g.size(); ++i) {
        const json& ref = c["grad"][i];
        // null: torch's own gradient is nan there (pow at 0 for gamma < 1); ours must be finite
        if (ref.is_null() ? !std::isfinite(g[i]) : !close(g[i], ref.get<double>())) report("grad", i, g[i], ref);
    }
    return bad;
}

}  // namespace

TEST_CASE("golden: every loss matches PyTorch / torchvision, values and gradients") {
    const json& cases = golden()["cases"];
    REQUIRE(cases.size() > 100);
    std::map<std::string, int> compared;
    for (const json& c : cases) {
        const std::string fn = c["fn"];
        REQUIRE_MESSAGE(implementations().count(fn), "no focal implementation for golden function " << fn);
        for (const auto& [impl_name, impl] : implementations().at(fn)) {
            const std::string label = c["name"].get<std::string>() + " [" + impl_name + "]";
            CHECK_MESSAGE(compare(label, c, impl) == 0, label);
            ++compared[fn];
        }
    }
    for (const auto& entry : implementations())
        CHECK_MESSAGE(compared[entry.first] > 0, "no golden case for " << entry.first);
}

TEST_CASE("golden: torch's gradient is nan in exactly the expected places (focal's is finite there)") {
    // the two elements where torchvision's gradient is nan (gamma 0.5, p_t = 1 in float64)
    int nulls = 0;
    for (const json& c : golden()["cases"])
        for (const json& g : c["grad"]) nulls += g.is_null();
    CHECK(nulls == 6);  // 2 elements x 3 reductions, all in "sigmoid_focal hard a=0.5 g=0.5"
}

TEST_CASE("golden: mmcv's sigmoid focal loss case") {
    // mmcv tests/test_ops/test_focal_loss.py: x = [[1, 0], [0, 1]], labels [0, 1], gamma 2,
    // alpha .25, loss summed and divided by the 2 rows -> 0.13562961 (CONTRIBUTING.md, "Tests a change needs")
    Tensor x = Tensor::from_vector(std::vector<float>{1, 0, 0, 1}, {2, 2});
    Tensor labels = Tensor::from_vector(std::vector<int32_t>{0, 1}, {2});
    for (const char* name : {"focal", "focal_composed"}) {
        Tensor loss = make_cls_loss(name)({x, labels, {}, 2.0f, Reduction::Sum});
        CHECK(loss.item() == doctest::Approx(0.13562961).epsilon(1e-6));
    }
}
