// VOC mAP: hand-made cases with known answers, and agreement with an independent Python
// re-implementation of the devkit (voc_eval_reference.py) on random detections over the
// VOC 2007 sample, whose inputs and answers are committed in voc_eval_golden.json.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>

#include <nlohmann/json.hpp>

#include "detector/voc_metric.h"
#include "engine/error.h"
#include "voc_test_boxes.h"

using namespace focal::detector;

namespace {

VocMetrics evaluate(const std::vector<GroundTruth>& truth, const std::vector<Detection>& dets, int classes = 1) {
    VocEvaluator e(classes);
    e.add_image(truth, dets);
    return e.compute();
}

}  // namespace

TEST_CASE("perfect detections score 1, none score 0") {
    const std::vector<GroundTruth> truth = {gt(0, 0, 10, 10), gt(20, 20, 40, 40)};
    const VocMetrics perfect = evaluate(truth, {det(0, 0, 10, 10, .9f), det(20, 20, 40, 40, .8f)});
    CHECK(perfect.map_11point == doctest::Approx(1));
    CHECK(perfect.map_area == doctest::Approx(1));
    CHECK(perfect.map_coco == doctest::Approx(1));
    CHECK(perfect.per_class[0].positives == 2);
    const VocMetrics none = evaluate(truth, {});
    CHECK(none.map_11point == 0);
    CHECK(none.map_area == 0);
}

TEST_CASE("11-point and area differ as they should: TP, FP, TP, one object missed") {
    // recall 1/3, 1/3, 2/3; precision 1, 1/2, 2/3.
    // area = 1/3 * 1 + 1/3 * 2/3 = 5/9; 11-point = (4 * 1 + 3 * 2/3) / 11 = 6/11.
    const VocMetrics m = evaluate({gt(0, 0, 10, 10), gt(20, 0, 30, 10), gt(40, 0, 50, 10)},
                                  {det(0, 0, 10, 10, .9f), det(60, 60, 70, 70, .8f), det(20, 0, 30, 10, .7f)});
    CHECK(m.per_class[0].ap_area == doctest::Approx(5.0 / 9).epsilon(1e-12));
    CHECK(m.per_class[0].ap_11point == doctest::Approx(6.0 / 11).epsilon(1e-12));
    // Ranking is by score, not by input order.
    const VocMetrics shuffled = evaluate({gt(0, 0, 10, 10), gt(20, 0, 30, 10), gt(40, 0, 50, 10)},
                                         {det(20, 0, 30, 10, .7f), det(0, 0, 10, 10, .9f), det(60, 60, 70, 70, .8f)});
    CHECK(shuffled.per_class[0].ap_area == m.per_class[0].ap_area);
}

TEST_CASE("a second detection of the same object is a false positive") {
    // TP then FP: precision 1, 1/2 at recall 1 -> AP 1 (the envelope), but a third object
    // found after the duplicate shows the cost: recall .5, .5, 1; precision 1, .5, 2/3.
    const VocMetrics m = evaluate({gt(0, 0, 10, 10), gt(20, 0, 30, 10)},
                                  {det(0, 0, 10, 10, .9f), det(0, 0, 10, 9, .8f), det(20, 0, 30, 10, .7f)});
    CHECK(m.per_class[0].ap_area == doctest::Approx(0.5 + 0.5 * 2.0 / 3).epsilon(1e-12));
}

TEST_CASE("'difficult' objects: a detection on one is neither true nor false positive") {
    const std::vector<Detection> dets = {det(100, 100, 120, 120, .9f), det(0, 0, 10, 10, .8f)};
    const VocMetrics ignored = evaluate({gt(0, 0, 10, 10), gt(100, 100, 120, 120, 0, true)}, dets);
    CHECK(ignored.per_class[0].positives == 1);
    CHECK(ignored.map_area == doctest::Approx(1));
    CHECK(ignored.map_11point == doctest::Approx(1));
    const VocMetrics counted = evaluate({gt(0, 0, 10, 10), gt(100, 100, 120, 120)}, dets);
    CHECK(counted.per_class[0].positives == 2);
    // FP-less ranking TP(difficult, now counted), TP: AP 1; drop the difficult box altogether
    // and the first detection is a false positive: precision .5 at recall 1.
    CHECK(counted.map_area == doctest::Approx(1));
    CHECK(evaluate({gt(0, 0, 10, 10)}, dets).map_area == doctest::Approx(0.5));
}

TEST_CASE("a class with only difficult objects has no AP and stays out of the mean") {
    const VocMetrics m = evaluate({gt(0, 0, 10, 10, 0), gt(0, 0, 10, 10, 1, true)},
                                  {det(0, 0, 10, 10, .9f, 0), det(0, 0, 10, 10, .9f, 1)}, 3);
    CHECK(m.classes_counted == 1);
    CHECK(std::isnan(m.per_class[1].ap_area));
    CHECK(std::isnan(m.per_class[2].ap_11point));
    CHECK(m.map_area == doctest::Approx(1));
    CHECK(m.per_class[1].detections == 1);
}

TEST_CASE("VOC matching is greedy on best IoU; COCO takes the best unmatched box") {
    // Two overlapping objects; the second detection fits B (IoU 7/13) but fits A better
    // (IoU 9/11), which the first detection already took: a false positive for VOC, a hit for
    // COCO at IoU .5 (not at .55 and up).
    const std::vector<GroundTruth> truth = {gt(0, 0, 10, 10), gt(4, 0, 14, 10)};
    const std::vector<Detection> dets = {det(0, 0, 10, 10, .9f), det(1, 0, 11, 10, .8f)};
    CHECK(focal::data::iou(dets[1].box, truth[0].box) == doctest::Approx(9.0 / 11));
    CHECK(focal::data::iou(dets[1].box, truth[1].box) == doctest::Approx(7.0 / 13));
    const VocMetrics m = evaluate(truth, dets);
    CHECK(m.per_class[0].ap_area == doctest::Approx(0.5));  // recall .5, then a FP
    // COCO: AP 1 at IoU .5; at the 9 higher thresholds recall stops at .5 -> 51 of 101 points.
    CHECK(m.per_class[0].ap_coco == doctest::Approx((1 + 9 * 51.0 / 101) / 10));
}

TEST_CASE("IoU exactly 0.5 is not a match (devkit: ovmax > 0.5); COCO's >= is") {
    const VocMetrics m = evaluate({gt(0, 0, 10, 10)}, {det(0, 0, 10, 5, .9f)});
    CHECK(focal::data::iou({0, 0, 10, 5}, {0, 0, 10, 10}) == 0.5);
    CHECK(m.map_area == 0);
    CHECK(m.per_class[0].ap_coco == doctest::Approx(0.1));  // matched at .50 only
}

TEST_CASE("COCO-style AP averages over IoU .50:.05:.95") {
    // IoU 0.72: a hit at .50, .55, .60, .65, .70 -> 5 of 10 thresholds.
    const VocMetrics m = evaluate({gt(0, 0, 100, 100)}, {det(0, 0, 100, 72, .9f)});
    CHECK(m.per_class[0].ap_coco == doctest::Approx(0.5));
    CHECK(m.map_area == doctest::Approx(1));
}

TEST_CASE("interpolations on their own") {
    CHECK(ap_11point({}, {}) == 0);
    CHECK(ap_area({}, {}) == 0);
    CHECK(ap_101point({}, {}) == 0);
    // Recall exactly 0.3 is below the devkit's t = 0.30000000000000004.
    CHECK(ap_11point({0.3}, {1.0}) == doctest::Approx(3.0 / 11));
    CHECK(ap_101point({0.5}, {1.0}) == doctest::Approx(51.0 / 101));
}

TEST_CASE("bad input is refused") {
    VocEvaluator e(2);
    CHECK_THROWS_AS(e.add_image({gt(0, 0, 1, 1, 2)}, {}), focal::Error);
    CHECK_THROWS_AS(e.add_image({}, {det(0, 0, 1, 1, .5f, -1)}), focal::Error);
    CHECK_THROWS_AS(e.add_image({}, {det(0, 0, 1, 1, NAN)}), focal::Error);
    CHECK_THROWS_AS(e.add_image({}, {det(5, 0, 1, 1, .5f)}), focal::Error);
    CHECK_THROWS_AS(VocEvaluator(0), focal::Error);
    CHECK(e.images() == 0);
}

TEST_CASE("agrees to 1e-6 with the devkit re-implementation on the VOC sample (golden file)") {
    std::ifstream in(FOCAL_SOURCE_DIR "/tests/detector/voc_eval_golden.json");
    REQUIRE_MESSAGE(bool(in), "tests/detector/voc_eval_golden.json is missing");
    const nlohmann::json golden = nlohmann::json::parse(in);
    const int classes = int(golden["classes"].size());
    VocEvaluator evaluator(classes);
    int detections = 0;
    for (const auto& image : golden["images"]) {
        // The file keeps VOC's 1-based inclusive corners; ours are continuous (x1 - 1).
        std::vector<GroundTruth> truth;
        for (const auto& g : image["gt"])
            truth.push_back(gt(g[0].get<float>() - 1, g[1].get<float>() - 1, g[2], g[3], g[4], g[5].get<int>() != 0));
        std::vector<Detection> dets;
        for (const auto& d : image["det"])
            dets.push_back(
                det(float(d[0].get<double>() - 1), float(d[1].get<double>() - 1), d[2], d[3], d[5].get<float>(), d[4]));
        detections += int(dets.size());
        evaluator.add_image(truth, dets);
    }
    CHECK(evaluator.images() == 150);
    CHECK(detections > 500);
    const VocMetrics m = evaluator.compute();
    for (int k = 0; k < classes; ++k) {
        const auto& a07 = golden["ap_11point"][std::size_t(k)];
        const auto& a10 = golden["ap_area"][std::size_t(k)];
        CAPTURE(k);
        if (a07.is_null()) {
            CHECK(std::isnan(m.per_class[std::size_t(k)].ap_11point));
            continue;
        }
        CHECK(std::abs(m.per_class[std::size_t(k)].ap_11point - a07.get<double>()) < 1e-6);
        CHECK(std::abs(m.per_class[std::size_t(k)].ap_area - a10.get<double>()) < 1e-6);
    }
    CHECK(std::abs(m.map_11point - golden["map_11point"].get<double>()) < 1e-6);
    CHECK(std::abs(m.map_area - golden["map_area"].get<double>()) < 1e-6);
    CHECK(m.map_11point != m.map_area);  // the two metrics do differ on real data
}
