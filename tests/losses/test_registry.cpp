// The registry: every built-in loss is there, passes the shared checks (loss_checks.h),
// and bad names, parameters and values fail with messages a user can act on.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "loss_checks.h"

using namespace focal;
using namespace focal::losses;
using focal::testing::check_box_loss;
using focal::testing::check_cls_loss;

TEST_CASE("registry: the built-in losses, each registered from its own file") {
    const std::vector<std::string> cls = loss_names(LossKind::Classification), box = loss_names(LossKind::Box);
    for (const char* name : {"asl", "bce", "ce", "fl_star", "focal", "focal_composed", "ohem", "poly_focal", "qfl",
                             "softmax_focal", "varifocal"})
        CHECK_MESSAGE(std::count(cls.begin(), cls.end(), name) == 1, name);
    for (const char* name : {"giou", "l1", "smooth_l1"})
        CHECK_MESSAGE(std::count(box.begin(), box.end(), name) == 1, name);
    for (const LossInfo& info : registered_losses()) {
        CHECK_FALSE(info.summary.empty());
        CHECK_FALSE(info.reference.empty());
        for (const ParamSpec& p : info.params) CHECK_FALSE(p.help.empty());
    }
    const LossInfo focal = find_loss("focal", LossKind::Classification);
    CHECK(format_params(default_params(focal)) == "alpha=0.25 gamma=2");
    CHECK(make_cls_loss("ce").logits_per_anchor(20) == 21);
    CHECK(make_cls_loss("focal").logits_per_anchor(20) == 20);
    CHECK(make_box_loss("giou").decoded());
    CHECK_FALSE(make_box_loss("smooth_l1").decoded());
}

TEST_CASE("registry: every classification loss passes the shared checks") {
    for (const std::string& name : loss_names(LossKind::Classification)) {
        CAPTURE(name);
        check_cls_loss(name);
    }
    check_cls_loss("focal", {{"gamma", 0.5f}, {"alpha", -1.0f}});
    check_cls_loss("ohem", {{"ratio", 1.0f}, {"min_negatives", 2.0f}});
    check_cls_loss("poly_focal", {{"epsilon", -1.0f}}, {.non_negative = false});
    check_cls_loss("softmax_focal", {{"alpha", 0.25f}, {"gamma", 0.5f}});
}

TEST_CASE("registry: every box loss passes the shared checks") {
    for (const std::string& name : loss_names(LossKind::Box)) {
        CAPTURE(name);
        check_box_loss(name);
    }
    check_box_loss("smooth_l1", {{"beta", 0.0f}});
}

TEST_CASE("registry: unknown names and parameters are named, with what is known") {
    // every registered name, in order: built from the registry, so that a new loss file
    // (docs/learn/06-adding-a-loss.md) needs no edit here
    std::string known;
    for (const std::string& name : loss_names(LossKind::Classification)) known += (known.empty() ? "" : ", ") + name;
    CHECK_THROWS_WITH_AS(make_cls_loss("focl"),
                         doctest::Contains(("unknown classification loss 'focl'; known: " + known).c_str()), Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("focal", {{"gama", 2}}),
                         "[losses] focal has no parameter 'gama'; its parameters: alpha, gamma", Error);
    CHECK_THROWS_WITH_AS(make_box_loss("l1", {{"beta", 1}}),
                         "[losses] l1 has no parameter 'beta'; its parameters: none", Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("giou"), "[losses] giou is a box loss, not a classification loss", Error);
    CHECK_THROWS_WITH_AS(make_box_loss("focal"), doctest::Contains("focal is a classification loss"), Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("focal", {{"gamma", -2}}), "[focal] gamma must be >= 0, got -2", Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("focal", {{"alpha", 2}}), doctest::Contains("[focal] alpha must be in [0, 1]"),
                         Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("fl_star", {{"gamma", 0}}), doctest::Contains("[fl_star] gamma must be > 0"),
                         Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("ohem", {{"min_negatives", 1.5f}}), doctest::Contains("whole number"), Error);
    CHECK_THROWS_WITH_AS(make_box_loss("smooth_l1", {{"beta", -1}}), doctest::Contains("[smooth_l1] beta"), Error);
    CHECK_THROWS_WITH_AS(make_cls_loss("focal", {{"gamma", INFINITY}}), doctest::Contains("must be finite"), Error);
}

TEST_CASE("registry: key=value parameters from a command line") {
    auto params = parse_loss_params({"gamma=2", "alpha=0.25", "beta=-1e-3"});
    CHECK(params.size() == 3);
    CHECK(params["gamma"] == 2.0f);
    CHECK(params["beta"] == -1e-3f);
    CHECK(make_cls_loss("focal", parse_loss_params({"gamma=1"})).name() == "focal");
    CHECK_THROWS_WITH_AS(parse_loss_params({"gamma"}), doctest::Contains("'gamma' is not key=value"), Error);
    CHECK_THROWS_WITH_AS(parse_loss_params({"=2"}), doctest::Contains("has no name"), Error);
    CHECK_THROWS_WITH_AS(parse_loss_params({"gamma=two"}), "[losses] loss parameter gamma='two' is not a finite number",
                         Error);
    CHECK_THROWS_WITH_AS(parse_loss_params({"gamma=2x"}), doctest::Contains("not a finite number"), Error);
    CHECK_THROWS_WITH_AS(parse_loss_params({"gamma="}), doctest::Contains("not a finite number"), Error);
    CHECK_THROWS_WITH_AS(parse_loss_params({"gamma=nan"}), doctest::Contains("not a finite number"), Error);
    CHECK_THROWS_WITH_AS(parse_loss_params({"gamma=1e99"}), doctest::Contains("not a finite number"), Error);
    CHECK_THROWS_WITH_AS(parse_loss_params({"gamma=1", "gamma=2"}), doctest::Contains("given twice"), Error);
}

TEST_CASE("registry: `focal losses` lists what the library registered (whole-archive link)") {
    // The focal binary links focal_losses like any user: a loss only reachable through the
    // registry must still be there. Runs when the binary is built beside the tests.
    const std::filesystem::path focal = std::filesystem::path(FOCAL_BINARY_DIR) / "focal";
    if (!std::filesystem::exists(focal)) {
        MESSAGE("skipped: " << focal << " is not built");
        return;
    }
    FILE* pipe = popen((focal.string() + " losses --json 2>&1").c_str(), "r");
    REQUIRE(pipe != nullptr);
    std::string out;
    char buffer[4096];
    while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
    CHECK(pclose(pipe) == 0);
    for (const LossInfo& info : registered_losses())
        CHECK_MESSAGE(out.find("\"" + info.name + "\"") != std::string::npos, info.name);
}
