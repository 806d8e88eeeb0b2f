// The COCO metric (detector/coco_metric.h) against an independent Python implementation of
// pycocotools' rules (tests/detector/coco_eval_reference.py), whose answers on hand-made and
// random cases are committed in coco_eval_golden.json; plus a few answers known by hand.
#include <doctest/doctest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "detector/coco_metric.h"
#include "engine/error.h"

using namespace focal::detector;
using nlohmann::json;

namespace {

CocoMetrics score(const json& c) {
    CocoEvaluator ev(c.at("classes").get<int>());
    for (const json& im : c.at("images")) {
        std::vector<CocoTruth> truth;
        std::vector<Detection> dets;
        for (const json& g : im.at("gt"))
            truth.push_back({{g[0].get<float>(), g[1].get<float>(), g[2].get<float>(), g[3].get<float>()},
                             g[4].get<int>(),
                             g[5].get<int>() != 0,
                             g[6].get<double>()});
        for (const json& d : im.at("dt"))
            dets.push_back({{d[0].get<float>(), d[1].get<float>(), d[2].get<float>(), d[3].get<float>()},
                            d[4].get<int>(),
                            d[5].get<float>()});
        ev.add_image(truth, dets);
    }
    return ev.compute();
}

std::vector<double> stats(const CocoMetrics& m) {
    return {m.ap,  m.ap50, m.ap75,  m.ap_small, m.ap_medium, m.ap_large,
            m.ar1, m.ar10, m.ar100, m.ar_small, m.ar_medium, m.ar_large};
}

}  // namespace

TEST_CASE("COCO AP and AR equal the Python reference on every golden case, to 1e-12") {
    std::ifstream in(FOCAL_SOURCE_DIR "/tests/detector/coco_eval_golden.json");
    REQUIRE(in.good());
    const json golden = json::parse(in);
    REQUIRE(golden.at("cases").size() >= 10);
    for (const json& c : golden.at("cases")) {
        CAPTURE(c.at("name").get<std::string>());
        const CocoMetrics m = score(c);
        const std::vector<double> ours = stats(m), theirs = c.at("stats").get<std::vector<double>>();
        for (std::size_t i = 0; i < ours.size(); ++i) {
            CAPTURE(i);
            CHECK(std::abs(ours[i] - theirs[i]) < 1e-12);
        }
        const std::vector<double> per_class = c.at("per_class_ap").get<std::vector<double>>();
        REQUIRE(m.per_class_ap.size() == per_class.size());
        for (std::size_t k = 0; k < per_class.size(); ++k) CHECK(std::abs(m.per_class_ap[k] - per_class[k]) < 1e-12);
    }
}

TEST_CASE("COCO: answers known by hand") {
    CocoEvaluator ev(2);
    // One object found exactly: AP 1 at every threshold; class 1 has no ground truth: left out.
    ev.add_image({{{10, 10, 50, 50}, 0}}, {{{10, 10, 50, 50}, 0, 0.9f}, {{0, 0, 5, 5}, 1, 0.8f}});
    CocoMetrics m = ev.compute();
    CHECK(m.ap == doctest::Approx(1.0));  // precision is tp / (tp + fp + eps), as in pycocotools
    CHECK(m.ar1 == 1.0);
    CHECK(m.per_class_ap[1] == -1.0);
    CHECK(m.ap_small == -1.0);  // 40 x 40 = 1600 px: medium
    CHECK(m.ap_medium == doctest::Approx(1.0));
    CHECK_THROWS_WITH_AS(ev.add_image({{{0, 0, 1, 1}, 2}}, {}), doctest::Contains("label 2 is outside 0..1"),
                         focal::Error);
    CHECK_THROWS_WITH_AS(ev.add_image({}, {{{0, 0, 1, 1}, 0, NAN}}), doctest::Contains("not finite"), focal::Error);
}

TEST_CASE("COCO results entries: [x, y, w, h], category ids by label") {
    const json r = coco_results(42, {{{1.5f, 2, 11.5f, 22}, 1, 0.25f}}, {3, 9});
    REQUIRE(r.size() == 1);
    CHECK(r[0].at("image_id") == 42);
    CHECK(r[0].at("category_id") == 9);
    CHECK(r[0].at("bbox") == json::array({1.5, 2.0, 10.0, 20.0}));
    CHECK(r[0].at("score").get<double>() == 0.25);
}
