// The synthetic dataset: deterministic to the byte, VOC-readable, and as described.
#include <doctest/doctest.h>

#include "data/shapes.h"
#include "data/voc.h"
#include "engine/error.h"
#include "test_util.h"

using namespace focal::data;
using focal::test::read_text;

TEST_CASE("same seed, byte-identical files, whatever the thread count; another seed differs") {
    focal::test::TempDir dir;
    ShapesOptions o;
    o.images = 24;
    o.size = 96;
    o.seed = 5;
    o.threads = 1;
    write_shapes_dataset(dir / "a", o);
    o.threads = 3;
    write_shapes_dataset(dir / "b", o);
    o.seed = 6;
    write_shapes_dataset(dir / "c", o);
    int different = 0;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "a")) {
        if (!entry.is_regular_file()) continue;
        const auto rel = std::filesystem::relative(entry.path(), dir / "a").string();
        CHECK_MESSAGE(read_text(entry.path().string()) == read_text(dir / ("b/" + rel)), rel);
        if (rel.starts_with("JPEGImages"))
            different += read_text(entry.path().string()) != read_text(dir / ("c/" + rel));
    }
    CHECK(different == 24);
    // Image i does not depend on how many images the set has.
    const Scene s10 = make_shape_scene(o, 10);
    o.images = 500;
    CHECK(make_shape_scene(o, 10).image.pixels == s10.image.pixels);
}

TEST_CASE("the written set opens as VOC, with its classes.txt and four splits") {
    focal::test::TempDir dir;
    ShapesOptions o;
    o.images = 50;
    const ShapesSummary summary = write_shapes_dataset(dir / "s", o);
    CHECK(summary.split_sizes == std::vector<int>{30, 10, 10});
    std::size_t total = 0;
    for (const char* split : {"train", "val", "test"}) {
        DatasetOptions vo;
        vo.split = split;
        const Dataset ds = Dataset::open(dir / "s", vo);
        CHECK(ds.classes() == shape_classes());
        CHECK(ds.warnings().empty());
        total += ds.size();
    }
    CHECK(total == 50);
    DatasetOptions vo;
    vo.check_images = true;  // every JPEG complete and of the annotated size
    CHECK(Dataset::open(dir / "s", vo).size() == 40);

    // Rewriting into the same folder is fine; into a folder of other things, refused.
    CHECK_NOTHROW(write_shapes_dataset(dir / "s", o));
    focal::test::write_file(dir / "other/notes.txt", "mine");
    CHECK_THROWS_WITH_AS(write_shapes_dataset(dir / "other", o), doctest::Contains("not empty"), focal::Error);
    o.size = 8;
    CHECK_THROWS_AS(write_shapes_dataset(dir / "t", o), focal::Error);
}

TEST_CASE("scenes: sizes from ~6 px to half the image, imbalanced classes, sparse foreground") {
    ShapesOptions o;
    o.size = 128;
    std::vector<int> per_class(5, 0);
    int objects = 0, empty = 0, small = 0, large = 0, difficult = 0, truncated = 0;
    double foreground = 0;
    const int n = 400;
    for (int i = 0; i < n; ++i) {
        const Scene s = make_shape_scene(o, i);
        empty += s.annotation.objects.empty();
        for (const Object& obj : s.annotation.objects) {
            ++objects;
            ++per_class[std::size_t(obj.label)];
            const float side = std::max(obj.box.width(), obj.box.height());
            CHECK(side >= 5);
            CHECK(side <= 72);
            small += side < 16;
            large += side > 48;
            difficult += obj.difficult;
            truncated += obj.truncated;
            CHECK(obj.difficult == (std::min(obj.box.width(), obj.box.height()) < 8));
            CHECK(clip(obj.box, 128, 128) == obj.box);
            foreground += obj.box.area();
        }
    }
    CHECK(objects > 3 * n);
    CHECK(empty > n / 50);
    CHECK(empty < n / 6);
    CHECK(small > objects / 4);  // log-uniform sizes: many small objects
    CHECK(large > objects / 20);
    CHECK(difficult > 0);
    CHECK(truncated > 0);
    // Class shares 30/25/20/15/10 %.
    for (int k = 0; k + 1 < 5; ++k) CHECK(per_class[std::size_t(k)] > per_class[std::size_t(k + 1)]);
    // Boxes cover a small part of the pictures: the foreground is a minority.
    CHECK(foreground / (double(n) * 128 * 128) < 0.3);
}

TEST_CASE("max_object: a larger image holds objects of the smaller one's sizes, in more background") {
    ShapesOptions small, large;
    small.size = 128;
    large.size = 256, large.max_object = 64;  // the 128 px set's largest, size / 2
    int largest = 0, objects[2] = {0, 0};
    double area[2] = {0, 0};
    for (int i = 0; i < 300; ++i) {
        int k = 0;
        for (const ShapesOptions* o : {&small, &large}) {
            for (const Object& obj : make_shape_scene(*o, i).annotation.objects) {
                ++objects[k];
                area[k] += obj.box.area();
                if (k == 1) largest = std::max(largest, int(std::max(obj.box.width(), obj.box.height())));
            }
            ++k;
        }
    }
    CHECK(largest <= 72);  // as at 128 px: a figure's box exceeds its nominal extent a little
    CHECK(largest > 40);
    // The same distributions of object count and size are drawn (different draws): counts
    // within 10 %. Placed boxes are a little larger on the larger canvas, because at 128 px a
    // large figure more often overlaps another or falls off the picture and is given up after
    // 20 tries: measured +13 % mean area over these 300 scenes.
    CHECK(std::abs(objects[1] - objects[0]) < objects[0] / 10);
    const double mean_area_small = area[0] / objects[0];
    const double mean_area_large = area[1] / objects[1];
    CHECK(mean_area_large > mean_area_small);
    CHECK(mean_area_large < 1.25 * mean_area_small);
}

TEST_CASE("boxes hold their objects: every pixel an object changed is inside, and they are tight") {
    // The same scene without objects has the same background and distractors (they are drawn
    // first), so the difference between the two is the objects alone.
    ShapesOptions o;
    o.size = 96;
    ShapesOptions bare = o;
    bare.max_objects = 0;
    int changed = 0, tight = 0, objects = 0;
    for (int i = 0; i < 30; ++i) {
        const Scene s = make_shape_scene(o, i);
        const Scene b = make_shape_scene(bare, i);
        CHECK(b.annotation.objects.empty());
        for (int y = 0; y < 96; ++y)
            for (int x = 0; x < 96; ++x) {
                if (std::equal(s.image.at(x, y), s.image.at(x, y) + 3, b.image.at(x, y))) continue;
                ++changed;
                bool inside = false;
                for (const Object& obj : s.annotation.objects)
                    inside =
                        inside || (x >= obj.box.x1 && x + 1 <= obj.box.x2 && y >= obj.box.y1 && y + 1 <= obj.box.y2);
                CHECK_MESSAGE(inside, "scene ", i, " pixel ", x, ",", y);
            }
        // ...and each box is tight: its border rows and columns hold object pixels (counted
        // over all objects: a pixel may by chance keep its colour).
        for (const Object& obj : s.annotation.objects) {
            const auto touched = [&](int x, int y) {
                return !std::equal(s.image.at(x, y), s.image.at(x, y) + 3, b.image.at(x, y));
            };
            bool left = false, right = false, top = false, bottom = false;
            for (int y = int(obj.box.y1); y < int(obj.box.y2); ++y) {
                left = left || touched(int(obj.box.x1), y);
                right = right || touched(int(obj.box.x2) - 1, y);
            }
            for (int x = int(obj.box.x1); x < int(obj.box.x2); ++x) {
                top = top || touched(x, int(obj.box.y1));
                bottom = bottom || touched(x, int(obj.box.y2) - 1);
            }
            tight += left && right && top && bottom;
            ++objects;
        }
    }
    CHECK(changed > 1000);
    CHECK(tight >= objects * 97 / 100);
}

TEST_CASE("the marker focal-shapes.txt: written, read back, and refused when wrong") {
    ShapesOptions o;
    o.images = 40, o.size = 96, o.seed = 18446744073709551615ull, o.min_object = 8;
    const ShapesOptions back = parse_shapes_marker(shapes_marker_text(o), "focal-shapes.txt");
    CHECK(back.images == 40);
    CHECK(back.size == 96);
    CHECK(back.seed == o.seed);
    CHECK(back.min_object == 8);
    CHECK(back.max_object == 0);
    CHECK(shapes_marker_text(o).find("max_object") == std::string::npos);  // older sets' markers, unchanged
    o.max_object = 40;
    CHECK(parse_shapes_marker(shapes_marker_text(o), "focal-shapes.txt").max_object == 40);
    const std::string head = "generator focal make-shapes 1\n";
    const std::vector<std::pair<std::string, std::string>> bad = {
        {"", "empty file"},
        {"generator other 1\nimages 4\n", "not a focal shapes marker"},
        {head + "images 4\nsize 64\nseed 0\n", "no 'min_object' line"},
        {head + "images 4\nimages 5\nsize 64\nseed 0\nmin_object 6\n", "images is given twice"},
        {head + "images -4\nsize 64\nseed 0\nmin_object 6\n", "images must be a whole number"},
        {head + "images 4\nsize 99999999999\nseed 0\nmin_object 6\n", "size must be a whole number up to 10^9"},
        {head + "images 4\nsize 100000\nseed 0\nmin_object 6\n", "image size must be 32..4096"},
        {head + "images 4\nsize 64\nseed 18446744073709551616\nmin_object 6\n", "seed must be a whole number"},
        {head + "images 4\nsize 64\nseed 0\nmin_object 6\ncolour red\n", "line 6: expected"},
        {head + "images 0\nsize 64\nseed 0\nmin_object 6\n", "images must be at least 1"},
        {head + "images 4\nsize 64\nseed 0\nmin_object 6\nmax_object 40\n", "max object size 40 must be 0"},
        {head + "images 4\nsize 64\nseed 0\nmin_object 6\nmax_object 3\nmax_object 3\n", "max_object is given twice"},
    };
    for (const auto& [text, message] : bad) {
        const auto& marker = text;  // clang 14 cannot capture a structured binding
        CAPTURE(marker);
        CHECK_THROWS_WITH_AS(parse_shapes_marker(text, "focal-shapes.txt"), doctest::Contains(message.c_str()),
                             focal::Error);
    }
}
