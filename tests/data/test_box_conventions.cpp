// The three formats' box conventions (data/box.h), on one box drawn on whole pixels: VOC's
// 1-based inclusive indices, COCO's 0-based x, y, w, h, YOLO's normalised centre and size.
#include <doctest/doctest.h>

#include "data/box.h"

using namespace focal::data;

TEST_CASE("one box in the three conventions") {
    // Pixels 10..19 across (10 px) and 5..9 down (5 px), 0-based, in a 40 x 20 image.
    const Box box{10, 5, 20, 10};
    // VOC numbers those pixels 11..20 and 6..10, inclusive.
    CHECK(from_voc(11, 6, 20, 10) == box);
    CHECK(to_voc(box) == std::array<double, 4>{11, 6, 20, 10});
    // COCO: corner (10, 5), size 10 x 5.
    CHECK(from_coco(10, 5, 10, 5) == box);
    CHECK(to_coco(box) == std::array<double, 4>{10, 5, 10, 5});
    // YOLO: centre (15 / 40, 7.5 / 20), size (10 / 40, 5 / 20).
    CHECK(to_yolo(box, 40, 20) == std::array<double, 4>{0.375, 0.375, 0.25, 0.25});
    CHECK(from_yolo(0.375, 0.375, 0.25, 0.25, 40, 20) == box);
    // The whole image in each.
    CHECK(from_voc(1, 1, 40, 20) == Box{0, 0, 40, 20});
    CHECK(from_coco(0, 0, 40, 20) == Box{0, 0, 40, 20});
    CHECK(from_yolo(0.5, 0.5, 1, 1, 40, 20) == Box{0, 0, 40, 20});
}

TEST_CASE("VOC: a 0-based export's xmin of 0 is the border; IoU equals the devkit's +1 formula") {
    CHECK(from_voc(0, 0, 5, 5) == Box{0, 0, 5, 5});
    // Devkit: boxes (1,1,10,10) and (6,6,15,15): inter 5*5, union 100 + 100 - 25.
    CHECK(iou(from_voc(1, 1, 10, 10), from_voc(6, 6, 15, 15)) == doctest::Approx(25.0 / 175.0));
}

TEST_CASE("YOLO: rounded text comes back on whole pixels; sub-pixel boxes stay sub-pixel") {
    // 6 decimals of 137 / 500 etc.: within 1e-3 px of the pixel, snapped back to it.
    const Box b = from_yolo(0.285, 0.4133333, 0.022, 0.0373333, 500, 375);
    CHECK(b == Box{137, 148, 148, 162});
    const Box half = from_yolo(0.5, 0.5, 0.01, 0.01, 100, 100);  // 49.5 .. 50.5
    CHECK(half == Box{49.5f, 49.5f, 50.5f, 50.5f});
}
