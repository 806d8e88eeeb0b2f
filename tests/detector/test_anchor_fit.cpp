// The anchor fit (detector/anchor_fit.h): boxes as the letterbox places them, IoU coverage
// worked out by hand on a one-level pyramid, and the choice of the best anchor size.
#include <doctest/doctest.h>

#include <filesystem>

#include "data/dataset.h"
#include "data/image.h"
#include "data/test_util.h"
#include "detector/anchor_fit.h"
#include "engine/error.h"

using namespace focal;
using namespace focal::detector;
using focal::test::TempDir;
using focal::test::write_file;

namespace {

// One level of stride 8 with one square anchor per location: centres at 4 + 8k.
AnchorConfig one_square_level(float size_per_stride) {
    AnchorConfig a;
    a.strides = {8};
    a.size_per_stride = size_per_stride;
    a.scales = {1.0f};
    a.ratios = {1.0f};
    return a;
}

}  // namespace

TEST_CASE("anchor coverage: a box that is an anchor is covered with IoU 1") {
    // size 4 x stride 8 = 32 px anchors; the one centred on (12, 12) is [-4, -4, 28, 28].
    const AnchorCoverage c = anchor_coverage({{-4, -4, 28, 28}}, one_square_level(4), 32, 0.5f);
    CHECK(c.boxes == 1);
    CHECK(c.recall == 1.0);
    CHECK(c.mean_best_iou == doctest::Approx(1.0));
    // Its four neighbours 8 px away overlap it 24 x 32: IoU 768 / (2048 - 768) = .6, positive too;
    // the diagonal ones 24 x 24: IoU 576 / 1472 = .39, not.
    CHECK(c.positives_per_box == doctest::Approx(5.0));
}

TEST_CASE("anchor coverage: IoUs worked out by hand, and the better size chosen") {
    const std::vector<Box> box = {{0, 0, 16, 16}};  // centred on (8, 8), between anchor centres
    // 32 px anchors: the best holds the box whole, IoU 256 / 1024.
    const AnchorCoverage big = anchor_coverage(box, one_square_level(4), 32, 0.5f);
    CHECK(big.mean_best_iou == doctest::Approx(0.25));
    CHECK(big.recall == 0.0);
    CHECK(big.positives_per_box == 0.0);
    // 16 px anchors centred on (4, 4) or (12, 12): overlap 12 x 12, IoU 144 / (512 - 144).
    const AnchorCoverage small = anchor_coverage(box, one_square_level(2), 32, 0.5f);
    CHECK(small.mean_best_iou == doctest::Approx(144.0 / 368.0));
    // At a threshold below that, the four anchors around the box all count.
    CHECK(anchor_coverage(box, one_square_level(2), 32, 0.35f).positives_per_box == doctest::Approx(4.0));

    const auto sweep = anchor_size_sweep(box, one_square_level(4), 32, 0.5f, {4, 2});
    REQUIRE(sweep.size() == 2);
    CHECK(sweep[0].size_per_stride == 4.0f);
    CHECK(sweep[1].mean_best_iou == doctest::Approx(small.mean_best_iou));
    CHECK(best_anchor_size(sweep).size_per_stride == 2.0f);  // equal recall (0), higher IoU
}

TEST_CASE("anchor fit: recall decides before IoU, and bad input is refused") {
    AnchorCoverage low_recall, high_recall;
    low_recall.size_per_stride = 2, low_recall.recall = 0.80, low_recall.mean_best_iou = 0.9;
    high_recall.size_per_stride = 4, high_recall.recall = 0.90, high_recall.mean_best_iou = 0.6;
    CHECK(best_anchor_size({low_recall, high_recall}).size_per_stride == 4.0f);
    CHECK_THROWS_WITH_AS(best_anchor_size({}), doctest::Contains("no candidate anchor sizes"), focal::Error);
    CHECK_THROWS_WITH_AS(anchor_size_sweep({{0, 0, 8, 8}}, one_square_level(4), 32, 0.5f, {0}),
                         doctest::Contains("must be positive, got 0"), focal::Error);
}

TEST_CASE("letterboxed boxes: the loader's letterbox geometry, difficult boxes left out") {
    TempDir dir;
    const std::string root = dir / "VOC2007";
    // 500 x 250 at 256 px: scale .512, 256 x 128 centred with 64 px above and below.
    write_file(root + "/Annotations/a.xml",
               "<annotation><size><width>500</width><height>250</height></size>"
               "<object><name>dog</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>500</xmax><ymax>250</ymax>"
               "</bndbox></object>"
               "<object><name>cat</name><difficult>1</difficult><bndbox><xmin>10</xmin><ymin>10</ymin>"
               "<xmax>20</xmax><ymax>20</ymax></bndbox></object></annotation>");
    std::filesystem::create_directories(root + "/JPEGImages");
    data::save_jpeg(data::Image(500, 250, 3, 90), root + "/JPEGImages/a.jpg");
    write_file(root + "/ImageSets/Main/train.txt", "a\n");
    data::DatasetOptions options;
    options.split = "train";
    const data::Dataset ds = data::Dataset::open(root, options);
    const LetterboxedBoxes boxes = letterboxed_boxes(ds, 256);
    CHECK(boxes.unsized_images == 0);
    REQUIRE(boxes.boxes.size() == 1);
    CHECK(boxes.boxes[0].x1 == doctest::Approx(0));
    CHECK(boxes.boxes[0].y1 == doctest::Approx(64));
    CHECK(boxes.boxes[0].x2 == doctest::Approx(256));
    CHECK(boxes.boxes[0].y2 == doctest::Approx(192));
    CHECK_THROWS_WITH_AS(letterboxed_boxes(ds, 0), doctest::Contains("image size must be positive"), focal::Error);
}
