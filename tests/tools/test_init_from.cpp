// `focal train --init-from RUN`: a new run starts from a trained run's weights; another class
// list re-initialises only the classification head's last layer, and says so; a run of
// another model, or no run at all, is one error line and leaves no folder behind.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>

#include "engine/serialize.h"
#include "run_focal.h"

namespace fs = std::filesystem;

namespace {

const fs::path kWork = fs::path(FOCAL_BINARY_DIR) / "test_init_from";

int run_focal(const std::string& args, std::string& output) {
    return focal::test::run_focal(args, output, kWork / "log.txt");
}

// One short run on the shapes set in `out`, with extra flags; its output.
std::string train(const fs::path& data, const fs::path& out, const std::string& extra) {
    std::string output;
    fs::remove_all(out);
    const std::string args = "train --data " + data.string() + " --out " + out.string() +
                             " --epochs 1 --batch 4 --max-iters 2 --eval-every 0 --workers 1 --threads 1 --quiet " +
                             extra;
    REQUIRE_MESSAGE(run_focal(args, output) == 0, output);
    return output;
}

// The shapes set every case trains on, made once.
fs::path shapes_set() {
    fs::create_directories(kWork);
    const fs::path data = kWork / "shapes";
    std::string output;
    if (!fs::exists(data / "classes.txt"))
        REQUIRE(run_focal("make-shapes --out " + data.string() + " --images 16 --size 64", output) == 0);
    return data;
}

focal::Tensor tensor(const fs::path& run, const std::string& name) {
    return focal::load_safetensors((run / "checkpoint.safetensors").string()).at(name);
}

bool same(const focal::Tensor& a, const focal::Tensor& b) {
    return a.shape() == b.shape() && a.to_vector<float>() == b.to_vector<float>();
}

}  // namespace

TEST_CASE("--init-from loads a run's weights; other classes re-initialise the class layer only") {
    const fs::path data = shapes_set();
    std::string output;
    const fs::path a = kWork / "a", b = kWork / "b", c = kWork / "c";
    train(data, a, "--image-size 64");

    // Same classes, a learning rate too small to move a weight: every tensor is A's.
    output = train(data, b, "--image-size 64 --lr 1e-30 --weight-decay 0 --init-from " + a.string());
    CHECK(output.find("initialised from " + (a / "checkpoint.safetensors").string()) != std::string::npos);
    CHECK(output.find("re-initialised") == std::string::npos);
    for (const std::string name : {"backbone.stem.0.weight", "fpn.output.0.weight", "head.cls_score.weight",
                                   "head.cls_score.bias", "head.box_pred.weight"}) {
        CAPTURE(name);
        CHECK(same(tensor(b, name), tensor(a, name)));
    }

    // A sixth class: the class layer changes shape and is re-initialised (N(0, 0.01), prior
    // bias); the rest comes from A. The same five classes in another order: same shape, but
    // A's class layer would score the wrong classes, so it is re-initialised too.
    const fs::path d = kWork / "d";
    const std::string lists[2] = {"circle,square,triangle,star,cross,hexagon", "cross,star,triangle,square,circle"};
    for (const fs::path& run : {c, d}) {
        CAPTURE(run);
        output = train(data, run,
                       "--image-size 64 --lr 1e-30 --weight-decay 0 --classes " + lists[run == d] + " --init-from " +
                           a.string());
        CHECK(output.find("re-initialised (other classes): head.cls_score.weight, head.cls_score.bias") !=
              std::string::npos);
        CHECK(same(tensor(run, "backbone.stem.0.weight"), tensor(a, "backbone.stem.0.weight")));
        CHECK(same(tensor(run, "head.box_pred.weight"), tensor(a, "head.box_pred.weight")));
        CHECK(!same(tensor(run, "head.cls_score.weight"), tensor(a, "head.cls_score.weight")));
        const focal::Tensor bias = tensor(run, "head.cls_score.bias");
        CHECK(bias.to_vector<float>().front() == doctest::Approx(-std::log((1 - 0.01) / 0.01)).epsilon(1e-5));
    }
    CHECK(tensor(c, "head.cls_score.bias").numel() > tensor(a, "head.cls_score.bias").numel());
}

TEST_CASE("--init-from a missing run or another model: one error line naming it, and no run folder") {
    const fs::path data = shapes_set();
    std::string output;
    const fs::path out = kWork / "refused", demo = kWork / "a";
    fs::remove_all(out);
    const std::string base = "train --data " + data.string() + " --out " + out.string() + " --image-size 64 ";
    CHECK(run_focal(base + "--init-from " + (kWork / "nowhere").string(), output) == 1);
    CHECK(output.find("nowhere/checkpoint.safetensors does not exist") != std::string::npos);
    CHECK(!fs::exists(out));

    if (!fs::exists(demo / "checkpoint.safetensors")) train(data, demo, "--image-size 64");
    CHECK(run_focal(base + "--preset tiny --init-from " + demo.string(), output) == 1);
    CAPTURE(output);
    CHECK(output.find("--init-from") != std::string::npos);
    CHECK(output.find("(was it trained with another --preset or --model?)") != std::string::npos);
    CHECK(std::count(output.begin(), output.end(), '\n') == 1);
    CHECK(!fs::exists(out));
}
