// The error diagnosis (detector/error_analysis.h): each kind of false positive is named as
// Hoiem et al. 2012 define it, removing a kind gives back exactly the AP it cost, and the
// unremoved figure is the VOC metric itself.
#include <doctest/doctest.h>

#include <random>

#include "detector/error_analysis.h"
#include "engine/error.h"
#include "voc_test_boxes.h"

using namespace focal::detector;

TEST_CASE("a false positive is a localisation error, a confusion or background, in that order") {
    const std::vector<GroundTruth> truth = {gt(0, 0, 10, 10, 0), gt(50, 50, 60, 60, 1)};
    CHECK(false_positive_kind({2, 2, 12, 12}, 0, truth) == FalsePositiveKind::Localization);  // IoU .47 with its class
    CHECK(false_positive_kind({0, 0, 10, 10}, 0, truth) == FalsePositiveKind::Localization);  // a duplicate
    CHECK(false_positive_kind({50, 50, 60, 60}, 0, truth) == FalsePositiveKind::Confusion);   // on the other class
    CHECK(false_positive_kind({8, 8, 18, 18}, 0, truth) == FalsePositiveKind::Background);    // IoU .02 < .1
    CHECK(false_positive_kind({100, 100, 110, 110}, 1, truth) == FalsePositiveKind::Background);
    // Both under it: its own class wins (a poor box of the right class, not a confusion).
    const std::vector<GroundTruth> overlapping = {gt(0, 0, 10, 10, 0), gt(0, 0, 10, 10, 1)};
    CHECK(false_positive_kind({3, 0, 13, 10}, 0, overlapping) == FalsePositiveKind::Localization);
}

TEST_CASE("removing a kind of false positive gives back the AP it cost") {
    // Class 0: two objects; ranked: background FP, TP, confusion FP (on the class-1 object),
    // localisation FP, TP. Class 1: one object, found first.
    VocEvaluator analysis(2);
    analysis.add_image({gt(0, 0, 10, 10, 0), gt(20, 0, 30, 10, 0), gt(50, 50, 60, 60, 1)},
                       {det(100, 100, 110, 110, .9f, 0), det(0, 0, 10, 10, .8f, 0), det(50, 50, 60, 60, .7f, 0),
                        det(24, 0, 34, 10, .6f, 0), det(20, 0, 30, 10, .5f, 0), det(50, 50, 60, 60, .9f, 1)});
    const ErrorBreakdown b = analyse_errors(analysis);
    // Class 0 as is: recall .5 at precision 1/2, recall 1 at precision 2/5: AP = .5 * .5 + .5 * .4.
    CHECK(b.ap50 == doctest::Approx((0.45 + 1.0) / 2));
    // Without the localisation FP: recall 1 at precision 2/4.
    CHECK(b.without_localization == doctest::Approx((0.5 * 0.5 + 0.5 * 0.5 + 1.0) / 2));
    // And without the confusion: recall 1 at 2/3.
    CHECK(b.without_confusion == doctest::Approx((0.5 * 2.0 / 3 + 0.5 * 2.0 / 3 + 1.0) / 2));
    // And without the background: every object found, at precision 1.
    CHECK(b.without_background == doctest::Approx(1.0));
    // Class 0's first 2 ranked detections: the background FP and a TP; class 1's first: a TP.
    CHECK(b.top_background == 1);
    CHECK(b.top_confusion == 0);
    CHECK(b.top_localization == 0);
    CHECK(b.positives == 3);
}

TEST_CASE("missed objects stay missed: the last stage is the recall ceiling") {
    VocEvaluator analysis(1);
    analysis.add_image({gt(0, 0, 10, 10), gt(20, 20, 30, 30), gt(40, 40, 50, 50), gt(60, 60, 70, 70)},
                       {det(0, 0, 10, 10, .9f), det(80, 80, 90, 90, .8f)});
    const ErrorBreakdown b = analyse_errors(analysis);
    CHECK(b.ap50 == doctest::Approx(0.25));
    CHECK(b.without_background == doctest::Approx(0.25));  // 1 of 4 found, whatever else is removed
}

TEST_CASE("property: unremoved AP equals the VOC metric, and each removal never lowers it") {
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> pos(0, 80), size(5, 30), score(0, 1);
    std::uniform_int_distribution<int> label(0, 2), count(0, 6);
    for (int trial = 0; trial < 20; ++trial) {
        VocEvaluator analysis(3);
        VocEvaluator metric(3);
        for (int image = 0; image < 8; ++image) {
            std::vector<GroundTruth> truth;
            std::vector<Detection> dets;
            for (int i = count(rng); i > 0; --i) {
                const float x = pos(rng), y = pos(rng), s = size(rng);
                truth.push_back(gt(x, y, x + s, y + s, label(rng), score(rng) < .1f));
                // a noisy detection of it, sometimes of the wrong class
                const float jx = x + size(rng) / 5 - 3, jy = y + size(rng) / 5 - 3;
                dets.push_back(
                    det(jx, jy, jx + s, jy + s, score(rng), score(rng) < .7f ? truth.back().label : label(rng)));
            }
            for (int i = count(rng); i > 0; --i) {  // clutter
                const float x = pos(rng), y = pos(rng), s = size(rng);
                dets.push_back(det(x, y, x + s, y + s, score(rng), label(rng)));
            }
            analysis.add_image(truth, dets);
            metric.add_image(truth, dets);
        }
        const ErrorBreakdown b = analyse_errors(analysis);
        CHECK(b.ap50 == doctest::Approx(metric.compute().map_area).epsilon(1e-9));
        CHECK(b.without_localization >= b.ap50 - 1e-12);
        CHECK(b.without_confusion >= b.without_localization - 1e-12);
        CHECK(b.without_background >= b.without_confusion - 1e-12);
        CHECK(b.without_background <= 1.0 + 1e-12);
    }
}

TEST_CASE("bad input is refused as the metric refuses it") {
    VocEvaluator analysis(2);
    CHECK_THROWS_AS(analysis.add_image({gt(0, 0, 10, 10, 2)}, {}), focal::Error);
    CHECK_THROWS_AS(analysis.add_image({}, {det(0, 0, 10, 10, NAN, 0)}), focal::Error);
}
